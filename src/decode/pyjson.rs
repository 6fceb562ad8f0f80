//! JSON as `decode.py` reads a token segment: `orjson.loads`, and where orjson refuses, the standard
//! library's `json.loads`. A segment is accepted when either accepts it, and values are what the one
//! that accepted it gives (orjson turns integers beyond 64 bits into floats, `json` keeps them).
//!
//! What `json` accepts and orjson does not: `NaN`, `Infinity`, `-Infinity`; lone surrogates (escaped,
//! or UTF-8-encoded, which `json` decodes with `surrogatepass`); a UTF-8 byte order mark and UTF-16/32
//! text (`json.detect_encoding`); numbers that overflow a double. What orjson accepts and `json` does
//! not: nesting deeper than Python's recursion limit (orjson stops at 1024). `json` refuses integers
//! of more than 4300 digits (Python's `int` limit), and so does orjson (they overflow a double).
//!
//! Strings hold lone surrogates as U+FFFD: UTF-8 (Arrow, Parquet, HTML) cannot hold them, and the
//! writers replace them so anyway.

use std::borrow::Cow;

/// Objects and arrays nested deeper than this are refused (orjson's limit).
const MAX_DEPTH: usize = 1024;
/// Python's `int` refuses to parse more digits (`sys.get_int_max_str_digits()`).
const MAX_INT_DIGITS: usize = 4300;

/// One JSON value, strings borrowed from the segment where they hold no escape.
#[derive(Debug, Clone)]
pub enum Value<'a> {
    Null,
    Bool(bool),
    /// An integer literal, as written.
    Int(&'a str),
    Float(f64),
    Str(Cow<'a, str>),
    List(Vec<Value<'a>>),
    Obj(Vec<(Cow<'a, str>, Value<'a>)>),
}

/// A parsed top-level object and whether orjson would have accepted the whole text.
#[derive(Debug)]
pub struct Doc<'a> {
    pub members: Vec<(Cow<'a, str>, Value<'a>)>,
    /// orjson accepted it: integers beyond 64 bits are floats.
    pub orjson: bool,
    /// Where the last member of each name in `NAMES` is.
    known: [Option<u32>; NAMES.len()],
}

/// The member names the decoder asks for, found in one pass over the members.
const NAMES: [&str; 28] = [
    "alg",
    "kid",
    "typ",
    "enc",
    "nonce",
    "x5t",
    "x5t#S256",
    "exp",
    "nbf",
    "iat",
    "aud",
    "iss",
    "sub",
    "appid",
    "azp",
    "tid",
    "ver",
    "scp",
    "roles",
    "oid",
    "idtyp",
    "at_hash",
    "c_hash",
    "preferred_username",
    "email",
    "auth_time",
    "name",
    "login_hint",
];

/// The slot of a name in `NAMES`, comparing integers rather than calling memcmp per name (most
/// claim names have three letters, as most of `NAMES` do).
fn slot(key: &str) -> Option<usize> {
    let b = key.as_bytes();
    if b.len() > 18 {
        return None;
    }
    let packed = pack(b);
    (0..NAMES.len()).find(|&i| {
        let n = NAMES[i].as_bytes();
        n.len() == b.len() && PACKED[i] == packed && n.get(16..) == b.get(16..)
    })
}

/// The first 16 bytes as one integer.
const fn pack(b: &[u8]) -> u128 {
    let mut v = 0u128;
    let mut i = 0;
    while i < b.len() && i < 16 {
        v |= (b[i] as u128) << (8 * i);
        i += 1;
    }
    v
}

const PACKED: [u128; NAMES.len()] = {
    let mut out = [0u128; NAMES.len()];
    let mut i = 0;
    while i < NAMES.len() {
        out[i] = pack(NAMES[i].as_bytes());
        i += 1;
    }
    out
};

impl<'a> Doc<'a> {
    fn new(members: Vec<(Cow<'a, str>, Value<'a>)>, orjson: bool) -> Doc<'a> {
        let mut known = [None; NAMES.len()];
        for (i, (k, _)) in members.iter().enumerate() {
            if let Some(slot) = slot(k) {
                known[slot] = u32::try_from(i).ok();
            }
        }
        Doc {
            members,
            orjson,
            known,
        }
    }

    /// `dict.get`: with duplicate keys the last value wins.
    pub fn get(&self, key: &str) -> Option<&Value<'a>> {
        match slot(key) {
            Some(slot) => self.known[slot]
                .and_then(|i| self.members.get(i as usize))
                .map(|(_, v)| v),
            None => self
                .members
                .iter()
                .rev()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v),
        }
    }

    pub fn contains(&self, key: &str) -> bool {
        self.get(key).is_some()
    }
}

