//! The patterns: each of Python's time regexes as a hand-written matcher with the same
//! backtracking result (its lookarounds and word boundaries included), giving the wall time it
//! matched and where.

use super::dates::{to_us, Wall};
use super::Zone;

const MONTHS: [&[u8; 3]; 12] = [
    b"jan", b"feb", b"mar", b"apr", b"may", b"jun", b"jul", b"aug", b"sep", b"oct", b"nov", b"dec",
];

pub(super) fn digit(s: &[u8], i: usize) -> bool {
    s.get(i).is_some_and(u8::is_ascii_digit)
}

/// `n` digits at `i` as a number.
fn num(s: &[u8], i: usize, n: usize) -> Option<u32> {
    let part = s.get(i..i + n)?;
    let mut v = 0u32;
    for &c in part {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u32::from(c - b'0');
    }
    Some(v)
}

/// Length of the digit run at `i`.
fn digit_run(s: &[u8], i: usize) -> usize {
    s.get(i..)
        .map_or(0, |t| t.iter().take_while(|c| c.is_ascii_digit()).count())
}

fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

fn word_at(s: &[u8], i: usize) -> bool {
    s.get(i).is_some_and(|&c| is_word(c))
}

pub(super) fn py_space_byte(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

fn month(name: &[u8]) -> Option<u32> {
    let lower = [
        name.first()?.to_ascii_lowercase(),
        name.get(1)?.to_ascii_lowercase(),
        name.get(2)?.to_ascii_lowercase(),
    ];
    MONTHS
        .iter()
        .position(|m| **m == lower)
        .map(|i| i as u32 + 1)
}

fn letters3(s: &[u8], i: usize) -> bool {
    s.get(i..i + 3)
        .is_some_and(|p| p.iter().all(u8::is_ascii_alphabetic))
}

/// `[A-Z][a-z]{2}` at `i`.
fn capitalized3(s: &[u8], i: usize) -> bool {
    s.get(i..i + 3).is_some_and(|p| {
        p[0].is_ascii_uppercase() && p[1].is_ascii_lowercase() && p[2].is_ascii_lowercase()
    })
}

/// `HH:MM:SS` at `i`.
fn hms(s: &[u8], i: usize) -> Option<(u32, u32, u32)> {
    if s.get(i + 2) != Some(&b':') || s.get(i + 5) != Some(&b':') {
        return None;
    }
    Some((num(s, i, 2)?, num(s, i + 3, 2)?, num(s, i + 6, 2)?))
}

/// `(?:[.,](\d{1,max}))?` at `i` with `seps`: the fraction's span, greedy.
fn frac_at(s: &[u8], i: usize, seps: &[u8], max: usize) -> Option<(usize, usize)> {
    if s.get(i).is_some_and(|c| seps.contains(c)) {
        let n = digit_run(s, i + 1).min(max);
        if n > 0 {
            return Some((i + 1, i + 1 + n));
        }
    }
    None
}

/// A match: the wall time, where it ends, and the spans of its fraction and zone.
#[derive(Clone, Copy, Debug)]
pub(super) struct Hit {
    pub(super) y: i32,
    pub(super) mo: u32,
    d: u32,
    hh: u32,
    mi: u32,
    ss: u32,
    frac: Option<(usize, usize)>,
    pub(super) zone: Option<(usize, usize)>,
    pub(super) end: usize,
}

impl Hit {
    pub(super) fn wall<'a>(&self, s: &'a [u8]) -> Wall<'a> {
        Wall {
            y: self.y,
            mo: self.mo,
            d: self.d,
            hh: self.hh,
            mi: self.mi,
            ss: self.ss,
            frac: self.frac.and_then(|(a, b)| s.get(a..b)),
            zone: self.zone.and_then(|(a, b)| s.get(a..b)),
        }
    }
}

