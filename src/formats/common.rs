//! What every format parser shares: the fields of a line, per-file state, and small value helpers.

use std::borrow::Cow;

use crate::timeparse::Zone;

/// A field's text: borrowed from the line where it is the line's bytes as they stand (most
/// fields of most lines), owned where it was decoded or changed. A `String` each was five
/// allocations and frees per token line.
pub type Text<'a> = Option<Cow<'a, str>>;

/// The request fields a log line carries; None where the format has no such field.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LineFields<'a> {
    /// Epoch microseconds, UTC.
    pub ts: Option<i64>,
    pub host: Text<'a>,
    pub method: Text<'a>,
    pub path: Text<'a>,
    pub status: Option<i32>,
    pub client_ip: Text<'a>,
    pub user_agent: Text<'a>,
    /// Byte span of the request's query string within the line, when the format keeps it in a
    /// field of its own (IIS `cs-uri-query`, App Gateway `requestQuery`): a token there is in the query.
    pub query_span: Option<(usize, usize)>,
}

impl LineFields<'_> {
    /// The same fields, owning their texts (fields read from a text the parser made).
    pub fn into_owned(self) -> LineFields<'static> {
        let own = owned_text;
        LineFields {
            ts: self.ts,
            host: own(self.host),
            method: own(self.method),
            path: own(self.path),
            status: self.status,
            client_ip: own(self.client_ip),
            user_agent: own(self.user_agent),
            query_span: self.query_span,
        }
    }
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
    if s.is_empty() {
        return None;
    }
    if s.contains('_') {
        // Python takes digit separators (`1_000`), each between two digits.
        let d = s.as_bytes();
        let between = |i: usize| {
            i > 0 && d[i - 1].is_ascii_digit() && d.get(i + 1).is_some_and(u8::is_ascii_digit)
        };
        if !(0..d.len()).all(|i| d[i] != b'_' || between(i)) {
            return None;
        }
        return s.replace('_', "").parse::<f64>().ok();
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
pub fn text(b: &[u8]) -> Text<'_> {
    if b.is_empty() || b == b"-" || b == b"\"\"" {
        return None;
    }
    Some(lossy(b))
}

