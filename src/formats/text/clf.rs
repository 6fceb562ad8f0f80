//! nginx / Apache combined and common, with appended fields (and ingress-nginx's).
//!
//! Python's `CLF`, read by hand:
//!
//! ```text
//! ^(?!\d{4}-\d{2}-\d{2}T)(?:(?P<vhost>[A-Za-z0-9._-]+(?::\d{1,5})?) )?(?P<ip>\S+(?:, ?[0-9A-Fa-f.:]+)*)
//! (?:- \[[^\]\s]*\] )?\S+ (?P<user>"[^"]*"|\S+)
//! \[(?P<ts>\d{1,2}/[A-Za-z]{3}/\d{4}[: ][^\]]{8,30}|\d{4}-\d{2}-\d{2}T[^\]]{8,30}|[A-Z][a-z]{2}, [^\]]{20,30})\]
//! "(?P<req>[^"\\]*(?:\\.[^"\\]*)*)" (?P<status>\d{3}|-) (?P<bytes>\S+)(?P<rest>.*)$
//! ```
//!
//! Its head (up to the request's opening quote) has four real choices, tried in the regex's order:
//! the vhost or not, where the (X-Forwarded-For) address list ends, the pre-0.20 ingress-nginx
//! `- [$the_real_ip] ` or not, and a quoted or bare user. Every other part is a run of one class
//! ended by a fixed byte: one way to match, or none. `clf_heads` walks the choices depth first, as
//! the regex engine backtracks, and hands each head to a continuation until one accepts it.

use memchr::{memchr, memchr2};

use super::super::common::{
    arrival, seconds_us, status, strip_port_text, text, FileContext, LineFields,
};
use super::shared::{
    byte_at, digits, dot_star_to_end, escaped_end, fixed_digits, has, is_hostname, is_ip_word,
    is_ws, or_else, outside_quotes, request_line, run_end, word_end, words_escaped,
};
use crate::timeparse as T;

/// A head of `CLF`: the vhost, the address list, the time, and where the request starts.
#[derive(Clone, Copy)]
struct Head<'a> {
    vhost: Option<&'a [u8]>,
    ip: &'a [u8],
    ts: &'a [u8],
    req: usize,
}

fn is_vhost_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-')
}

/// `(?!\d{4}-\d{2}-\d{2}T)` at the start of a line.
pub(super) fn starts_iso_date_t(line: &[u8]) -> bool {
    line.len() >= 11
        && digits(&line[..4])
        && line[4] == b'-'
        && digits(&line[5..7])
        && line[7] == b'-'
        && digits(&line[8..10])
        && line[10] == b'T'
}

/// Every head of `CLF` in the regex's order of preference, each given to `k` until it accepts one.
fn clf_heads<'a, T>(line: &'a [u8], k: &mut dyn FnMut(Head<'a>) -> Option<T>) -> Option<T> {
    if starts_iso_date_t(line) {
        return None;
    }
    // `(?:(?P<vhost>[A-Za-z0-9._-]+(?::\d{1,5})?) )?`: the run cannot stop early (its bytes are
    // neither `:` nor a space), nor can the port.
    let w = run_end(line, 0, is_vhost_byte);
    let vhost_end = match line.get(w) {
        _ if w == 0 => None,
        Some(b' ') => Some(w),
        Some(b':') => {
            let d = run_end(line, w + 1, |c| c.is_ascii_digit());
            ((1..=5).contains(&(d - w - 1)) && line.get(d) == Some(&b' ')).then_some(d)
        }
        _ => None,
    };
    let starts = vhost_end
        .map(|e| (Some(&line[..e]), e + 1))
        .into_iter()
        .chain(std::iter::once((None, 0)));
    for (vhost, p) in starts {
        for e in ip_ends(line, p) {
            let got = clf_after_ip(line, e + 1, &mut |ts, req| {
                k(Head {
                    vhost,
                    ip: &line[p..e],
                    ts,
                    req,
                })
            });
            if got.is_some() {
                return got;
            }
        }
    }
    None
}