/// `[+-]\d{2}:?\d{2}(?!\d)`, else `[+-](?:[01]\d|2[0-3])(?![\w:.+/-])`, at `i`: its end. The hours-only form (`-05`) is how PostgreSQL
/// and some syslog daemons write a whole-hour offset; without it the time was read as UTC.
fn iso_offset(s: &[u8], i: usize) -> Option<usize> {
    if !matches!(s.get(i), Some(b'+' | b'-')) || !digit(s, i + 1) || !digit(s, i + 2) {
        return None;
    }
    // `:?` is greedy; without the colon the next byte would have to be a digit, and it is ':'.
    let at = if s.get(i + 3) == Some(&b':') {
        i + 4
    } else {
        i + 3
    };
    if digit(s, at) && digit(s, at + 1) && !digit(s, at + 2) {
        return Some(at + 2);
    }
    // Hours only: a real hour, then no more of a time or date (`-11-26T...` of a garbled line,
    // `-05.5`, `+12:3`) and no word, else the two digits are no offset and the time has no zone.
    let more = s
        .get(i + 3)
        .is_some_and(|&c| is_word(c) || matches!(c, b':' | b'.' | b'-' | b'+' | b'/'));
    (!more && num(s, i + 1, 2)? <= 23).then_some(i + 3)
}

/// ISO_RE at `p`: `(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?`
/// `\s?(Z|z|[+-]\d{2}:?\d{2}(?!\d)|[+-](?:[01]\d|2[0-3])(?![\w:.+/-])|UTC|GMT)?`
pub(super) fn iso_at(s: &[u8], p: usize) -> Option<Hit> {
    let y = num(s, p, 4)?;
    if s.get(p + 4) != Some(&b'-') || s.get(p + 7) != Some(&b'-') {
        return None;
    }
    let mo = num(s, p + 5, 2)?;
    let d = num(s, p + 8, 2)?;
    if !matches!(s.get(p + 10), Some(b'T' | b' ')) {
        return None;
    }
    let (hh, mi, ss) = hms(s, p + 11)?;
    let frac = frac_at(s, p + 19, b".,", 9);
    let mut i = frac.map_or(p + 19, |f| f.1);
    if s.get(i).is_some_and(|&c| py_space_byte(c)) {
        i += 1;
    }
    let zone_end = match s.get(i) {
        Some(b'Z' | b'z') => Some(i + 1),
        Some(b'+' | b'-') => iso_offset(s, i),
        Some(b'U') if s.get(i..i + 3) == Some(b"UTC") => Some(i + 3),
        Some(b'G') if s.get(i..i + 3) == Some(b"GMT") => Some(i + 3),
        _ => None,
    };
    Some(Hit {
        y: y as i32,
        mo,
        d,
        hh,
        mi,
        ss,
        frac,
        zone: zone_end.map(|e| (i, e)),
        end: zone_end.unwrap_or(i),
    })
}

/// `(\d{1,2})/([A-Za-z]{3})/(\d{4})` at `p`: (day, month name start, end).
fn day_mon_year_slashed(s: &[u8], p: usize) -> Option<(u32, usize, u32, usize)> {
    let (d, i) = day_1_2(s, p, b'/')?;
    if !letters3(s, i) || s.get(i + 3) != Some(&b'/') {
        return None;
    }
    let y = num(s, i + 4, 4)?;
    Some((d, i, y, i + 8))
}

/// `(\d{1,2})` then `sep` at `p`: (day, index after the separator).
fn day_1_2(s: &[u8], p: usize, sep: u8) -> Option<(u32, usize)> {
    if !digit(s, p) {
        return None;
    }
    if digit(s, p + 1) {
        // Greedy two digits; one digit would need the separator where a digit is.
        (s.get(p + 2) == Some(&sep)).then(|| (num(s, p, 2).unwrap_or(0), p + 3))
    } else {
        (s.get(p + 1) == Some(&sep)).then(|| (num(s, p, 1).unwrap_or(0), p + 2))
    }
}

/// CLF_RE at `p`: `(\d{1,2})/([A-Za-z]{3})/(\d{4})[: ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?`
/// `(?: ?([+-]\d{4}|[+-]\d{2}:\d{2}|Z))?`
pub(super) fn clf_at(s: &[u8], p: usize) -> Option<Hit> {
    let (d, mon_at, y, i) = day_mon_year_slashed(s, p)?;
    let mo = month(s.get(mon_at..mon_at + 3)?);
    if !matches!(s.get(i), Some(b':' | b' ')) {
        return None;
    }
    let (hh, mi, ss) = hms(s, i + 1)?;
    let frac = frac_at(s, i + 9, b".,", 9);
    let i = frac.map_or(i + 9, |f| f.1);
    let zone_at = |z: usize| -> Option<usize> {
        match s.get(z) {
            Some(b'Z') => Some(z + 1),
            Some(b'+' | b'-') => {
                if num(s, z + 1, 4).is_some() {
                    Some(z + 5)
                } else if num(s, z + 1, 2).is_some()
                    && s.get(z + 3) == Some(&b':')
                    && num(s, z + 4, 2).is_some()
                {
                    Some(z + 6)
                } else {
                    None
                }
            }
            _ => None,
        }
    };
    let zone = if s.get(i) == Some(&b' ') {
        zone_at(i + 1).map(|e| (i + 1, e))
    } else {
        zone_at(i).map(|e| (i, e))
    };
    Some(Hit {
        y: y as i32,
        // An unknown month name matches the pattern but reads as None: marked 0.
        mo: mo.unwrap_or(0),
        d,
        hh,
        mi,
        ss,
        frac,
        zone,
        end: zone.map_or(i, |z| z.1),
    })
}

