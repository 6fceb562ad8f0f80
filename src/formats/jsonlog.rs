//! JSON access and app logs: Traefik, Caddy, Azure App Gateway / Front Door, ASP.NET Core / Serilog,
//! Istio, nginx `escape=json` and any JSON object (the port of `formats/jsonlog.py`).
//!
//! One parser for all of them: values are looked up by the names these formats use, on the object
//! read as flattened to leaf names and dotted paths (lowercased). Fields a format has earlier win.
//!
//! The object is read as Python read it (orjson): strict JSON, UTF-8, at most 1024 levels deep, a
//! number that overflows a double rejects the line; an integer beyond 64 bits is a float. Python
//! `str()` of a number is reproduced where one reaches a text field.

use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::OnceLock;

use memchr::memchr;
use serde_json::{Map, Number, Value};

use super::common::{
    arrival, py_float, py_lower, seconds_us_f64, split_target, split_target_bytes, status,
    status_f64, strip_client_port, strip_port, FileContext, LineFields,
};
use crate::timeparse;

// Where a record has both, the time the request started beats the time it was logged.
const TS_KEYS: &[&str] = &[
    "startutc",
    "start_time",
    "edgestarttimestamp",
    "started_at",
    "@t",
    "@timestamp",
    "timestamp",
    "time",
    "time_iso8601",
    "timegenerated",
    "ts",
    "datetime",
    "starttime",
    "eventtime",
    "logged_at",
    "startlocal",
    "requesttime",
    "time_local",
    "msec",
    "date",
];
// App Gateway's `host` is the Host after any rewrite; `originalHost` is what the client sent.
const HOST_KEYS: &[&str] = &[
    "requesthost",
    "request.host",
    "request_host",
    "originalhost",
    "host",
    "hostname",
    "url.domain",
    ":authority",
    "authority",
    "x-forwarded-host",
    "http_host",
    "request_hostname",
    "clientrequesthost",
    "domainname",
    "vhost",
    "domain",
];
const METHOD_KEYS: &[&str] = &[
    "requestmethod",
    "request.method",
    "request_method",
    "http.request.method",
    "method",
    "httpmethod",
    "http_method",
    "clientrequestmethod",
    "verb",
];
const PATH_KEYS: &[&str] = &[
    "requestpath",
    "request.uri",
    "request_path",
    "url.path",
    "path",
    "x-envoy-origin-path",
    "x-envoy-original-path",
    "uri",
    "requesturi",
    "request_uri",
    "originalrequesturiwithargs",
    "url.original",
    "url.full",
    "requesturl",
    "request_url",
    "url",
    "originalurl",
    "clientrequesturi",
    "target",
];
const STATUS_KEYS: &[&str] = &[
    "downstreamstatus",
    "http.response.status_code",
    "status",
    "statuscode",
    "status_code",
    "httpstatus",
    "httpstatuscode",
    "http_status",
    "response_status",
    "responsestatus",
    "response_code",
    "responsecode",
    "edgeresponsestatus",
    "originstatus",
];
const IP_KEYS: &[&str] = &[
    "clienthost",
    "request.client_ip",
    "client_ip",
    "clientip",
    "request.remote_ip",
    "remote_ip",
    "remoteip",
    "remote_addr",
    "remoteaddr",
    "client.ip",
    "source.ip",
    "clientaddr",
    "c-ip",
    "clientaddress",
    "client_address",
    "sourceip",
    "downstream_remote_address",
    "client.address",
    "source.address",
    "ip",
    "x_real_ip",
    "x_forwarded_for",
    "x-forwarded-for",
    "http_x_forwarded_for",
    "x_forward_for",
    "fwd",
];
const UA_KEYS: &[&str] = &[
    "request_user-agent",
    "user_agent.original",
    "useragent",
    "user_agent",
    "user-agent",
    "http_user_agent",
    "useragent_s",
];
const FIELD_KEYS: [&[&str]; 7] = [
    TS_KEYS,
    HOST_KEYS,
    METHOD_KEYS,
    PATH_KEYS,
    STATUS_KEYS,
    IP_KEYS,
    UA_KEYS,
];
/// Objects nested deeper than this are not looked into (`_MAX_DEPTH`).
const MAX_DEPTH: usize = 8;

// --- the key roles --------------------------------------------------------------------------------

/// A small multiplicative hash: role lookups run for every key of every JSON line.
#[derive(Default)]
struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(5) ^ b as u64).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// One looked-up key: its id (for the seen set) and each (field, rank in that field's list).
struct Role {
    id: usize,
    fields: Vec<(usize, usize)>,
}

struct Roles {
    by_key: FxMap<String, Role>,
    /// The prefixes (`request.`, `http.request.` ...) under which a dotted path can be a looked-up key.
    path_prefixes: Vec<String>,
}

