//! Timestamps found in log lines, normalized to UTC epoch microseconds (the port of `timeparse.py`).
//!
//! A time without a zone is read in the zone the caller passes (the config's `timezone`, UTC by
//! default); an IANA zone follows Python's `zoneinfo` with `fold=0`: an ambiguous wall time (the
//! repeated hour in autumn) takes the earlier offset, a wall time in a gap (spring forward) is read
//! with the offset before the transition.
//!
//! Python matched each shape with a regex; here each regex is a hand-written matcher with the same
//! backtracking result (its lookarounds and word boundaries included), so the common shapes cost a
//! few byte comparisons and no allocation. `search_any` keeps Python's order: the first match of
//! each pattern anywhere in the line, parsed on its own; when that parse fails the next pattern is
//! tried (not the next match of the same one).
//!
//! The parts: `zone` (the zone a time is read in), `dates` (calendar arithmetic and `to_us`) and
//! `patterns` (the matchers); this file holds the parsers callers use.

mod dates;
mod patterns;
mod zone;

use dates::{frac_us, to_us};
use patterns::{
    asctime_at, clf_at, digit, dmy_us, epoch_at, iso_at, py_space_byte, rfc1123_at, slashed_at,
    syslog_at, EpochHit, Hit,
};
pub use zone::Zone;

const MIN_US: f64 = -62_135_596_800.0 * 1_000_000.0;
const MAX_US: f64 = 253_402_300_799.0 * 1_000_000.0;
const US: i64 = 1_000_000;

/// Python's `str.isspace` for `strip()`: Unicode whitespace plus the separators \x1c-\x1f.
fn py_space(c: char) -> bool {
    c.is_whitespace() || ('\x1c'..='\x1f').contains(&c)
}

// ---- the parsers ---------------------------------------------------------------------------------

/// ISO 8601 (`2026-11-26T03:14:15.123Z`, `2026-11-26 03:14:15+01:00`); no zone means `tz`.
pub fn parse_iso(text: &[u8], tz: &Zone) -> Option<i64> {
    let hit = iso_at(text, 0)?;
    to_us(&hit.wall(text), tz)
}

/// Common log format time: `26/Nov/2026:03:14:15 +0000` (HAProxy's has milliseconds, no zone).
pub fn parse_clf(text: &[u8], tz: &Zone) -> Option<i64> {
    let hit = clf_at(text, 0)?;
    dmy_us(&hit, text, tz)
}

/// `2026/11/26 03:14:15` (nginx error log, Go's `log`), read in `tz`.
pub fn parse_slashed(text: &[u8], tz: &Zone) -> Option<i64> {
    let hit = slashed_at(text, 0)?;
    to_us(&hit.wall(text), tz)
}

/// `Thu Nov 26 03:14:15.123456 2026` (Apache's error log), read in `tz`.
pub fn parse_asctime(text: &[u8], tz: &Zone) -> Option<i64> {
    let hit = asctime_at(text, 0)?;
    dmy_us(&hit, text, tz)
}

/// RFC 3164 time (`Nov 26 03:14:15`), which has no year: the caller supplies one. With
/// `before_us` (the file's mtime), a time more than a day after it is taken from the year before.
pub fn parse_syslog(text: &[u8], year: i32, tz: &Zone, before_us: Option<i64>) -> Option<i64> {
    let mut hit = syslog_at(text, 0)?;
    if hit.mo == 0 {
        return None;
    }
    hit.y = year;
    let us = to_us(&hit.wall(text), tz);
    match (us, before_us) {
        (Some(v), Some(b)) if b != 0 && v > b + 86_400_000_000 => {
            hit.y = year - 1;
            to_us(&hit.wall(text), tz)
        }
        _ => us,
    }
}

/// Epoch seconds (`1764126855`, `1764126855.123`) or milliseconds (`1764126855123`).
pub fn parse_epoch(text: &[u8]) -> Option<i64> {
    let (secs, ms, frac, _) = epoch_at(text, 0)?;
    let mut us = secs * US;
    if let Some(ms) = ms {
        us += ms * 1000;
    } else if let Some((a, b)) = frac {
        us += frac_us(text.get(a..b)?);
    }
    Some(us)
}

/// HTTP-date style: `Wed, 26 Nov 2026 03:14:15 GMT`.
pub fn parse_rfc1123(text: &[u8], tz: &Zone) -> Option<i64> {
    let hit = rfc1123_at(text)?;
    dmy_us(&hit, text, tz)
}

/// `EPOCH_RE.fullmatch`: ten digits, then nothing, three digits, or '.' and 1-9 digits.
fn epoch_fullmatch(s: &[u8]) -> bool {
    if epoch_at(s, 0).is_none() {
        return false;
    }
    match s.get(10..) {
        Some([]) => true,
        Some(rest) if rest.len() == 3 && rest.iter().all(u8::is_ascii_digit) => true,
        Some([b'.', frac @ ..]) => {
            (1..=9).contains(&frac.len()) && frac.iter().all(u8::is_ascii_digit)
        }
        _ => false,
    }
}

