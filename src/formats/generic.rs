//! Any other line: the `Probe` (a line with its tokens cut short) and the generic best effort
//! (the port of `parse_generic` and `Probe` in `formats/__init__.py`).

use std::borrow::Cow;
use std::sync::LazyLock;

use memchr::memmem;
use regex::bytes::Regex;

use super::common::{
    owned, py_upper, split_target, split_target_bytes, status, status_text, strip_client_port,
    strip_port, FileContext, LineFields,
};
use super::jsonlog::{self, HOST_KEYS, IP_KEYS, METHOD_KEYS, PATH_KEYS, STATUS_KEYS, UA_KEYS};
use crate::timeparse;

/// A line with each token cut down to one `x`, and the way back to the line's own offsets.
///
/// The formats' detection tests and the generic parser's searches (a timestamp, a request line,
/// key=value pairs anywhere in the line) run on it: none of them can match inside a token, and a
/// token is 1.2 KB to walk. What they capture is read from the line.
pub struct Probe<'a> {
    pub line: &'a [u8],
    pub text: Cow<'a, [u8]>,
    /// Where each `x` stands in `text`.
    marks: Vec<usize>,
    /// Bytes cut up to and including that token.
    shift: Vec<usize>,
}

impl<'a> Probe<'a> {
    pub fn new(line: &'a [u8]) -> Probe<'a> {
        Probe::with_tokens(line, None)
    }

    /// A probe of a line whose tokens the caller has found already: `tokens` are the spans
    /// `scan::find_tokens(line, 1, false)` gives (the plain grammar's, in order). Spans that are
    /// out of order or out of bounds are not trusted: the line is scanned then.
    pub fn with_tokens(line: &'a [u8], tokens: Option<&[(usize, usize)]>) -> Probe<'a> {
        let mut p = Probe {
            line,
            text: Cow::Borrowed(line),
            marks: Vec::new(),
            shift: Vec::new(),
        };
        let valid = |t: &[(usize, usize)]| {
            let mut prev = 0;
            t.iter().all(|&(a, b)| {
                let ok = prev <= a && a < b && b <= line.len();
                prev = b;
                ok
            })
        };
        let found;
        let spans: &[(usize, usize)] = match tokens {
            Some(t) if valid(t) => t,
            _ => {
                static EYJ: LazyLock<memmem::Finder<'static>> =
                    LazyLock::new(|| memmem::Finder::new(b"eyJ"));
                if EYJ.find(line).is_none() {
                    return p;
                }
                found = crate::scan::find_tokens(line, 1, false)
                    .iter()
                    .map(|h| (h.start, h.end))
                    .collect::<Vec<_>>();
                &found
            }
        };
        if spans.is_empty() {
            return p;
        }
        let mut text = Vec::with_capacity(line.len());
        let (mut prev, mut cut) = (0, 0);
        for &(start, end) in spans {
            text.extend_from_slice(&line[prev..start]);
            p.marks.push(start - cut);
            cut += end - start - 1;
            p.shift.push(cut);
            text.push(b'x');
            prev = end;
        }
        text.extend_from_slice(&line[prev..]);
        p.text = Cow::Owned(text);
        p
    }

    /// The line's offset for an offset of `text` (one past a token's `x` is one past the token).
    pub fn at(&self, offset: usize) -> usize {
        let k = self.marks.partition_point(|&m| m < offset);
        offset + if k > 0 { self.shift[k - 1] } else { 0 }
    }

    /// What `text[start..end]` covers in the line.
    pub fn span(&self, start: usize, end: usize) -> &'a [u8] {
        let (a, b) = (self.at(start), self.at(end));
        self.line.get(a..b).unwrap_or_default()
    }
}

/// The key=value pairs of a line, first value of a key kept (lowercased key, value's bytes).
/// The key=value pairs of a line, first value of a key kept (key as written, value's bytes); keys
/// are ASCII and compared without case, as Python compared the lowercased ones.
struct Flat<'k, 'a> {
    pairs: Vec<(&'k [u8], &'a [u8])>,
}

impl<'a> Flat<'_, 'a> {
    /// `jsonlog.first`: the value of the first of these keys present (every value here is real:
    /// empty and `-` values were not kept).
    fn first(&self, keys: &[&str]) -> Option<&'a [u8]> {
        keys.iter().find_map(|k| {
            self.pairs
                .iter()
                .find(|(pk, _)| pk.eq_ignore_ascii_case(k.as_bytes()))
                .map(|(_, v)| *v)
        })
    }

    fn first_text(&self, keys: &[&str]) -> Option<String> {
        self.first(keys)
            .map(|v| String::from_utf8_lossy(v).into_owned())
    }
}