fn roles() -> &'static Roles {
    static R: OnceLock<Roles> = OnceLock::new();
    R.get_or_init(|| {
        let mut order: Vec<String> = Vec::new();
        let mut fields: FxMap<String, Vec<(usize, usize)>> = FxMap::default();
        for (f, keys) in FIELD_KEYS.iter().enumerate() {
            for (r, k) in keys.iter().enumerate() {
                let e = fields.entry(k.to_string()).or_insert_with(|| {
                    order.push(k.to_string());
                    Vec::new()
                });
                e.push((f, r));
            }
        }
        // Log Analytics' `AzureDiagnostics` table types its columns by suffix (`clientIP_s`,
        // `httpStatus_d`): each such name stands for what the name without it stands for.
        for k in order.clone() {
            if k.contains('.') {
                continue;
            }
            for suffix in ["_s", "_d"] {
                let name = format!("{k}{suffix}");
                if !fields.contains_key(&name) {
                    let v = fields[&k].clone();
                    fields.insert(name.clone(), v);
                    order.push(name);
                }
            }
        }
        let mut path_prefixes: Vec<String> = Vec::new();
        for k in &order {
            for (i, c) in k.char_indices() {
                if c == '.' && !path_prefixes.iter().any(|p| p == &k[..=i]) {
                    path_prefixes.push(k[..=i].to_string());
                }
            }
        }
        let by_key = order
            .iter()
            .enumerate()
            .map(|(id, k)| {
                (
                    k.clone(),
                    Role {
                        id,
                        fields: fields[k].clone(),
                    },
                )
            })
            .collect();
        Roles {
            by_key,
            path_prefixes,
        }
    })
}

// --- reading the object ---------------------------------------------------------------------------

/// Deeper containers than this are cut off when a line is too deep for serde_json's own limit
/// (nothing below depth `MAX_DEPTH` + 2 is ever looked at).
const KEEP_DEPTH: usize = 16;
/// orjson's limit: a document nested deeper is not JSON to Python.
const ORJSON_MAX_DEPTH: usize = 1024;

/// The JSON object a line holds (after any prefix), or None.
pub fn json_object(line: &[u8]) -> Option<Map<String, Value>> {
    let start = memchr(b'{', line)?;
    let mut end = line.len();
    while end > start && matches!(line[end - 1], b'\r' | b'\n' | b' ') {
        end -= 1;
    }
    let input = &line[start..end];
    match serde_json::from_slice::<Value>(input) {
        Ok(Value::Object(m)) => m.values().all(numbers_ok).then_some(m),
        Ok(_) => None,
        Err(e) if e.to_string().starts_with("recursion limit exceeded") => deep_object(input),
        Err(_) => None,
    }
}

/// Whether a number's text is one Python reads (orjson rejects a number that overflows a double).
fn number_ok(s: &str) -> bool {
    if s.len() < 300 && !s.contains(['e', 'E']) {
        return true;
    }
    s.parse::<f64>().is_ok_and(f64::is_finite)
}

fn numbers_ok(v: &Value) -> bool {
    match v {
        Value::Number(n) => number_ok(n.as_str()),
        Value::Array(a) => a.iter().all(numbers_ok),
        Value::Object(m) => m.values().all(numbers_ok),
        _ => true,
    }
}

/// A document deeper than serde_json reads: checked as orjson would (syntax, UTF-8, surrogates,
/// numbers, depth), then read with its deep containers cut off.
fn deep_object(input: &[u8]) -> Option<Map<String, Value>> {
    if std::str::from_utf8(input).is_err() || !valid_json(input) {
        return None;
    }
    let cut = cut_deep(input)?;
    match serde_json::from_slice::<Value>(&cut) {
        Ok(Value::Object(m)) => Some(m),
        _ => None,
    }
}

