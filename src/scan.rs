//! Finding tokens in a chunk of log bytes: one linear pass, no regular expression.
//!
//! A token starts with `eyJ` where a base64url run starts (or right after a percent escape such as
//! `%20eyJ`), so every run is tried once and a long `eyJeyJeyJ...` line stays linear. A dotted run
//! is one candidate whatever its count of segments, which decides its verdict (3: a JWS, 5: a JWE,
//! else malformed); past the third a segment holds at least one byte (a dot that ends a sentence is
//! none):
//!
//! * plain chunks: `eyJ[B64=]{2,}\.[B64=]*(\.[B64=]*(\.[B64=]+)*)?`
//! * chunks that hold `%3D` (URL-encoded padding), where `=` may only end a segment:
//!   `eyJ[B64]{2,}PAD\.[B64]*PAD(\.[B64]*PAD(\.([B64]+PAD|PAD+))*)?` with `PAD = (=|%3[Dd]){0,2}`
//!
//! matched greedily at each candidate start, the way a backtracking engine would.

use memchr::memmem;

/// One token candidate: its 1-based line number and where it and its line are in the chunk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hit {
    pub line_no: i64,
    pub line_start: usize,
    pub line_end: usize,
    pub start: usize,
    pub end: usize,
}

const B64: u8 = 1;
const SEG: u8 = 2;

/// Byte classes: `B64` for `A-Za-z0-9_-`, `SEG` for those and `=`.
static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        if c.is_ascii_alphanumeric() || c == b'_' || c == b'-' {
            t[b] = B64 | SEG;
        } else if c == b'=' {
            t[b] = SEG;
        }
        b += 1;
    }
    t
};

/// A base64url alphabet byte (`A-Za-z0-9_-`).
#[inline]
pub fn is_b64(b: u8) -> bool {
    CLASS[b as usize] & B64 != 0
}

#[inline]
fn is_hex(b: u8) -> bool {
    b.is_ascii_hexdigit()
}

/// Whether a token may start at `p` (where `eyJ` stands): not inside a base64url run, unless a
/// percent escape (`%20eyJ`, `%3DeyJ`) comes right before.
#[inline]
fn can_start(c: &[u8], p: usize) -> bool {
    if p == 0 || !is_b64(c[p - 1]) {
        return true;
    }
    p >= 3 && c[p - 3] == b'%' && is_hex(c[p - 2]) && is_hex(c[p - 1])
}

/// The end of the run of bytes from `i` that satisfy `keep`.
#[inline]
fn run(c: &[u8], mut i: usize, keep: impl Fn(u8) -> bool) -> usize {
    while i < c.len() && keep(c[i]) {
        i += 1;
    }
    i
}

#[inline]
fn is_seg(b: u8) -> bool {
    CLASS[b as usize] & SEG != 0
}

#[inline]
fn dot_at(c: &[u8], i: usize) -> bool {
    i < c.len() && c[i] == b'.'
}

/// `A-Za-z0-9_-`, by comparisons rather than the table: a block of them compiles to SIMD compares.
#[inline(always)]
fn b64_arith(b: u8) -> bool {
    (b.wrapping_sub(b'0') < 10) | ((b | 0x20).wrapping_sub(b'a') < 26) | (b == b'_') | (b == b'-')
}

/// The end of the run of base64url bytes (and `=` too if `eq`) from `i`.
///
/// Tokens are most of a token line's bytes (~1.2 KB each), so their runs are read a block at a
/// time: whether every byte of 32 keeps the run compiles to SIMD compares; the block that holds
/// the run's end is read byte by byte.
#[inline(always)]
fn run_b64(c: &[u8], mut i: usize, eq: bool) -> usize {
    while let Some(block) = c.get(i..i + 32) {
        let all = block
            .iter()
            .fold(true, |all, &b| all & (b64_arith(b) | (eq & (b == b'='))));
        if !all {
            break;
        }
        i += 32;
    }
    if eq {
        run(c, i, is_seg)
    } else {
        run(c, i, is_b64)
    }
}

/// The end of a token starting at `p` in a plain chunk (segments may hold `=` anywhere).
///
/// `first_run` remembers the last first-segment run `(from, to)`: `=eyJ` may start a candidate
/// inside a run (`=` ends no run here), and every candidate in one run shares its end, so a run is
/// read once however many candidates it holds (`eyJa=eyJa=eyJa=...` stays linear).
fn match_plain(c: &[u8], p: usize, first_run: &mut (usize, usize)) -> Option<usize> {
    let i = p + 3;
    let e1 = if i >= first_run.0 && i <= first_run.1 {
        first_run.1
    } else {
        let e = run_b64(c, i, true);
        *first_run = (i, e);
        e
    };
    if e1 - i < 2 || !dot_at(c, e1) {
        return None;
    }
    Some(segments(c, e1, 1, |from| run_b64(c, from, true)))
}

