//! What a chunk holds, in one pass: the rare strings that switch on extra work.
//!
//! One pass of one pattern finds every candidate; the scan stops as soon as every mark has been seen.

use crate::masked::{authorization_masked_at, bearer_masked_at};
use aho_corasick::{AhoCorasick, MatchKind};
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

/// What the line stage needs of a chunk's marks, from one pass: `chunk_marks` and the searches
/// that used to follow it (`count_masked`, `field_directives`, `CodeSpots::find`) each read the
/// whole chunk, seven passes where this is one.
pub struct LineMarks {
    /// `MARK_PCT`: the chunk holds `%3D` or `%3d`.
    pub pct: bool,
    /// `count_masked(chunk)`.
    pub masked: usize,
    /// Where `#Fields:` stands, in order.
    pub fields: Vec<usize>,
    /// Where `IDX` or `AADSTS` stands, in order.
    pub codes: Vec<usize>,
}

/// The texts `LineMarks` is made of, by index. No suffix of one is a prefix of another (or of
/// itself), so the leftmost non-overlapping matches are every place each of them stands: what a
/// search for each alone finds.
const LINE_TEXTS: [&str; 8] = [
    "%3D",
    "%3d",
    "#Fields:",
    "IDX",
    "AADSTS",
    "earer",
    "EARER",
    "uthorization",
];

fn line_texts() -> &'static AhoCorasick {
    static AC: OnceLock<AhoCorasick> = OnceLock::new();
    AC.get_or_init(|| {
        AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostFirst)
            .build(LINE_TEXTS)
            .expect("fixed texts build")
    })
}

/// The marks of a chunk the line stage acts on (see `LineMarks`).
pub fn line_marks(chunk: &[u8]) -> LineMarks {
    let mut out = LineMarks {
        pct: false,
        masked: 0,
        fields: Vec::new(),
        codes: Vec::new(),
    };
    for m in line_texts().find_iter(chunk) {
        let q = m.start();
        match m.pattern().as_usize() {
            0 | 1 => out.pct = true,
            2 => out.fields.push(q),
            3 | 4 => out.codes.push(q),
            5 => out.masked += usize::from(bearer_masked_at(chunk, q, b"Bb")),
            6 => out.masked += usize::from(bearer_masked_at(chunk, q, b"B")),
            _ => out.masked += usize::from(authorization_masked_at(chunk, q)),
        }
    }
    out
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
        use crate::formats::w3c::{directives_at, field_directives};
        use crate::logged::CodeSpots;
        use crate::masked::count_masked;
        use proptest::prelude::*;

        fn pieces() -> impl Strategy<Value = Vec<u8>> {
            crate::testing::pieces(
                vec![
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
                    b"earer",
                    b"EARER",
                    b"uthorization",
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
                ],
                4,
                40,
            )
        }

        proptest! {
            /// The line stage skips `chunk_marks` and the searches it gated: its one pass must
            /// find the same, and what the marks gated (masked values, directives) must be
            /// nothing without them.
            #[test]
            fn line_marks_agree(chunk in pieces()) {
                let marks = chunk_marks(&chunk);
                let line = line_marks(&chunk);
                prop_assert_eq!(line.pct, marks & MARK_PCT != 0);
                prop_assert_eq!(line.masked, count_masked(&chunk));
                prop_assert_eq!(
                    directives_at(&chunk, line.fields.iter().copied()),
                    field_directives(&chunk)
                );
                let spots = CodeSpots::find(&chunk);
                prop_assert_eq!(!spots.is_empty(), marks & MARK_CODES != 0);
                let mut codes = line.codes.clone();
                codes.sort_unstable();
                let mut want: Vec<usize> = memchr::memmem::find_iter(&chunk, b"IDX").collect();
                want.extend(memchr::memmem::find_iter(&chunk, b"AADSTS"));
                want.sort_unstable();
                prop_assert_eq!(codes, want);
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