/// A syntactically valid document with every container deeper than `KEEP_DEPTH` replaced by `0`;
/// None where orjson would reject it (too deep, a lone surrogate escape, an overflowing number).
fn cut_deep(input: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(input.len().min(1 << 16));
    let mut depth = 0usize;
    let mut i = 0;
    while i < input.len() {
        let b = input[i];
        let keep = depth <= KEEP_DEPTH;
        match b {
            b'"' => {
                let end = string_end(input, i)?;
                if keep {
                    out.extend_from_slice(&input[i..end]);
                }
                i = end;
                continue;
            }
            b'-' | b'0'..=b'9' => {
                let mut end = i;
                while end < input.len()
                    && matches!(input[end], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
                {
                    end += 1;
                }
                if !number_ok(std::str::from_utf8(&input[i..end]).ok()?) {
                    return None;
                }
                if keep {
                    out.extend_from_slice(&input[i..end]);
                }
                i = end;
                continue;
            }
            b'{' | b'[' => {
                depth += 1;
                if depth > ORJSON_MAX_DEPTH {
                    return None;
                }
                if depth == KEEP_DEPTH + 1 {
                    out.push(b'0');
                } else if keep {
                    out.push(b);
                }
            }
            b'}' | b']' => {
                if keep {
                    out.push(b);
                }
                depth = depth.saturating_sub(1);
            }
            _ => {
                if keep {
                    out.push(b);
                }
            }
        }
        i += 1;
    }
    Some(out)
}

fn skip_ws(s: &[u8], mut i: usize) -> usize {
    while matches!(s.get(i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        i += 1;
    }
    i
}

/// One past a JSON number (`-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`) that fits a double.
fn number_end(s: &[u8], start: usize) -> Option<usize> {
    let digits = |mut i: usize| {
        let from = i;
        while s.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        (i > from).then_some(i)
    };
    let mut i = start;
    if s.get(i) == Some(&b'-') {
        i += 1;
    }
    i = match s.get(i) {
        Some(b'0') => i + 1,
        Some(b'1'..=b'9') => digits(i)?,
        _ => return None,
    };
    if s.get(i) == Some(&b'.') {
        i = digits(i + 1)?;
    }
    if matches!(s.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(s.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        i = digits(i)?;
    }
    number_ok(std::str::from_utf8(&s[start..i]).ok()?).then_some(i)
}

/// `"key" :` at `i` (after whitespace): the index of the value after it.
fn key_end(s: &[u8], i: usize) -> Option<usize> {
    if s.get(i) != Some(&b'"') {
        return None;
    }
    let i = skip_ws(s, string_end(s, i)?);
    (s.get(i) == Some(&b':')).then(|| skip_ws(s, i + 1))
}

/// Whether a document is one JSON value that orjson reads (strict syntax, at most 1024 levels,
/// no lone surrogate escape, no number beyond a double), checked without recursion.
fn valid_json(s: &[u8]) -> bool {
    fn run(s: &[u8]) -> Option<()> {
        let mut stack: Vec<u8> = Vec::new();
        let mut i = skip_ws(s, 0);
        'value: loop {
            match s.get(i)? {
                open @ (b'{' | b'[') => {
                    stack.push(*open);
                    if stack.len() > ORJSON_MAX_DEPTH {
                        return None;
                    }
                    i = skip_ws(s, i + 1);
                    let close = if *open == b'{' { b'}' } else { b']' };
                    if s.get(i) == Some(&close) {
                        stack.pop();
                        i += 1;
                    } else {
                        if *open == b'{' {
                            i = key_end(s, i)?;
                        }
                        continue 'value;
                    }
                }
                b'"' => i = string_end(s, i)?,
                b'-' | b'0'..=b'9' => i = number_end(s, i)?,
                _ => {
                    let lit: &[u8] = [&b"true"[..], b"false", b"null"]
                        .into_iter()
                        .find(|l| s[i..].starts_with(l))?;
                    i += lit.len();
                }
            }
            // after a value: a comma, or the end of its container
            loop {
                i = skip_ws(s, i);
                let Some(&open) = stack.last() else {
                    return (i == s.len()).then_some(());
                };
                match (open, s.get(i)?) {
                    (b'{', b',') => {
                        i = key_end(s, skip_ws(s, i + 1))?;
                        continue 'value;
                    }
                    (b'[', b',') => {
                        i = skip_ws(s, i + 1);
                        continue 'value;
                    }
                    (b'{', b'}') | (b'[', b']') => {
                        stack.pop();
                        i += 1;
                    }
                    _ => return None,
                }
            }
        }
    }
    run(s).is_some()
}

/// One past the closing quote of the string starting at `start`; None for a lone surrogate escape.
fn string_end(s: &[u8], start: usize) -> Option<usize> {
    let mut i = start + 1;
    let mut pending_high = false;
    while i < s.len() {
        match s[i] {
            b'"' => return (!pending_high).then_some(i + 1),
            b'\\' => {
                if s.get(i + 1) == Some(&b'u') {
                    let hex = std::str::from_utf8(s.get(i + 2..i + 6)?).ok()?;
                    let u = u16::from_str_radix(hex, 16).ok()?;
                    match u {
                        0xD800..=0xDBFF if !pending_high => pending_high = true,
                        0xDC00..=0xDFFF if pending_high => pending_high = false,
                        0xD800..=0xDFFF => return None,
                        _ if pending_high => return None,
                        _ => {}
                    }
                    i += 6;
                } else {
                    if pending_high
                        || !matches!(
                            s.get(i + 1),
                            Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't')
                        )
                    {
                        return None;
                    }
                    i += 2;
                }
                continue;
            }
            _ if pending_high => return None,
            0..=0x1f => return None,
            _ => {}
        }
        i += 1;
    }
    None
}

// --- looking up the fields ------------------------------------------------------------------------

/// A real value of a looked-up key: a non-empty string other than `-`, or a number.
#[derive(Clone, Copy, Debug)]
enum Leaf<'a> {
    Str(&'a str),
    Num(&'a Number),
}

static NULL: Value = Value::Null;

/// An object to walk into: a JSON object, or headers as `[{"name": ..., "value": ...}]` read as one.
enum Nested<'a> {
    Obj(&'a Map<String, Value>),
    Headers(Vec<(Cow<'a, str>, &'a Value)>),
}

/// `first(flat, keys)` for every field at once, fed the (key, value) pairs `flatten` would insert.
struct Found<'a> {
    values: [Option<Leaf<'a>>; 7],
    ranks: [usize; 7],
    seen: Vec<bool>,
    roles: &'static Roles,
}

/// Python's `str.lower()` of a key, without a copy when it is lowercase ASCII already.
fn lower(k: &str) -> Cow<'_, str> {
    if k.bytes().any(|b| b.is_ascii_uppercase() || b >= 0x80) {
        Cow::Owned(py_lower(k))
    } else {
        Cow::Borrowed(k)
    }
}

/// What `flatten` keeps of a value: a list counts as its first item when that is a string or a
/// number (a bool too: Python's `isinstance(True, int)`); None: the key is skipped.
fn flat_value(v: &Value) -> Option<&Value> {
    match v {
        Value::Array(a) => match a.first() {
            Some(x @ (Value::String(_) | Value::Number(_) | Value::Bool(_))) => Some(x),
            _ => None,
        },
        _ => Some(v),
    }
}

/// Python's `str()` of a header name (only names that are strings can be looked-up keys; the
/// others only need to be told apart).
fn name_text(v: Option<&Value>) -> Cow<'_, str> {
    match v {
        None | Some(Value::Null) => Cow::Borrowed("None"),
        Some(Value::String(s)) => Cow::Borrowed(s),
        Some(Value::Bool(true)) => Cow::Borrowed("True"),
        Some(Value::Bool(false)) => Cow::Borrowed("False"),
        Some(Value::Number(n)) => Cow::Owned(py_num_str(n)),
        Some(other) => Cow::Owned(format!("\u{0}{other}")),
    }
}

