//! nginx's error log: a request's fields from the message's `client:`, `request:`, `host:`.

use memchr::{memchr, memmem};

use super::super::common::{strip_port_text, text, FileContext, LineFields};
use super::shared::{byte_at, escaped_end, fixed_digits, is_ws, or_else, request_line, run_end};
use crate::timeparse as T;

/// `NGINX_ERROR.match`: `^(?P<ts>\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}) \[[a-z]+\] \d+#\d+: `;
/// (time, where the message starts).
fn nginx_error_head(line: &[u8]) -> Option<(&[u8], usize)> {
    let mut i = 0;
    for (n, sep) in [
        (4, b'/'),
        (2, b'/'),
        (2, b' '),
        (2, b':'),
        (2, b':'),
        (2, b' '),
    ] {
        i = byte_at(line, fixed_digits(line, i, n)?, sep)?;
    }
    let ts = &line[..i - 1];
    let i = byte_at(line, i, b'[')?;
    let j = run_end(line, i, |c| c.is_ascii_lowercase());
    let i = byte_at(line, j, b']').filter(|_| j > i)?;
    let i = byte_at(line, i, b' ')?;
    let j = run_end(line, i, |c| c.is_ascii_digit());
    let i = byte_at(line, j, b'#').filter(|_| j > i)?;
    let j = run_end(line, i, |c| c.is_ascii_digit());
    let i = byte_at(line, j, b':').filter(|_| j > i)?;
    Some((ts, byte_at(line, i, b' ')?))
}

pub fn looks_like_nginx_error(line: &[u8]) -> bool {
    nginx_error_head(line).is_some()
}

/// An nginx error-log line: the client, request and Host that nginx appends to the message.
pub fn parse_nginx_error<'a>(line: &'a [u8], ctx: &FileContext) -> Option<LineFields<'a>> {
    let (ts, start) = nginx_error_head(line)?;
    const KEYS: [&[u8]; 5] = [b"client", b"server", b"request", b"host", b"referrer"];
    let mut kv: [Option<&[u8]>; 5] = [None; 5];
    if let Some(at) = memmem::find(&line[start..], b", client: ") {
        // `_NGINX_ERROR_KV.finditer`: `, (client|server|request|host|referrer): ("..."|[^,\s]*)`.
        let mut i = start + at;
        while let Some(p) = memchr(b',', line.get(i..).unwrap_or_default()) {
            i += p + 1;
            if line.get(i) != Some(&b' ') {
                continue;
            }
            let k0 = i + 1;
            let Some((slot, key)) = KEYS
                .iter()
                .enumerate()
                .find(|(_, k)| line[k0..].starts_with(k))
            else {
                continue;
            };
            let Some(v0) = line[k0 + key.len()..]
                .starts_with(b": ")
                .then_some(k0 + key.len() + 2)
            else {
                continue;
            };
            let quoted_end = if line.get(v0) == Some(&b'"') {
                escaped_end(line, v0 + 1).map(|e| e + 1)
            } else {
                None
            };
            let v1 = quoted_end.unwrap_or_else(|| run_end(line, v0, |c| c != b',' && !is_ws(c)));
            let mut v = &line[v0..v1];
            if v.first() == Some(&b'"') {
                v = v.get(1..v.len().saturating_sub(1)).unwrap_or_default();
            }
            kv[slot].get_or_insert(v);
            i = v1;
        }
    }
    let (method, thost, path) = request_line(kv[2]);
    Some(LineFields {
        ts: T::parse_slashed(ts, &ctx.tz),
        host: strip_port_text(or_else(thost, || kv[3].and_then(text))),
        method,
        path,
        status: None,
        client_ip: kv[0].and_then(text),
        user_agent: None,
        query_span: None,
    })
}