/// The text Python would decode the bytes to, and whether orjson would read it.
///
/// Lone surrogates become U+FFFD (3 bytes in UTF-8, as a surrogate is in `surrogatepass` UTF-8).
pub fn text(raw: &[u8]) -> Option<(Cow<'_, str>, bool)> {
    match detect_encoding(raw) {
        Enc::Utf8 => match std::str::from_utf8(raw) {
            Ok(s) => match s.strip_prefix('\u{feff}') {
                Some(rest) => Some((Cow::Borrowed(rest), false)), // utf-8-sig
                None => Some((Cow::Borrowed(s), true)),
            },
            Err(_) => {
                let body = raw.strip_prefix(b"\xef\xbb\xbf").unwrap_or(raw);
                utf8_surrogatepass(body).map(|s| (Cow::Owned(s), false))
            }
        },
        Enc::Utf16 { be, bom } => {
            let body = if bom { raw.get(2..)? } else { raw };
            utf16(body, be).map(|s| (Cow::Owned(s), false))
        }
        Enc::Utf32 { be, bom } => {
            let body = if bom { raw.get(4..)? } else { raw };
            utf32(body, be).map(|s| (Cow::Owned(s), false))
        }
    }
}

enum Enc {
    Utf8,
    Utf16 { be: bool, bom: bool },
    Utf32 { be: bool, bom: bool },
}

/// `json.detect_encoding` (a UTF-8 BOM is handled by the caller).
fn detect_encoding(b: &[u8]) -> Enc {
    if b.starts_with(b"\x00\x00\xfe\xff") {
        return Enc::Utf32 {
            be: true,
            bom: true,
        };
    }
    if b.starts_with(b"\xff\xfe\x00\x00") {
        return Enc::Utf32 {
            be: false,
            bom: true,
        };
    }
    if b.starts_with(b"\xfe\xff") {
        return Enc::Utf16 {
            be: true,
            bom: true,
        };
    }
    if b.starts_with(b"\xff\xfe") {
        return Enc::Utf16 {
            be: false,
            bom: true,
        };
    }
    if b.starts_with(b"\xef\xbb\xbf") {
        return Enc::Utf8; // utf-8-sig
    }
    match b {
        [0, b1, _, _, ..] => {
            if *b1 != 0 {
                Enc::Utf16 {
                    be: true,
                    bom: false,
                }
            } else {
                Enc::Utf32 {
                    be: true,
                    bom: false,
                }
            }
        }
        [_, 0, b2, b3, ..] => {
            if *b2 != 0 || *b3 != 0 {
                Enc::Utf16 {
                    be: false,
                    bom: false,
                }
            } else {
                Enc::Utf32 {
                    be: false,
                    bom: false,
                }
            }
        }
        [0, _] => Enc::Utf16 {
            be: true,
            bom: false,
        },
        [_, 0] => Enc::Utf16 {
            be: false,
            bom: false,
        },
        _ => Enc::Utf8,
    }
}

