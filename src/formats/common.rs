//! What every format parser shares: the fields of a line, per-file state, and small value helpers.

use crate::timeparse::Zone;

/// The request fields a log line carries; None where the format has no such field.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LineFields {
    /// Epoch microseconds, UTC.
    pub ts: Option<i64>,
    pub host: Option<String>,
    pub method: Option<String>,
    pub path: Option<String>,
    pub status: Option<i32>,
    pub client_ip: Option<String>,
    pub user_agent: Option<String>,
    /// Byte span of the request's query string within the line, when the format keeps it in a
    /// field of its own (IIS `cs-uri-query`, App Gateway `requestQuery`): a token there is in the query.
    pub query_span: Option<(usize, usize)>,
}

/// Per-file parsing state: the year for year-less times, the default zone, the W3C field list.
#[derive(Clone, Debug)]
pub struct FileContext {
    pub year: i32,
    pub tz: Zone,
    pub mtime_us: Option<i64>,
    /// The latest `#Fields:` directive's names (lowercased); empty until one is seen (lines are
    /// then read by shape).
    pub iis_fields: Vec<String>,
}

impl Default for FileContext {
    fn default() -> Self {
        FileContext {
            year: 1970,
            tz: Zone::utc(),
            mtime_us: None,
            iis_fields: Vec::new(),
        }
    }
}

/// IIS's default field list (w3c's layouts have it and the other common ones).
pub const IIS_DEFAULT_FIELDS: [&str; 15] = [
    "date",
    "time",
    "s-ip",
    "cs-method",
    "cs-uri-stem",
    "cs-uri-query",
    "s-port",
    "cs-username",
    "c-ip",
    "cs(User-Agent)",
    "cs(Referer)",
    "sc-status",
    "sc-substatus",
    "sc-win32-status",
    "time-taken",
];

/// A logged duration shorter than this is not taken off the logged time: for an API call the two
/// are the same second, and most formats' times have whole seconds only. A longer one (a WebSocket,
/// a long poll, a slow upload) is: the token was checked when the request arrived.
pub const MIN_DURATION_US: f64 = 1_000_000.0;

/// When a request arrived, from the time its entry was logged (after the response) and its duration.
pub fn arrival(logged_us: Option<i64>, duration_us: Option<f64>) -> Option<i64> {
    match (logged_us, duration_us) {
        (Some(t), Some(d)) if d >= MIN_DURATION_US => Some(t - d as i64),
        _ => logged_us,
    }
}

/// Python's `float(text)` for the texts logs hold: surrounding whitespace allowed, `inf`/`nan` too.
pub fn py_float(b: &[u8]) -> Option<f64> {
    let s = std::str::from_utf8(b).ok()?.trim();
    if s.is_empty() || s.contains('_') {
        // Python accepts digit separators (`1_000`); no log writes them in a duration.
        return None;
    }
    s.parse::<f64>().ok()
}

/// A logged duration (seconds, or another unit by `scale`) in microseconds; None if not a number.
pub fn seconds_us(b: &[u8], scale: f64) -> Option<f64> {
    seconds_us_f64(py_float(b)?, scale)
}

/// `seconds_us` of a number (from JSON).
pub fn seconds_us_f64(v: f64, scale: f64) -> Option<f64> {
    if (0.0..1e12).contains(&v) {
        Some(v * scale)
    } else {
        None
    }
}

/// A field's text; None for the `-` and empty placeholders logs use for 'no value'.
pub fn text(b: &[u8]) -> Option<String> {
    if b.is_empty() || b == b"-" || b == b"\"\"" {
        return None;
    }
    Some(String::from_utf8_lossy(b).into_owned())
}

/// An HTTP status from a field's bytes, or None when it is not a three-digit code.
pub fn status(b: &[u8]) -> Option<i32> {
    if b.len() == 3 && b.iter().all(u8::is_ascii_digit) {
        Some((b[0] - b'0') as i32 * 100 + (b[1] - b'0') as i32 * 10 + (b[2] - b'0') as i32)
    } else {
        None
    }
}

/// An HTTP status from a JSON number (an integer 100..=999, or a float with an integral value).
pub fn status_f64(v: f64) -> Option<i32> {
    if v.fract() == 0.0 && (100.0..=999.0).contains(&v) {
        Some(v as i32)
    } else {
        None
    }
}

/// (host, path without query) from a request target: `/a?b`, or `https://h/a?b` (Python's
/// `split_target`, whose URL reading is `urllib.parse.urlsplit`'s).
pub fn split_target(target: &str) -> (Option<String>, Option<String>) {
    // TODO(formats/mod.rs owner): port urlsplit's hostname/path exactly (see common.py).
    if target.is_empty() {
        return (None, None);
    }
    let head = target.split('?').next().unwrap_or("");
    (
        None,
        if head.is_empty() {
            None
        } else {
            Some(head.to_string())
        },
    )
}

/// `split_target(text(target))` without copying the query string (common.py's `split_target_bytes`).
pub fn split_target_bytes(target: &[u8]) -> (Option<String>, Option<String>) {
    match text(target) {
        None => (None, None),
        Some(t) => split_target(&t),
    }
}

/// A Host value without its port, lowercased (`[::1]:443` keeps its brackets off too).
pub fn strip_port(host: Option<&str>) -> Option<String> {
    let host = host.filter(|h| !h.is_empty())?;
    if let Some(rest) = host.strip_prefix('[') {
        let inner = rest.split(']').next().unwrap_or("");
        return if inner.is_empty() {
            None
        } else {
            Some(py_lower(inner))
        };
    }
    let h = if host.matches(':').count() == 1 {
        host.rsplit_once(':').map(|(a, _)| a).unwrap_or(host)
    } else {
        host
    };
    let h = py_lower(h.trim_end_matches('.'));
    if h.is_empty() {
        None
    } else {
        Some(h)
    }
}

/// `203.0.113.9:51234` -> `203.0.113.9`; IPv6 without brackets is left alone.
pub fn strip_client_port(addr: Option<&str>) -> Option<String> {
    let addr = addr.filter(|a| !a.is_empty())?;
    if let Some(rest) = addr.strip_prefix('[') {
        return Some(rest.split(']').next().unwrap_or("").to_string());
    }
    if addr.matches(':').count() == 1 {
        return Some(addr.split(':').next().unwrap_or("").to_string());
    }
    Some(addr.to_string())
}

/// Python's `str.lower()` (full Unicode lowercase; Rust's `to_lowercase` agrees except for a few
/// context-dependent letters such as the final sigma, which host names do not hold).
pub fn py_lower(s: &str) -> String {
    if s.is_ascii() {
        s.to_ascii_lowercase()
    } else {
        s.to_lowercase()
    }
}

/// Python's `str.upper()` (see `py_lower`).
pub fn py_upper(s: &str) -> String {
    if s.is_ascii() {
        s.to_ascii_uppercase()
    } else {
        s.to_uppercase()
    }
}
