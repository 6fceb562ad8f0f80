//! Prefixes that wrap another line: syslog (RFC 3164 and 5424, rsyslog's ISO form) and Kubernetes
//! CRI (the port of `formats/wrappers.py`).
//!
//! `unwrap` returns the wrapper's time and where the wrapped message starts; the caller parses the
//! message with the other formats (an nginx line sent to syslog is still an nginx line).
//!
//! Python matched four regexes at the start of the line. Each is hand-written here as a byte walk
//! that takes the path Python's backtracking takes (worked out per pattern below), so a header
//! costs a few comparisons and never a walk over the token after it.

use super::common::FileContext;
use crate::timeparse;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WrapKind {
    Syslog,
    Cri,
}

/// (wrapper kind, its time, offset of the wrapped message), or None for an unwrapped line.
pub fn unwrap(line: &[u8], ctx: &FileContext) -> Option<(WrapKind, Option<i64>, usize)> {
    let ts = |(a, b): (usize, usize)| line.get(a..b).unwrap_or(&[]);
    if let Some((span, end)) = cri(line) {
        return Some((WrapKind::Cri, timeparse::parse_iso(ts(span), &ctx.tz), end));
    }
    if let Some((span, end)) = rfc5424(line).or_else(|| iso_syslog(line)) {
        return Some((
            WrapKind::Syslog,
            timeparse::parse_iso(ts(span), &ctx.tz),
            end,
        ));
    }
    let (span, end) = rfc3164(line)?;
    let t = timeparse::parse_syslog(ts(span), ctx.year, &ctx.tz, ctx.mtime_us);
    Some((WrapKind::Syslog, t, end))
}

/// A syslog header (either RFC) at the start of the line.
pub fn looks_like_syslog(line: &[u8]) -> bool {
    rfc5424(line).is_some() || iso_syslog(line).is_some() || rfc3164(line).is_some()
}

// ---- bytes ----------------------------------------------------------------------------------------

fn at(s: &[u8], i: usize) -> Option<u8> {
    s.get(i).copied()
}

fn digit(s: &[u8], i: usize) -> bool {
    at(s, i).is_some_and(|c| c.is_ascii_digit())
}

fn digits(s: &[u8], i: usize, n: usize) -> bool {
    (i..i + n).all(|k| digit(s, k))
}

/// `\s` of a bytes pattern.
fn space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// End of the run from `i` of bytes that `ok` accepts.
fn run(s: &[u8], i: usize, ok: impl Fn(u8) -> bool) -> usize {
    let mut j = i;
    while at(s, j).is_some_and(&ok) {
        j += 1;
    }
    j
}

/// `(?:<\d{1,3}>)?`: where the header starts after it (the pattern cannot match at a `<` otherwise).
fn pri(s: &[u8]) -> usize {
    if at(s, 0) == Some(b'<') {
        let e = run(s, 1, |c| c.is_ascii_digit());
        if (2..=4).contains(&e) && at(s, e) == Some(b'>') {
            return e + 1;
        }
    }
    0
}

/// `\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})` at `p`: its end.
/// The fraction has to be the whole digit run: a shorter one is followed by a digit, not a zone.
fn iso_stamp(s: &[u8], p: usize) -> Option<usize> {
    let shape = digits(s, p, 4)
        && at(s, p + 4) == Some(b'-')
        && digits(s, p + 5, 2)
        && at(s, p + 7) == Some(b'-')
        && digits(s, p + 8, 2)
        && at(s, p + 10) == Some(b'T')
        && digits(s, p + 11, 2)
        && at(s, p + 13) == Some(b':')
        && digits(s, p + 14, 2)
        && at(s, p + 16) == Some(b':')
        && digits(s, p + 17, 2);
    if !shape {
        return None;
    }
    let mut i = p + 19;
    if at(s, i) == Some(b'.') {
        let e = run(s, i + 1, |c| c.is_ascii_digit());
        if !(1..=9).contains(&(e - i - 1)) {
            return None;
        }
        i = e;
    }
    match at(s, i)? {
        b'Z' => Some(i + 1),
        b'+' | b'-' if digits(s, i + 1, 2) && at(s, i + 3) == Some(b':') && digits(s, i + 4, 2) => {
            Some(i + 6)
        }
        _ => None,
    }
}

type Header = ((usize, usize), usize);