// --- the searches -------------------------------------------------------------------------------
fn rx(pattern: &str) -> Regex {
    Regex::new(pattern).expect("a valid pattern")
}

const METHOD_NAMES: [&[u8]; 7] = [
    b"GET", b"POST", b"PUT", b"PATCH", b"DELETE", b"HEAD", b"OPTIONS",
];

/// A byte of Python's bytes `\w`.
#[inline]
fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// A byte of Python's bytes `\s`.
#[inline]
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// Python's `\b` before a word byte at `i`.
#[inline]
fn word_starts(t: &[u8], i: usize) -> bool {
    i == 0 || t.get(i - 1).is_some_and(|&b| !is_word(b))
}

/// The end of the run of bytes from `i` that satisfy `keep`.
#[inline]
fn run(t: &[u8], mut i: usize, keep: impl Fn(u8) -> bool) -> usize {
    while t.get(i).is_some_and(|&b| keep(b)) {
        i += 1;
    }
    i
}

/// Spans (in the probe text) of a request line found anywhere.
struct Found {
    start: usize,
    method: (usize, usize),
    target: (usize, usize),
    code: Option<(usize, usize)>,
    end: usize,
}

/// `_REQUEST_ANY.search`: `"?\b(METHOD) (\S+) HTTP/[\d.]+"?(?:\s+(\d{3})\b)?`.
///
/// The target runs from a space to the ` HTTP/` that must follow it, so each ` HTTP/` stands for
/// at most one match, and the first that has a method before its target is the leftmost.
fn request_any(t: &[u8]) -> Option<Found> {
    static HTTP: LazyLock<memmem::Finder<'static>> =
        LazyLock::new(|| memmem::Finder::new(b" HTTP/"));
    for h in HTTP.find_iter(t) {
        let s = t[..h]
            .iter()
            .rposition(|&b| is_space(b))
            .map_or(0, |i| i + 1);
        if s == h || s == 0 || t[s - 1] != b' ' {
            continue;
        }
        let before = &t[..s - 1];
        let Some(m) = METHOD_NAMES.iter().find(|m| before.ends_with(m)) else {
            continue;
        };
        let p = before.len() - m.len();
        if !word_starts(t, p) {
            continue;
        }
        let v = h + 6;
        let mut e = run(t, v, |b| b.is_ascii_digit() || b == b'.');
        if e == v {
            continue;
        }
        if t.get(e) == Some(&b'"') {
            e += 1;
        }
        let w = run(t, e, is_space);
        let code = (w > e
            && t.get(w..w + 3)
                .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
            && t.get(w + 3).is_none_or(|&b| !is_word(b)))
        .then_some((w, w + 3));
        let start = if p > 0 && t[p - 1] == b'"' { p - 1 } else { p };
        return Some(Found {
            start,
            method: (p, s - 1),
            target: (s, h),
            end: code.map_or(e, |c| c.1),
            code,
        });
    }
    None
}

/// `_ORIGIN_BEFORE.search(text, pos, endpos)` on `window = text[pos:endpos]`:
/// `(https?://[^\s/"]+) "?$`, the origin urllib3's debug line names before the request.
fn origin_before(window: &[u8]) -> Option<&[u8]> {
    // `$` also matches before a final newline.
    let w = window.strip_suffix(b"\n").unwrap_or(window);
    let w = w.strip_suffix(b"\"").unwrap_or(w);
    let g_end = w.len().checked_sub(1).filter(|&i| w[i] == b' ')?;
    let run_start = w[..g_end]
        .iter()
        .rposition(|&b| is_space(b) || b == b'/' || b == b'"')
        .map_or(0, |i| i + 1);
    if run_start == g_end {
        return None;
    }
    let head = &w[..run_start];
    let scheme = [&b"http://"[..], b"https://"]
        .into_iter()
        .find(|s| head.ends_with(s))?;
    Some(&w[run_start - scheme.len()..g_end])
}

