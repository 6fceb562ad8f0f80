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

use std::cell::RefCell;

/// A default zone for times without one: UTC, a fixed offset, or an IANA zone.
#[derive(Clone, Debug, PartialEq)]
pub enum Zone {
    Utc,
    /// Seconds east of UTC.
    Fixed(i32),
    Named(String),
}

const MONTHS: [&[u8; 3]; 12] = [
    b"jan", b"feb", b"mar", b"apr", b"may", b"jun", b"jul", b"aug", b"sep", b"oct", b"nov", b"dec",
];
const MIN_US: f64 = -62_135_596_800.0 * 1_000_000.0;
const MAX_US: f64 = 253_402_300_799.0 * 1_000_000.0;
const US: i64 = 1_000_000;

/// Python's `zoneinfo.TZPATH` default on Linux: the first directory holding the key wins.
const TZPATH: [&str; 4] = [
    "/usr/share/zoneinfo",
    "/usr/lib/zoneinfo",
    "/usr/share/lib/zoneinfo",
    "/etc/zoneinfo",
];

impl Zone {
    pub fn utc() -> Zone {
        Zone::Utc
    }

    /// A zone from `UTC`, `+01:00` / `-0800`, or an IANA name (Python's `zone_from_text`).
    pub fn from_text(text: &str) -> Result<Zone, String> {
        let t = text.trim_matches(py_space);
        if ["UTC", "Z", "GMT"].contains(&t.to_uppercase().as_str()) {
            return Ok(Zone::Utc);
        }
        if let Some(minutes) = offset_minutes(t) {
            let (sign, minutes) = minutes;
            if minutes >= 24 * 60 {
                return Err(format!("offset {} is out of range", py_repr(t)));
            }
            // Python's `timezone(timedelta(0))` is the UTC singleton itself.
            return Ok(if minutes == 0 {
                Zone::Utc
            } else {
                Zone::Fixed(sign * minutes * 60)
            });
        }
        if load_named(t).is_some() {
            return Ok(Zone::Named(t.to_string()));
        }
        Err(format!(
            "unknown time zone {} (use UTC, an offset like +01:00, or a name like Europe/Berlin)",
            py_repr(t)
        ))
    }

    pub fn is_utc(&self) -> bool {
        matches!(self, Zone::Utc)
    }

    /// Seconds east of UTC at a wall time in this zone (`fold=0`).
    fn wall_offset(&self, y: i32, mo: u32, d: u32, hh: u32, mi: u32, ss: u32) -> i64 {
        match self {
            Zone::Utc => 0,
            Zone::Fixed(s) => i64::from(*s),
            Zone::Named(name) => named_offset(name, y, mo, d, hh, mi, ss),
        }
    }
}

/// Python's `str.isspace` for `strip()`: Unicode whitespace plus the separators \x1c-\x1f.
fn py_space(c: char) -> bool {
    c.is_whitespace() || ('\x1c'..='\x1f').contains(&c)
}

/// `([+-])(\d{2}):?(\d{2})` as a full match: (sign, minutes).
fn offset_minutes(t: &str) -> Option<(i32, i32)> {
    let b = t.as_bytes();
    let sign = match b.first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let digits: Vec<u8> = match b.len() {
        5 => b[1..].to_vec(),
        6 if b[3] == b':' => [&b[1..3], &b[4..6]].concat(),
        _ => return None,
    };
    if !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n = |i: usize| i32::from(digits[i] - b'0');
    Some((sign, (n(0) * 10 + n(1)) * 60 + n(2) * 10 + n(3)))
}