/// UTF-8 as Python's `surrogatepass` reads it: encoded surrogates allowed (as U+FFFD here).
fn utf8_surrogatepass(raw: &[u8]) -> Option<String> {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    loop {
        match std::str::from_utf8(rest) {
            Ok(s) => {
                out.push_str(s);
                return Some(out);
            }
            Err(e) => {
                let (good, bad) = rest.split_at(e.valid_up_to());
                out.push_str(std::str::from_utf8(good).ok()?);
                match bad {
                    [0xed, 0xa0..=0xbf, 0x80..=0xbf, ..] => {
                        out.push('\u{fffd}');
                        rest = bad.get(3..)?;
                    }
                    _ => return None,
                }
            }
        }
    }
}

fn utf16(body: &[u8], be: bool) -> Option<String> {
    if body.len() % 2 != 0 {
        return None;
    }
    let units = body.chunks_exact(2).map(|c| {
        if be {
            u16::from_be_bytes([c[0], c[1]])
        } else {
            u16::from_le_bytes([c[0], c[1]])
        }
    });
    Some(
        char::decode_utf16(units)
            .map(|r| r.unwrap_or('\u{fffd}'))
            .collect(),
    )
}

fn utf32(body: &[u8], be: bool) -> Option<String> {
    if body.len() % 4 != 0 {
        return None;
    }
    let mut out = String::with_capacity(body.len() / 4);
    for c in body.chunks_exact(4) {
        let b = [c[0], c[1], c[2], c[3]];
        let u = if be {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        };
        match u {
            0xd800..=0xdfff => out.push('\u{fffd}'),
            _ => out.push(char::from_u32(u)?),
        }
    }
    Some(out)
}

/// Parse decoded text (see [`text`]) as one JSON object.
pub fn parse_doc(text: &str, orjson: bool) -> Option<Doc<'_>> {
    let mut p = Parser {
        s: text,
        b: text.as_bytes(),
        i: 0,
        orjson,
    };
    p.ws();
    if p.peek() != Some(b'{') {
        return None;
    }
    let members = p.object(1)?;
    p.ws();
    if p.i != p.b.len() {
        return None;
    }
    Some(Doc::new(members, p.orjson))
}