fn is_hex_addr_byte(c: u8) -> bool {
    c.is_ascii_hexdigit() || c == b'.' || c == b':'
}

/// Where `(?P<ip>\S+(?:, ?[0-9A-Fa-f.:]+)*) ` can end (at the space), in the regex's order.
///
/// `\S+` gives back one byte at a time; only where it stops at a comma can the list go on, and
/// then only one way: each `, ?` is followed by a whole run of address bytes (a shorter one would
/// be followed by an address byte, neither a comma nor a space). The list that starts at a comma
/// inside the first word goes on as the one at the next comma does, so they are worked out right
/// to left, once each.
fn ip_ends(line: &[u8], p: usize) -> Vec<usize> {
    let w = word_end(line, p);
    let mut out = Vec::new();
    if w == p {
        return out;
    }
    if line.get(w) == Some(&b' ') {
        out.push(w);
    }
    let Some(first) = memchr(b',', &line[p + 1..w]) else {
        return out;
    };
    let mut next: Option<Option<usize>> = None; // the list's end from the comma to the right
    let mut stop = w; // the comma to the right, or the end of the word
    for q in (p + 1 + first..w).rev() {
        if line[q] != b',' {
            continue;
        }
        let end = if q + 1 == w {
            ip_list_across(line, q)
        } else if line[q + 1..stop].iter().all(|c| is_hex_addr_byte(*c)) {
            match next {
                Some(n) => n,
                None => (line.get(w) == Some(&b' ')).then_some(w),
            }
        } else {
            None
        };
        if let Some(e) = end {
            if !out.contains(&e) {
                out.push(e);
            }
        }
        next = Some(end);
        stop = q;
    }
    out
}

/// The end of `(?:, ?[0-9A-Fa-f.:]+)*` then a space, from a comma at the end of a word.
fn ip_list_across(line: &[u8], mut q: usize) -> Option<usize> {
    loop {
        let mut j = q + 1;
        if line.get(j) == Some(&b' ') {
            j += 1;
        }
        let r = run_end(line, j, is_hex_addr_byte);
        if r == j {
            return None;
        }
        match line.get(r) {
            Some(b',') => q = r,
            Some(b' ') => return Some(r),
            _ => return None,
        }
    }
}

/// The rest of the head after the address list's space at `i`:
/// `(?:- \[[^\]\s]*\] )?\S+ (?P<user>"[^"]*"|\S+) \[(?P<ts>...)\] "`; `k(ts, request start)`.
fn clf_after_ip<'a, T>(
    line: &'a [u8],
    i: usize,
    k: &mut dyn FnMut(&'a [u8], usize) -> Option<T>,
) -> Option<T> {
    let real_ip = line
        .get(i..)
        .filter(|t| t.starts_with(b"- ["))
        .and_then(|_| {
            let e = run_end(line, i + 3, |c| c != b']' && !is_ws(c));
            (line.get(e..e + 2) == Some(b"] ")).then_some(e + 2)
        });
    for j in real_ip.into_iter().chain(std::iter::once(i)) {
        // `\S+ `
        let w = word_end(line, j);
        let Some(u) = byte_at(line, w, b' ').filter(|_| w > j) else {
            continue;
        };
        // `"[^"]*" ` first, then `\S+ `.
        let quoted = (line.get(u) == Some(&b'"'))
            .then(|| memchr(b'"', &line[u + 1..]))
            .flatten()
            .and_then(|c| byte_at(line, u + 1 + c + 1, b' '));
        let bare = {
            let e = word_end(line, u);
            byte_at(line, e, b' ').filter(|_| e > u)
        };
        for t in quoted.into_iter().chain(bare) {
            if let Some((ts, req)) = clf_time(line, t) {
                if let Some(got) = k(ts, req) {
                    return Some(got);
                }
            }
        }
    }
    None
}

