//! AWS Application (and Classic) Load Balancer access logs.

use memchr::{memchr, memrchr};

use super::super::common::{
    status, strip_client_port_text, strip_port_text, text, FileContext, LineFields,
};
use super::shared::{
    byte_at, dot_star_to_end, escaped_end, fixed_digits, or_else, quote_split, quoted,
    request_line, run_end, split_ws, word_end,
};
use crate::timeparse as T;

/// `\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z` at `i`: where it ends.
fn alb_time(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i;
    for (n, sep) in [(4, b'-'), (2, b'-'), (2, b'T'), (2, b':'), (2, b':')] {
        j = byte_at(b, fixed_digits(b, j, n)?, sep)?;
    }
    j = fixed_digits(b, j, 2)?;
    if b.get(j) == Some(&b'.') {
        let f = run_end(b, j + 1, |c| c.is_ascii_digit());
        if f > j + 1 {
            j = f;
        }
    }
    byte_at(b, j, b'Z')
}

/// `ALB.match`: (time, client, status, request, user agent, rest).
type Alb<'a> = (&'a [u8], &'a [u8], &'a [u8], &'a [u8], &'a [u8], &'a [u8]);

fn split_alb(line: &[u8]) -> Option<Alb<'_>> {
    // `^(?:(?:https?|h2|grpcs?|wss?) )?`
    let w = run_end(line, 0, |c| c.is_ascii_alphanumeric());
    let i = match (&line[..w], line.get(w)) {
        (b"http" | b"https" | b"h2" | b"grpc" | b"grpcs" | b"ws" | b"wss", Some(b' ')) => w + 1,
        _ => 0,
    };
    let t1 = alb_time(line, i)?;
    let ts = &line[i..t1];
    let mut i = byte_at(line, t1, b' ')?;
    // `\S+ (?P<client>\S+) \S+ \S+ \S+ \S+ `
    let mut fields = [&b""[..]; 6];
    for f in fields.iter_mut() {
        let e = word_end(line, i);
        *f = &line[i..e];
        i = byte_at(line, e, b' ').filter(|_| e > i)?;
    }
    // `(?P<status>\d{3}|-) (?:\d{3}|-) \d+ \d+ "`
    let mut code = &b""[..];
    for k in 0..2 {
        let e = fixed_digits(line, i, 3)
            .filter(|&e| line.get(e) == Some(&b' '))
            .or_else(|| byte_at(line, i, b'-'))?;
        if k == 0 {
            code = &line[i..e];
        }
        i = byte_at(line, e, b' ')?;
    }
    for _ in 0..2 {
        let e = run_end(line, i, |c| c.is_ascii_digit());
        i = byte_at(line, e, b' ').filter(|_| e > i)?;
    }
    let r0 = byte_at(line, i, b'"')?;
    // `"(?P<req>[^"]*)" "(?P<ua>[^"\\]*(?:\\.[^"\\]*)*)"(?P<rest>.*)$`
    let r1 = r0 + memchr(b'"', &line[r0..])?;
    let u0 = byte_at(line, byte_at(line, r1 + 1, b' ')?, b'"')?;
    let u1 = escaped_end(line, u0)?;
    let rest = dot_star_to_end(&line[u1 + 1..])?;
    Some((ts, fields[1], code, &line[r0..r1], &line[u0..u1], rest))
}

pub fn looks_like_alb(line: &[u8]) -> bool {
    split_alb(line).is_some()
}

/// `_ALB_CREATED.search`: the first ` <ALB time> ` in `rest`.
fn alb_created(rest: &[u8]) -> Option<&[u8]> {
    memchr::memchr_iter(b' ', rest).find_map(|sp| {
        let e = alb_time(rest, sp + 1)?;
        (rest.get(e) == Some(&b' ')).then(|| &rest[sp + 1..e])
    })
}

/// An ALB access log entry; the host comes from the request URL, else `domain_name`.
pub fn parse_alb<'a>(line: &'a [u8], ctx: &FileContext) -> Option<LineFields<'a>> {
    let (ts, client, code, req, ua, rest) = split_alb(line)?;
    let (method, thost, path) = request_line(Some(req));
    let escaped = memchr(b'\\', rest).is_some();
    let pieces: Vec<&[u8]> = if escaped {
        Vec::new()
    } else {
        quote_split(rest).collect()
    };
    let quoted_fields: Vec<&[u8]> = if escaped {
        quoted(rest)
    } else {
        pieces.iter().skip(1).step_by(2).copied().collect()
    };
    let domain = quoted_fields.get(1).and_then(|d| text(d));
    // `time` is when the response was sent (for a WebSocket: when it closed); the request is
    // judged at `request_creation_time`, the first time after the user agent. Classic ELB has only
    // `time`, when its request arrived. The usual line has it second in the bare run after
    // `"chosen_cert_arn"`.
    let created = pieces
        .get(6)
        .and_then(|p| split_ws(p).nth(1))
        .filter(|t| alb_time(t, 0) == Some(t.len()))
        .or_else(|| alb_created(rest));
    // `client:port` always has the port, also for IPv6, which ALB writes without brackets.
    let ip = if memchr(b':', client).is_some() && !client.starts_with(b"[") {
        &client[..memrchr(b':', client).unwrap_or(client.len())]
    } else {
        client
    };
    Some(LineFields {
        ts: T::parse_iso(created.unwrap_or(ts), &ctx.tz),
        host: strip_port_text(or_else(thost, || domain)),
        method,
        path,
        status: status(code),
        client_ip: strip_client_port_text(text(ip)),
        user_agent: text(ua),
        query_span: None,
    })
}
