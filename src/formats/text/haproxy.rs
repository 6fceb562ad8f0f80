//! HAProxy's HTTP log (usually behind a syslog header).

use memchr::{memchr, memrchr};

use super::super::common::{lossy, status, strip_port_text, text, FileContext, LineFields, Text};
use super::shared::{
    byte_at, digits, fixed_digits, is_hostname, is_ws, request_line, run_end, split_ws, word_end,
    words,
};
use crate::timeparse as T;

/// `HAPROXY.search`: the fixed start of `option httplog` and of most custom `log-format`s built
/// from it, `%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST `: (ip, time, status, match end).
type Haproxy<'a> = (&'a [u8], &'a [u8], &'a [u8], usize);

fn is_addr_byte(c: u8) -> bool {
    c.is_ascii_hexdigit() || c == b'.' || c == b':'
}

fn haproxy_search(line: &[u8]) -> Option<Haproxy<'_>> {
    // A match's `ip:port` is a whole run of address bytes (the regex's lookbehind) that ends at
    // the space of ` [`: each ` [` is one candidate, tried left to right.
    memchr::memchr_iter(b'[', line)
        .filter(|&b| b > 0 && line[b - 1] == b' ')
        .find_map(|b| haproxy_at(line, b - 1))
}

fn haproxy_at(line: &[u8], p: usize) -> Option<Haproxy<'_>> {
    let mut s = p;
    while s > 0 && is_addr_byte(line[s - 1]) {
        s -= 1;
    }
    let run = &line[s..p];
    let c = memrchr(b':', run)?;
    let port = &run[c + 1..];
    if c == 0 || port.is_empty() || port.len() > 5 || !digits(port) {
        return None;
    }
    let ip = &run[..c];
    // `\[(?P<ts>\d{2}/[A-Za-z]{3}/\d{4}:\d{2}:\d{2}:\d{2}(?:\.\d+)?(?: [+-]\d{4})?)\] `
    let t0 = p + 2;
    let mut i = byte_at(line, fixed_digits(line, t0, 2)?, b'/')?;
    if !line.get(i..i + 3)?.iter().all(u8::is_ascii_alphabetic) {
        return None;
    }
    i = byte_at(line, i + 3, b'/')?;
    i = byte_at(line, fixed_digits(line, i, 4)?, b':')?;
    i = byte_at(line, fixed_digits(line, i, 2)?, b':')?;
    i = byte_at(line, fixed_digits(line, i, 2)?, b':')?;
    i = fixed_digits(line, i, 2)?;
    if line.get(i) == Some(&b'.') {
        let f = run_end(line, i + 1, |c| c.is_ascii_digit());
        if f > i + 1 {
            i = f;
        }
    }
    if line.get(i) == Some(&b' ') && matches!(line.get(i + 1), Some(b'+' | b'-')) {
        if let Some(z) = fixed_digits(line, i + 2, 4) {
            i = z;
        }
    }
    let ts = &line[t0..i];
    i = byte_at(line, byte_at(line, i, b']')?, b' ')?;
    // `\S+ \S+/\S+ `
    let w = word_end(line, i);
    i = byte_at(line, w, b' ').filter(|_| w > i)?;
    let w = word_end(line, i);
    let word = &line[i..w];
    if word.len() < 3 || memchr(b'/', &word[1..word.len() - 1]).is_none() {
        return None;
    }
    i = byte_at(line, w, b' ')?;
    // `(?:[-+\d]+(?:/[-+\d]+){1,5} )?(?P<status>-?\d{1,3}) `
    let timer = |c: u8| c.is_ascii_digit() || c == b'-' || c == b'+';
    let t = run_end(line, i, |c| timer(c) || c == b'/');
    let timers = &line[i..t];
    let parts = timers.split(|c| *c == b'/').count();
    if line.get(t) == Some(&b' ')
        && (2..=6).contains(&parts)
        && timers.split(|c| *c == b'/').all(|x| !x.is_empty())
    {
        if let Some(got) = haproxy_status(line, t + 1) {
            return Some((ip, ts, got.0, got.1));
        }
    }
    let (code, end) = haproxy_status(line, i)?;
    Some((ip, ts, code, end))
}

/// `(?P<status>-?\d{1,3}) ` at `i`: (status, after the space).
fn haproxy_status(line: &[u8], i: usize) -> Option<(&[u8], usize)> {
    let d0 = if line.get(i) == Some(&b'-') { i + 1 } else { i };
    let d1 = run_end(line, d0, |c| c.is_ascii_digit());
    if !(1..=3).contains(&(d1 - d0)) {
        return None;
    }
    Some((&line[i..d1], byte_at(line, d1, b' ')?))
}