/// `\[(?P<ts>\d{1,2}/[A-Za-z]{3}/\d{4}[: ][^\]]{8,30}|\d{4}-\d{2}-\d{2}T[^\]]{8,30}|[A-Z][a-z]{2},
/// [^\]]{20,30})\] "` at `i`: (time, where the request starts).
fn clf_time(line: &[u8], i: usize) -> Option<(&[u8], usize)> {
    let s = byte_at(line, i, b'[')?;
    // `[^\]]{m,n}\] "` from `x`: the first `]` ends it.
    let close = |x: usize, m: usize, n: usize| -> Option<(&[u8], usize)> {
        let window = line.get(x..line.len().min(x + n + 1))?;
        let c = memchr(b']', window).filter(|c| (m..=n).contains(c))?;
        (line.get(x + c + 1..x + c + 3) == Some(b" \"")).then(|| (&line[s..x + c], x + c + 3))
    };
    let d = run_end(line, s, |c| c.is_ascii_digit());
    if (1..=2).contains(&(d - s)) && line.get(d) == Some(&b'/') {
        let m = d + 1;
        if line
            .get(m..m + 3)
            .is_some_and(|t| t.iter().all(u8::is_ascii_alphabetic))
        {
            if let Some(y) = byte_at(line, m + 3, b'/').and_then(|y| fixed_digits(line, y, 4)) {
                if matches!(line.get(y), Some(b':' | b' ')) {
                    if let Some(got) = close(y + 1, 8, 30) {
                        return Some(got);
                    }
                }
            }
        }
    }
    let iso = fixed_digits(line, s, 4)
        .and_then(|j| byte_at(line, j, b'-'))
        .and_then(|j| fixed_digits(line, j, 2))
        .and_then(|j| byte_at(line, j, b'-'))
        .and_then(|j| fixed_digits(line, j, 2))
        .and_then(|j| byte_at(line, j, b'T'));
    if let Some(x) = iso {
        if let Some(got) = close(x, 8, 30) {
            return Some(got);
        }
    }
    let t = line.get(s..s + 5)?;
    if t[0].is_ascii_uppercase()
        && t[1].is_ascii_lowercase()
        && t[2].is_ascii_lowercase()
        && &t[3..] == b", "
    {
        return close(s + 5, 20, 30);
    }
    None
}

/// What `CLF` matches: (vhost, ip, time, request, status, rest).
pub(super) struct Clf<'a> {
    pub(super) vhost: Option<&'a [u8]>,
    pub(super) ip: &'a [u8],
    pub(super) ts: &'a [u8],
    pub(super) req: &'a [u8],
    pub(super) code: &'a [u8],
    pub(super) rest: &'a [u8],
}

/// `" (?P<status>\d{3}|-) (?P<bytes>\S+)` at `end` (the request's closing quote): (status, where
/// the rest starts).
fn clf_tail(line: &[u8], end: usize) -> Option<(&[u8], usize)> {
    let i = byte_at(line, end + 1, b' ')?;
    let (code, i) = match fixed_digits(line, i, 3).and_then(|j| byte_at(line, j, b' ')) {
        Some(j) => (&line[i..i + 3], j),
        None => (
            &line[i..byte_at(line, i, b'-')?],
            byte_at(line, i + 1, b' ')?,
        ),
    };
    let e = word_end(line, i);
    (e > i).then_some((code, e))
}