/// SLASHED_RE at `p`: `(\d{4})/(\d{2})/(\d{2})(?:[ T]| - )(\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?`
pub(super) fn slashed_at(s: &[u8], p: usize) -> Option<Hit> {
    let y = num(s, p, 4)?;
    if s.get(p + 4) != Some(&b'/') || s.get(p + 7) != Some(&b'/') {
        return None;
    }
    let mo = num(s, p + 5, 2)?;
    let d = num(s, p + 8, 2)?;
    let first = if matches!(s.get(p + 10), Some(b' ' | b'T')) {
        hms(s, p + 11).map(|t| (t, p + 11))
    } else {
        None
    };
    let ((hh, mi, ss), t) = match first {
        Some(x) => x,
        None if s.get(p + 10..p + 13) == Some(b" - ") => (hms(s, p + 13)?, p + 13),
        None => return None,
    };
    let frac = frac_at(s, t + 8, b".,", 9);
    Some(Hit {
        y: y as i32,
        mo,
        d,
        hh,
        mi,
        ss,
        frac,
        zone: None,
        end: frac.map_or(t + 8, |f| f.1),
    })
}

/// ` +(\d{1,2}) (\d{2}):(\d{2}):(\d{2})` at `i` (the spaces after a month name): (day, time, end).
fn spaces_day_time(s: &[u8], i: usize) -> Option<(u32, (u32, u32, u32), usize)> {
    if s.get(i) != Some(&b' ') {
        return None;
    }
    let mut j = i;
    while s.get(j) == Some(&b' ') {
        j += 1;
    }
    let (d, t) = day_1_2(s, j, b' ')?;
    Some((d, hms(s, t)?, t + 8))
}

/// ASCTIME_RE at `p`: `[A-Z][a-z]{2} ([A-Z][a-z]{2}) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2})`
/// `(?:\.(\d{1,6}))? (\d{4})\b`
pub(super) fn asctime_at(s: &[u8], p: usize) -> Option<Hit> {
    if !capitalized3(s, p) || s.get(p + 3) != Some(&b' ') || !capitalized3(s, p + 4) {
        return None;
    }
    let mo = month(s.get(p + 4..p + 7)?);
    let (d, (hh, mi, ss), i) = spaces_day_time(s, p + 7)?;
    // The fraction must be followed by the space; a shorter one would be followed by a digit.
    let (frac, i) = if s.get(i) == Some(&b'.') && digit(s, i + 1) {
        let n = digit_run(s, i + 1);
        if n > 6 {
            return None;
        }
        (Some((i + 1, i + 1 + n)), i + 1 + n)
    } else {
        (None, i)
    };
    if s.get(i) != Some(&b' ') {
        return None;
    }
    let y = num(s, i + 1, 4)?;
    if word_at(s, i + 5) {
        return None;
    }
    Some(Hit {
        y: y as i32,
        mo: mo.unwrap_or(0),
        d,
        hh,
        mi,
        ss,
        frac,
        zone: None,
        end: i + 5,
    })
}