/// `{str(h.get("name")): h.get("value") for h in v if type(h) is dict}`: the first position of a
/// repeated name, with its last value.
fn headers(list: &[Value]) -> Vec<(Cow<'_, str>, &Value)> {
    let mut out: Vec<(Cow<'_, str>, &Value)> = Vec::new();
    let mut index: FxMap<String, usize> = FxMap::default();
    for h in list {
        let Value::Object(h) = h else { continue };
        let name = name_text(h.get("name"));
        let value = h.get("value").unwrap_or(&NULL);
        let at = if out.len() < 16 {
            out.iter().position(|(k, _)| *k == name)
        } else {
            if index.is_empty() {
                for (i, (k, _)) in out.iter().enumerate() {
                    index.entry(k.to_string()).or_insert(i);
                }
            }
            index.get(name.as_ref()).copied()
        };
        match at {
            Some(i) => out[i].1 = value,
            None => {
                if !index.is_empty() {
                    index.insert(name.to_string(), out.len());
                }
                out.push((name, value));
            }
        }
    }
    out
}

impl<'a> Found<'a> {
    fn new() -> Found<'a> {
        let roles = roles();
        Found {
            values: [None; 7],
            ranks: FIELD_KEYS.map(<[&str]>::len),
            seen: vec![false; roles.by_key.len()],
            roles,
        }
    }

    fn add(&mut self, key: &str, v: &'a Value) {
        let Some(role) = self.roles.by_key.get(key) else {
            return;
        };
        // `flatten` keeps the first value of a key (`setdefault`), real or not.
        if std::mem::replace(&mut self.seen[role.id], true) {
            return;
        }
        let leaf = match v {
            Value::String(s) if !s.is_empty() && s != "-" => Leaf::Str(s),
            Value::Number(n) => Leaf::Num(n),
            _ => return,
        };
        for &(f, r) in &role.fields {
            if r < self.ranks[f] {
                self.ranks[f] = r;
                self.values[f] = Some(leaf);
            }
        }
    }

    /// `flatten(obj, ..., prefix, depth)`, keeping only the keys some field looks up.
    fn walk<'k>(
        &mut self,
        entries: &mut dyn Iterator<Item = (&'k str, &'a Value)>,
        prefix: &str,
        depth: usize,
    ) {
        if depth > MAX_DEPTH {
            return;
        }
        let mut nested: Vec<(Cow<'k, str>, Nested<'a>)> = Vec::new();
        let dotted = !prefix.is_empty() && self.roles.path_prefixes.iter().any(|p| p == prefix);
        let mut full = String::new();
        for (k, v) in entries {
            let key = lower(k);
            match v {
                Value::Object(m) => {
                    nested.push((key, Nested::Obj(m)));
                    continue;
                }
                Value::Array(a) => {
                    if let Some(Value::Object(h)) = a.first() {
                        if h.contains_key("name") && h.contains_key("value") {
                            // Headers as `[{"name": "Host", "value": "..."}]` (AWS WAF, CloudTrail).
                            nested.push((key, Nested::Headers(headers(a))));
                            continue;
                        }
                    }
                }
                _ => {}
            }
            if dotted {
                full.clear();
                full.push_str(prefix);
                full.push_str(&key);
                if self.roles.by_key.contains_key(full.as_str()) {
                    let Some(v) = flat_value(v) else { continue };
                    self.add(&full, v);
                }
            }
            if self.roles.by_key.contains_key(key.as_ref()) {
                let Some(v) = flat_value(v) else { continue };
                self.add(&key, v);
            }
        }
        for (key, n) in nested {
            let inner = format!("{prefix}{key}.");
            match n {
                Nested::Obj(m) => self.walk(
                    &mut m.iter().map(|(k, v)| (k.as_str(), v)),
                    &inner,
                    depth + 1,
                ),
                Nested::Headers(h) => self.walk(
                    &mut h.iter().map(|(k, v)| (k.as_ref(), *v)),
                    &inner,
                    depth + 1,
                ),
            }
        }
    }
}