/// `CLF.match(line)`.
pub(super) fn split_clf(line: &[u8]) -> Option<Clf<'_>> {
    let head = clf_heads(line, &mut Some)?;
    let start = head.req;
    // The request (maybe holding a token) is found with memchr and the appended fields sliced off:
    // the first head is `CLF`'s when the request has no backslash escapes and the tail follows.
    let end = memchr2(b'"', b'\\', &line[start..]).map(|e| start + e);
    if let Some(end) = end.filter(|&e| line[e] == b'"') {
        if let Some((code, r)) = clf_tail(line, end) {
            if let Some(rest) = dot_star_to_end(&line[r..]) {
                return Some(Clf {
                    vhost: head.vhost,
                    ip: head.ip,
                    ts: head.ts,
                    req: &line[start..end],
                    code,
                    rest,
                });
            }
        }
    }
    // Otherwise the regex would backtrack into the head's other choices.
    clf_heads(line, &mut |h: Head<'_>| {
        let end = escaped_end(line, h.req)?;
        let (code, r) = clf_tail(line, end)?;
        Some(Clf {
            vhost: h.vhost,
            ip: h.ip,
            ts: h.ts,
            req: &line[h.req..end],
            code,
            rest: dot_star_to_end(&line[r..])?,
        })
    })
}

/// nginx's combined/common line (Python's `CLF.match`).
pub fn looks_like_clf(line: &[u8]) -> bool {
    split_clf(line).is_some()
}

/// A CLF line that starts with a virtual host (Apache's `%v` / `vhost_combined`).
pub fn looks_like_apache_vhost(line: &[u8]) -> bool {
    split_clf(line).is_some_and(|m| m.vhost.is_some())
}

/// `INGRESS_REST.match(rest)`: ` "$http_referer" "$http_user_agent" $request_length
/// $request_time [$proxy_upstream_name]...`; gives `$request_time`.
fn ingress_rest(rest: &[u8]) -> Option<&[u8]> {
    let i = byte_at(rest, 0, b' ')?;
    let i = byte_at(rest, i, b'"')?;
    let i = i + memchr(b'"', rest.get(i..)?)? + 1;
    let i = byte_at(rest, i, b' ')?;
    let i = byte_at(rest, i, b'"')?;
    let i = escaped_end(rest, i)? + 1;
    let i = byte_at(rest, i, b' ')?;
    let j = run_end(rest, i, |c| c.is_ascii_digit());
    let i = byte_at(rest, j, b' ').filter(|_| j > i)?;
    let j = run_end(rest, i, |c| c.is_ascii_digit() || c == b'.');
    let rt = &rest[i..j];
    let k = byte_at(rest, j, b' ').filter(|_| j > i)?;
    let k = byte_at(rest, k, b'[')?;
    memchr(b']', rest.get(k..)?)?;
    Some(rt)
}

/// The ingress-nginx controller's default `upstreaminfo` format.
pub fn looks_like_ingress(line: &[u8]) -> bool {
    split_clf(line).is_some_and(|m| ingress_rest(m.rest).is_some())
}

/// `_REQUEST_TIME.search`: `(?<![\w-])(?:rt|request_time)="?(\d+(?:\.\d+)?)`.
fn request_time(bare: &[u8]) -> Option<&[u8]> {
    for at in memchr::memchr_iter(b'r', bare) {
        if at > 0 {
            let p = bare[at - 1];
            if p.is_ascii_alphanumeric() || p == b'_' || p == b'-' {
                continue;
            }
        }
        let tail = &bare[at..];
        let Some(v) = tail
            .strip_prefix(b"rt=")
            .or_else(|| tail.strip_prefix(b"request_time="))
        else {
            continue;
        };
        let v = v.strip_prefix(b"\"").unwrap_or(v);
        let d = run_end(v, 0, |c| c.is_ascii_digit());
        if d == 0 {
            continue;
        }
        let mut e = d;
        if v.get(d) == Some(&b'.') {
            let f = run_end(v, d + 1, |c| c.is_ascii_digit());
            if f > d + 1 {
                e = f;
            }
        }
        return Some(&v[..e]);
    }
    None
}

const HOST_PREFIX: [&[u8]; 4] = [b"host=", b"host:", b"Host: ", b"vhost="];