/// SYSLOG_RE at `p` (year 0 stands for the caller's year):
/// `\b([A-Z][a-z]{2}) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?\b`
pub(super) fn syslog_at(s: &[u8], p: usize) -> Option<Hit> {
    if !capitalized3(s, p) || (p > 0 && word_at(s, p - 1)) {
        return None;
    }
    let mo = month(s.get(p..p + 3)?);
    let (d, (hh, mi, ss), i) = spaces_day_time(s, p + 3)?;
    let mut frac = None;
    let mut end = i;
    if s.get(i) == Some(&b'.') && digit(s, i + 1) {
        let n = digit_run(s, i + 1);
        if n <= 6 && !word_at(s, i + 1 + n) {
            frac = Some((i + 1, i + 1 + n));
            end = i + 1 + n;
        }
        // Otherwise the fraction is dropped: the boundary before '.' holds.
    } else if word_at(s, i) {
        return None;
    }
    Some(Hit {
        y: 0,
        mo: mo.unwrap_or(0),
        d,
        hh,
        mi,
        ss,
        frac,
        zone: None,
        end,
    })
}

/// EPOCH_RE at `p`: `(?<![\w.])(1[5-9]\d{8}|2[0-9]\d{8})(?:(\d{3})|\.(\d{1,9}))?(?![\w])`:
/// (seconds, milliseconds, fraction span, end).
pub(super) type EpochHit = (i64, Option<i64>, Option<(usize, usize)>, usize);

pub(super) fn epoch_at(s: &[u8], p: usize) -> Option<EpochHit> {
    if p > 0 && s.get(p - 1).is_some_and(|&c| is_word(c) || c == b'.') {
        return None;
    }
    match (s.get(p), s.get(p + 1)) {
        (Some(b'1'), Some(b'5'..=b'9')) | (Some(b'2'), Some(b'0'..=b'9')) => {}
        _ => return None,
    }
    let secs = i64::from(num(s, p, 10)?);
    let i = p + 10;
    if let Some(ms) = num(s, i, 3) {
        return (!word_at(s, i + 3)).then_some((secs, Some(i64::from(ms)), None, i + 3));
    }
    if s.get(i) == Some(&b'.') && digit(s, i + 1) {
        let n = digit_run(s, i + 1).min(9);
        if !word_at(s, i + 1 + n) {
            return Some((secs, None, Some((i + 1, i + 1 + n)), i + 1 + n));
        }
        // A shorter fraction is followed by a digit; without one, '.' ends the number.
        return Some((secs, None, None, i));
    }
    (!word_at(s, i)).then_some((secs, None, None, i))
}

/// RFC1123 at 0: `(?:[A-Za-z]{3},? )?(\d{1,2}) ([A-Za-z]{3}) (\d{4}) (\d{2}):(\d{2}):(\d{2})`
/// `(?:\.(\d{1,6}))? ?(GMT|UTC|Z|[+-]\d{4})?`
pub(super) fn rfc1123_at(s: &[u8]) -> Option<Hit> {
    let mut p = 0;
    if letters3(s, 0) {
        p = if s.get(3) == Some(&b',') { 4 } else { 3 };
        if s.get(p) != Some(&b' ') {
            return None;
        }
        p += 1;
    }
    let (d, i) = day_1_2(s, p, b' ')?;
    if !letters3(s, i) || s.get(i + 3) != Some(&b' ') {
        return None;
    }
    let mo = month(s.get(i..i + 3)?);
    let y = num(s, i + 4, 4)?;
    if s.get(i + 8) != Some(&b' ') {
        return None;
    }
    let (hh, mi, ss) = hms(s, i + 9)?;
    let frac = frac_at(s, i + 17, b".", 6);
    let mut z = frac.map_or(i + 17, |f| f.1);
    if s.get(z) == Some(&b' ') {
        z += 1;
    }
    let zone_end = match s.get(z) {
        Some(b'Z') => Some(z + 1),
        Some(b'G') if s.get(z..z + 3) == Some(b"GMT") => Some(z + 3),
        Some(b'U') if s.get(z..z + 3) == Some(b"UTC") => Some(z + 3),
        Some(b'+' | b'-') if num(s, z + 1, 4).is_some() => Some(z + 5),
        _ => None,
    };
    Some(Hit {
        y: y as i32,
        mo: mo.unwrap_or(0),
        d,
        hh,
        mi,
        ss,
        frac,
        zone: zone_end.map(|e| (z, e)),
        end: zone_end.unwrap_or(z),
    })
}

/// A day-month-year hit read as `_day_month_year` does: an unknown month name is None.
pub(super) fn dmy_us(hit: &Hit, s: &[u8], tz: &Zone) -> Option<i64> {
    if hit.mo == 0 {
        return None;
    }
    to_us(&hit.wall(s), tz)
}