struct Parser<'a> {
    s: &'a str,
    b: &'a [u8],
    i: usize,
    orjson: bool,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.i += 1;
        }
    }

    fn eat(&mut self, lit: &[u8]) -> bool {
        if self.b.get(self.i..self.i + lit.len()) == Some(lit) {
            self.i += lit.len();
            true
        } else {
            false
        }
    }

    /// After the `{`.
    fn object(&mut self, depth: usize) -> Option<Vec<(Cow<'a, str>, Value<'a>)>> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.i += 1;
        let mut members = Vec::new();
        self.ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Some(members);
        }
        loop {
            self.ws();
            if self.peek() != Some(b'"') {
                return None;
            }
            let key = self.string()?;
            self.ws();
            if !self.eat(b":") {
                return None;
            }
            self.ws();
            let value = self.value(depth)?;
            members.push((key, value));
            self.ws();
            match self.peek()? {
                b',' => self.i += 1,
                b'}' => {
                    self.i += 1;
                    return Some(members);
                }
                _ => return None,
            }
        }
    }

    fn list(&mut self, depth: usize) -> Option<Vec<Value<'a>>> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.i += 1;
        let mut items = Vec::new();
        self.ws();
        if self.peek() == Some(b']') {
            self.i += 1;
            return Some(items);
        }
        loop {
            self.ws();
            items.push(self.value(depth)?);
            self.ws();
            match self.peek()? {
                b',' => self.i += 1,
                b']' => {
                    self.i += 1;
                    return Some(items);
                }
                _ => return None,
            }
        }
    }

    fn value(&mut self, depth: usize) -> Option<Value<'a>> {
        match self.peek()? {
            b'{' => Some(Value::Obj(self.object(depth + 1)?)),
            b'[' => Some(Value::List(self.list(depth + 1)?)),
            b'"' => Some(Value::Str(self.string()?)),
            b't' if self.eat(b"true") => Some(Value::Bool(true)),
            b'f' if self.eat(b"false") => Some(Value::Bool(false)),
            b'n' if self.eat(b"null") => Some(Value::Null),
            b'N' if self.eat(b"NaN") => {
                self.orjson = false;
                Some(Value::Float(f64::NAN))
            }
            b'I' if self.eat(b"Infinity") => {
                self.orjson = false;
                Some(Value::Float(f64::INFINITY))
            }
            b'-' if self.eat(b"-Infinity") => {
                self.orjson = false;
                Some(Value::Float(f64::NEG_INFINITY))
            }
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.i;
        while let Some(b'0'..=b'9') = self.peek() {
            self.i += 1;
        }
        self.i - start
    }

    fn number(&mut self) -> Option<Value<'a>> {
        let start = self.i;
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        let int_digits = match self.peek()? {
            b'0' => {
                self.i += 1;
                1
            }
            b'1'..=b'9' => self.digits(),
            _ => return None,
        };
        let mut float = false;
        if self.peek() == Some(b'.') && matches!(self.b.get(self.i + 1), Some(b'0'..=b'9')) {
            self.i += 1;
            self.digits();
            float = true;
        }
        if let Some(b'e' | b'E') = self.peek() {
            let mark = self.i;
            self.i += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.i += 1;
            }
            if self.digits() == 0 {
                self.i = mark; // `1e` is the number 1 and an `e` that the caller refuses
            } else {
                float = true;
            }
        }
        let lit = self.s.get(start..self.i)?;
        if float {
            let v: f64 = lit.parse().ok()?;
            if v.is_infinite() {
                self.orjson = false; // "number is infinity when parsed as double"
            }
            return Some(Value::Float(v));
        }
        if int_digits > MAX_INT_DIGITS {
            return None;
        }
        if lit.parse::<i64>().is_err() && lit.parse::<u64>().is_err() {
            // orjson reads it as a double; one that overflows is refused, and `json` keeps the int.
            if lit.parse::<f64>().map_or(true, |v| v.is_infinite()) {
                self.orjson = false;
            }
        }
        Some(Value::Int(lit))
    }

    /// A string at the opening quote.
    fn string(&mut self) -> Option<Cow<'a, str>> {
        self.i += 1;
        let start = self.i;
        // The common case: no escape, no control character.
        loop {
            match self.peek()? {
                b'"' => {
                    let s = self.s.get(start..self.i)?;
                    self.i += 1;
                    return Some(Cow::Borrowed(s));
                }
                b'\\' => break,
                0..=0x1f => return None,
                _ => self.i += 1,
            }
        }
        let mut out = String::from(self.s.get(start..self.i)?);
        loop {
            let run = self.i;
            loop {
                match self.peek()? {
                    b'"' | b'\\' => break,
                    0..=0x1f => return None,
                    _ => self.i += 1,
                }
            }
            out.push_str(self.s.get(run..self.i)?);
            if self.peek()? == b'"' {
                self.i += 1;
                return Some(Cow::Owned(out));
            }
            self.i += 1; // the backslash
            let c = self.peek()?;
            self.i += 1;
            match c {
                b'"' => out.push('"'),
                b'\\' => out.push('\\'),
                b'/' => out.push('/'),
                b'b' => out.push('\u{8}'),
                b'f' => out.push('\u{c}'),
                b'n' => out.push('\n'),
                b'r' => out.push('\r'),
                b't' => out.push('\t'),
                b'u' => {
                    let u = self.hex4()?;
                    if (0xd800..0xdc00).contains(&u) {
                        let mark = self.i;
                        if self.eat(b"\\u") {
                            let lo = self.hex4()?;
                            if (0xdc00..0xe000).contains(&lo) {
                                let c = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
                                out.push(char::from_u32(c)?);
                                continue;
                            }
                        }
                        self.i = mark;
                        self.orjson = false;
                        out.push('\u{fffd}');
                    } else if (0xdc00..0xe000).contains(&u) {
                        self.orjson = false;
                        out.push('\u{fffd}');
                    } else {
                        out.push(char::from_u32(u)?);
                    }
                }
                _ => return None,
            }
        }
    }

    fn hex4(&mut self) -> Option<u32> {
        let h = self.b.get(self.i..self.i + 4)?;
        let mut v = 0u32;
        for &c in h {
            v = v * 16 + (c as char).to_digit(16)?;
        }
        self.i += 4;
        Some(v)
    }
}