/// Python's `repr()` of a str: single quotes unless the text has one and no double quote.
fn py_repr(t: &str) -> String {
    let quote = if t.contains('\'') && !t.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(t.len() + 2);
    out.push(quote);
    for c in t.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() || (c != ' ' && c.is_whitespace()) || c == '\u{ad}' => {
                let n = c as u32;
                out.push_str(&if n < 0x100 {
                    format!("\\x{n:02x}")
                } else if n < 0x10000 {
                    format!("\\u{n:04x}")
                } else {
                    format!("\\U{n:08x}")
                });
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// Python's `zoneinfo._common` key check: a normalized relative path.
fn valid_key(key: &str) -> bool {
    !key.is_empty()
        && !key.starts_with('/')
        && key
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..")
}

/// A named zone the way `ZoneInfo(key)` finds it: the first TZPATH file of that exact name, else
/// the bundled database (Python's `tzdata` package), names compared exactly.
fn load_named(key: &str) -> Option<jiff::tz::TimeZone> {
    if !valid_key(key) || key.contains('\0') {
        return None;
    }
    for dir in TZPATH {
        let path = std::path::Path::new(dir).join(key);
        if path.is_file() {
            // Python stops at the first file found, valid TZif or not.
            let data = std::fs::read(&path).ok()?;
            return jiff::tz::TimeZone::tzif(key, &data).ok();
        }
    }
    let tz = jiff::tz::TimeZoneDatabase::bundled().get(key).ok()?;
    (tz.iana_name() == Some(key)).then_some(tz)
}

thread_local! {
    static NAMED: RefCell<Vec<(String, Option<jiff::tz::TimeZone>)>> = const { RefCell::new(Vec::new()) };
}

fn named_offset(name: &str, y: i32, mo: u32, d: u32, hh: u32, mi: u32, ss: u32) -> i64 {
    NAMED.with(|cell| {
        let mut zones = cell.borrow_mut();
        let at = match zones.iter().position(|(n, _)| n == name) {
            Some(at) => at,
            None => {
                zones.push((name.to_string(), load_named(name)));
                zones.len() - 1
            }
        };
        let Some(tz) = &zones[at].1 else {
            return 0;
        };
        let Ok(dt) = jiff::civil::DateTime::new(
            y as i16, mo as i8, d as i8, hh as i8, mi as i8, ss as i8, 0,
        ) else {
            return 0;
        };
        use jiff::tz::AmbiguousOffset;
        let offset = match tz.to_ambiguous_timestamp(dt).offset() {
            AmbiguousOffset::Unambiguous { offset } => offset,
            AmbiguousOffset::Gap { before, .. } | AmbiguousOffset::Fold { before, .. } => before,
        };
        i64::from(offset.seconds())
    })
}

// ---- dates -------------------------------------------------------------------------------------

fn is_leap(y: i32) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

/// Python's `datetime(y, mo, d)` check: years 1..9999 and a real day of the month.
fn valid_date(y: i32, mo: u32, d: u32) -> bool {
    if !(1..=9999).contains(&y) || !(1..=12).contains(&mo) || d == 0 {
        return false;
    }
    let dim = match mo {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    d <= dim
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i32, mo: u32, d: u32) -> i64 {
    let y = i64::from(y) - i64::from(mo <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (i64::from(mo) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Seconds east of UTC of an explicit zone text (`Z`, `UTC`, `+01:00`, `-0800`).
fn offset_seconds(zone: &[u8]) -> i64 {
    if matches!(zone, b"Z" | b"z" | b"UTC" | b"GMT") {
        return 0;
    }
    let sign = if zone.first() == Some(&b'-') { -1 } else { 1 };
    let digits: Vec<u8> = zone
        .iter()
        .skip(1)
        .copied()
        .filter(|&c| c != b':')
        .collect();
    let two = |i: usize| {
        digits
            .get(i..i + 2)
            .map_or(0, |p| i64::from(p[0] - b'0') * 10 + i64::from(p[1] - b'0'))
    };
    sign * (two(0) * 3600 + two(2) * 60)
}

/// `int(frac[:6].ljust(6, b"0"))`.
fn frac_us(frac: &[u8]) -> i64 {
    let mut v = 0i64;
    for i in 0..6 {
        v = v * 10 + frac.get(i).map_or(0, |c| i64::from(c - b'0'));
    }
    v
}

/// A wall-clock time as Python's `to_us` reads it.
#[derive(Clone, Copy, Debug)]
struct Wall<'a> {
    y: i32,
    mo: u32,
    d: u32,
    hh: u32,
    mi: u32,
    ss: u32,
    frac: Option<&'a [u8]>,
    zone: Option<&'a [u8]>,
}

/// Epoch microseconds of a wall-clock time with an explicit zone, else in `tz`; None if impossible.
fn to_us(w: &Wall, tz: &Zone) -> Option<i64> {
    let ss = w.ss.min(59);
    let secs_of_day = i64::from((w.hh * 60 + w.mi) * 60 + ss);
    let mut us = if w.zone.is_some() || tz.is_utc() {
        // A leap second, :60, is read as :59; above that the time is impossible.
        if !valid_date(w.y, w.mo, w.d) || w.hh > 23 || w.mi > 59 || w.ss > 60 {
            return None;
        }
        (days_from_civil(w.y, w.mo, w.d) * 86_400 + secs_of_day) * US
    } else {
        // Python builds `datetime(..., min(ss, 59), tzinfo=tz)`: seconds above 60 are not checked.
        if !valid_date(w.y, w.mo, w.d) || w.hh > 23 || w.mi > 59 {
            return None;
        }
        let off = tz.wall_offset(w.y, w.mo, w.d, w.hh, w.mi, ss);
        (days_from_civil(w.y, w.mo, w.d) * 86_400 + secs_of_day - off) * US
    };
    if let Some(zone) = w.zone {
        us -= offset_seconds(zone) * US;
    }
    if let Some(frac) = w.frac {
        us += frac_us(frac);
    }
    Some(us)
}

// ---- the patterns --------------------------------------------------------------------------------

fn digit(s: &[u8], i: usize) -> bool {
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

fn py_space_byte(c: u8) -> bool {
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
struct Hit {
    y: i32,
    mo: u32,
    d: u32,
    hh: u32,
    mi: u32,
    ss: u32,
    frac: Option<(usize, usize)>,
    zone: Option<(usize, usize)>,
    end: usize,
}

impl Hit {
    fn wall<'a>(&self, s: &'a [u8]) -> Wall<'a> {
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

/// `[+-]\d{2}:?\d{2}(?!\d)` at `i`: its end.
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
    (digit(s, at) && digit(s, at + 1) && !digit(s, at + 2)).then_some(at + 2)
}

/// ISO_RE at `p`: `(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?`
/// `\s?(Z|z|[+-]\d{2}:?\d{2}(?!\d)|UTC|GMT)?`
fn iso_at(s: &[u8], p: usize) -> Option<Hit> {
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
fn clf_at(s: &[u8], p: usize) -> Option<Hit> {
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
fn slashed_at(s: &[u8], p: usize) -> Option<Hit> {
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
fn asctime_at(s: &[u8], p: usize) -> Option<Hit> {
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
fn syslog_at(s: &[u8], p: usize) -> Option<Hit> {
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
type EpochHit = (i64, Option<i64>, Option<(usize, usize)>, usize);

fn epoch_at(s: &[u8], p: usize) -> Option<EpochHit> {
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
fn rfc1123_at(s: &[u8]) -> Option<Hit> {
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
fn dmy_us(hit: &Hit, s: &[u8], tz: &Zone) -> Option<i64> {
    if hit.mo == 0 {
        return None;
    }
    to_us(&hit.wall(s), tz)
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
