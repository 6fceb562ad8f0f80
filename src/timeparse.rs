//! Timestamps found in log lines, normalized to UTC epoch microseconds (the port of `timeparse.py`).
//!
//! A time without a zone is read in the zone the caller passes (the config's `timezone`, UTC by
//! default); an IANA zone follows Python's `zoneinfo` with `fold=0`.
//!
//! STUB: owned by the timeparse helper; every function returns None until ported.

/// A default zone for times without one: UTC, a fixed offset, or an IANA zone.
#[derive(Clone, Debug, PartialEq)]
pub enum Zone {
    Utc,
    /// Seconds east of UTC.
    Fixed(i32),
    Named(String),
}

impl Zone {
    pub fn utc() -> Zone {
        Zone::Utc
    }

    /// A zone from `UTC`, `+01:00` / `-0800`, or an IANA name (Python's `zone_from_text`).
    pub fn from_text(text: &str) -> Result<Zone, String> {
        let t = text.trim();
        if ["UTC", "Z", "GMT"].contains(&t.to_ascii_uppercase().as_str()) {
            return Ok(Zone::Utc);
        }
        Err(format!("unknown time zone {t:?}"))
    }

    pub fn is_utc(&self) -> bool {
        matches!(self, Zone::Utc)
    }
}

pub fn parse_iso(_text: &[u8], _tz: &Zone) -> Option<i64> {
    None
}

pub fn parse_clf(_text: &[u8], _tz: &Zone) -> Option<i64> {
    None
}

pub fn parse_slashed(_text: &[u8], _tz: &Zone) -> Option<i64> {
    None
}

pub fn parse_asctime(_text: &[u8], _tz: &Zone) -> Option<i64> {
    None
}

pub fn parse_syslog(_text: &[u8], _year: i32, _tz: &Zone, _before_us: Option<i64>) -> Option<i64> {
    None
}

pub fn parse_epoch(_text: &[u8]) -> Option<i64> {
    None
}

pub fn parse_rfc1123(_text: &[u8], _tz: &Zone) -> Option<i64> {
    None
}

pub fn parse_any(_text: &[u8], _tz: &Zone) -> Option<i64> {
    None
}

pub fn search_any(_line: &[u8], _year: i32, _tz: &Zone, _before_us: Option<i64>) -> Option<i64> {
    None
}

/// A JSON number as a time: epoch seconds, milliseconds, microseconds or nanoseconds.
pub fn from_number(_value: f64) -> Option<i64> {
    None
}

/// A NumericDate (seconds) as epoch microseconds, or None when it is outside years 1..9999.
pub fn clamp_us(_value: f64) -> Option<i64> {
    None
}