// --- Python's str() and repr() of what json.loads gives ----------------------------------------------

impl Value<'_> {
    /// Python truthiness.
    pub fn truthy(&self) -> bool {
        match self {
            Value::Null => false,
            Value::Bool(b) => *b,
            Value::Int(t) => !matches!(*t, "0" | "-0"),
            Value::Float(f) => *f != 0.0,
            Value::Str(s) => !s.is_empty(),
            Value::List(v) => !v.is_empty(),
            Value::Obj(m) => !m.is_empty(),
        }
    }

    /// `type(v).__name__`.
    pub fn type_name(&self, orjson: bool) -> &'static str {
        match self {
            Value::Null => "NoneType",
            Value::Bool(_) => "bool",
            Value::Int(t) if orjson && big_int(t) => "float",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "str",
            Value::List(_) => "list",
            Value::Obj(_) => "dict",
        }
    }

    /// The number a NumericDate holds, as `float(v)`: None for what is not an int or float.
    /// An int too large for a double is infinite here (Python raises OverflowError).
    pub fn number(&self) -> Option<f64> {
        match self {
            Value::Int(t) => Some(t.parse().unwrap_or(f64::INFINITY)),
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }

    /// `str(v)`.
    pub fn py_str(&self, orjson: bool) -> String {
        match self {
            Value::Str(s) => s.to_string(),
            _ => {
                let mut out = String::new();
                self.repr_into(&mut out, orjson);
                out
            }
        }
    }

    /// `repr(v)` appended to `out`.
    fn repr_into(&self, out: &mut String, orjson: bool) {
        match self {
            Value::Null => out.push_str("None"),
            Value::Bool(true) => out.push_str("True"),
            Value::Bool(false) => out.push_str("False"),
            Value::Int(t) => {
                if orjson && big_int(t) {
                    out.push_str(&float_repr(t.parse().unwrap_or(f64::INFINITY)));
                } else if *t == "-0" {
                    out.push('0');
                } else {
                    out.push_str(t);
                }
            }
            Value::Float(f) => out.push_str(&float_repr(*f)),
            Value::Str(s) => str_repr_into(s, out),
            Value::List(items) => {
                out.push('[');
                for (n, v) in items.iter().enumerate() {
                    if n > 0 {
                        out.push_str(", ");
                    }
                    v.repr_into(out, orjson);
                }
                out.push(']');
            }
            Value::Obj(members) => {
                out.push('{');
                for (n, (k, v)) in dict_items(members).into_iter().enumerate() {
                    if n > 0 {
                        out.push_str(", ");
                    }
                    str_repr_into(k, out);
                    out.push_str(": ");
                    v.repr_into(out, orjson);
                }
                out.push('}');
            }
        }
    }

    /// Python `==` between two JSON values (numbers compare by value, `True == 1`).
    pub fn py_eq(&self, other: &Value<'_>, orjson: bool) -> bool {
        match (self, other) {
            (Value::Null, Value::Null) => true,
            (Value::Str(a), Value::Str(b)) => a == b,
            (Value::List(a), Value::List(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.py_eq(y, orjson))
            }
            (Value::Obj(a), Value::Obj(b)) => {
                let (a, b) = (dict_items(a), dict_items(b));
                a.len() == b.len()
                    && a.iter()
                        .all(|(k, v)| b.iter().any(|(k2, v2)| k == k2 && v.py_eq(v2, orjson)))
            }
            (Value::Int(a), Value::Int(b)) if !(orjson && (big_int(a) || big_int(b))) => {
                norm_int(a) == norm_int(b)
            }
            _ => match (self.num_like(), other.num_like()) {
                (Some(a), Some(b)) => a == b,
                _ => false,
            },
        }
    }

    fn num_like(&self) -> Option<f64> {
        match self {
            Value::Bool(b) => Some(f64::from(u8::from(*b))),
            Value::Int(_) | Value::Float(_) => self.number(),
            _ => None,
        }
    }
}