/// `_CALL.search`'s required part: `\b(METHOD)[ \t]+"?((?:https?://|/)[^\s"'<>]*)"?`; `end` is
/// where the optional status (`call_status`) is looked for.
fn call(t: &[u8]) -> Option<Found> {
    // A method is followed by a space or a tab: look at the blanks that follow a capital letter
    // (in order, they give the methods' starts in order).
    memchr::memchr2_iter(b' ', b'\t', t)
        .filter(|&s| s > 0 && t[s - 1].is_ascii_uppercase())
        .find_map(|s| {
            let m = METHOD_NAMES.iter().find(|m| t[..s].ends_with(m))?;
            let p = s - m.len();
            if word_starts(t, p) {
                call_at(t, p)
            } else {
                None
            }
        })
}

fn call_at(t: &[u8], p: usize) -> Option<Found> {
    let rest = &t[p..];
    let m = METHOD_NAMES.iter().find(|m| rest.starts_with(m))?;
    let me = p + m.len();
    let mut i = run(t, me, |b| b == b' ' || b == b'\t');
    if i == me {
        return None;
    }
    if t.get(i) == Some(&b'"') {
        i += 1;
    }
    let tail = &t[i..];
    let scheme = if tail.starts_with(b"http://") {
        7
    } else if tail.starts_with(b"https://") {
        8
    } else if tail.starts_with(b"/") {
        1
    } else {
        return None;
    };
    let te = run(t, i + scheme, |b| {
        !(is_space(b) || matches!(b, b'"' | b'\'' | b'<' | b'>'))
    });
    let end = if t.get(te) == Some(&b'"') { te + 1 } else { te };
    Some(Found {
        start: p,
        method: (p, me),
        target: (i, te),
        code: None,
        end,
    })
}

static IP_CELL: LazyLock<Regex> = LazyLock::new(|| {
    rx(r"(?-u)^(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]{0,4}){2,7})$")
});
const ADDR: &str = r"([0-9A-Fa-f.:]*[.:][0-9A-Fa-f.:]*|\[[0-9A-Fa-f:.]+\](?::\d+)?)";

#[derive(Clone, Copy, PartialEq)]
enum Field {
    Status,
    ClientIp,
}