/// The same text, owned.
pub fn owned_text(t: Text<'_>) -> Text<'static> {
    t.map(|t| Cow::Owned(t.into_owned()))
}

/// A text that is owned either way (a value the format computed).
pub fn owned<'a>(s: Option<String>) -> Text<'a> {
    s.map(Cow::Owned)
}

/// `String::from_utf8_lossy`, checked by `str::from_utf8` first: the same text, but valid UTF-8
/// (nearly every field) is read a word at a time rather than a character at a time.
pub fn lossy(b: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(b) {
        Ok(s) => std::borrow::Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(b),
    }
}

/// An HTTP status from a field's bytes, or None when it is not a three-digit code.
pub fn status(b: &[u8]) -> Option<i32> {
    if b.len() == 3 && b.iter().all(u8::is_ascii_digit) {
        Some((b[0] - b'0') as i32 * 100 + (b[1] - b'0') as i32 * 10 + (b[2] - b'0') as i32)
    } else {
        None
    }
}

/// `status()` of a text value: three characters that are all decimal digits. Python's
/// `str.isdigit` and `int` take any script's decimal digits (`١٢٣` is 123); the other characters
/// `isdigit` takes, such as `²`, made Python's `int` raise: here they are no status.
pub fn status_text(v: &[u8]) -> Option<i32> {
    if v.len() == 3 {
        return status(v);
    }
    if v.len() > 12 || v.is_ascii() {
        return None;
    }
    let text = String::from_utf8_lossy(v);
    let mut n = 0;
    let mut count = 0;
    for c in text.chars() {
        n = n * 10 + decimal_digit(c)? as i32;
        count += 1;
    }
    (count == 3).then_some(n)
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
///
/// An absolute URL (`://` within the first 12 characters) is read as `urlsplit` reads it:
/// (`hostname`, `path or "/"`), or (None, the target before `?`) when `urlsplit` raises
/// `ValueError`. Anything else: (None, the target before `?`), None when that is empty.
pub fn split_target(target: &str) -> (Option<String>, Option<String>) {
    if target.is_empty() {
        return (None, None);
    }
    let head = target.split('?').next().unwrap_or("");
    split_head(head, url_window(target))
}

/// `split_target` of a text, with the path borrowed from it where it is its text (no URL).
pub fn split_target_str(target: Cow<'_, str>) -> (Option<String>, Text<'_>) {
    match target {
        Cow::Borrowed(t) if !t.is_empty() && !url_window(t) => {
            let head = t.split('?').next().unwrap_or("");
            (None, (!head.is_empty()).then_some(Cow::Borrowed(head)))
        }
        t => {
            let (host, path) = split_target(&t);
            (host, owned(path))
        }
    }
}

/// `split_target(text(target))` without decoding or copying the query string (common.py's
/// `split_target_bytes`).
///
/// A token in the query makes a target 1.5 KB long; the path before `?` is all that is kept.
/// Decoding the part before an ASCII `?` gives the same text as cutting the decoded whole (a `?`
/// byte is never inside a UTF-8 sequence, and an invalid one cut short by it is replaced as it
/// would be at the end), and `urlsplit` reads scheme, host and path from before the first `?`
/// alone, so both are exact. Only the `://` test looks past the `?`: at the first 12 characters.
pub fn split_target_bytes(target: &[u8]) -> (Option<String>, Option<String>) {
    let (host, path) = split_target_text(target);
    (host, path.map(Cow::into_owned))
}

/// `split_target_bytes`, with the path borrowed from `target` where it is its bytes (a target
/// that is no URL, valid UTF-8).
pub fn split_target_text(target: &[u8]) -> (Option<String>, Text<'_>) {
    if target.is_empty() || target == b"-" || target == b"\"\"" {
        return (None, None);
    }
    let q = memchr::memchr(b'?', target).unwrap_or(target.len());
    let head = lossy(&target[..q]);
    let first12 = &target[..target.len().min(12)];
    let window = if first12.is_ascii() {
        // ASCII bytes are characters: the first 12 characters are the first 12 bytes.
        memchr::memmem::find(first12, b"://").is_some()
    } else {
        // Twelve characters are at most 48 bytes (a character or a replaced invalid sequence
        // takes up to 4): decoding 64 leaves them as they are in the whole.
        url_window(&String::from_utf8_lossy(&target[..target.len().min(64)]))
    };
    if !window {
        return (None, Some(head).filter(|h| !h.is_empty()));
    }
    let (host, path) = split_head(&head, window);
    (host, owned(path))
}

/// Python's `"://" in target[:12]`: the target is read as a URL.
fn url_window(target: &str) -> bool {
    let end = target
        .char_indices()
        .nth(12)
        .map_or(target.len(), |(i, _)| i);
    target[..end].contains("://")
}

/// `split_target` of the part before the first `?`; `url`: whether the whole is read as a URL.
fn split_head(head: &str, url: bool) -> (Option<String>, Option<String>) {
    if url {
        return match urlsplit_host_path(head) {
            Some((host, path)) => (host, Some(if path.is_empty() { "/".into() } else { path })),
            None => (None, Some(head.to_string())),
        };
    }
    (None, (!head.is_empty()).then(|| head.to_string()))
}

/// `urlsplit(url)`'s (`hostname`, `path`) for a URL without `?`, or None where it raises ValueError.
fn urlsplit_host_path(url: &str) -> Option<(Option<String>, String)> {
    // Leading C0 controls and spaces go, then every tab, CR and LF.
    let url = url.trim_start_matches(|c: char| c <= ' ');
    let owned;
    let url = if url.contains(['\t', '\r', '\n']) {
        owned = url.replace(['\t', '\r', '\n'], "");
        owned.as_str()
    } else {
        url
    };
    let mut rest = url;
    if let Some(i) = url.find(':') {
        let scheme = &url[..i];
        if i > 0
            && url.as_bytes()[0].is_ascii_alphabetic()
            && scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
        {
            rest = &url[i + 1..];
        }
    }
    let mut netloc = "";
    if let Some(after) = rest.strip_prefix("//") {
        let end = after.find(['/', '?', '#']).unwrap_or(after.len());
        netloc = &after[..end];
        rest = &after[end..];
        match (netloc.find('['), netloc.contains(']')) {
            (Some(open), true) => {
                let bracketed = &netloc[open + 1..];
                let host = bracketed.split(']').next().unwrap_or("");
                if !bracketed_host_ok(host) {
                    return None;
                }
            }
            (None, false) => {}
            _ => return None, // "Invalid IPv6 URL"
        }
    }
    let path = rest.split('#').next().unwrap_or("");
    let path = path.split('?').next().unwrap_or("");
    if !netloc.is_ascii() && netloc.chars().any(nfkc_has_delimiter) {
        return None; // "netloc contains invalid characters under NFKC normalization"
    }
    Some((hostname(netloc), path.to_string()))
}

/// Characters whose NFKC form holds one of `/?#@:` (`urllib.parse._checknetloc`): ⁇ ⁈ ⁉ ℀ ℁ ℅ ℆
/// ⩴ and the small and full-width forms.
fn nfkc_has_delimiter(c: char) -> bool {
    matches!(
        c as u32,
        0x2047
            ..=0x2049
                | 0x2100
                | 0x2101
                | 0x2105
                | 0x2106
                | 0x2A74
                | 0xFE13
                | 0xFE16
                | 0xFE55
                | 0xFE56
                | 0xFE5F
                | 0xFE6B
                | 0xFF03
                | 0xFF0F
                | 0xFF1A
                | 0xFF1F
                | 0xFF20
    )
}

/// `SplitResult.hostname`: after the last `@`, inside `[...]` or before `:`, lowercased up to a
/// `%` zone; None when empty.
fn hostname(netloc: &str) -> Option<String> {
    let hostinfo = netloc.rsplit('@').next().unwrap_or("");
    let host = match hostinfo.split_once('[') {
        Some((_, bracketed)) => bracketed.split(']').next().unwrap_or(""),
        None => hostinfo.split(':').next().unwrap_or(""),
    };
    if host.is_empty() {
        return None;
    }
    Some(match host.split_once('%') {
        Some((h, zone)) => format!("{}%{zone}", py_lower(h)),
        None => py_lower(host),
    })
}

/// `urllib.parse._check_bracketed_host`: an IPvFuture (`v1.x`) or an IPv6 address (not IPv4).
fn bracketed_host_ok(host: &str) -> bool {
    if let Some(rest) = host.strip_prefix('v') {
        // re.match(r"\Av[a-fA-F0-9]+\..+\Z"): `.` is any character but a newline.
        let hex = rest.bytes().take_while(u8::is_ascii_hexdigit).count();
        let tail = &rest[hex..];
        return hex > 0 && tail.len() > 1 && tail.starts_with('.') && !tail.contains('\n');
    }
    !is_ipv4(host) && is_ipv6(host)
}

/// `ipaddress.IPv4Address(s)` succeeds: four decimal octets 0-255 without leading zeros.
fn is_ipv4(s: &str) -> bool {
    let mut n = 0;
    for octet in s.split('.') {
        n += 1;
        let b = octet.as_bytes();
        if b.is_empty()
            || b.len() > 3
            || !b.iter().all(u8::is_ascii_digit)
            || (b.len() > 1 && b[0] == b'0')
            || octet.parse::<u32>().map_or(true, |v| v > 255)
        {
            return false;
        }
    }
    n == 4
}

/// `ipaddress.IPv6Address(s)` succeeds (with a `%scope` suffix and an IPv4 tail allowed).
fn is_ipv6(s: &str) -> bool {
    if s.contains('/') {
        return false;
    }
    let addr = match s.split_once('%') {
        Some((a, scope)) if !scope.is_empty() && !scope.contains('%') => a,
        Some(_) => return false,
        None => s,
    };
    if addr.is_empty() {
        return false;
    }
    let mut parts: Vec<&str> = addr.split(':').collect();
    if parts.len() < 3 {
        return false;
    }
    if parts.last().is_some_and(|p| p.contains('.')) {
        if !parts.last().is_some_and(|p| is_ipv4(p)) {
            return false;
        }
        parts.pop();
        // Two hextets stand for it (their text is valid hex by construction).
        parts.push("0");
        parts.push("0");
    }
    if parts.len() > 9 {
        return false;
    }
    let n = parts.len();
    let mut skip = None;
    for (i, p) in parts.iter().enumerate().take(n - 1).skip(1) {
        if p.is_empty() {
            if skip.is_some() {
                return false;
            }
            skip = Some(i);
        }
    }
    let (hi, lo) = if let Some(k) = skip {
        let (mut hi, mut lo) = (k, n - k - 1);
        if parts[0].is_empty() {
            hi -= 1;
            if hi > 0 {
                return false;
            }
        }
        if parts[n - 1].is_empty() {
            lo -= 1;
            if lo > 0 {
                return false;
            }
        }
        if hi + lo > 7 {
            return false;
        }
        (hi, lo)
    } else {
        if n != 8 || parts[0].is_empty() || parts[n - 1].is_empty() {
            return false;
        }
        (n, 0)
    };
    let hextet =
        |p: &str| !p.is_empty() && p.len() <= 4 && p.bytes().all(|b| b.is_ascii_hexdigit());
    parts[..hi].iter().all(|p| hextet(p)) && parts[n - lo..].iter().all(|p| hextet(p))
}

/// A Host value without its port, lowercased (`[::1]:443` keeps its brackets off too).
pub fn strip_port(host: Option<&str>) -> Option<String> {
    host.and_then(host_part).map(py_lower)
}

/// The part of a Host value `strip_port` keeps, before it is lowercased; None when empty
/// (lowercasing leaves a text empty only if it was).
fn host_part(host: &str) -> Option<&str> {
    if host.is_empty() {
        return None;
    }
    if let Some(rest) = host.strip_prefix('[') {
        let inner = rest.split(']').next().unwrap_or("");
        return (!inner.is_empty()).then_some(inner);
    }
    let h = if host.matches(':').count() == 1 {
        host.rsplit_once(':').map(|(a, _)| a).unwrap_or(host)
    } else {
        host
    };
    let h = h.trim_end_matches('.');
    (!h.is_empty()).then_some(h)
}

/// `py_lower`, borrowed where it changes nothing (ASCII without capitals: most host names).
fn lower_text(s: &str) -> Cow<'_, str> {
    if s.bytes().all(|b| b.is_ascii() && !b.is_ascii_uppercase()) {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(py_lower(s))
    }
}

/// `strip_port` of a text, borrowed from it where it can be.
pub fn strip_port_text(host: Text<'_>) -> Text<'_> {
    match host? {
        Cow::Borrowed(h) => host_part(h).map(lower_text),
        Cow::Owned(h) => strip_port(Some(&h)).map(Cow::Owned),
    }
}

/// `203.0.113.9:51234` -> `203.0.113.9`; IPv6 without brackets is left alone.
pub fn strip_client_port(addr: Option<&str>) -> Option<String> {
    addr.and_then(client_part).map(str::to_string)
}

/// The part of an address `strip_client_port` keeps.
fn client_part(addr: &str) -> Option<&str> {
    if addr.is_empty() {
        return None;
    }
    if let Some(rest) = addr.strip_prefix('[') {
        return Some(rest.split(']').next().unwrap_or(""));
    }
    if addr.matches(':').count() == 1 {
        return Some(addr.split(':').next().unwrap_or(""));
    }
    Some(addr)
}

/// `strip_client_port` of a text, borrowed from it where it can be.
pub fn strip_client_port_text(addr: Text<'_>) -> Text<'_> {
    match addr? {
        Cow::Borrowed(a) => client_part(a).map(Cow::Borrowed),
        Cow::Owned(a) => strip_client_port(Some(&a)).map(Cow::Owned),
    }
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

/// The value of a Unicode decimal digit (general category Nd, Unicode 14 as in CPython 3.11).
pub fn decimal_digit(c: char) -> Option<u32> {
    const ZEROS: [u32; 66] = [
        0x30, 0x660, 0x6F0, 0x7C0, 0x966, 0x9E6, 0xA66, 0xAE6, 0xB66, 0xBE6, 0xC66, 0xCE6, 0xD66,
        0xDE6, 0xE50, 0xED0, 0xF20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90,
        0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0,
        0xFF10, 0x104A0, 0x10D30, 0x11066, 0x110F0, 0x11136, 0x111D0, 0x112F0, 0x11450, 0x114D0,
        0x11650, 0x116C0, 0x11730, 0x118E0, 0x11950, 0x11C50, 0x11D50, 0x11DA0, 0x16A60, 0x16AC0,
        0x16B50, 0x1D7CE, 0x1D7D8, 0x1D7E2, 0x1D7EC, 0x1D7F6, 0x1E140, 0x1E2F0, 0x1E950, 0x1FBF0,
    ];
    let cp = c as u32;
    let k = ZEROS.partition_point(|&z| z <= cp);
    let zero = *ZEROS.get(k.checked_sub(1)?)?;
    (cp - zero < 10).then_some(cp - zero)
}

#[cfg(test)]
mod tests;
