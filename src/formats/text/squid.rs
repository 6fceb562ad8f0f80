//! Squid's native access log.

use memchr::memchr;

use super::super::common::{
    arrival, lossy, owned, seconds_us, split_target_text, status, strip_port_text, text,
    FileContext, LineFields,
};
use super::shared::{byte_at, fixed_digits, run_end, word_end};
use crate::timeparse as T;

/// `SQUID.match`: `^(?P<ts>\d{9,11}\.\d{3}) +(?P<elapsed>-?\d+) (?P<ip>\S+) [A-Z_]+/(?P<status>\d{3})
/// \d+ (?P<method>[A-Z]{3,12}) `; (time, elapsed, ip, status, method, where the URL starts).
type Squid<'a> = (&'a [u8], &'a [u8], &'a [u8], &'a [u8], &'a [u8], usize);

fn squid_head(line: &[u8]) -> Option<Squid<'_>> {
    let j = run_end(line, 0, |c| c.is_ascii_digit());
    if !(9..=11).contains(&j) {
        return None;
    }
    let i = fixed_digits(line, byte_at(line, j, b'.')?, 3)?;
    let ts = &line[..i];
    let e = run_end(line, i, |c| c == b' ');
    if e == i {
        return None;
    }
    let d0 = if line.get(e) == Some(&b'-') { e + 1 } else { e };
    let d1 = run_end(line, d0, |c| c.is_ascii_digit());
    let elapsed = &line[e..d1];
    let i = byte_at(line, d1, b' ').filter(|_| d1 > d0)?;
    let w = word_end(line, i);
    let ip = &line[i..w];
    let i = byte_at(line, w, b' ').filter(|_| w > i)?;
    let j = run_end(line, i, |c| c.is_ascii_uppercase() || c == b'_');
    let i = byte_at(line, j, b'/').filter(|_| j > i)?;
    let code = line.get(i..i + 3)?;
    let i = byte_at(line, fixed_digits(line, i, 3)?, b' ')?;
    let j = run_end(line, i, |c| c.is_ascii_digit());
    let i = byte_at(line, j, b' ').filter(|_| j > i)?;
    let j = run_end(line, i, |c| c.is_ascii_uppercase());
    let method = &line[i..j];
    let end = byte_at(line, j, b' ').filter(|_| (3..=12).contains(&(j - i)))?;
    Some((ts, elapsed, ip, code, method, end))
}

pub fn looks_like_squid(line: &[u8]) -> bool {
    squid_head(line).is_some()
}

/// A Squid access-log line in its native format; the time is when it was logged, `%tr` (ms)
/// its duration.
pub fn parse_squid<'a>(line: &'a [u8], _ctx: &FileContext) -> Option<LineFields<'a>> {
    let (ts, elapsed, ip, code, method, start) = squid_head(line)?;
    let end = memchr(b' ', &line[start..]).map_or(line.len(), |e| start + e);
    let (thost, path) = split_target_text(&line[start..end]);
    Some(LineFields {
        ts: arrival(T::parse_epoch(ts), seconds_us(elapsed, 1000.0)),
        host: strip_port_text(owned(thost)),
        method: Some(lossy(method)),
        path,
        status: status(code),
        client_ip: text(ip),
        user_agent: None,
        query_span: None,
    })
}