// Where some well-known app servers write a status or the client, when nothing else gave them:
// (a cheap marker that must be in the line, the field, a regex whose group 1 is the value).
static EXTRAS: LazyLock<[(memmem::Finder<'static>, Field, Regex); 4]> = LazyLock::new(|| {
    let f = |needle: &'static [u8]| memmem::Finder::new(needle);
    [
        // uWSGI: `(HTTP/1.1 200)`
        (
            f(b"(HTTP/"),
            Field::Status,
            rx(r"(?-u)\(HTTP/[\d.]+ (\d{3})\)"),
        ),
        // Apache's error log
        (
            f(b"[client "),
            Field::ClientIp,
            rx(&format!(r"(?-u)\[client {ADDR}\]")),
        ),
        // uWSGI
        (
            f(b" vars in "),
            Field::ClientIp,
            rx(&format!(r"(?-u)\] {ADDR} \([^)]*\) \{{\d+ vars")),
        ),
        // Rails
        (
            f(b" for "),
            Field::ClientIp,
            rx(&format!(r#"(?-u)^Started [A-Z]+ "[^"]*" for {ADDR} at "#)),
        ),
    ]
});
/// `_KV.finditer`: `(?:^|[\s,;])([A-Za-z_@][\w.@-]{0,40})=("[^"\\]*(?:\\.[^"\\]*)*"|[^\s,;"]*)`,
/// each match as (key span, value span, match end).
///
/// A key is the run of `[\w.@-]` right before an `=` (the class holds neither `=` nor the
/// separators), so each `=` stands for at most one match, and they come in the `=`s' order.
fn key_values(t: &[u8]) -> Vec<((usize, usize), (usize, usize))> {
    let key_byte = |b: u8| is_word(b) || matches!(b, b'.' | b'@' | b'-');
    let mut out = Vec::new();
    let mut done = 0; // where the last match ended
    for q in memchr::memchr_iter(b'=', t) {
        let ks = t[..q]
            .iter()
            .rposition(|&b| !key_byte(b))
            .map_or(0, |i| i + 1);
        let start = if ks == 0 {
            0
        } else if matches!(t[ks - 1], b',' | b';') || is_space(t[ks - 1]) {
            ks - 1
        } else {
            continue;
        };
        if start < done
            || q == ks
            || q - ks > 41
            || !(t[ks].is_ascii_alphabetic() || matches!(t[ks], b'_' | b'@'))
        {
            continue;
        }
        let v = q + 1;
        let end = quoted_end(t, v)
            .unwrap_or_else(|| run(t, v, |b| !(is_space(b) || matches!(b, b',' | b';' | b'"'))));
        out.push(((ks, q), (v, end)));
        done = end;
    }
    out
}

/// The end of `"[^"\\]*(?:\\.[^"\\]*)*"` at `i` (`.` is any byte but a newline).
fn quoted_end(t: &[u8], i: usize) -> Option<usize> {
    if t.get(i) != Some(&b'"') {
        return None;
    }
    let mut j = i + 1;
    loop {
        j += memchr::memchr2(b'"', b'\\', t.get(j..)?)?;
        if t[j] == b'"' {
            return Some(j + 1);
        }
        if t.get(j + 1).is_none_or(|&b| b == b'\n') {
            return None;
        }
        j += 2;
    }
}

/// `_CALL`'s optional tail from `pos` (after the target and its quote): `[ \t]*(?:->|=>|→|returned|
/// responded(?: with)?|status(?:=|: ?)|-)?[ \t]*(\d{3})(?![\w.])`, the three digits' start.
fn call_status(t: &[u8], pos: usize) -> Option<usize> {
    const ARROWS: [&[u8]; 10] = [
        b"->",
        b"=>",
        b"\xe2\x86\x92",
        b"returned",
        b"responded with",
        b"responded",
        b"status=",
        b"status: ",
        b"status:",
        b"-",
    ];
    let blank = |mut i: usize| {
        while t.get(i).is_some_and(|&b| b == b' ' || b == b'\t') {
            i += 1;
        }
        i
    };
    let digits = |i: usize| {
        let d = t.get(i..i + 3)?;
        let next_ok = t
            .get(i + 3)
            .is_none_or(|&b| !(b.is_ascii_alphanumeric() || b == b'_' || b == b'.'));
        (d.iter().all(u8::is_ascii_digit) && next_ok).then_some(i)
    };
    let q = blank(pos);
    let rest = t.get(q..).unwrap_or_default();
    ARROWS
        .iter()
        .filter(|a| rest.starts_with(a))
        .find_map(|a| digits(blank(q + a.len())))
        .or_else(|| digits(q))
}

/// Whether `t` holds `mid` with `after` right after it and, unless `before` is 0, `before` right
/// before it (`b" | " in t`, `b'{"' in line`: two or three bytes, not worth a searcher's set-up).
fn has_pair(t: &[u8], mid: u8, before: u8, after: u8) -> bool {
    memchr::memchr_iter(mid, t)
        .any(|i| t.get(i + 1) == Some(&after) && (before == 0 || i > 0 && t[i - 1] == before))
}

/// `split_target(b.decode("utf-8", "replace"))`: `split_target_bytes`, which decodes only what
/// comes before the `?`, reads the placeholders `-` and `""` as no value; `split_target` does not.
fn split_target_raw(b: &[u8]) -> (Option<String>, Option<String>) {
    match b {
        b"-" => split_target("-"),
        b"\"\"" => split_target("\"\""),
        _ => split_target_bytes(b),
    }
}

/// `bytes.strip()`: the six ASCII whitespace bytes off both ends.
fn strip(b: &[u8]) -> &[u8] {
    let ws = |c: &u8| matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c);
    let start = b.iter().position(|c| !ws(c)).unwrap_or(b.len());
    let end = b.iter().rposition(|c| !ws(c)).map_or(start, |e| e + 1);
    &b[start..end]
}

/// `status()` of a value that is 0 when its digits are `000` (Python's `status(a) or status(b)`
/// takes the second then).
fn truthy(code: Option<i32>) -> Option<i32> {
    code.filter(|&c| c != 0)
}

/// Best effort: the first timestamp anywhere, a request line if there is one, and key=value pairs.
///
/// The searches run on the line's `Probe` (the caller's, when it has one); what they capture is
/// read from the line itself.
pub fn parse_generic<'a>(
    line: &'a [u8],
    ctx: &FileContext,
    probe: Option<&Probe<'_>>,
) -> LineFields<'a> {
    let own;
    let probe = match probe {
        Some(p) => p,
        None => {
            own = Probe::new(line);
            &own
        }
    };
    let t: &[u8] = &probe.text;
    let ts = timeparse::search_any(t, ctx.year, &ctx.tz, ctx.mtime_us);
    if has_pair(line, b'{', 0, b'"') {
        if let Some(mut got) = jsonlog::parse_json_line(line, ctx, false) {
            if got.ts.is_none() {
                got.ts = ts;
            }
            return got;
        }
    }
    let mut method: Option<String> = None;
    // The target's bytes in the line (with any token in them): only what comes before its `?`
    // is decoded (`split_target_raw`).
    let mut target: Option<&[u8]> = None;
    let mut code: Option<&[u8]> = None;
    let mut origin: Option<String> = None;
    if let Some(m) = request_any(t) {
        method = Some(String::from_utf8_lossy(&t[m.method.0..m.method.1]).into_owned());
        let tgt = probe.span(m.target.0, m.target.1);
        code = m.code.map(|(a, b)| &t[a..b]);
        if tgt.starts_with(b"/") {
            if let Some(o) = origin_before(&t[m.start.saturating_sub(300)..m.start]) {
                origin = Some(String::from_utf8_lossy(o).into_owned());
            }
        }
        target = Some(tgt);
    } else if let Some(m) = call(t) {
        method = Some(String::from_utf8_lossy(&t[m.method.0..m.method.1]).into_owned());
        // A sentence's punctuation after the target is not part of it (cut from the bytes: these
        // are ASCII, and a cut never changes how the bytes before decode).
        let tgt = probe.span(m.target.0, m.target.1);
        let keep = tgt
            .iter()
            .rposition(|b| !matches!(b, b':' | b',' | b';' | b'.' | b')'))
            .map_or(0, |i| i + 1);
        target = Some(&tgt[..keep]);
        code = call_status(t, m.end).and_then(|i| t.get(i..i + 3));
    }
    let mut flat = Flat { pairs: Vec::new() };
    if memchr::memchr(b'=', line).is_some() {
        for (k, v) in key_values(t) {
            let mut v = probe.span(v.0, v.1);
            if v.first() == Some(&b'"') {
                v = v.get(1..v.len().saturating_sub(1)).unwrap_or_default();
            }
            if !v.is_empty() && v != b"-" {
                let key = &t[k.0..k.1];
                if !flat
                    .pairs
                    .iter()
                    .any(|(pk, _)| pk.eq_ignore_ascii_case(key))
                {
                    flat.pairs.push((key, v));
                }
            }
        }
    }
    if target.is_none() {
        target = flat.first(PATH_KEYS);
    }
    let (mut thost, path) = target.map_or((None, None), split_target_raw);
    if let Some(o) = origin {
        thost = split_target(&(o + "/")).0;
    }
    let host = flat.first_text(HOST_KEYS);
    if method.is_none() {
        method = flat.first_text(METHOD_KEYS);
    }
    let mut code_ =
        truthy(code.and_then(status)).or_else(|| flat.first(STATUS_KEYS).and_then(status_text));
    let mut ip = flat.first_text(IP_KEYS);
    if code_.is_none() || ip.is_none() {
        for (marker, field, rx) in EXTRAS.iter() {
            let missing = match field {
                Field::Status => code_.is_none(),
                Field::ClientIp => ip.is_none(),
            };
            if missing && marker.find(t).is_some() {
                if let Some(x) = rx.captures(t).and_then(|x| x.get(1)) {
                    match field {
                        Field::Status => code_ = status(x.as_bytes()),
                        Field::ClientIp => {
                            ip = Some(String::from_utf8_lossy(x.as_bytes()).into_owned())
                        }
                    }
                }
            }
        }
    }
    if (code_.is_none() || ip.is_none()) && has_pair(t, b'|', b' ', b' ') {
        // Go web frameworks' request lines (Gin, Fiber, Echo): `| 401 | 1.2ms | 203.0.113.9 | GET "/p"`.
        let cells = t.split(|&b| b == b'|').map(strip);
        if code_.is_none() {
            code_ = cells
                .clone()
                .find(|c| c.len() == 3 && c.iter().all(u8::is_ascii_digit))
                .and_then(status);
        }
        if ip.is_none() {
            ip = cells
                .into_iter()
                .find(|c| IP_CELL.is_match(c))
                .map(|c| String::from_utf8_lossy(c).into_owned());
        }
    }
    let client_ip = match ip {
        Some(ip) if ip.contains('.') || ip.starts_with('[') => strip_client_port(Some(&ip)),
        other => other,
    };
    LineFields {
        ts,
        host: owned(strip_port(thost.or(host).as_deref())),
        method: owned(method.filter(|m| !m.is_empty()).map(|m| py_upper(&m))),
        path: owned(path),
        status: code_,
        client_ip: owned(client_ip),
        user_agent: owned(flat.first_text(UA_KEYS)),
        query_span: None,
    }
}

#[cfg(test)]
mod tests;
