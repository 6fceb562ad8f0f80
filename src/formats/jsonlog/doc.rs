//! Reading the object: `Doc`, the JSON reader of the JSON formats, and what it reads with
//! (strings, numbers, escapes, repeated keys).
//!
//! The line is read into a tape of its values, checked as orjson checks a document (strict syntax,
//! UTF-8, at most 1024 levels, no lone surrogate escape, no number beyond a double). Strings are
//! spans of the line, unescaped only where a value is used: the tokens they hold are never copied.

use std::borrow::Cow;
use std::hash::{BuildHasherDefault, Hasher};

use memchr::memchr;

use super::keys::{FxHasher, FxMap};

/// orjson's limit: a document nested deeper is not JSON to Python.
const ORJSON_MAX_DEPTH: usize = 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
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
pub(super) struct Node {
    kind: Kind,
    /// A string's text between its quotes, a number's text, a container's from bracket to bracket.
    pub(super) start: usize,
    pub(super) end: usize,
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
    pub(super) nodes: Vec<Node>,
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
pub(super) fn number_ok(s: &str) -> bool {
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
pub(super) fn find_special(b: &[u8]) -> Option<usize> {
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
    #[inline]
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

    pub(super) fn node(&self, i: usize) -> Node {
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

    pub(super) fn kind(&self, i: usize) -> Kind {
        self.node(i).kind
    }

    pub(super) fn raw(&self, (a, b): (usize, usize)) -> &'s str {
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
    #[inline]
    pub(super) fn text(&self, i: usize) -> Cow<'s, str> {
        let n = self.node(i);
        self.decode((n.start, n.end), n.esc)
    }

    /// The values inside a container, in order.
    pub(super) fn children(&self, i: usize) -> impl Iterator<Item = usize> + '_ {
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
    pub(super) fn members(&self, obj: usize) -> Vec<(Cow<'s, str>, Option<usize>)> {
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
    pub(super) fn get(&self, obj: usize, key: &str) -> Option<usize> {
        if self.kind(obj) != Kind::Obj {
            return None;
        }
        self.children(obj).filter(|&c| self.key(c) == key).last()
    }
}
