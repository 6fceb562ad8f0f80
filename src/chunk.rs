//! One chunk of log bytes in, columns out: every token occurrence with its line, where it sat and
//! which distinct token it is; each distinct token once, with its fingerprint.

use crate::fingerprint::{fp, Fp};
use crate::locate::{locate_param, LOOK_BEHIND};
use crate::marks::{chunk_marks, MARK_MASK, MARK_PCT};
use crate::masked::count_masked;
use crate::scan::{canonical, find_tokens, Hit};
use std::borrow::Cow;
use std::collections::HashMap;

/// The columns of one chunk's token occurrences, and its distinct tokens (borrowed from the chunk
/// where they are its bytes).
#[derive(Debug, Default)]
pub struct ChunkScan<'c> {
    pub hits: Vec<Hit>,
    /// `locate::LOC_*` per occurrence.
    pub location: Vec<u8>,
    pub param: Vec<Cow<'static, str>>,
    /// Index into `tokens` per occurrence.
    pub token: Vec<u32>,
    /// The line ends right after the token: the log probably cut it.
    pub cut: Vec<bool>,
    /// Distinct tokens (URL-encoded padding turned back into `=`), in order of first occurrence.
    pub tokens: Vec<Cow<'c, [u8]>>,
    pub fps: Vec<Fp>,
    pub marks: u32,
    /// Bearer values masked before logging.
    pub masked: usize,
}

/// Scan one chunk (whole lines) whose first line is `first_line`.
pub fn scan_chunk(chunk: &[u8], first_line: i64) -> ChunkScan<'_> {
    let marks = chunk_marks(chunk);
    let masked = if marks & MARK_MASK != 0 {
        count_masked(chunk)
    } else {
        0
    };
    ChunkScan {
        marks,
        masked,
        ..occurrences(chunk, first_line, marks & MARK_PCT != 0)
    }
}

/// A distinct token's index in `ChunkScan::tokens`, by its bytes. Tokens are ~1.2 KB: a fast
/// hash of the whole token (`foldhash`, seeded per process), not SipHash, which was a tenth of the
/// scan.
type TokenIndex<'a> = HashMap<Cow<'a, [u8]>, u32, foldhash::fast::RandomState>;

/// The token occurrences of a chunk read with the grammar `pct` picks (`MARK_PCT`); `marks` and
/// `masked` are left 0 (the line stage finds what it needs of them itself).
pub fn occurrences(chunk: &[u8], first_line: i64, pct: bool) -> ChunkScan<'_> {
    let hits = find_tokens(chunk, first_line, pct);
    let n = hits.len();
    let mut out = ChunkScan {
        location: Vec::with_capacity(n),
        param: Vec::with_capacity(n),
        token: Vec::with_capacity(n),
        cut: Vec::with_capacity(n),
        ..ChunkScan::default()
    };
    let mut index = TokenIndex::with_capacity_and_hasher(n, Default::default());
    for h in &hits {
        let lo = h.line_start.max(h.start.saturating_sub(LOOK_BEHIND));
        let (loc, param) = locate_param(&chunk[lo..h.start]);
        out.location.push(loc);
        out.param.push(param);
        let raw = &chunk[h.start..h.end];
        // Only the `%3D` grammar lets a `%` into a token.
        let tok = if pct {
            canonical(raw)
        } else {
            Cow::Borrowed(raw)
        };
        let next = index.len() as u32;
        let id = *index.entry(tok).or_insert_with_key(|t| {
            out.tokens.push(t.clone());
            out.fps.push(fp(t));
            next
        });
        out.token.push(id);
        out.cut
            .push(matches!(chunk.get(h.end), None | Some(b'\n') | Some(b'\r')));
    }
    out.hits = hits;
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::locate::{LOC_AUTHORIZATION, LOC_QUERY};

    #[test]
    fn distinct_tokens_once() {
        let c = b"a Bearer eyJab.cd.ef\nb ?t=eyJab%3D.cd.ef&x\nc Bearer eyJab.cd.ef";
        let s = scan_chunk(c, 1);
        assert_eq!(s.hits.len(), 3);
        assert_eq!(s.tokens, vec![&b"eyJab.cd.ef"[..], &b"eyJab=.cd.ef"[..]]);
        assert_eq!(s.token, vec![0, 1, 0]);
        assert_eq!(
            s.location,
            vec![LOC_AUTHORIZATION, LOC_QUERY, LOC_AUTHORIZATION]
        );
        assert_eq!(s.cut, vec![true, false, true]);
        assert_eq!(
            s.fps[0].as_str(),
            crate::fingerprint::fingerprint(b"eyJab.cd.ef")
        );
    }
}
