//! The zone a time without one is read in: UTC, a fixed offset, or an IANA zone found as Python's
//! `zoneinfo` finds it (the system tzdb first, the bundled copy where it has no such key).

use std::cell::RefCell;

use super::py_space;

/// A default zone for times without one: UTC, a fixed offset, or an IANA zone.
#[derive(Clone, Debug, PartialEq)]
pub enum Zone {
    Utc,
    /// Seconds east of UTC.
    Fixed(i32),
    Named(String),
}

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
    pub(super) fn wall_offset(&self, y: i32, mo: u32, d: u32, hh: u32, mi: u32, ss: u32) -> i64 {
        match self {
            Zone::Utc => 0,
            Zone::Fixed(s) => i64::from(*s),
            Zone::Named(name) => named_offset(name, y, mo, d, hh, mi, ss),
        }
    }
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
