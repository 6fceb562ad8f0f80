//! What a chunk holds, in one pass: the rare strings that switch on extra work.
//!
//! One case-insensitive Aho-Corasick automaton finds every candidate; the case-sensitive ones are
//! then checked for their exact case. The scan stops as soon as every mark has been seen.

use aho_corasick::{AhoCorasick, AhoCorasickKind};
use std::sync::OnceLock;

/// `%3D`: URL-encoded padding, the token grammar that allows it.
pub const MARK_PCT: u32 = 1;
/// `IDX` / `AADSTS`: a validator's error code may be logged here.
pub const MARK_CODES: u32 = 2;
/// `#Fields:`: a W3C directive changes the columns.
pub const MARK_FIELDS: u32 = 4;
/// A mask value (`***`, `REDACTED`, `xxx`, ...): Bearer values may have been masked.
pub const MARK_MASK: u32 = 8;
/// `cookie` in any case: a token after `Bearer ` may still sit in a cookie.
pub const MARK_COOKIE: u32 = 16;
pub const MARK_ALL: u32 = MARK_PCT | MARK_CODES | MARK_FIELDS | MARK_MASK | MARK_COOKIE;

/// (pattern, mark, exact spellings that count: empty for caseless patterns).
const PATTERNS: &[(&str, u32, &[&str])] = &[
    ("%3d", MARK_PCT, &[]),
    ("idx", MARK_CODES, &["IDX"]),
    ("aadsts", MARK_CODES, &["AADSTS"]),
    ("#fields:", MARK_FIELDS, &["#Fields:"]),
    ("***", MARK_MASK, &[]),
    // `xxx` occurs in base64 by chance: it counts only after what can stand before a mask value.
    ("xxx", MARK_MASK, &["xxx", "XXX"]),
    ("redacted", MARK_MASK, &[]),
    ("filtered", MARK_MASK, &[]),
    ("masked", MARK_MASK, &[]),
    ("hidden", MARK_MASK, &[]),
    ("removed", MARK_MASK, &[]),
    ("<token>", MARK_MASK, &[]),
    ("cookie", MARK_COOKIE, &[]),
];

fn automaton() -> &'static AhoCorasick {
    static AC: OnceLock<AhoCorasick> = OnceLock::new();
    AC.get_or_init(|| {
        AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .kind(Some(AhoCorasickKind::DFA))
            .build(PATTERNS.iter().map(|p| p.0))
            .expect("fixed patterns compile")
    })
}

/// Python's `\s` for bytes: space, tab, newline, carriage return, form feed, vertical tab.
#[inline]
pub fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// Which MARK_* strings the chunk holds.
///
/// Non-overlapping matches are enough: no pattern holds another, and the only overlaps a match can
/// hide (`xxx` inside `idxxx` or `xxxx`) follow an `x` or a `d`, which a counted `xxx` never does.
pub fn chunk_marks(chunk: &[u8]) -> u32 {
    let mut marks = 0;
    for m in automaton().find_iter(chunk) {
        let (_, mark, exact) = PATTERNS[m.pattern().as_usize()];
        if marks & mark != 0 {
            continue;
        }
        let found = &chunk[m.start()..m.end()];
        if !exact.is_empty() && !exact.iter().any(|e| e.as_bytes() == found) {
            continue;
        }
        if mark == MARK_MASK && found.eq_ignore_ascii_case(b"xxx") {
            let before = if m.start() > 0 {
                chunk[m.start() - 1]
            } else {
                b'a'
            };
            if !(is_space(before) || b"+0\"':=[".contains(&before)) {
                continue;
            }
        }
        marks |= mark;
        if marks == MARK_ALL {
            break;
        }
    }
    marks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks() {
        assert_eq!(chunk_marks(b"nothing here"), 0);
        assert_eq!(chunk_marks(b"a%3db"), MARK_PCT);
        assert_eq!(chunk_marks(b"idx aadsts #fields:"), 0);
        assert_eq!(chunk_marks(b"IDX10223"), MARK_CODES);
        assert_eq!(chunk_marks(b"#Fields: date"), MARK_FIELDS);
        assert_eq!(chunk_marks(b"abxxx"), 0);
        assert_eq!(chunk_marks(b"=xxx"), MARK_MASK);
        assert_eq!(chunk_marks(b" xXx"), 0);
        assert_eq!(chunk_marks(b"ReDaCtEd"), MARK_MASK);
        assert_eq!(chunk_marks(b"Set-COOKIE"), MARK_COOKIE);
        assert_eq!(chunk_marks(b"IDX%3D*** cookie #Fields:"), MARK_ALL);
    }
}