pub fn looks_like_haproxy(line: &[u8]) -> bool {
    haproxy_search(line).is_some()
}

/// `_HAPROXY_REQUEST.search`: `"([A-Za-z]{3,12} [^"]*)"`: (match start, group, match end).
fn haproxy_request(rest: &[u8]) -> Option<(usize, &[u8], usize)> {
    for q in memchr::memchr_iter(b'"', rest) {
        let e = run_end(rest, q + 1, |c| c.is_ascii_alphabetic());
        if !(3..=12).contains(&(e - q - 1)) || rest.get(e) != Some(&b' ') {
            continue;
        }
        // The closing quote: if there is none after this one, there is none after a later one.
        let close = e + 1 + memchr(b'"', &rest[e + 1..])?;
        return Some((q, &rest[q + 1..close], close + 1));
    }
    None
}

/// `_HAPROXY_BARE_REQUEST.search`: `(?<!\S)([A-Z]{3,12} (?:/|https?://)\S*(?: HTTP/[\d.]+)?)(?!\S)`.
fn haproxy_bare_request(rest: &[u8]) -> Option<(usize, &[u8], usize)> {
    let starts = std::iter::once(0).chain(
        rest.iter()
            .enumerate()
            .filter(|(_, c)| is_ws(**c))
            .map(|(i, _)| i + 1),
    );
    for s in starts {
        let e = run_end(rest, s, |c| c.is_ascii_uppercase());
        if !(3..=12).contains(&(e - s)) || rest.get(e) != Some(&b' ') {
            continue;
        }
        let t = &rest[e + 1..];
        if !(t.starts_with(b"/") || t.starts_with(b"http://") || t.starts_with(b"https://")) {
            continue;
        }
        let mut end = word_end(rest, e + 1);
        if let Some(v) = rest[end..].strip_prefix(b" HTTP/") {
            let n = run_end(v, 0, |c| c.is_ascii_digit() || c == b'.');
            if n > 0 && v.get(n).is_none_or(|c| is_ws(*c)) {
                end += 6 + n;
            }
        }
        return Some((s, &rest[s..end], end));
    }
    None
}

/// HAProxy's `option httplog` or a custom format that starts like it; the host is the request
/// URL's, else a captured header's `{host|...}`, else a bare or quoted host name logged after the
/// request (`%[capture.req.hdr(0)]`, `%[req.hdr(host)]`).
pub fn parse_haproxy<'a>(line: &'a [u8], ctx: &FileContext) -> Option<LineFields<'a>> {
    let (ip, ts, code, end) = haproxy_search(line)?;
    let rest = &line[end..];
    // `%{+Q}r`, else `%HM %HU %HV` unquoted.
    let r = haproxy_request(rest).or_else(|| haproxy_bare_request(rest));
    let (method, thost, path) = request_line(r.map(|r| r.1));
    let mut host: Text<'_> = thost;
    if host.is_none() {
        // Captured headers `{host|...}`, or a host logged bare (`%[capture.req.hdr(0)]`), before
        // the request; the fields there are otherwise counters, flags and cookies, never host names.
        let before = &rest[..r.map_or(rest.len(), |r| r.0)];
        let mut i = 0;
        while let Some(o) = memchr(b'{', &before[i..]) {
            let Some(c) = memchr(b'}', &before[i + o + 1..]) else {
                break;
            };
            let block = &before[i + o + 1..i + o + 1 + c];
            host = block
                .split(|c| *c == b'|')
                .find(|v| is_hostname(v))
                .map(lossy);
            if host.is_some() {
                break;
            }
            i += o + 1 + c + 1;
        }
        if host.is_none() && memchr(b'{', before).is_none() {
            host = split_ws(before).find(|v| is_hostname(v)).map(lossy);
        }
    }
    if let (None, Some(r)) = (&host, r) {
        host = words(&rest[r.2..])
            .into_iter()
            .find(|w| is_hostname(w.0))
            .map(|w| lossy(w.0));
    }
    Some(LineFields {
        ts: T::parse_clf(ts, &ctx.tz),
        host: strip_port_text(host),
        method,
        path,
        status: status(code),
        client_ip: text(ip),
        user_agent: None,
        query_span: None,
    })
}
