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
//!
//! The parts: `encoding` (bytes to text), `parser` (text to values) and `repr` (Python's view of
//! the values); this file holds the values and the document with its known names.

mod encoding;
mod parser;
mod repr;

use std::borrow::Cow;

pub use encoding::text;
pub use parser::parse_doc;
pub use repr::str_repr_into;

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
    #[inline]
    pub(super) fn new(members: Vec<(Cow<'a, str>, Value<'a>)>, orjson: bool) -> Doc<'a> {
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

#[cfg(test)]
mod tests;
