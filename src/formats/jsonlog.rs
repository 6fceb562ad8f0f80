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

use super::common::{
    arrival, owned, owned_text, py_float, py_lower, seconds_us_f64, split_target_str, status_f64,
    status_text, strip_client_port_text, strip_port_text, FileContext, LineFields, Text,
};
use crate::timeparse;

// Where a record has both, the time the request started beats the time it was logged.
pub(crate) const TS_KEYS: &[&str] = &[
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
pub(crate) const HOST_KEYS: &[&str] = &[
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
pub(crate) const METHOD_KEYS: &[&str] = &[
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
pub(crate) const PATH_KEYS: &[&str] = &[
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
pub(crate) const STATUS_KEYS: &[&str] = &[
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
pub(crate) const IP_KEYS: &[&str] = &[
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
pub(crate) const UA_KEYS: &[&str] = &[
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
        const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let w = u64::from_le_bytes(c.try_into().unwrap_or_default());
            self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ b as u64).wrapping_mul(K);
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
    /// Each looked-up key with its role, by role id.
    keys: Vec<(String, Role)>,
    /// Role ids by `bucket(key)`: a key is compared with the few that share its length and four
    /// bytes, without hashing it whole (most keys of a record are no looked-up key).
    buckets: Vec<Vec<u16>>,
    /// The prefixes (`request.`, `http.request.` ...) under which a dotted path can be a looked-up key.
    path_prefixes: Vec<String>,
    /// By length (< 64), the last bytes (ASCII) of the looked-up keys of that length.
    tails: [u128; 64],
    /// Some looked-up key is 64 bytes or longer.
    long: bool,
}

const BUCKETS: usize = 1024;

/// A key's bucket from its length and four of its bytes (no pass over the whole key); the bytes
/// are read lowercased, so an ASCII key has its lowercase form's bucket.
fn bucket(key: &[u8]) -> Option<usize> {
    let n = key.len();
    let low = |b: u8| b.to_ascii_lowercase();
    let (first, last) = (low(*key.first()?), low(*key.last()?));
    let (mid, tail) = (low(key[n / 2]), low(key[n.saturating_sub(3)]));
    let h = u64::from_le_bytes([n as u8, first, mid, tail, last, 0, 0, 0])
        .wrapping_mul(0x9E37_79B9_7F4A_7C15);
    Some((h >> 54) as usize % BUCKETS)
}

impl Roles {
    /// Whether some looked-up key is `n` bytes long and ends in the ASCII byte `last`.
    fn may_be(&self, n: usize, last: u8) -> bool {
        match self.tails.get(n) {
            Some(set) => last >= 128 || set & (1u128 << last) != 0,
            None => self.long,
        }
    }

    fn get(&self, key: &str) -> Option<&Role> {
        let ids = self.buckets.get(bucket(key.as_bytes())?)?;
        ids.iter()
            .filter_map(|&id| self.keys.get(id as usize))
            .find(|(k, _)| k == key)
            .map(|(_, role)| role)
    }

    /// `get` of an ASCII key's lowercase form, without making it (the looked-up keys are
    /// lowercase: comparing without case is comparing with the lowercased key).
    fn get_ascii(&self, key: &str) -> Option<&Role> {
        let ids = self.buckets.get(bucket(key.as_bytes())?)?;
        ids.iter()
            .filter_map(|&id| self.keys.get(id as usize))
            .find(|(k, _)| k.as_bytes().eq_ignore_ascii_case(key.as_bytes()))
            .map(|(_, role)| role)
    }
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
        let keys: Vec<(String, Role)> = order
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
        let mut buckets = vec![Vec::new(); BUCKETS];
        for (id, (k, _)) in keys.iter().enumerate() {
            if let Some(b) = bucket(k.as_bytes()) {
                buckets[b].push(id as u16);
            }
        }
        let mut tails = [0u128; 64];
        for (k, _) in &keys {
            if let (Some(set), Some(&last)) = (tails.get_mut(k.len()), k.as_bytes().last()) {
                if last < 128 {
                    *set |= 1u128 << last;
                }
            }
        }
        let long = keys.iter().any(|(k, _)| k.len() >= tails.len());
        Roles {
            tails,
            long,
            keys,
            buckets,
            path_prefixes,
        }
    })
}

// --- reading the object ---------------------------------------------------------------------------
// The line is read into a tape of its values, checked as orjson checks a document (strict syntax,
// UTF-8, at most 1024 levels, no lone surrogate escape, no number beyond a double). Strings are
// spans of the line, unescaped only where a value is used: the tokens they hold are never copied.

/// orjson's limit: a document nested deeper is not JSON to Python.
const ORJSON_MAX_DEPTH: usize = 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Obj,
    Arr,
    Str,
    Num,
    True,
    False,
    Null,
}

/// One value of the document, in document order.
#[derive(Clone, Copy, Debug)]
struct Node {
    kind: Kind,
    /// A string's text between its quotes, a number's text, a container's from bracket to bracket.
    start: usize,
    end: usize,
    /// The member's key between its quotes, when the value is an object member.
    key: (usize, usize),
    key_esc: bool,
    /// A string value with escapes.
    esc: bool,
    /// One past the last node of this value's subtree.
    after: usize,
}

/// A JSON document read into its values; node 0 is the root.
pub(crate) struct Doc<'s> {
    src: &'s str,
    nodes: Vec<Node>,
}

/// The most nodes a spare tape keeps room for (a line of ~4 KB has a few hundred values).
const SPARE_MAX: usize = 4096;

thread_local! {
    /// The last document's tape, for the next line's: a line's ~50 nodes take 2-3 KB, past
    /// glibc's per-thread cache of small blocks, so each line's tape went through malloc's bins
    /// (malloc and free were a tenth of the JSON formats' scan).
    static SPARE_NODES: std::cell::RefCell<Vec<Node>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Keep a finished tape's room for the next document (the larger of the two, up to `SPARE_MAX`).
fn give_back(nodes: Vec<Node>) {
    if nodes.capacity() > SPARE_MAX {
        return;
    }
    let _ = SPARE_NODES.try_with(|spare| {
        if let Ok(mut spare) = spare.try_borrow_mut() {
            if spare.capacity() < nodes.capacity() {
                *spare = nodes;
            }
        }
    });
}

impl Drop for Doc<'_> {
    fn drop(&mut self) {
        give_back(std::mem::take(&mut self.nodes));
    }
}

fn skip_ws(s: &[u8], mut i: usize) -> usize {
    while matches!(s.get(i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        i += 1;
    }
    i
}

/// Whether a number's text is one Python reads (orjson rejects a number that overflows a double).
fn number_ok(s: &str) -> bool {
    if s.len() < 300 && !s.contains(['e', 'E']) {
        return true;
    }
    s.parse::<f64>().is_ok_and(f64::is_finite)
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
    let mut plain = true;
    if s.get(i) == Some(&b'.') {
        i = digits(i + 1)?;
    }
    if matches!(s.get(i), Some(b'e' | b'E')) {
        plain = false;
        i += 1;
        if matches!(s.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        i = digits(i)?;
    }
    if plain && i - start < 300 {
        return Some(i);
    }
    number_ok(std::str::from_utf8(s.get(start..i)?).ok()?).then_some(i)
}

fn hex4(h: &[u8]) -> Option<u32> {
    if h.len() != 4 {
        return None;
    }
    h.iter()
        .try_fold(0u32, |acc, &b| Some(acc * 16 + (b as char).to_digit(16)?))
}

/// Where the first quote, backslash or control character is.
fn find_special(b: &[u8]) -> Option<usize> {
    const L: u64 = 0x0101_0101_0101_0101;
    const H: u64 = 0x8080_8080_8080_8080;
    // Keys and most values are short: eight bytes at a time (SWAR) before memchr2 is set up. In
    // each mask the lowest flagged byte is exact (borrows only run upwards), so is their union's.
    const NEAR: usize = 64;
    let mut i = 0;
    while i < NEAR {
        let Some(w) = b.get(i..i + 8) else {
            return b
                .get(i..)?
                .iter()
                .position(|&x| x == b'"' || x == b'\\' || x < 0x20)
                .map(|p| i + p);
        };
        let w = u64::from_le_bytes(w.try_into().unwrap_or([0; 8]));
        let q = w ^ (L * b'"' as u64);
        let s = w ^ (L * b'\\' as u64);
        let m =
            ((q.wrapping_sub(L) & !q) | (s.wrapping_sub(L) & !s) | (w.wrapping_sub(L * 0x20) & !w))
                & H;
        if m != 0 {
            return Some(i + (m.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    let rest = b.get(NEAR..)?;
    let end = memchr::memchr2(b'"', b'\\', rest).unwrap_or(rest.len());
    // The smallest byte tells whether a control character comes first (`min` vectorizes).
    if rest[..end].iter().copied().min().unwrap_or(0xff) < 0x20 {
        return rest.iter().position(|&x| x < 0x20).map(|p| NEAR + p);
    }
    (end < rest.len()).then_some(NEAR + end)
}

/// A hash of bytes (`FxHasher`).
fn fx(b: &[u8]) -> u64 {
    let mut h = FxHasher::default();
    h.write(b);
    h.finish()
}

/// Whether some key of an object's members is repeated.
fn has_repeats<T>(keys: &[(Cow<'_, str>, T)]) -> bool {
    if keys.len() <= 8 {
        return (1..keys.len()).any(|j| keys[..j].iter().any(|(k, _)| *k == keys[j].0));
    }
    if keys.len() > 64 {
        let mut set: std::collections::HashSet<&str, BuildHasherDefault<FxHasher>> =
            Default::default();
        return !keys.iter().all(|(k, _)| set.insert(k.as_ref()));
    }
    // open addressing on the stack: each slot holds a member's index + 1
    let mut table = [0u8; 128];
    for (i, (k, _)) in keys.iter().enumerate() {
        let mut slot = fx(k.as_bytes()) as usize & 127;
        loop {
            match table[slot] {
                0 => {
                    table[slot] = i as u8 + 1;
                    break;
                }
                j => {
                    if keys[j as usize - 1].0 == *k {
                        return true;
                    }
                    slot = (slot + 1) & 127;
                }
            }
        }
    }
    false
}

/// One past the closing quote of the string that starts at `start`, and whether it has escapes;
/// None for a control character, a bad escape or a lone surrogate.
fn string_end(s: &[u8], start: usize) -> Option<(usize, bool)> {
    let mut i = start + 1;
    let mut esc = false;
    loop {
        let rest = s.get(i..)?;
        let rel = find_special(rest)?;
        if rest[rel] < 0x20 {
            return None;
        }
        i += rel;
        if rest[rel] == b'"' {
            return Some((i + 1, esc));
        }
        esc = true;
        match s.get(i + 1)? {
            b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => i += 2,
            b'u' => {
                let u = hex4(s.get(i + 2..i + 6)?)?;
                i += 6;
                if (0xD800..0xDC00).contains(&u) {
                    if s.get(i..i + 2) != Some(b"\\u") {
                        return None;
                    }
                    let low = hex4(s.get(i + 2..i + 6)?)?;
                    if !(0xDC00..0xE000).contains(&low) {
                        return None;
                    }
                    i += 6;
                } else if (0xDC00..0xE000).contains(&u) {
                    return None;
                }
            }
            _ => return None,
        }
    }
}

/// `"key" :` at `i`: the key's span, whether it has escapes, and where the value starts.
fn read_key(s: &[u8], i: usize) -> Option<((usize, usize), bool, usize)> {
    if s.get(i) != Some(&b'"') {
        return None;
    }
    let (end, esc) = string_end(s, i)?;
    let j = skip_ws(s, end);
    (s.get(j) == Some(&b':')).then(|| ((i + 1, end - 1), esc, skip_ws(s, j + 1)))
}

/// A validated string's text with its escapes decoded.
fn unescape(raw: &str) -> String {
    let b = raw.as_bytes();
    let mut out = String::with_capacity(raw.len());
    let mut i = 0;
    while i < b.len() {
        let Some(rel) = memchr(b'\\', &b[i..]) else {
            out.push_str(raw.get(i..).unwrap_or_default());
            break;
        };
        out.push_str(raw.get(i..i + rel).unwrap_or_default());
        i += rel;
        let c = match b.get(i + 1) {
            Some(b'u') => {
                let u = b.get(i + 2..i + 6).and_then(hex4).unwrap_or(0xFFFD);
                i += 6;
                if (0xD800..0xDC00).contains(&u) {
                    let low = b.get(i + 2..i + 6).and_then(hex4).unwrap_or(0xDC00);
                    i += 6;
                    char::from_u32(
                        0x10000 + ((u - 0xD800) << 10) + (low.wrapping_sub(0xDC00) & 0x3FF),
                    )
                } else {
                    char::from_u32(u)
                }
            }
            Some(e) => {
                i += 2;
                Some(match e {
                    b'b' => '\u{8}',
                    b'f' => '\u{c}',
                    b'n' => '\n',
                    b'r' => '\r',
                    b't' => '\t',
                    other => *other as char,
                })
            }
            None => {
                i += 1;
                None
            }
        };
        out.push(c.unwrap_or('\u{FFFD}'));
    }
    out
}

impl<'s> Doc<'s> {
    /// The document `input` holds, or None where orjson would not read it.
    pub(crate) fn parse(input: &'s [u8]) -> Option<Doc<'s>> {
        let mut nodes = SPARE_NODES
            .try_with(|spare| std::mem::take(&mut *spare.borrow_mut()))
            .unwrap_or_default();
        nodes.clear();
        nodes.reserve(48);
        match Doc::read(input, &mut nodes) {
            Some(src) => Some(Doc { src, nodes }),
            None => {
                give_back(nodes);
                None
            }
        }
    }

    /// `parse`'s reading, into `nodes` (empty): the text, or None.
    fn read(input: &'s [u8], nodes: &mut Vec<Node>) -> Option<&'s str> {
        let src = std::str::from_utf8(input).ok()?;
        let s = input;
        let mut stack: Vec<usize> = Vec::new();
        let mut i = skip_ws(s, 0);
        let mut key = (0, 0);
        let mut key_esc = false;
        'value: loop {
            let idx = nodes.len();
            let mut node = Node {
                kind: Kind::Null,
                start: i,
                end: i,
                key: std::mem::take(&mut key),
                key_esc: std::mem::take(&mut key_esc),
                esc: false,
                after: idx + 1,
            };
            match *s.get(i)? {
                open @ (b'{' | b'[') => {
                    node.kind = if open == b'{' { Kind::Obj } else { Kind::Arr };
                    nodes.push(node);
                    stack.push(idx);
                    if stack.len() > ORJSON_MAX_DEPTH {
                        return None;
                    }
                    i = skip_ws(s, i + 1);
                    let close = if open == b'{' { b'}' } else { b']' };
                    if s.get(i) == Some(&close) {
                        i += 1;
                        stack.pop();
                        nodes[idx].end = i;
                    } else {
                        if open == b'{' {
                            (key, key_esc, i) = read_key(s, i)?;
                        }
                        continue 'value;
                    }
                }
                b'"' => {
                    let (end, esc) = string_end(s, i)?;
                    node.kind = Kind::Str;
                    (node.start, node.end, node.esc) = (i + 1, end - 1, esc);
                    nodes.push(node);
                    i = end;
                }
                b'-' | b'0'..=b'9' => {
                    let end = number_end(s, i)?;
                    node.kind = Kind::Num;
                    node.end = end;
                    nodes.push(node);
                    i = end;
                }
                _ => {
                    let rest = &s[i..];
                    let (kind, len) = if rest.starts_with(b"true") {
                        (Kind::True, 4)
                    } else if rest.starts_with(b"false") {
                        (Kind::False, 5)
                    } else if rest.starts_with(b"null") {
                        (Kind::Null, 4)
                    } else {
                        return None;
                    };
                    node.kind = kind;
                    node.end = i + len;
                    nodes.push(node);
                    i += len;
                }
            }
            // after a value: a comma, or the end of its container
            loop {
                i = skip_ws(s, i);
                let Some(&top) = stack.last() else {
                    return (i == s.len()).then_some(src);
                };
                let obj = nodes[top].kind == Kind::Obj;
                match (*s.get(i)?, obj) {
                    (b',', true) => {
                        (key, key_esc, i) = read_key(s, skip_ws(s, i + 1))?;
                        continue 'value;
                    }
                    (b',', false) => {
                        i = skip_ws(s, i + 1);
                        continue 'value;
                    }
                    (b'}', true) | (b']', false) => {
                        i += 1;
                        stack.pop();
                        let after = nodes.len();
                        let n = &mut nodes[top];
                        n.after = after;
                        n.end = i;
                    }
                    _ => return None,
                }
            }
        }
    }

    fn node(&self, i: usize) -> Node {
        self.nodes.get(i).copied().unwrap_or(Node {
            kind: Kind::Null,
            start: 0,
            end: 0,
            key: (0, 0),
            key_esc: false,
            esc: false,
            after: usize::MAX,
        })
    }

    fn kind(&self, i: usize) -> Kind {
        self.node(i).kind
    }

    fn raw(&self, (a, b): (usize, usize)) -> &'s str {
        self.src.get(a..b).unwrap_or_default()
    }

    fn decode(&self, span: (usize, usize), esc: bool) -> Cow<'s, str> {
        let raw = self.raw(span);
        if esc {
            Cow::Owned(unescape(raw))
        } else {
            Cow::Borrowed(raw)
        }
    }

    /// A member's key.
    fn key(&self, i: usize) -> Cow<'s, str> {
        let n = self.node(i);
        self.decode(n.key, n.key_esc)
    }

    /// A string value's text (a number's, as written).
    fn text(&self, i: usize) -> Cow<'s, str> {
        let n = self.node(i);
        self.decode((n.start, n.end), n.esc)
    }

    /// The values inside a container, in order.
    fn children(&self, i: usize) -> impl Iterator<Item = usize> + '_ {
        let end = self.node(i).after;
        let mut c = i + 1;
        std::iter::from_fn(move || {
            if c >= end || c >= self.nodes.len() {
                return None;
            }
            let this = c;
            c = self.nodes[c].after.max(c + 1);
            Some(this)
        })
    }

    /// An object's members as Python's dict has them: a repeated key at its first position, with
    /// its last value.
    fn members(&self, obj: usize) -> Vec<(Cow<'s, str>, Option<usize>)> {
        // Room for every value below the object (`after` bounds its members): collected from an
        // iterator without a size, the list was grown by doubling, a realloc a few times per line.
        let below = self.node(obj).after.saturating_sub(obj + 1);
        let mut out: Vec<(Cow<'s, str>, Option<usize>)> = Vec::with_capacity(below.min(256));
        out.extend(self.children(obj).map(|c| (self.key(c), Some(c))));
        if has_repeats(&out) {
            let mut first: FxMap<String, usize> = FxMap::default();
            let mut dedup: Vec<(Cow<'s, str>, Option<usize>)> = Vec::with_capacity(out.len());
            for (k, c) in out.drain(..) {
                match first.get(k.as_ref()) {
                    Some(&p) => dedup[p].1 = c,
                    None => {
                        first.insert(k.to_string(), dedup.len());
                        dedup.push((k, c));
                    }
                }
            }
            out = dedup;
        }
        out
    }

    /// `obj.get(key)`: the last value of that key.
    fn get(&self, obj: usize, key: &str) -> Option<usize> {
        if self.kind(obj) != Kind::Obj {
            return None;
        }
        self.children(obj).filter(|&c| self.key(c) == key).last()
    }
}

// --- looking up the fields ------------------------------------------------------------------------

/// An object to walk into: a JSON object, or headers as `[{"name": ..., "value": ...}]` read as one.
enum Nested<'s> {
    Obj(usize),
    Headers(Vec<(Cow<'s, str>, Option<usize>)>),
}

/// `first(flat, keys)` for every field at once, fed the (key, value) pairs `flatten` would insert.
struct Found<'d, 's> {
    doc: &'d Doc<'s>,
    /// The node of each field's value.
    values: [Option<usize>; 7],
    ranks: [usize; 7],
    seen: [u64; 8],
    roles: &'static Roles,
    /// Scratch for a key lowercased and a dotted path: reused by every object walked.
    key: String,
    full: String,
}

/// Python's `str.lower()` of a key, into `out` (no allocation for ASCII keys).
fn lower_into(k: &str, out: &mut String) {
    out.clear();
    push_lower(k, out);
}

/// Python's `str.lower()` of a key, appended to `out`.
fn push_lower(k: &str, out: &mut String) {
    if k.is_ascii() {
        let at = out.len();
        out.push_str(k);
        out[at..].make_ascii_lowercase();
    } else {
        out.push_str(&py_lower(k));
    }
}

impl<'d, 's> Found<'d, 's> {
    fn new(doc: &'d Doc<'s>) -> Found<'d, 's> {
        let roles = roles();
        Found {
            doc,
            values: [None; 7],
            ranks: FIELD_KEYS.map(<[&str]>::len),
            seen: [0; 8],
            roles,
            key: String::new(),
            full: String::new(),
        }
    }

    /// What `flatten` keeps of a value: a list counts as its first item when that is a string or
    /// a number (a bool too: Python's `isinstance(True, int)`); None: the key is skipped.
    fn flat_value(&self, v: Option<usize>) -> Option<Option<usize>> {
        match v {
            Some(i) if self.doc.kind(i) == Kind::Arr => {
                let first = self.doc.children(i).next()?;
                matches!(
                    self.doc.kind(first),
                    Kind::Str | Kind::Num | Kind::True | Kind::False
                )
                .then_some(Some(first))
            }
            _ => Some(v),
        }
    }

    fn add(&mut self, role: &Role, v: Option<usize>) {
        // `flatten` keeps the first value of a key (`setdefault`), real or not.
        let (word, bit) = (role.id / 64 % 8, 1u64 << (role.id % 64));
        if self.seen[word] & bit != 0 {
            return;
        }
        self.seen[word] |= bit;
        let Some(v) = v else { return };
        if role.fields.iter().all(|&(f, r)| r >= self.ranks[f]) {
            return; // a better key of its fields was found already
        }
        let real = match self.doc.kind(v) {
            Kind::Str => {
                let t = self.doc.text(v);
                !t.is_empty() && t != "-"
            }
            Kind::Num => true,
            _ => false,
        };
        if !real {
            return;
        }
        for &(f, r) in &role.fields {
            if r < self.ranks[f] {
                self.ranks[f] = r;
                self.values[f] = Some(v);
            }
        }
    }

    /// Python's `str()` of a header name (only names that are strings can be looked-up keys; the
    /// others only need to be told apart).
    fn name_text(&self, v: Option<usize>) -> Cow<'s, str> {
        let Some(v) = v else {
            return Cow::Borrowed("None");
        };
        match self.doc.kind(v) {
            Kind::Null => Cow::Borrowed("None"),
            Kind::True => Cow::Borrowed("True"),
            Kind::False => Cow::Borrowed("False"),
            Kind::Str => self.doc.text(v),
            Kind::Num => Cow::Owned(py_num_str(&self.doc.text(v))),
            Kind::Obj | Kind::Arr => {
                let n = self.doc.node(v);
                Cow::Owned(format!("\u{0}{}", self.doc.raw((n.start, n.end))))
            }
        }
    }

    /// `{str(h.get("name")): h.get("value") for h in v if type(h) is dict}`: the first position of
    /// a repeated name, with its last value.
    fn headers(&self, list: usize) -> Vec<(Cow<'s, str>, Option<usize>)> {
        let mut out: Vec<(Cow<'s, str>, Option<usize>)> = Vec::new();
        let mut index: FxMap<String, usize> = FxMap::default();
        for h in self.doc.children(list) {
            if self.doc.kind(h) != Kind::Obj {
                continue;
            }
            let name = self.name_text(self.doc.get(h, "name"));
            let value = self.doc.get(h, "value");
            match index.get(name.as_ref()) {
                Some(&i) => out[i].1 = value,
                None => {
                    index.insert(name.to_string(), out.len());
                    out.push((name, value));
                }
            }
        }
        out
    }

    /// `flatten(obj, ..., prefix, depth)`, keeping only the keys some field looks up.
    fn walk(&mut self, entries: Vec<(Cow<'s, str>, Option<usize>)>, prefix: &str, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        // Nested objects keep their key as written, lowercased again when they are walked.
        let mut nested: Vec<(Cow<'s, str>, Nested<'s>)> = Vec::new();
        let dotted = !prefix.is_empty() && self.roles.path_prefixes.iter().any(|p| p == prefix);
        let mut full = std::mem::take(&mut self.full);
        let mut key = std::mem::take(&mut self.key);
        for (k, v) in entries {
            // An ASCII key is lowercased and looked up only where a looked-up key has its length
            // and last byte (as the whole or after `prefix`): most keys of a record have none.
            let ascii = k.is_ascii();
            let tail = k
                .as_bytes()
                .last()
                .filter(|_| ascii)
                .map(u8::to_ascii_lowercase);
            let as_full =
                dotted && tail.is_none_or(|t| self.roles.may_be(prefix.len() + k.len(), t));
            let as_key = tail.is_none_or(|t| self.roles.may_be(k.len(), t));
            // An ASCII key alone is looked up without being lowercased (`get_ascii`).
            if as_full || (as_key && !ascii) {
                lower_into(&k, &mut key);
            }
            if let Some(i) = v {
                match self.doc.kind(i) {
                    Kind::Obj => {
                        nested.push((k, Nested::Obj(i)));
                        continue;
                    }
                    Kind::Arr => {
                        if let Some(first) = self.doc.children(i).next() {
                            if self.doc.kind(first) == Kind::Obj
                                && self.doc.get(first, "name").is_some()
                                && self.doc.get(first, "value").is_some()
                            {
                                // Headers as `[{"name": "Host", "value": "..."}]` (AWS WAF, CloudTrail).
                                nested.push((k, Nested::Headers(self.headers(i))));
                                continue;
                            }
                        }
                    }
                    _ => {}
                }
            }
            if as_full {
                full.clear();
                full.push_str(prefix);
                full.push_str(&key);
                if let Some(role) = self.roles.get(&full) {
                    let Some(v) = self.flat_value(v) else {
                        continue;
                    };
                    self.add(role, v);
                }
            }
            if !as_key {
                continue;
            }
            let role = if ascii {
                self.roles.get_ascii(&k)
            } else {
                self.roles.get(&key)
            };
            if let Some(role) = role {
                let Some(v) = self.flat_value(v) else {
                    continue;
                };
                self.add(role, v);
            }
        }
        (self.full, self.key) = (full, key);
        for (k, n) in nested {
            let mut inner = String::with_capacity(prefix.len() + k.len() + 1);
            inner.push_str(prefix);
            push_lower(&k, &mut inner);
            inner.push('.');
            let entries = match n {
                Nested::Obj(i) => self.doc.members(i),
                Nested::Headers(h) => h,
            };
            self.walk(entries, &inner, depth + 1);
        }
    }
}

/// The top-level keys the line's reading asks for by name (`obj.get(...)`).
const TOP_KEYS: [&str; 6] = [
    "log",
    "request",
    "logger",
    "category",
    "properties",
    "duration",
];

/// `[first(flat, keys) for keys in FIELD_KEYS]` of the flattened object, in one pass over it;
/// and the values of `TOP_KEYS`.
fn lookup(doc: &Doc<'_>) -> ([Option<usize>; 7], [Option<usize>; 6]) {
    let mut found = Found::new(doc);
    let top = doc.members(0);
    let mut named = [None; 6];
    for (k, c) in &top {
        if let Some(at) = TOP_KEYS.iter().position(|t| *t == k.as_ref()) {
            named[at] = *c;
        }
    }
    found.walk(top, "", 0);
    (found.values, named)
}

// --- Python's view of the values ------------------------------------------------------------------

/// A JSON number's value as a Python int, when orjson gives an int (up to 64 bits; beyond, a float).
fn py_int(s: &str) -> Option<i128> {
    if s.contains(['.', 'e', 'E']) {
        return None;
    }
    let v: i128 = s.parse().ok()?;
    (i128::from(i64::MIN)..=i128::from(u64::MAX))
        .contains(&v)
        .then_some(v)
}

fn num_f64(s: &str) -> f64 {
    s.parse::<f64>().unwrap_or(f64::NAN)
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
    let digits = even_tie(
        f.abs(),
        mant.chars().filter(char::is_ascii_digit).collect(),
        exp,
    );
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

/// The shortest digits of `f` (given as Rust found them, with their exponent) as Python picks
/// them: where the value lies exactly halfway between two such digit strings that both read back,
/// the one that ends in an even digit (Rust's may end in the odd one).
fn even_tie(f: f64, digits: String, exp: i32) -> String {
    let n = digits.len();
    let exact = format!("{f:.800e}");
    let Some((m, e)) = exact.split_once('e') else {
        return digits;
    };
    if e.parse::<i32>() != Ok(exp) {
        return digits;
    }
    let all: String = m.chars().filter(char::is_ascii_digit).collect();
    let (Some(head), Some(tail)) = (all.get(..n), all.get(n..)) else {
        return digits;
    };
    if !(tail.starts_with('5') && tail[1..].bytes().all(|b| b == b'0')) {
        return digits;
    }
    let last = head.bytes().last().unwrap_or(b'0');
    let candidate = if last % 2 == 0 {
        head.to_string()
    } else if last == b'9' {
        return digits;
    } else {
        format!("{}{}", &head[..n - 1], (last + 1 - b'0'))
    };
    let text = format!("{}.{}e{exp}", &candidate[..1], &candidate[1..]);
    if candidate != digits && text.parse::<f64>() == Ok(f) {
        candidate
    } else {
        digits
    }
}

/// Python's `str()` of the value orjson gives for a JSON number's text.
fn py_num_str(s: &str) -> String {
    match py_int(s) {
        Some(i) => i.to_string(),
        None => py_float_repr(num_f64(s)),
    }
}

/// Python's `str.isspace()`: Unicode White_Space and the ASCII separators \x1c-\x1f.
fn py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
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

/// A document and the line's fields read from it.
struct Record<'s> {
    doc: Doc<'s>,
    top: [Option<usize>; 6],
}

impl<'s> Record<'s> {
    fn leaf_text(&self, v: usize) -> Cow<'s, str> {
        match self.doc.kind(v) {
            Kind::Num => Cow::Owned(py_num_str(&self.doc.text(v))),
            _ => self.doc.text(v),
        }
    }

    /// Python's truth value of a looked-up value (a number 0 is false).
    fn truthy(&self, v: Option<usize>) -> bool {
        match v {
            None => false,
            Some(v) if self.doc.kind(v) == Kind::Num => num_f64(&self.doc.text(v)) != 0.0,
            Some(v) => !self.doc.text(v).is_empty(),
        }
    }

    fn status_of(&self, v: usize) -> Option<i32> {
        let t = self.doc.text(v);
        match self.doc.kind(v) {
            Kind::Num => match py_int(&t) {
                Some(i) => (100..=999).contains(&i).then_some(i as i32),
                None => status_f64(num_f64(&t)),
            },
            _ => status_text(t.as_bytes()),
        }
    }

    fn time_of(&self, v: usize, ctx: &FileContext) -> Option<i64> {
        let t = self.doc.text(v);
        match self.doc.kind(v) {
            Kind::Num => timeparse::from_number(num_f64(&t)),
            _ => timeparse::parse_any(t.as_bytes(), &ctx.tz),
        }
    }

    /// `obj.get(key)` for one of `TOP_KEYS`.
    fn top(&self, key: &str) -> Option<usize> {
        let at = TOP_KEYS.iter().position(|t| *t == key)?;
        self.top[at]
    }

    /// The top-level string value of one of `TOP_KEYS`.
    fn top_str(&self, key: &str) -> Option<Cow<'s, str>> {
        let v = self.top(key)?;
        (self.doc.kind(v) == Kind::Str).then(|| self.doc.text(v))
    }

    /// The record's time, minus its duration where the format logs the end (`END_TIMES`).
    fn arrival(&self, ts: i64) -> Option<i64> {
        for (mark, prefix, path) in END_TIMES {
            if self.top_str(mark).is_some_and(|v| v.starts_with(prefix)) {
                let mut d = self.top(path[0]);
                for k in &path[1..] {
                    d = d.and_then(|o| self.doc.get(o, k));
                }
                let secs = d.and_then(|d| match self.doc.kind(d) {
                    Kind::Str => py_float(self.doc.text(d).as_bytes()),
                    Kind::Num => Some(num_f64(&self.doc.text(d))),
                    _ => None,
                });
                return arrival(Some(ts), secs.and_then(|s| seconds_us_f64(s, 1e6)));
            }
        }
        Some(ts)
    }
}

// --- the line -------------------------------------------------------------------------------------

/// The document a line holds from its first `{`, or None.
fn line_doc(line: &[u8]) -> Option<Doc<'_>> {
    let start = memchr(b'{', line)?;
    let mut end = line.len();
    while end > start && matches!(line[end - 1], b'\r' | b'\n' | b' ') {
        end -= 1;
    }
    let doc = Doc::parse(&line[start..end])?;
    (doc.kind(0) == Kind::Obj).then_some(doc)
}

/// The fields of a JSON line, or None when the line holds no JSON object. `nested`: an inner
/// message (a `message`/`log` string holding a whole access line) is parsed with
/// `super::parse_inner`, as `jsonlog.py`'s `inner=` callback does.
pub fn parse_json_line<'a>(
    line: &'a [u8],
    ctx: &FileContext,
    nested: bool,
) -> Option<LineFields<'a>> {
    let doc = line_doc(line)?;
    let ([ts_v, host_v, method_v, path_v, status_v, ip_v, ua_v], top) = lookup(&doc);
    let rec = Record { doc, top };
    let ts = ts_v
        .and_then(|v| rec.time_of(v, ctx))
        .and_then(|t| rec.arrival(t));
    if nested {
        if let Some(wrapped) = rec.top_str("log") {
            if !wrapped.trim_start_matches(py_space).starts_with('{') {
                // The message's fields borrow from the line where the string is its bytes.
                let got = match &wrapped {
                    Cow::Borrowed(msg) => {
                        super::parse_inner(msg.trim_matches(py_space).as_bytes(), ctx)
                    }
                    Cow::Owned(msg) => {
                        super::parse_inner(msg.trim_matches(py_space).as_bytes(), ctx)
                            .map(LineFields::into_owned)
                    }
                };
                if let Some(got) = got {
                    return Some(LineFields {
                        ts: got.ts.or(ts),
                        ..got
                    });
                }
            }
        }
    }
    let (mut thost, mut path): (Text<'a>, Text<'a>) = match path_v {
        Some(v) => {
            let (h, p) = split_target_str(rec.leaf_text(v));
            (owned(h), p)
        }
        None => (None, None),
    };
    let mut method = method_v.map(|v| rec.leaf_text(v));
    if path.is_none() {
        if let Some(request) = rec.top_str("request") {
            // nginx's JSON `log_format`s carry `"request": "$request"`, the request line.
            let (rmethod, rhost, rpath) = match request {
                Cow::Borrowed(r) => super::text::request_line(Some(r.as_bytes())),
                Cow::Owned(r) => {
                    let (m, h, p) = super::text::request_line(Some(r.as_bytes()));
                    (owned_text(m), owned_text(h), owned_text(p))
                }
            };
            thost = rhost;
            path = rpath;
            if !rec.truthy(method_v) {
                method = rmethod;
            }
        }
    }
    let mut ip = ip_v.map(|v| rec.leaf_text(v));
    if ip.as_ref().is_some_and(|s| s.contains(',')) {
        // an X-Forwarded-For list: the client is the first
        fn first(s: &str) -> &str {
            s.split(',')
                .next()
                .unwrap_or_default()
                .trim_matches(py_space)
        }
        ip = ip.map(|s| match s {
            Cow::Borrowed(s) => Cow::Borrowed(first(s)),
            Cow::Owned(s) => Cow::Owned(first(&s).to_string()),
        });
    }
    let client_ip = match ip {
        // `203.0.113.9:51234` and `[2001:db8::1]:51234` lose the port; bare IPv6 is left alone.
        Some(s) if !s.is_empty() && (s.contains('.') || s.starts_with('[')) => {
            strip_client_port_text(Some(s))
        }
        other => other,
    };
    let host = host_v.map(|v| rec.leaf_text(v)).or(thost);
    Some(LineFields {
        ts,
        host: strip_port_text(host),
        method,
        path,
        status: status_v.and_then(|v| rec.status_of(v)),
        client_ip,
        user_agent: ua_v.map(|v| rec.leaf_text(v)),
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
mod tests;
