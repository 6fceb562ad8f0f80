//! Dates: the civil calendar, zone offsets as written, and a wall-clock time to epoch
//! microseconds as Python's `to_us` reads it.

use super::{Zone, US};

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

/// Seconds east of UTC of an explicit zone text (`Z`, `UTC`, `+01:00`, `-0800`, `-05`); None for
/// an offset no zone has (hours above 23, minutes above 59), which makes the time unparsable.
pub(super) fn offset_seconds(zone: &[u8]) -> Option<i64> {
    if matches!(zone, b"Z" | b"z" | b"UTC" | b"GMT") {
        return Some(0);
    }
    let sign = if zone.first() == Some(&b'-') { -1 } else { 1 };
    let mut digits = zone.iter().skip(1).filter(|&&c| c != b':');
    let mut two = || -> i64 {
        let mut v = 0;
        for _ in 0..2 {
            v = v * 10 + digits.next().map_or(0, |&c| i64::from(c - b'0'));
        }
        v
    };
    let (hh, mm) = (two(), two());
    (hh <= 23 && mm <= 59).then_some(sign * (hh * 3600 + mm * 60))
}

/// `int(frac[:6].ljust(6, b"0"))`.
pub(super) fn frac_us(frac: &[u8]) -> i64 {
    let mut v = 0i64;
    for i in 0..6 {
        v = v * 10 + frac.get(i).map_or(0, |c| i64::from(c - b'0'));
    }
    v
}

/// A wall-clock time as Python's `to_us` reads it.
#[derive(Clone, Copy, Debug)]
pub(super) struct Wall<'a> {
    pub(super) y: i32,
    pub(super) mo: u32,
    pub(super) d: u32,
    pub(super) hh: u32,
    pub(super) mi: u32,
    pub(super) ss: u32,
    pub(super) frac: Option<&'a [u8]>,
    pub(super) zone: Option<&'a [u8]>,
}

/// Epoch microseconds of a wall-clock time with an explicit zone, else in `tz`; None if impossible.
pub(super) fn to_us(w: &Wall, tz: &Zone) -> Option<i64> {
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
        us -= offset_seconds(zone)? * US;
    }
    if let Some(frac) = w.frac {
        us += frac_us(frac);
    }
    Some(us)
}