/// CRI: `^TS (?:stdout|stderr) [FP] `.
fn cri(s: &[u8]) -> Option<Header> {
    let ts = iso_stamp(s, 0)?;
    let rest = s.get(ts..)?;
    let stream = [&b" stdout "[..], b" stderr "]
        .iter()
        .any(|p| rest.starts_with(p));
    if stream && matches!(at(rest, 8), Some(b'F' | b'P')) && at(rest, 9) == Some(b' ') {
        Some(((0, ts), ts + 10))
    } else {
        None
    }
}

/// `\S+` then `sep` at `i`: the end after `sep`. The run is maximal: a shorter one is followed by
/// a non-space byte, never by `sep`.
fn word_then(s: &[u8], i: usize, sep: u8) -> Option<usize> {
    let e = run(s, i, |c| !space(c));
    (e > i && at(s, e) == Some(sep)).then_some(e + 1)
}

/// `$` of a Python pattern: the end, or just before a final newline.
fn at_end(s: &[u8], i: usize) -> bool {
    i == s.len() || (i + 1 == s.len() && at(s, i) == Some(b'\n'))
}

/// RFC 5424: `PRI \d{1,2} (?P<ts>\d{4}-\d{2}-\d{2}T\S+|-) \S+ \S+ \S+ \S+`
/// `(?: -| (?:\[(?:[^\]\\]|\\.)*\])+)?(?: |$)(?:\xef\xbb\xbf)?`
fn rfc5424(s: &[u8]) -> Option<Header> {
    let p = pri(s);
    let v = run(s, p, |c| c.is_ascii_digit());
    if !(1..=2).contains(&(v - p)) || at(s, v) != Some(b' ') {
        return None;
    }
    let t = v + 1;
    let after_ts = if at(s, t) == Some(b'-') {
        // `\d{4}-...` cannot start with '-': the nil time.
        (at(s, t + 1) == Some(b' ')).then_some(t + 2)?
    } else {
        let dated = digits(s, t, 4)
            && at(s, t + 4) == Some(b'-')
            && digits(s, t + 5, 2)
            && at(s, t + 7) == Some(b'-')
            && digits(s, t + 8, 2)
            && at(s, t + 10) == Some(b'T');
        if !dated {
            return None;
        }
        word_then(s, t + 11, b' ')?
    };
    let ts = (t, after_ts - 1);
    let mut i = after_ts;
    for _ in 0..3 {
        i = word_then(s, i, b' ')?;
    }
    let e = run(s, i, |c| !space(c));
    if e == i {
        return None;
    }
    // Structured data, in the pattern's order: " -", then " [..]+", then none; each followed by
    // a space or the end.
    let sep = |j: usize| -> Option<usize> {
        if at(s, j) == Some(b' ') {
            Some(j + 1)
        } else if at_end(s, j) {
            Some(j)
        } else {
            None
        }
    };
    let end = if at(s, e) == Some(b' ') && at(s, e + 1) == Some(b'-') && sep(e + 2).is_some() {
        sep(e + 2)
    } else if let Some(j) = sd_elements(s, e).and_then(sep) {
        Some(j)
    } else {
        sep(e)
    }?;
    let bom = s.get(end..end + 3) == Some(b"\xef\xbb\xbf");
    Some((ts, if bom { end + 3 } else { end }))
}

/// ` (?:\[(?:[^\]\\]|\\.)*\])+` at `i`: the end after the last whole element.
fn sd_elements(s: &[u8], i: usize) -> Option<usize> {
    if at(s, i) != Some(b' ') || at(s, i + 1) != Some(b'[') {
        return None;
    }
    let mut j = i + 1;
    let mut last = None;
    while at(s, j) == Some(b'[') {
        let mut k = j + 1;
        loop {
            match at(s, k) {
                Some(b']') => break,
                // `\\.`: a backslash and any byte but a newline.
                Some(b'\\') if at(s, k + 1).is_some_and(|c| c != b'\n') => k += 2,
                Some(b'\\') | None => return last,
                Some(_) => k += 1,
            }
        }
        j = k + 1;
        last = Some(j);
    }
    last
}