/// The end of a dotted run whose `from`-th segment ends at `end` (on its dot): every further
/// segment, read by `segment` from its first byte. One dotted run is one candidate, whatever its
/// count of segments (which decides its verdict: 3 a JWS, 5 a JWE, else malformed). Past the third
/// a segment must hold something: a dot that ends a sentence (`... eyJ.a.b.`) is not a segment.
#[inline]
fn segments(c: &[u8], mut end: usize, mut n: usize, segment: impl Fn(usize) -> usize) -> usize {
    while dot_at(c, end) {
        let next = segment(end + 1);
        if n >= 3 && next == end + 1 {
            break;
        }
        (end, n) = (next, n + 1);
    }
    end
}

/// Up to two padding marks (`=`, `%3D`, `%3d`) from `i`.
#[inline]
fn pad(c: &[u8], mut i: usize) -> usize {
    for _ in 0..2 {
        if i < c.len() && c[i] == b'=' {
            i += 1;
        } else if c.len() - i.min(c.len()) >= 3
            && c[i] == b'%'
            && c[i + 1] == b'3'
            && (c[i + 2] | 0x20) == b'd'
        {
            i += 3;
        } else {
            break;
        }
    }
    i
}

/// The end of a token starting at `p` in a chunk with URL-encoded padding.
fn match_pct(c: &[u8], p: usize) -> Option<usize> {
    let i = p + 3;
    let r1 = run_b64(c, i, false);
    if r1 - i < 2 {
        return None;
    }
    let e1 = pad(c, r1);
    if !dot_at(c, e1) {
        return None;
    }
    Some(segments(c, e1, 1, |from| pad(c, run_b64(c, from, false))))
}

/// Every token candidate in `chunk`, in order, with 1-based line numbers counted from `first_line`.
///
/// `pct` picks the grammar for chunks that hold URL-encoded padding (`marks & MARK_PCT`).
pub fn find_tokens(chunk: &[u8], first_line: i64, pct: bool) -> Vec<Hit> {
    let mut hits = Vec::new();
    let finder = memmem::Finder::new(b"eyJ");
    let (mut line_no, mut counted) = (first_line, 0usize);
    let (mut line_start, mut line_end) = (0usize, 0usize);
    let mut have_line = false;
    let mut pos = 0usize;
    let mut first_run = (usize::MAX, 0usize);
    while let Some(off) = finder.find(&chunk[pos..]) {
        let p = pos + off;
        let end = if can_start(chunk, p) {
            if pct {
                match_pct(chunk, p)
            } else {
                match_plain(chunk, p, &mut first_run)
            }
        } else {
            None
        };
        let Some(end) = end else {
            pos = p + 1;
            continue;
        };
        line_no += memchr::memchr_iter(b'\n', &chunk[counted..p]).count() as i64;
        if !have_line || p > line_end {
            have_line = true;
            line_start = memchr::memrchr(b'\n', &chunk[..p]).map_or(0, |i| i + 1);
            // From the token's end: a token holds no newline, and it is most of its line.
            line_end = memchr::memchr(b'\n', &chunk[end..]).map_or(chunk.len(), |i| end + i);
        }
        hits.push(Hit {
            line_no,
            line_start,
            line_end,
            start: p,
            end,
        });
        // A token holds no newline: the next count starts after it.
        counted = end;
        pos = end;
    }
    hits
}

