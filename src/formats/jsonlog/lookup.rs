//! Looking up the fields: one walk over the object flattened as `jsonlog.py`'s `flatten` would
//! flatten it, keeping for each field the value of its most preferred key.

use std::borrow::Cow;

use super::super::common::py_lower;
use super::doc::{Doc, Kind};
use super::keys::{roles, FxMap, Role, Roles, FIELD_KEYS};
use super::pyvalues::py_num_str;

/// Objects nested deeper than this are not looked into (`_MAX_DEPTH`).
const MAX_DEPTH: usize = 8;

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
pub(super) const TOP_KEYS: [&str; 6] = [
    "log",
    "request",
    "logger",
    "category",
    "properties",
    "duration",
];

/// `[first(flat, keys) for keys in FIELD_KEYS]` of the flattened object, in one pass over it;
/// and the values of `TOP_KEYS`.
#[inline]
pub(super) fn lookup(doc: &Doc<'_>) -> ([Option<usize>; 7], [Option<usize>; 6]) {
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