/// rsyslog's ISO form: `PRI (?P<ts>ISO) \S+ (?!\d[\d.]*:\d)[^:\s\[]+(?:\[[^\]\s]*\])?: ?`.
fn iso_syslog(s: &[u8]) -> Option<Header> {
    let p = pri(s);
    let ts = iso_stamp(s, p)?;
    if at(s, ts) != Some(b' ') {
        return None;
    }
    let t = word_then(s, ts + 1, b' ')?;
    // The tag is not an `address:port` (a Classic ELB line has the same start).
    if digit(s, t) {
        let j = run(s, t + 1, |c| c.is_ascii_digit() || c == b'.');
        if at(s, j) == Some(b':') && digit(s, j + 1) {
            return None;
        }
    }
    let e = run(s, t, tag_byte);
    if e == t {
        return None;
    }
    Some(((p, ts), tag_colon(s, e)?))
}

/// `[^:\s\[]`.
fn tag_byte(c: u8) -> bool {
    c != b':' && c != b'[' && !space(c)
}

/// `(?:\[[^\]\s]*\])?: ?` at `i` (after a maximal tag run): the end.
fn tag_colon(s: &[u8], i: usize) -> Option<usize> {
    let mut i = i;
    if at(s, i) == Some(b'[') {
        let e = run(s, i + 1, |c| c != b']' && !space(c));
        // Without its `]` (or its `:`) the bracket is not skipped either: ':' is not '['.
        if at(s, e) != Some(b']') {
            return None;
        }
        i = e + 1;
    }
    if at(s, i) != Some(b':') {
        return None;
    }
    Some(if at(s, i + 1) == Some(b' ') {
        i + 2
    } else {
        i + 1
    })
}

/// `[^:\s\[]*(?:\[[^\]\s]*\])?: ?` at `q`.
fn tag_part(s: &[u8], q: usize) -> Option<usize> {
    tag_colon(s, run(s, q, tag_byte))
}

/// `(?:[^:\s]+ ){0,2}?` then the tag, lazily: no word first, then one, then two.
fn tag_after_words(s: &[u8], q: usize) -> Option<usize> {
    let word = |i: usize| {
        let e = run(s, i, |c| c != b':' && !space(c));
        (e > i && at(s, e) == Some(b' ')).then_some(e + 1)
    };
    tag_part(s, q).or_else(|| {
        let q1 = word(q)?;
        tag_part(s, q1).or_else(|| tag_part(s, word(q1)?))
    })
}

/// RFC 3164: `PRI (?P<ts>[A-Z][a-z]{2} [ \d]?\d \d{2}:\d{2}:\d{2}(?:\.\d{1,6})?)(?: \d{4})? `
/// `(?:[^:\s]+ ){0,2}?[^:\s\[]*(?:\[[^\]\s]*\])?: ?`
fn rfc3164(s: &[u8]) -> Option<Header> {
    let p = pri(s);
    let mon = s.get(p..p + 4)?;
    if !(mon[0].is_ascii_uppercase()
        && mon[1].is_ascii_lowercase()
        && mon[2].is_ascii_lowercase()
        && mon[3] == b' ')
    {
        return None;
    }
    // `[ \d]?\d `: three bytes when they fit, else a digit and the space.
    let d = p + 4;
    let t = if matches!(at(s, d), Some(b' ' | b'0'..=b'9'))
        && digit(s, d + 1)
        && at(s, d + 2) == Some(b' ')
    {
        d + 3
    } else if digit(s, d) && at(s, d + 1) == Some(b' ') {
        d + 2
    } else {
        return None;
    };
    let clock = digits(s, t, 2)
        && at(s, t + 2) == Some(b':')
        && digits(s, t + 3, 2)
        && at(s, t + 5) == Some(b':')
        && digits(s, t + 6, 2);
    if !clock {
        return None;
    }
    let mut i = t + 8;
    if at(s, i) == Some(b'.') && digit(s, i + 1) {
        // A fraction is always followed by a space here: its whole run, at most 6 digits.
        let e = run(s, i + 1, |c| c.is_ascii_digit());
        if e - i - 1 > 6 {
            return None;
        }
        i = e;
    }
    let ts = (p, i);
    // `(?: \d{4})?` is greedy, but gives the year back when the tag does not follow it.
    if at(s, i) == Some(b' ') && digits(s, i + 1, 4) && at(s, i + 5) == Some(b' ') {
        if let Some(end) = tag_after_words(s, i + 6) {
            return Some((ts, end));
        }
    }
    if at(s, i) != Some(b' ') {
        return None;
    }
    Some((ts, tag_after_words(s, i + 1)?))
}

#[cfg(test)]
mod tests;