/// nginx/Apache combined or common; a hostname among appended fields becomes `host`.
pub fn parse_clf<'a>(line: &'a [u8], ctx: &FileContext) -> Option<LineFields<'a>> {
    let Clf {
        vhost,
        mut ip,
        ts,
        req,
        code,
        rest,
    } = split_clf(line)?;
    let mut host = vhost;
    let (method, thost, path) = request_line(Some(req));
    let escaped = memchr(b'\\', rest).is_some();
    let ws = words_escaped(rest, escaped);
    // Only quoted fields (`"$http_referer" "$http_user_agent" "..."`), the usual shape: no bare
    // `$request_time` or ingress-nginx fields to look for. (Without escapes, a bare word is a
    // non-blank text between quoted fields.)
    let only_quoted = !escaped && ws.iter().all(|w| w.1);
    let ua = if ws.len() >= 2 && ws[0].1 && ws[1].1 {
        text(ws[1].0)
    } else {
        None
    };
    if host.is_none() {
        // Appended `"$host"` / `%{Host}i` / `host=$host`: the first word shaped like a host name,
        // after the referer and user agent (a referer is a URL, never a bare name).
        let skip = if ua.is_some() { 2 } else { 0 };
        for &(value, _) in ws.iter().skip(skip) {
            let mut value = value;
            if value.is_empty() || matches!(value[0], b'h' | b'H' | b'v') {
                for prefix in HOST_PREFIX {
                    if let Some(v) = value.strip_prefix(prefix) {
                        value = v;
                    }
                }
            }
            if is_hostname(value) {
                host = Some(value);
                break;
            }
        }
    }
    if let Some(c) = memchr(b',', ip) {
        // `$http_x_forwarded_for` logged for `$remote_addr`: the client is the first.
        ip = &ip[..c];
    } else if host.is_none() && !ip.last().is_some_and(u8::is_ascii_digit) && is_hostname(ip) {
        // `$host $remote_addr $remote_user [...]`: a host name first, then the client's address.
        let from = ip.len() + 1;
        let to = memchr(b' ', line.get(from..).unwrap_or_default())
            .map_or(line.len().saturating_sub(1), |p| from + p);
        let after = line.get(from..to).unwrap_or_default();
        if is_ip_word(after) {
            host = Some(ip);
            ip = after;
        }
    }
    // `[$time_local]`; `[$time_iso8601]`; morgan's `[Thu, 26 Nov 2026 03:14:15 GMT]`; Werkzeug's
    // `[26/Nov/2026 03:14:15]`: when the entry was logged.
    let mut when = if ts.get(2) == Some(&b'/') || ts.get(1) == Some(&b'/') {
        T::parse_clf(ts, &ctx.tz)
    } else {
        T::parse_any(ts, &ctx.tz)
    };
    if !only_quoted {
        // The text outside quotes: short, where a token (in a quoted header) makes `rest` long.
        // With escaped quotes (`\x22` in a user agent) the quoted fields are told apart by
        // `words`: a `[` or `rt=` inside a quoted user agent must not be taken for ingress-nginx's
        // fields or a request time.
        let bare: Vec<u8> = if escaped {
            let parts: Vec<&[u8]> = ws.iter().filter(|w| !w.1).map(|w| w.0).collect();
            parts.join(&b' ')
        } else {
            outside_quotes(rest, &ws)
        };
        // ingress-nginx logs `$request_time`: a WebSocket's entry is written when it closes.
        let ing = if memchr(b'[', &bare).is_some() {
            ingress_rest(rest)
        } else {
            None
        };
        if let Some(rt) = ing {
            when = arrival(when, seconds_us(rt, 1e6));
        } else if has(&bare, b"rt=") || has(&bare, b"request_time=") {
            // nginx's documented `rt=$request_time` (also `request_time=`) among appended fields.
            if let Some(rt) = request_time(&bare) {
                when = arrival(when, seconds_us(rt, 1e6));
            }
        }
    }
    Some(LineFields {
        ts: when,
        host: strip_port_text(or_else(thost, || host.and_then(text))),
        method,
        path,
        status: status(code),
        client_ip: text(ip),
        user_agent: ua,
        query_span: None,
    })
}