/// `[first(flat, keys) for keys in FIELD_KEYS]` of the flattened object, in one pass over it.
fn lookup(obj: &Map<String, Value>) -> [Option<Leaf<'_>>; 7] {
    let mut found = Found::new();
    found.walk(&mut obj.iter().map(|(k, v)| (k.as_str(), v)), "", 0);
    found.values
}

// --- Python's view of the values ------------------------------------------------------------------

/// Whether a JSON number is an integer to Python (orjson: up to 64 bits; beyond, a float).
fn py_int(n: &Number) -> Option<i128> {
    let s = n.as_str();
    if s.contains(['.', 'e', 'E']) {
        return None;
    }
    let v: i128 = s.parse().ok()?;
    (i128::from(i64::MIN)..=i128::from(u64::MAX))
        .contains(&v)
        .then_some(v)
}

fn num_f64(n: &Number) -> f64 {
    n.as_str().parse::<f64>().unwrap_or(f64::NAN)
}

/// Python's `repr(float)`: the shortest digits that read back, fixed between 1e-4 and 1e16.
pub fn py_float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf" } else { "-inf" }.into();
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0.0" } else { "0.0" }.into();
    }
    let sci = format!("{f:e}");
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let neg = mant.starts_with('-');
    let digits: String = mant.chars().filter(char::is_ascii_digit).collect();
    let mut out = String::with_capacity(digits.len() + 8);
    if neg {
        out.push('-');
    }
    if (-4..16).contains(&exp) {
        if exp >= 0 {
            let point = exp as usize + 1;
            if digits.len() <= point {
                out.push_str(&digits);
                out.extend(std::iter::repeat_n('0', point - digits.len()));
                out.push_str(".0");
            } else {
                out.push_str(&digits[..point]);
                out.push('.');
                out.push_str(&digits[point..]);
            }
        } else {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-exp - 1) as usize));
            out.push_str(&digits);
        }
    } else {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push_str(&format!(
            "e{}{:02}",
            if exp < 0 { '-' } else { '+' },
            exp.abs()
        ));
    }
    out
}

/// Python's `str()` of the value orjson gives for a JSON number.
fn py_num_str(n: &Number) -> String {
    match py_int(n) {
        Some(i) => i.to_string(),
        None => py_float_repr(num_f64(n)),
    }
}

fn leaf_text(v: Leaf<'_>) -> String {
    match v {
        Leaf::Str(s) => s.to_string(),
        Leaf::Num(n) => py_num_str(n),
    }
}

/// Python's truth value of a looked-up value (a number 0 is false).
fn truthy(v: Option<Leaf<'_>>) -> bool {
    match v {
        None => false,
        Some(Leaf::Str(s)) => !s.is_empty(),
        Some(Leaf::Num(n)) => num_f64(n) != 0.0,
    }
}

/// Python's `str.isspace()`: Unicode White_Space and the ASCII separators \x1c-\x1f.
fn py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

fn status_of(v: Leaf<'_>) -> Option<i32> {
    match v {
        // `len(s) == 3 and s.isdigit()`: only ASCII digits are read here (Python's `int()` would
        // read other scripts' digits too; no log writes a status so).
        Leaf::Str(s) => status(s.as_bytes()),
        Leaf::Num(n) => match py_int(n) {
            Some(i) => (100..=999).contains(&i).then_some(i as i32),
            None => status_f64(num_f64(n)),
        },
    }
}

fn time_of(v: Leaf<'_>, ctx: &FileContext) -> Option<i64> {
    match v {
        Leaf::Str(s) => timeparse::parse_any(s.as_bytes(), &ctx.tz),
        Leaf::Num(n) => timeparse::from_number(num_f64(n)),
    }
}

/// Records whose time is written after the response, with their duration: (the key and the start
/// of its value that mark the record, the duration's key path; seconds).
const END_TIMES: [(&str, &str, &[&str]); 3] = [
    ("logger", "http.log.access", &["duration"]), // Caddy: `ts`, `duration` in seconds
    (
        "category",
        "FrontDoorAccessLog",
        &["properties", "timeTaken"],
    ), // Front Door: `time`, seconds
    (
        "category",
        "FrontdoorAccessLog",
        &["properties", "timeTaken"],
    ),
];

/// The record's time, minus its duration where the format logs the end (`END_TIMES`).
fn arrival_of(obj: &Map<String, Value>, ts: i64) -> Option<i64> {
    for (mark, prefix, path) in END_TIMES {
        if let Some(Value::String(v)) = obj.get(mark) {
            if v.starts_with(prefix) {
                let mut d = obj.get(path[0]);
                for k in &path[1..] {
                    d = match d {
                        Some(Value::Object(m)) => m.get(*k),
                        _ => None,
                    };
                }
                let secs = match d {
                    Some(Value::String(s)) => py_float(s.as_bytes()),
                    Some(Value::Number(n)) => Some(num_f64(n)),
                    _ => None,
                };
                return arrival(Some(ts), secs.and_then(|s| seconds_us_f64(s, 1e6)));
            }
        }
    }
    Some(ts)
}

