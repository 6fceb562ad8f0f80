//! The JSON reader: one top-level object read as orjson reads it, or as `json.loads` does where
//! orjson refuses (see the module above for where they differ).

use std::borrow::Cow;

use super::{Doc, Value};

/// Objects and arrays nested deeper than this are refused (orjson's limit).
const MAX_DEPTH: usize = 1024;
/// Python's `int` refuses to parse more digits (`sys.get_int_max_str_digits()`).
const MAX_INT_DIGITS: usize = 4300;

/// Parse decoded text (see [`text`](super::text)) as one JSON object.
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