fn norm_int(t: &str) -> &str {
    if t == "-0" {
        "0"
    } else {
        t
    }
}

/// An integer literal outside orjson's 64-bit range (read as a double by orjson).
fn big_int(t: &str) -> bool {
    t.parse::<i64>().is_err() && t.parse::<u64>().is_err()
}

/// A dict's items as Python builds them: a repeated key keeps its first place and takes the last value.
fn dict_items<'v, 'a>(members: &'v [(Cow<'a, str>, Value<'a>)]) -> Vec<(&'v str, &'v Value<'a>)> {
    let mut out: Vec<(&str, &Value)> = Vec::with_capacity(members.len());
    let mut index: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for (k, v) in members {
        match index.get(k.as_ref()) {
            Some(&n) => {
                if let Some(slot) = out.get_mut(n) {
                    slot.1 = v;
                }
            }
            None => {
                index.insert(k.as_ref(), out.len());
                out.push((k.as_ref(), v));
            }
        }
    }
    out
}

/// `repr(float)`: the shortest digits that round-trip, in exponent form outside 1e-4 <= |x| < 1e16.
pub fn float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let e = format!("{:e}", f.abs());
    let (mant, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mant.chars().filter(|c| *c != '.').collect();
    let n = digits.len() as i32;
    let decpt = exp + 1;
    let mut out = String::new();
    if f.is_sign_negative() {
        out.push('-');
    }
    if -4 < decpt && decpt <= 16 {
        if decpt <= 0 {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-decpt) as usize));
            out.push_str(&digits);
        } else if decpt >= n {
            out.push_str(&digits);
            out.extend(std::iter::repeat_n('0', (decpt - n) as usize));
            out.push_str(".0");
        } else {
            let (a, b) = digits.split_at(decpt as usize);
            out.push_str(a);
            out.push('.');
            out.push_str(b);
        }
    } else {
        let (a, b) = digits.split_at(1);
        out.push_str(a);
        if !b.is_empty() {
            out.push('.');
            out.push_str(b);
        }
        let x = decpt - 1;
        out.push_str(&format!("e{}{:02}", if x < 0 { '-' } else { '+' }, x.abs()));
    }
    out
}

/// `repr(str)`: single quotes unless the text holds one and no double quote; escapes as Python's.
pub fn str_repr_into(s: &str, out: &mut String) {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if (c as u32) < 0x7f || printable(c) => out.push(c),
            c if (c as u32) <= 0xff => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if (c as u32) <= 0xffff => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push(quote);
}

/// `str.isprintable` for a non-ASCII character, without Unicode tables: separators, controls, format
/// characters and private use are not printable (unassigned code points are taken as printable).
fn printable(c: char) -> bool {
    let u = c as u32;
    !(c.is_control()
        || c.is_whitespace()
        || matches!(u,
            0xad | 0x600..=0x605 | 0x61c | 0x6dd | 0x70f | 0x890..=0x891 | 0x8e2 | 0x180e
            | 0x200b..=0x200f | 0x202a..=0x202e | 0x2060..=0x2064 | 0x2066..=0x206f | 0xfeff
            | 0xfff9..=0xfffb | 0x110bd | 0x110cd | 0x13430..=0x1343f | 0x1bca0..=0x1bca3
            | 0x1d173..=0x1d17a | 0xe0001 | 0xe0020..=0xe007f | 0xe000..=0xf8ff
            | 0xf0000..=0xffffd | 0x100000..=0x10fffd))
}

#[cfg(test)]
mod tests;