/// (method, host, path) from a request line `GET /a?b HTTP/1.1` (text.py's `request_line`).
fn request_line(req: &[u8]) -> (Option<String>, Option<String>, Option<String>) {
    let none = (None, None, None);
    let sp = match memchr(b' ', &req[..req.len().min(13)]) {
        Some(sp) if sp >= 3 => sp,
        _ => return none,
    };
    let verb = &req[..sp];
    if !verb.iter().all(u8::is_ascii_alphabetic) {
        return none;
    }
    let rest = &req[sp + 1..];
    let target_len = rest
        .iter()
        .position(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\x0b' | b'\x0c'))
        .unwrap_or(rest.len());
    if target_len == 0 {
        // whitespace right after the space, or nothing: not a request line
        return none;
    }
    let (host, path) = split_target_bytes(&rest[..target_len]);
    (
        Some(String::from_utf8_lossy(verb).to_ascii_uppercase()),
        host,
        path,
    )
}

// --- the line -------------------------------------------------------------------------------------

/// The fields of a JSON line, or None when the line holds no JSON object. `nested`: an inner
/// message (a `message`/`log` string holding a whole access line) is parsed with
/// `super::parse_inner`, as `jsonlog.py`'s `inner=` callback does.
pub fn parse_json_line(line: &[u8], ctx: &FileContext, nested: bool) -> Option<LineFields> {
    let obj = json_object(line)?;
    let [ts_v, host_v, method_v, path_v, status_v, ip_v, ua_v] = lookup(&obj);
    let ts = ts_v
        .and_then(|v| time_of(v, ctx))
        .and_then(|t| arrival_of(&obj, t));
    if nested {
        if let Some(Value::String(wrapped)) = obj.get("log") {
            if !wrapped.trim_start_matches(py_space).starts_with('{') {
                let msg = wrapped.trim_matches(py_space);
                if let Some(got) = super::parse_inner(msg.as_bytes(), ctx) {
                    return Some(LineFields {
                        ts: got.ts.or(ts),
                        ..got
                    });
                }
            }
        }
    }
    let (mut thost, mut path) = match path_v {
        Some(v) => split_target(&leaf_text(v)),
        None => (None, None),
    };
    let mut method = method_v.map(leaf_text);
    if path.is_none() {
        if let Some(Value::String(request)) = obj.get("request") {
            // nginx's JSON `log_format`s carry `"request": "$request"`, the request line.
            let (rmethod, rhost, rpath) = request_line(request.as_bytes());
            thost = rhost;
            path = rpath;
            if !truthy(method_v) {
                method = rmethod;
            }
        }
    }
    let mut ip = ip_v.map(leaf_text);
    if let Some(s) = &ip {
        if s.contains(',') {
            // an X-Forwarded-For list: the client is the first
            ip = Some(
                s.split(',')
                    .next()
                    .unwrap_or_default()
                    .trim_matches(py_space)
                    .to_string(),
            );
        }
    }
    let client_ip = match ip {
        // `203.0.113.9:51234` and `[2001:db8::1]:51234` lose the port; bare IPv6 is left alone.
        Some(s) if !s.is_empty() && (s.contains('.') || s.starts_with('[')) => {
            strip_client_port(Some(&s))
        }
        other => other,
    };
    let host = host_v.map(leaf_text).or(thost);
    Some(LineFields {
        ts,
        host: strip_port(host.as_deref()),
        method,
        path,
        status: status_v.and_then(status_of),
        client_ip,
        user_agent: ua_v.map(leaf_text),
        query_span: None,
    })
}

fn lstrip(line: &[u8]) -> &[u8] {
    let at = line
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\x0b' | b'\x0c'))
        .unwrap_or(line.len());
    &line[at..]
}

fn has(line: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(line, needle).is_some()
}

/// Any JSON object line.
pub fn looks_like_json(line: &[u8]) -> bool {
    lstrip(line).first() == Some(&b'{')
}

/// Traefik's JSON access log (`RequestHost`, `DownstreamStatus`); not Serilog's compact JSON,
/// whose request logging has a `RequestHost` property too (`@t`, `@mt`).
pub fn looks_like_traefik(line: &[u8]) -> bool {
    looks_like_json(line)
        && (has(line, b"\"RequestHost\"") || has(line, b"\"DownstreamStatus\""))
        && !has(line, b"\"@mt\"")
        && !has(line, b"\"@t\"")
}

/// Caddy's access logger.
pub fn looks_like_caddy(line: &[u8]) -> bool {
    looks_like_json(line) && (has(line, b"\"http.log.access") || has(line, b"\"resp_headers\""))
}

/// Azure Application Gateway access log records.
pub fn looks_like_appgw(line: &[u8]) -> bool {
    looks_like_json(line) && has(line, b"ApplicationGatewayAccess")
}

/// Azure Front Door access log records (classic and Standard/Premium).
pub fn looks_like_frontdoor(line: &[u8]) -> bool {
    looks_like_json(line)
        && (has(line, b"FrontDoorAccessLog")
            || has(line, b"FrontdoorAccessLog")
            || has(line, b"\"trackingReference\""))
}

#[cfg(test)]
mod tests {
    use super::super::vectors::line_mismatches;
    use super::super::Format;
    use super::*;

    fn show(what: &str, checked: usize, bad: &[String]) {
        for b in bad.iter().take(12) {
            eprintln!("{b}");
        }
        eprintln!("{what}: {} of {checked} differ", bad.len());
    }

    #[test]
    #[ignore = "needs the timeparse and text ports (merged later)"]
    fn vectors_of_my_formats_parse_as_python_did() {
        let (checked, bad) = line_mismatches(&[
            Format::Iis,
            Format::Traefik,
            Format::Caddy,
            Format::AppGw,
            Format::FrontDoor,
            Format::Json,
        ]);
        show("iis/json formats", checked, &bad);
        assert!(bad.is_empty());
    }

    /// The vectors whose given format is the one Python answered, parsed by these parsers directly
    /// (`ignore_ts` while the time parsers are stubs).
    pub(crate) fn direct_mismatches(ignore_ts: bool) -> (usize, Vec<String>) {
        use super::super::vectors::{bytes, context, expected_fields, load};
        let mine = [
            Format::Iis,
            Format::Traefik,
            Format::Caddy,
            Format::AppGw,
            Format::FrontDoor,
            Format::Json,
        ];
        let mut checked = 0;
        let mut bad = Vec::new();
        for v in load("lines") {
            let fmt = Format::from_name(v["fmt"].as_str().unwrap()).unwrap();
            if v["name"].as_str() != Some(fmt.name()) || !mine.contains(&fmt) {
                continue;
            }
            checked += 1;
            let line = bytes(&v["line"]);
            let ctx = context(&v);
            let mut want = expected_fields(&v["fields"]);
            let got = if fmt == Format::Iis {
                super::super::w3c::parse_w3c(&line, &ctx)
            } else {
                parse_json_line(&line, &ctx, true)
            };
            if ignore_ts && fmt != Format::Iis {
                // inner lines need the text parsers
                if let Some(Value::String(w)) =
                    json_object(&line).as_ref().and_then(|o| o.get("log"))
                {
                    if !w.trim_start().starts_with('{') {
                        continue;
                    }
                }
            }
            let Some(mut got) = got else {
                bad.push(format!(
                    "{} [{}] None {:?}",
                    v["source"],
                    fmt.name(),
                    String::from_utf8_lossy(&line)
                ));
                continue;
            };
            if ignore_ts {
                got.ts = None;
                want.ts = None;
            }
            if got != want {
                bad.push(format!(
                    "{} [{}] {:?}\n  want {:?}\n  got  {:?}",
                    v["source"],
                    fmt.name(),
                    String::from_utf8_lossy(&line[..line.len().min(400)]),
                    want,
                    got
                ));
            }
        }
        (checked, bad)
    }

    #[test]
    fn vectors_of_my_formats_parse_directly_as_python_did() {
        let (checked, bad) = direct_mismatches(true);
        show("direct", checked, &bad);
        assert!(bad.is_empty());
    }

    fn times_ported() -> bool {
        timeparse::from_number(1.5e9).is_some()
    }

    /// Lines and what Python's `jsonlog.py` answered (`tests/data/jsonlog_cases.json`, written
    /// without the `inner=` callback).
    #[test]
    fn cases_parse_as_python_did() {
        let cases: Vec<Value> =
            serde_json::from_str(include_str!("../../tests/data/jsonlog_cases.json")).unwrap();
        let mut bad = Vec::new();
        for c in &cases {
            let line = c["line"].as_str().unwrap().as_bytes();
            let mut want = (!c["fields"].is_null())
                .then(|| super::super::vectors::expected_fields(&c["fields"]));
            let mut got = parse_json_line(line, &FileContext::default(), false);
            if !times_ported() {
                for f in [&mut got, &mut want].into_iter().flatten() {
                    f.ts = None;
                }
            }
            if got != want {
                bad.push(format!(
                    "{:?}\n  want {want:?}\n  got  {got:?}",
                    &c["line"].as_str().unwrap()[..c["line"].as_str().unwrap().len().min(200)]
                ));
            }
        }
        assert!(bad.is_empty(), "{}", bad.join("\n"));
    }

    #[test]
    fn floats_print_as_python_repr() {
        for (f, want) in [
            (1.0, "1.0"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (1e-5, "1e-05"),
            (0.0001, "0.0001"),
            (123456789.0, "123456789.0"),
            (0.1, "0.1"),
            (-0.0, "-0.0"),
            (1.5e300, "1.5e+300"),
            (1.8446744073709552e19, "1.8446744073709552e+19"),
            (-2.5e-7, "-2.5e-07"),
            (12345.678, "12345.678"),
        ] {
            assert_eq!(py_float_repr(f), want);
        }
        for (text, want) in [
            ("-0", "0"),
            ("18446744073709551615", "18446744073709551615"),
            ("18446744073709551616", "1.8446744073709552e+19"),
            ("-9223372036854775808", "-9223372036854775808"),
            ("-9223372036854775809", "-9.223372036854776e+18"),
            ("1E2", "100.0"),
            ("0e5", "0.0"),
        ] {
            let n: Number = text.parse().unwrap();
            assert_eq!(py_num_str(&n), want);
        }
    }

    fn nested(depth: usize, inner: &str) -> String {
        format!(
            "{{\"host\":\"deep.example\",\"x\":{}{inner}{}}}",
            "[".repeat(depth - 1),
            "]".repeat(depth - 1)
        )
    }

    #[test]
    fn documents_are_read_as_orjson_reads_them() {
        let host = |s: &str| json_object(s.as_bytes()).map(|m| m["host"].clone());
        // orjson takes 1024 levels (serde_json alone stops at 128)
        assert!(host(&nested(1024, "1")).is_some());
        assert!(host(&nested(1025, "1")).is_none());
        assert!(host(&nested(300, "{\"a\":[1,2,{\"b\":\"\\ud83d\\ude00\"}]}")).is_some());
        for bad in [
            "1e400",
            "\"\\ud800\"",
            "\"\\udc00x\"",
            "\"\\ud800\\u0041\"",
            "1,",
            "01",
            "1.",
            "-",
            "\"\\x\"",
            "\"\u{1}\"",
            "tru",
            "{\"a\" 1}",
            "{\"a\":1,}",
            "[1 2]",
            "NaN",
        ] {
            assert!(host(&nested(200, bad)).is_none(), "{bad}");
            assert!(host(&nested(2, bad)).is_none(), "{bad}");
        }
        for good in [
            "1e-400",
            "-0.0",
            "\"\\u00e9\\/\"",
            "{}",
            "[]",
            "{\"a\":[true,false,null]}",
        ] {
            assert!(host(&nested(200, good)).is_some(), "{good}");
            assert!(host(&nested(2, good)).is_some(), "{good}");
        }
        assert!(json_object(b"{\"a\":1} x").is_none());
        assert!(json_object(b"{\"a\":1}\x0c").is_none());
        assert!(json_object(b"{\"a\":\"\xff\"}").is_none());
        assert!(json_object(b"[1]").is_none());
        let m = json_object(b"{\"a\":1,\"b\":2,\"a\":3}").unwrap();
        assert_eq!(
            m.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>(),
            ["a=3", "b=2"]
        );
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_never_panic(line in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)) {
            let ctx = FileContext::default();
            let _ = parse_json_line(&line, &ctx, true);
            let _ = parse_json_line(&line, &ctx, false);
            let _ = looks_like_traefik(&line) || looks_like_caddy(&line) || looks_like_appgw(&line) || looks_like_frontdoor(&line);
        }

        #[test]
        fn cut_and_spliced_json_never_panics(cut in 0usize..400, at in 0usize..400, junk in "[\\[\\]{}\",:0-9a-z\\\\ .eE+-]{0,6}", depth in 1usize..300) {
            let base = nested(depth, "{\"request\":\"GET /p?x HTTP/1.1\",\"status\":401,\"ts\":1795669567.5,\"log\":\"x\"}");
            let mut line = base.as_bytes()[..cut.min(base.len())].to_vec();
            let at = at.min(line.len());
            line.splice(at..at, junk.bytes());
            let ctx = FileContext::default();
            let _ = parse_json_line(&line, &ctx, true);
            let _ = json_object(&line);
        }
    }

    /// µs per line of these parsers on the vectors of their formats (`cargo test --release --lib
    /// jsonlog::tests::timing -- --ignored --nocapture`).
    #[test]
    #[ignore]
    fn timing() {
        use super::super::vectors::{bytes, context, load};
        let vs = load("lines");
        for f in [
            Format::Iis,
            Format::Traefik,
            Format::Caddy,
            Format::AppGw,
            Format::FrontDoor,
            Format::Json,
        ] {
            let cases: Vec<_> = vs
                .iter()
                .filter(|v| {
                    v["fmt"].as_str() == Some(f.name()) && v["name"].as_str() == Some(f.name())
                })
                .map(|v| (bytes(&v["line"]), context(v)))
                .collect();
            let bytes_total: usize = cases.iter().map(|c| c.0.len()).sum();
            let rounds = 200;
            let t = std::time::Instant::now();
            let mut n = 0usize;
            for _ in 0..rounds {
                for (line, ctx) in &cases {
                    let got = if f == Format::Iis {
                        super::super::w3c::parse_w3c(line, ctx)
                    } else {
                        parse_json_line(line, ctx, true)
                    };
                    n += std::hint::black_box(got).is_some() as usize;
                }
            }
            let per = t.elapsed().as_secs_f64() * 1e6 / (rounds * cases.len().max(1)) as f64;
            eprintln!(
                "{:16} {per:6.2} µs/line over {} lines (avg {} bytes; {n} parsed)",
                f.name(),
                cases.len(),
                bytes_total / cases.len().max(1)
            );
        }
    }
}
