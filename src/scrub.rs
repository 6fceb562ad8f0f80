//! The last guard on the request fields a token line writes (host, method, path, client IP, user
//! agent): what is left of a token once `lines::redact` replaced what the token grammar reads.
//!
//! The grammar reads base64url with literal dots. A token written otherwise is read in part or not
//! at all: in the standard alphabet (`+`, `/`) it ends at the first `+` or `/`; percent-encoded
//! (`%2B`, `%2F`, `%3D`, `%2E`, also double-encoded `%252F`) at the first escape; broken by a stray
//! byte (`%`, `!`, a space) at that byte. What follows is the rest of the token and its signature,
//! which no output may hold. So a field is read as runs of base64 characters (both alphabets and
//! those escapes) and separators (`/`, `.`, `=` and their escapes), each run cut into pieces at its
//! separators, and a run is masked from its first to its last mixed-case piece when
//!
//! * it follows a token's stand-in directly (`[token]/uC+W/x...`: the rest of a token the grammar
//!   cut short), or
//! * one of its pieces is a mixed-case run of at least `LONG_PIECE` base64 characters, which only
//!   key material has (a signature, a payload, a whole token whose dots are escaped).
//!
//! Mixed case is what sets base64 apart from a path: words, numbers, GUIDs and hex digests are in
//! one case, and stay (`/callback/[token]/done`, `/v1/72f988bf-86f1-41af-91ab-2d7cd011db47/users`).

use std::borrow::Cow;

use crate::formats::common::Text;
use crate::lines::TOKEN_STANDIN;

/// Base64 characters in one piece that only key material has: an HS256 signature (32 bytes) is 43.
pub const LONG_PIECE: usize = 43;

/// What a unit of a run is: a base64 character (and its case), or a separator.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Unit {
    Upper,
    Lower,
    Other,
    Sep,
}

/// The escaped byte of `%XY` at `i` (`%25XY` too: escaped twice), and the escape's length.
#[inline]
fn escaped(s: &[u8], i: usize) -> Option<(u8, usize)> {
    let hex = |at: usize| -> Option<u8> {
        let h = s.get(at..at + 2)?;
        let v = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
        Some(v(h[0])? << 4 | v(h[1])?)
    };
    match hex(i + 1)? {
        b'%' => Some((hex(i + 3)?, 5)),
        b => Some((b, 3)),
    }
}

/// The unit at `i` and its length in bytes, or None where the run ends.
#[inline]
fn unit_at(s: &[u8], i: usize) -> Option<(Unit, usize)> {
    let unit = |b: u8| match b {
        b'A'..=b'Z' => Some(Unit::Upper),
        b'a'..=b'z' => Some(Unit::Lower),
        b'0'..=b'9' | b'-' | b'_' | b'+' => Some(Unit::Other),
        b'/' | b'.' | b'=' => Some(Unit::Sep),
        _ => None,
    };
    if s[i] != b'%' {
        return Some((unit(s[i])?, 1));
    }
    // Only what base64 and URLs escape counts escaped: an escaped letter is no token's.
    match escaped(s, i)? {
        (b @ (b'+' | b'/' | b'.' | b'='), len) => Some((unit(b)?, len)),
        _ => None,
    }
}

/// One run's mixed-case pieces: the first one's start, the last one's end, and whether one is long.
#[derive(Default)]
struct Run {
    first: Option<usize>,
    last_end: usize,
    long: bool,
    // The piece being read: its start, base64 characters, and which cases it holds.
    piece: usize,
    chars: usize,
    upper: bool,
    lower: bool,
}

impl Run {
    fn end_piece(&mut self, end: usize) {
        if self.upper && self.lower {
            self.first.get_or_insert(self.piece);
            self.last_end = end;
            self.long |= self.chars >= LONG_PIECE;
        }
        (self.chars, self.upper, self.lower) = (0, false, false);
    }

    /// The span to mask, if any, of a run that starts at `start`.
    fn span(&self, start: usize, glued: bool) -> Option<(usize, usize)> {
        let first = self.first?;
        if glued {
            Some((start, self.last_end))
        } else if self.long {
            Some((first, self.last_end))
        } else {
            None
        }
    }
}

/// The byte spans of `s` to mask, in order.
fn spans(s: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        if unit_at(s, i).is_none() {
            i += 1;
            continue;
        }
        let start = i;
        let glued = s[..start].ends_with(TOKEN_STANDIN.as_bytes());
        let mut run = Run {
            piece: start,
            ..Run::default()
        };
        while let Some((unit, len)) = (i < s.len()).then(|| unit_at(s, i)).flatten() {
            match unit {
                Unit::Sep => {
                    run.end_piece(i);
                    run.piece = i + len;
                }
                _ => {
                    run.chars += 1;
                    run.upper |= unit == Unit::Upper;
                    run.lower |= unit == Unit::Lower;
                }
            }
            i += len;
        }
        run.end_piece(i);
        out.extend(run.span(start, glued));
    }
    out
}

/// Bytes a piece of `LONG_PIECE` base64 characters is made of (escapes included): `A-Za-z0-9_+%-`.
static PIECE_BYTE: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'+' | b'%');
        b += 1;
    }
    t
};

/// Whether `s` may hold a long piece: `LONG_PIECE` bytes in a row that a piece is made of.
#[inline]
fn may_hold_long_piece(s: &[u8]) -> bool {
    let mut n = 0;
    for &b in s {
        n = if PIECE_BYTE[b as usize] { n + 1 } else { 0 };
        if n >= LONG_PIECE {
            return true;
        }
    }
    false
}

/// The field with what is left of a token (see the module's text) replaced by `TOKEN_STANDIN`.
pub fn scrub(value: Text<'_>) -> Text<'_> {
    let v = value?;
    // Most fields (the five of every token line): no token was replaced in them, and they hold no
    // long piece; a cheap pass tells, before the pass that reads runs and pieces.
    if !v.contains(TOKEN_STANDIN) && !may_hold_long_piece(v.as_bytes()) {
        return Some(v);
    }
    let spans = spans(v.as_bytes());
    if spans.is_empty() {
        return Some(v);
    }
    let mut out = String::with_capacity(v.len());
    let mut prev = 0;
    for (from, to) in spans {
        // Spans start and end next to ASCII bytes: on character boundaries.
        out.push_str(&v[prev..from]);
        // The rest of a token right after its stand-in: that one stands for the whole token.
        if !out.ends_with(TOKEN_STANDIN) {
            out.push_str(TOKEN_STANDIN);
        }
        prev = to;
    }
    out.push_str(&v[prev..]);
    Some(Cow::Owned(out))
}

#[cfg(test)]
mod tests;