/// The token as issued: URL-encoded padding (`%3D`, `%3d`) turned back into `=`.
pub fn canonical(token: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    if !token.contains(&b'%') {
        return std::borrow::Cow::Borrowed(token);
    }
    let mut out = Vec::with_capacity(token.len());
    let mut i = 0;
    while i < token.len() {
        if token[i] == b'%'
            && i + 2 < token.len()
            && token[i + 1] == b'3'
            && (token[i + 2] == b'D' || token[i + 2] == b'd')
        {
            out.push(b'=');
            i += 3;
        } else {
            out.push(token[i]);
            i += 1;
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(c: &[u8], pct: bool) -> Vec<&[u8]> {
        find_tokens(c, 1, pct)
            .iter()
            .map(|h| &c[h.start..h.end])
            .collect()
    }

    #[test]
    fn segments_and_starts() {
        assert_eq!(
            found(b"Bearer eyJab.cd.ef x", false),
            vec![&b"eyJab.cd.ef"[..]]
        );
        assert_eq!(found(b"xeyJab.cd.ef", false), Vec::<&[u8]>::new());
        assert_eq!(found(b"%20eyJab.cd", false), vec![&b"eyJab.cd"[..]]);
        assert_eq!(found(b"eyJa.b", false), Vec::<&[u8]>::new()); // first segment too short
        assert_eq!(found(b"eyJab.c.d.e", false), vec![&b"eyJab.c.d.e"[..]]); // one run: 4 segments
        assert_eq!(
            found(b"eyJab.c.d.e.f.g", false),
            vec![&b"eyJab.c.d.e.f.g"[..]]
        );
        // Ten segments are one candidate, not a five and then a four.
        let ten = b"eyJab.c.d.eyJab.c.d.eyJab.c.d.eyJab";
        assert_eq!(found(ten, false), vec![&ten[..]]);
        assert_eq!(found(ten, true), vec![&ten[..]]);
        // A dot that ends a sentence is no fourth segment; an empty third one (alg none) stays.
        assert_eq!(
            found(b"was eyJab.c.d. Then", false),
            vec![&b"eyJab.c.d"[..]]
        );
        assert_eq!(found(b"eyJab.c. x", false), vec![&b"eyJab.c."[..]]);
        assert_eq!(
            found(b"eyJab%3D.c.d.e%3D x", true),
            vec![&b"eyJab%3D.c.d.e%3D"[..]]
        );
        assert_eq!(found(b"eyJa=b.c=", false), vec![&b"eyJa=b.c="[..]]);
        assert_eq!(found(b"eyJa=b.c=", true), Vec::<&[u8]>::new()); // `=` only ends a segment
        assert_eq!(
            found(b"t=eyJab%3D%3D.c%3d.s", true),
            vec![&b"eyJab%3D%3D.c%3d.s"[..]]
        );
    }

    #[test]
    fn lines() {
        let c = b"a\nb eyJab.c\n\nx eyJab.c eyJcd.e\nlast eyJzz.q";
        let hits = find_tokens(c, 10, false);
        let lines: Vec<i64> = hits.iter().map(|h| h.line_no).collect();
        assert_eq!(lines, vec![11, 13, 13, 14]);
        assert_eq!(
            &c[hits[1].line_start..hits[1].line_end],
            b"x eyJab.c eyJcd.e"
        );
        assert_eq!(hits[3].line_end, c.len());
    }

    #[test]
    fn quadratic_input_stays_linear() {
        for unit in [&b"eyJ"[..], b"eyJa=", b"%20eyJab", b"eyJab%3D"] {
            let c = unit.repeat(200_000);
            let t = std::time::Instant::now();
            assert!(find_tokens(&c, 1, false).is_empty());
            assert!(find_tokens(&c, 1, true).is_empty());
            assert!(
                t.elapsed().as_secs() < 3,
                "{:?}",
                String::from_utf8_lossy(unit)
            );
        }
    }

    #[test]
    fn block_classes_are_the_table() {
        for b in 0..=255u8 {
            assert_eq!(b64_arith(b), is_b64(b), "{b}");
        }
        let c = b"eyJabcdefghijklmnopqrstuvwxyz0123456789-_ABC=def.x";
        for from in 0..c.len() {
            assert_eq!(run_b64(c, from, true), run(c, from, is_seg));
            assert_eq!(run_b64(c, from, false), run(c, from, is_b64));
        }
    }

    #[test]
    fn canonical_padding() {
        assert_eq!(&*canonical(b"eyJa%3D.b%3d"), b"eyJa=.b=");
        assert_eq!(&*canonical(b"eyJa.b%2"), b"eyJa.b%2");
    }

    mod props {
        use super::super::*;
        use proptest::prelude::*;

        fn pieces() -> impl Strategy<Value = Vec<u8>> {
            crate::testing::pieces(
                vec![
                    &b"eyJ"[..],
                    b"ab",
                    b".",
                    b"=",
                    b"%3D",
                    b"%3d",
                    b"%20",
                    b"\n",
                    b"\r",
                    b" ",
                    b"-",
                    b"_",
                    b"Bearer ",
                ],
                6,
                50,
            )
        }

        proptest! {
            #[test]
            fn hits_are_in_bounds_and_on_their_line(chunk in pieces(), pct in any::<bool>()) {
                let mut last_end = 0;
                for h in find_tokens(&chunk, 5, pct) {
                    prop_assert!(h.line_start <= h.start && h.start < h.end && h.end <= h.line_end);
                    prop_assert!(h.line_end <= chunk.len() && last_end <= h.start);
                    prop_assert_eq!(&chunk[h.start..h.start + 3], b"eyJ");
                    prop_assert!(!chunk[h.line_start..h.line_end].contains(&b'\n'));
                    let newlines = chunk[..h.start].iter().filter(|&&b| b == b'\n').count() as i64;
                    prop_assert_eq!(h.line_no, 5 + newlines);
                    prop_assert!(!canonical(&chunk[h.start..h.end]).windows(3).any(|w| w == b"%3D"));
                    last_end = h.end;
                }
            }
        }
    }
}
