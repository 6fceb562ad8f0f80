//! Envoy's default access log (and Istio's, which adds fields).

use memchr::memchr;

use std::borrow::Cow;

use super::super::common::{
    lossy, status, strip_client_port_text, strip_port_text, text, FileContext, LineFields,
};
use super::shared::{
    byte_at, digits, dot_star_to_end, fixed_digits, is_address, or_else, quote_split, request_line,
    run_end, split_ws, word_end, words,
};
use crate::timeparse as T;

/// `ENVOY.match`: `^(?:[A-Z][A-Za-z_-]{0,19} )?\[(?P<ts>\d{4}-\d{2}-\d{2}[T ][^\]]+)\] "(?P<req>[^"]*)"
/// (?P<status>\d{1,3}) (?P<flags>\S+) (?P<rest>.*)$`; (time, request, status, rest).
type Envoy<'a> = (&'a [u8], &'a [u8], &'a [u8], &'a [u8]);

fn split_envoy(line: &[u8]) -> Option<Envoy<'_>> {
    // An optional word before the time: Emissary/Ambassador write `ACCESS [...]`.
    let mut i = 0;
    if line.first().is_some_and(u8::is_ascii_uppercase) {
        let e = run_end(line, 1, |c| {
            c.is_ascii_alphabetic() || c == b'_' || c == b'-'
        });
        if e - 1 > 19 {
            return None;
        }
        i = byte_at(line, e, b' ')?;
    }
    let t0 = byte_at(line, i, b'[')?;
    let mut j = t0;
    for (n, sep) in [(4, b'-'), (2, b'-')] {
        j = byte_at(line, fixed_digits(line, j, n)?, sep)?;
    }
    j = fixed_digits(line, j, 2)?;
    if !matches!(line.get(j), Some(b'T' | b' ')) {
        return None;
    }
    let close = j + 1 + memchr(b']', line.get(j + 1..)?)?;
    if close == j + 1 {
        return None;
    }
    let ts = &line[t0..close];
    let r0 = byte_at(line, byte_at(line, close + 1, b' ')?, b'"')?;
    let r1 = r0 + memchr(b'"', &line[r0..])?;
    let s0 = byte_at(line, r1 + 1, b' ')?;
    let s1 = run_end(line, s0, |c| c.is_ascii_digit());
    if !(1..=3).contains(&(s1 - s0)) {
        return None;
    }
    let f0 = byte_at(line, s1, b' ')?;
    let f1 = word_end(line, f0);
    let rest = byte_at(line, f1, b' ').filter(|_| f1 > f0)?;
    Some((
        ts,
        &line[r0..r1],
        &line[s0..s1],
        dot_star_to_end(&line[rest..])?,
    ))
}

/// Envoy's (or Istio's) text access log: `[START_TIME] "METHOD PATH PROTOCOL" CODE FLAGS ...`.
pub fn looks_like_envoy(line: &[u8]) -> bool {
    split_envoy(line).is_some()
}

/// A byte count, a duration in ms, or `-`: Envoy's `%BYTES_RECEIVED%` ... `%DURATION%` and the like.
fn counter(w: &[u8]) -> bool {
    w == b"-" || (!w.is_empty() && digits(w))
}

/// The UUID shape of Envoy's `%REQ(X-REQUEST-ID)%`.
fn is_uuid(v: &[u8]) -> bool {
    v.len() == 36
        && v.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

type EnvoyFields<'a> = (
    Option<&'a [u8]>,
    Option<&'a [u8]>,
    Option<&'a [u8]>,
    Option<&'a [u8]>,
);

/// (X-Forwarded-For, user agent, authority, downstream remote address) after the response flags.
///
/// Envoy's default format and Istio's both have four counters (bytes received, bytes sent,
/// duration, upstream service time) right before `"XFF" "UA" "REQUEST-ID" "AUTHORITY" "UPSTREAM"`;
/// Istio puts `DETAILS TERMINATION "FAILURE"` before them and appends `CLUSTER UPSTREAM_LOCAL
/// DOWNSTREAM_LOCAL DOWNSTREAM_REMOTE SNI ROUTE`. Without that shape, the request id (a UUID) is
/// the anchor, as users add quoted fields before or after.
fn envoy_fields(rest: &[u8]) -> EnvoyFields<'_> {
    if memchr(b'\\', rest).is_none() {
        let pieces: Vec<&[u8]> = quote_split(rest).collect();
        let n = pieces.len();
        let mut k = 0;
        while k + 10 < n && k < 7 {
            let ws: Vec<&[u8]> = split_ws(pieces[k]).collect();
            if ws.len() >= 4
                && ws[ws.len() - 4..].iter().all(|w| counter(w))
                && (k + 2..k + 10).step_by(2).all(|j| pieces[j] == b" ")
            {
                let remote = split_ws(pieces[k + 10]).nth(3);
                return (
                    Some(pieces[k + 1]),
                    Some(pieces[k + 3]),
                    Some(pieces[k + 7]),
                    remote,
                );
            }
            k += 2;
        }
    }
    let parts = words(rest);
    let at: Vec<usize> = (0..parts.len()).filter(|&i| parts[i].1).collect();
    let quoted: Vec<&[u8]> = at.iter().map(|&i| parts[i].0).collect();
    let rid = quoted
        .iter()
        .position(|v| is_uuid(v))
        .filter(|&r| r >= 2)
        .unwrap_or(2);
    // Istio's bare `CLUSTER UPSTREAM_LOCAL DOWNSTREAM_LOCAL DOWNSTREAM_REMOTE ...` after `"UPSTREAM"`.
    let remote = if quoted.len() > rid + 2 {
        parts[at[rid + 2] + 1..]
            .iter()
            .take_while(|w| !w.1)
            .nth(3)
            .map(|w| w.0)
    } else {
        None
    };
    (
        quoted.get(rid - 2).copied(),
        quoted.get(rid - 1).copied(),
        quoted.get(rid + 1).copied(),
        remote,
    )
}

/// Python's `str.strip()`: Unicode whitespace, which has four ASCII separators Rust's has not.
fn py_strip(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_whitespace() || ('\x1c'..='\x1f').contains(&c))
}

/// Envoy's default format: XFF, user agent, request id, authority, upstream, then anything added.
/// The client is Istio's `%DOWNSTREAM_REMOTE_ADDRESS%` where the line has it, else the first
/// address of X-Forwarded-For.
pub fn parse_envoy<'a>(line: &'a [u8], ctx: &FileContext) -> Option<LineFields<'a>> {
    let (ts, req, code, rest) = split_envoy(line)?;
    let (method, thost, path) = request_line(Some(req));
    let (xff, ua, authority, remote) = envoy_fields(rest);
    let client = remote
        .filter(|r| is_address(r))
        .and_then(|r| strip_client_port_text(Some(lossy(r))));
    let client = or_else(client, || {
        fn first(x: &str) -> &str {
            py_strip(x.split(',').next().unwrap_or_default())
        }
        xff.and_then(text).map(|x| match x {
            Cow::Borrowed(x) => Cow::Borrowed(first(x)),
            Cow::Owned(x) => Cow::Owned(first(&x).to_string()),
        })
    });
    Some(LineFields {
        ts: T::parse_iso(ts, &ctx.tz),
        host: strip_port_text(or_else(authority.and_then(text), || thost)),
        method,
        path,
        status: status(code),
        client_ip: client,
        user_agent: ua.and_then(text),
        query_span: None,
    })
}
