//! What a chunk holds, in one pass: the rare strings that switch on extra work.
//!
//! One pass of one pattern finds every candidate; the scan stops as soon as every mark has been seen.

use regex::bytes::Regex;
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

/// Every mark string in one pattern; which mark a match is follows from its text. The `regex`
/// crate turns the literals into a SIMD prefilter (Teddy) and a lazy DFA: ~0.7 ms per MiB, where a
/// case-insensitive Aho-Corasick DFA took ~4.
fn pattern() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(concat!(
            r"(?-u)%3[Dd]|IDX|AADSTS|#Fields:|\*\*\*|xxx|XXX",
            r"|(?i:redacted|filtered|masked|hidden|removed|<token>|cookie)"
        ))
        .expect("fixed pattern compiles")
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
/// hide (`xxx` inside `IDXXX` or `xxxx`) follow an `x` or a `D`, which a counted `xxx` never does.
pub fn chunk_marks(chunk: &[u8]) -> u32 {
    let mut marks = 0;
    for m in pattern().find_iter(chunk) {
        let found = m.as_bytes();
        let mark = match found[0] {
            b'%' => MARK_PCT,
            b'I' | b'A' if found == b"IDX" || found == b"AADSTS" => MARK_CODES,
            b'#' => MARK_FIELDS,
            b'*' => MARK_MASK,
            b'x' | b'X' if found == b"xxx" || found == b"XXX" => {
                // `xxx` occurs in base64 by chance: it counts only after what can stand before a mask value.
                let before = if m.start() > 0 {
                    chunk[m.start() - 1]
                } else {
                    b'a'
                };
                if is_space(before) || b"+0\"':=[".contains(&before) {
                    MARK_MASK
                } else {
                    0
                }
            }
            _ if found.eq_ignore_ascii_case(b"cookie") => MARK_COOKIE,
            _ => MARK_MASK,
        };
        marks |= mark;
        if marks == MARK_ALL {
            break;
        }
    }
    marks
}

/// `chunk_marks(chunk) & MARK_PCT != 0`, by a search for `%` (which most logs hardly hold): the
/// line stage needs this mark before anything else, and a byte search runs many times as fast as
/// the pass for every mark string. (No other mark string holds a `%`, so that pass hides none.)
pub fn has_pct(chunk: &[u8]) -> bool {
    memchr::memchr_iter(b'%', chunk).any(|i| {
        chunk.get(i + 1) == Some(&b'3') && chunk.get(i + 2).is_some_and(|&d| d | 0x20 == b'd')
    })
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

    mod props {
        use super::super::*;
        use crate::formats::w3c::field_directives;
        use crate::logged::CodeSpots;
        use crate::masked::count_masked;
        use proptest::prelude::*;

        fn pieces() -> impl Strategy<Value = Vec<u8>> {
            let bits = prop::sample::select(vec![
                &b"%3D"[..],
                b"%3d",
                b"%3",
                b"IDX",
                b"ID",
                b"AADSTS",
                b"AAD",
                b"#Fields:",
                b"\n#Fields: a b\n",
                b"***",
                b"*",
                b"xxx",
                b"XXX",
                b"x",
                b"X",
                b"RedActed",
                b"hidden",
                b"<token>",
                b"cookie",
                b"Bearer ",
                b"bearer ",
                b"BEARER ",
                b"Authorization: ",
                b"authorization=",
                b"[",
                b"]",
                b"=",
                b" ",
                b"+",
                b"%20",
                b"eyJ",
                b"\n",
                b":",
                b"\"",
            ]);
            let piece = prop_oneof![
                bits.prop_map(|b| b.to_vec()),
                prop::collection::vec(any::<u8>(), 0..4)
            ];
            prop::collection::vec(piece, 0..40).prop_map(|v| v.concat())
        }

        proptest! {
            /// The line stage skips `chunk_marks`: its single-mark searches must say the same, and
            /// what the marks only gated (masked values, directives) must be nothing without them.
            #[test]
            fn single_marks_agree(chunk in pieces()) {
                let marks = chunk_marks(&chunk);
                prop_assert_eq!(has_pct(&chunk), marks & MARK_PCT != 0);
                prop_assert_eq!(!CodeSpots::find(&chunk).is_empty(), marks & MARK_CODES != 0);
                if marks & MARK_MASK == 0 {
                    prop_assert_eq!(count_masked(&chunk), 0);
                }
                if marks & MARK_FIELDS == 0 {
                    prop_assert!(field_directives(&chunk).is_empty());
                }
            }
        }
    }
}