/// Best effort for a value of unknown shape: ISO, CLF, RFC 1123, slashed, then epoch.
///
/// Python chained these with `or`, so a parse giving 0 (1970-01-01T00:00:00Z) counts as none.
pub fn parse_any(text: &[u8], tz: &Zone) -> Option<i64> {
    let text = py_strip(text);
    let truthy = |v: Option<i64>| v.filter(|&x| x != 0);
    truthy(parse_iso(text, tz))
        .or_else(|| truthy(parse_clf(text, tz)))
        .or_else(|| truthy(parse_rfc1123(text, tz)))
        .or_else(|| truthy(parse_slashed(text, tz)))
        .or_else(|| {
            if epoch_fullmatch(text) {
                parse_epoch(text)
            } else {
                None
            }
        })
}

/// `bytes.strip()`.
fn py_strip(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|&c| !py_space_byte(c)).unwrap_or(s.len());
    let end = s
        .iter()
        .rposition(|&c| !py_space_byte(c))
        .map_or(start, |e| e + 1);
    s.get(start..end).unwrap_or(&[])
}

/// The first match of a pattern anywhere in `s`, trying only starts whose byte at `start + k` is
/// `anchor` (every match of the pattern has it there).
fn search_by<T>(
    s: &[u8],
    anchor: u8,
    k: usize,
    at: impl Fn(&[u8], usize) -> Option<T>,
) -> Option<(usize, T)> {
    memchr::memchr_iter(anchor, s)
        .filter(|&j| j >= k)
        .find_map(|j| at(s, j - k).map(|h| (j - k, h)))
}

/// CLF_RE.search: a match starts one or two digits before its first '/'.
fn search_clf(s: &[u8]) -> Option<(usize, Hit)> {
    memchr::memchr_iter(b'/', s).find_map(|j| {
        let p = if j >= 2 && digit(s, j - 2) && digit(s, j - 1) {
            j - 2
        } else if j >= 1 && digit(s, j - 1) {
            j - 1
        } else {
            return None;
        };
        clf_at(s, p).map(|h| (p, h))
    })
}

fn search_epoch(s: &[u8]) -> Option<(usize, EpochHit)> {
    (0..s.len()).find_map(|p| {
        if matches!(s[p], b'1' | b'2') {
            epoch_at(s, p).map(|h| (p, h))
        } else {
            None
        }
    })
}

/// The first recognisable timestamp anywhere in a line (the generic format's best effort).
pub fn search_any(line: &[u8], year: i32, tz: &Zone, before_us: Option<i64>) -> Option<i64> {
    let group = |p: usize, end: usize| line.get(p..end).unwrap_or(&[]);
    if let Some((p, h)) = search_by(line, b'-', 4, iso_at) {
        if let Some(v) = parse_iso(group(p, h.end), tz) {
            return Some(v);
        }
    }
    if let Some((p, h)) = search_clf(line) {
        if let Some(v) = parse_clf(group(p, h.end), tz) {
            return Some(v);
        }
    }
    if let Some((p, h)) = search_by(line, b'/', 4, slashed_at) {
        if let Some(v) = parse_slashed(group(p, h.end), tz) {
            return Some(v);
        }
    }
    if let Some((p, h)) = search_by(line, b' ', 3, asctime_at) {
        if let Some(v) = parse_asctime(group(p, h.end), tz) {
            return Some(v);
        }
    }
    if let Some((p, h)) = search_by(line, b' ', 3, syslog_at) {
        if let Some(v) = parse_syslog(group(p, h.end), year, tz, before_us) {
            return Some(v);
        }
    }
    let (p, (_, _, _, end)) = search_epoch(line)?;
    parse_epoch(group(p, end))
}

/// A JSON number as a time: epoch seconds, milliseconds, microseconds or nanoseconds.
pub fn from_number(value: f64) -> Option<i64> {
    for scale in [1.0, 1e3, 1e6, 1e9] {
        let v = value / scale;
        if (1e9..1e10).contains(&v) {
            // Python's round(): half to even.
            return Some((v * 1_000_000.0).round_ties_even() as i64);
        }
    }
    None
}

/// A NumericDate (seconds) as epoch microseconds, or None when it is outside years 1..9999.
pub fn clamp_us(value: f64) -> Option<i64> {
    let us = value * 1_000_000.0;
    // NaN is in no range.
    if !(MIN_US..=MAX_US).contains(&us) {
        return None;
    }
    Some(us as i64)
}

#[cfg(test)]
mod tests;
