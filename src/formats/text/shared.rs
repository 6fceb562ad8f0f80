//! What the space-separated formats share: byte walks that stand for the regexes' runs, the
//! value tests (host names, addresses), the quoted fields after a format's fixed part and the
//! request line.

use memchr::{memchr, memchr2, memrchr};

use std::borrow::Cow;

use super::super::common::{lossy, owned, split_target_text, Text};

/// Python's `bytes.isspace()` byte set (and a bytes regex's `\s`).
#[inline]
pub(super) fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// `bytes.split()`: the words between runs of whitespace.
pub(super) fn split_ws(b: &[u8]) -> impl Iterator<Item = &[u8]> {
    b.split(|c| is_ws(*c)).filter(|w| !w.is_empty())
}

/// Whether a short text holds `needle` (no searcher to build, as `memmem::find` does).
pub(super) fn has(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// `b.split(b'"')`, the quotes found with memchr (a token inside quotes is skipped, not walked).
pub(super) fn quote_split(b: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut quotes = memchr::memchr_iter(b'"', b);
    let mut start = Some(0);
    std::iter::from_fn(move || {
        let s = start?;
        match quotes.next() {
            Some(q) => {
                start = Some(q + 1);
                Some(&b[s..q])
            }
            None => {
                start = None;
                Some(&b[s..])
            }
        }
    })
}

pub(super) fn digits(b: &[u8]) -> bool {
    b.iter().all(u8::is_ascii_digit)
}

/// The end of the run of bytes from `i` for which `f` holds.
pub(super) fn run_end(b: &[u8], i: usize, f: impl Fn(u8) -> bool) -> usize {
    b.get(i..)
        .and_then(|s| s.iter().position(|c| !f(*c)))
        .map_or(b.len(), |p| i + p)
}

/// The end of a run of non-whitespace from `i` (`\S+` / `\S*`).
pub(super) fn word_end(b: &[u8], i: usize) -> usize {
    run_end(b, i, |c| !is_ws(c))
}

/// After `\d{n}` at `i` (exactly n ASCII digits), or None.
pub(super) fn fixed_digits(b: &[u8], i: usize, n: usize) -> Option<usize> {
    let s = b.get(i..i + n)?;
    digits(s).then_some(i + n)
}

pub(super) fn byte_at(b: &[u8], i: usize, c: u8) -> Option<usize> {
    (b.get(i) == Some(&c)).then_some(i + 1)
}

/// Python's `$` at the end of a regex whose last part is `.*`: the text must not hold a newline
/// but as its last byte, which `.*` then leaves out.
pub(super) fn dot_star_to_end(rest: &[u8]) -> Option<&[u8]> {
    match memchr(b'\n', rest) {
        None => Some(rest),
        Some(n) if n + 1 == rest.len() => Some(&rest[..n]),
        Some(_) => None,
    }
}

/// A bytes regex's `$` after a value: the value itself, or without one final newline.
fn before_final_newline(v: &[u8]) -> &[u8] {
    v.strip_suffix(b"\n").unwrap_or(v)
}

/// `a or b()` of Python, for optional strings (an empty string is false).
#[inline]
pub(super) fn or_else<S: AsRef<str>>(a: Option<S>, b: impl FnOnce() -> Option<S>) -> Option<S> {
    match a {
        Some(s) if !s.as_ref().is_empty() => Some(s),
        _ => b(),
    }
}

/// The closing quote of a quoted value whose content starts at `i`, backslash escapes allowed
/// (`[^"\\]*(?:\\.[^"\\]*)*"`; `.` is any byte but a newline), or None.
pub(super) fn escaped_end(b: &[u8], mut i: usize) -> Option<usize> {
    loop {
        let j = i + memchr2(b'"', b'\\', b.get(i..)?)?;
        if b[j] == b'"' {
            return Some(j);
        }
        match b.get(j + 1) {
            Some(&c) if c != b'\n' => i = j + 2,
            _ => return None,
        }
    }
}

// --- shared value tests --------------------------------------------------------------------------

/// `HOSTNAME.match` of common.py: `^[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}\.)+[A-Za-z]{2,63}\.?(?::\d{1,5})?$`.
pub fn is_hostname(v: &[u8]) -> bool {
    let v = before_final_newline(v);
    // Only letters, digits, `-`, `.` and `:` make one: a word such as `Bearer eyJ...` (1.2 KB,
    // no `:` in it to stop the search for the port) is told from its first bytes.
    if v.iter()
        .take(16)
        .any(|&c| !(c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b':')))
    {
        return false;
    }
    let main = match memchr(b':', v) {
        Some(c) => {
            let port = &v[c + 1..];
            if port.is_empty() || port.len() > 5 || !digits(port) {
                return false;
            }
            &v[..c]
        }
        None => v,
    };
    // A final dot after the top-level label is the optional `\.?`: the labels' dots need one after.
    let main = main.strip_suffix(b".").unwrap_or(main);
    let dot = match memrchr(b'.', main) {
        Some(d) if d >= 1 => d,
        _ => return false,
    };
    let tld = &main[dot + 1..];
    (2..=63).contains(&tld.len())
        && tld.iter().all(u8::is_ascii_alphabetic)
        && main[0].is_ascii_alphanumeric()
        && main[1..dot].split(|c| *c == b'.').all(|label| {
            label.len() <= 62
                && label
                    .iter()
                    .all(|c| c.is_ascii_alphanumeric() || *c == b'-')
        })
}

/// `_IP_WORD.match`: a dotted IPv4 address or an IPv6-looking run of hex groups.
pub(super) fn is_ip_word(v: &[u8]) -> bool {
    let v = before_final_newline(v);
    let v4 = {
        let mut n = 0;
        v.split(|c| *c == b'.').all(|p| {
            n += 1;
            (1..=3).contains(&p.len()) && digits(p)
        }) && n == 4
    };
    v4 || {
        let mut n = 0;
        v.split(|c| *c == b':').all(|p| {
            n += 1;
            p.len() <= 4 && p.iter().all(u8::is_ascii_hexdigit)
        }) && (3..=8).contains(&n)
    }
}

/// `_ADDRESS.match` (Envoy): `IPv4:port` or `[IPv6]:port`.
pub(super) fn is_address(v: &[u8]) -> bool {
    let v = before_final_newline(v);
    let Some(c) = memrchr(b':', v) else {
        return false;
    };
    let port = &v[c + 1..];
    if port.is_empty() || port.len() > 5 || !digits(port) {
        return false;
    }
    let head = &v[..c];
    if let Some(inner) = head.strip_prefix(b"[").and_then(|h| h.strip_suffix(b"]")) {
        return !inner.is_empty()
            && inner
                .iter()
                .all(|c| c.is_ascii_hexdigit() || *c == b':' || *c == b'.');
    }
    let mut n = 0;
    head.split(|c| *c == b'.').all(|p| {
        n += 1;
        (1..=3).contains(&p.len()) && digits(p)
    }) && n == 4
}

// --- quoted fields -------------------------------------------------------------------------------

/// The fields after a format's fixed part, each with whether it was quoted (`_words`).
pub(super) fn words(rest: &[u8]) -> Vec<(&[u8], bool)> {
    words_escaped(rest, memchr(b'\\', rest).is_some())
}

/// `words(rest)`, told whether `rest` holds a backslash.
pub(super) fn words_escaped(rest: &[u8], escaped: bool) -> Vec<(&[u8], bool)> {
    // Room for the usual appended fields (ingress-nginx logs ~16): grown from empty, the list
    // was reallocated four or five times per line.
    let mut out = Vec::with_capacity(24);
    if escaped {
        // `QUOTED.finditer`: `"([^"\\]*(?:\\.[^"\\]*)*)"|(\S+)`.
        let mut i = 0;
        while i < rest.len() {
            if rest[i] == b'"' {
                if let Some(end) = escaped_end(rest, i + 1) {
                    out.push((&rest[i + 1..end], true));
                    i = end + 1;
                    continue;
                }
            }
            if is_ws(rest[i]) {
                i += 1;
                continue;
            }
            let e = word_end(rest, i);
            out.push((&rest[i..e], false));
            i = e;
        }
    } else {
        // Without escapes, splitting at quotes is the same: odd pieces were inside quotes.
        push_words(&mut out, quote_split(rest));
    }
    out
}

/// The words of a text without escapes from its pieces between quotes (bare, quoted, bare, ...).
fn push_words<'a>(out: &mut Vec<(&'a [u8], bool)>, mut pieces: impl Iterator<Item = &'a [u8]>) {
    while let Some(bare) = pieces.next() {
        out.extend(split_ws(bare).map(|w| (w, false)));
        match pieces.next() {
            Some(q) => out.push((q, true)),
            None => break,
        }
    }
}

/// The text outside quotes of a `rest` without escapes (`b"".join(rest.split(b'"')[::2])`), from
/// its `words`: each quoted word is the piece between two quotes (or after a last, unclosed one),
/// a slice of `rest` whose place gives the quotes around it. The quotes (and a token between two
/// of them) are not searched for again.
pub(super) fn outside_quotes(rest: &[u8], ws: &[(&[u8], bool)]) -> Vec<u8> {
    let base = rest.as_ptr() as usize;
    let mut out = Vec::with_capacity(rest.len().min(256));
    let mut prev = 0;
    for (q, _) in ws.iter().filter(|w| w.1) {
        let at = q.as_ptr() as usize - base;
        out.extend_from_slice(&rest[prev..at - 1]);
        prev = (at + q.len() + 1).min(rest.len());
    }
    out.extend_from_slice(&rest[prev..]);
    out
}

/// The quoted fields among `words(rest)` (`_quoted`).
pub(super) fn quoted(rest: &[u8]) -> Vec<&[u8]> {
    if memchr(b'\\', rest).is_some() {
        words(rest)
            .into_iter()
            .filter(|w| w.1)
            .map(|w| w.0)
            .collect()
    } else {
        quote_split(rest).skip(1).step_by(2).collect()
    }
}

/// (method, host, path) from a request line `GET /a?b HTTP/1.1`.
pub fn request_line(req: Option<&[u8]>) -> (Text<'_>, Text<'_>, Text<'_>) {
    const NONE: (Text<'_>, Text<'_>, Text<'_>) = (None, None, None);
    let Some(req) = req.filter(|r| !r.is_empty()) else {
        return NONE;
    };
    // 3-12 letters, one space, then the run of non-whitespace after it.
    let sp = match memchr(b' ', &req[..req.len().min(13)]) {
        Some(sp) if sp >= 3 => sp,
        _ => return NONE,
    };
    if !req[..sp].iter().all(u8::is_ascii_alphabetic) {
        return NONE;
    }
    let start = sp + 1;
    match req.get(start) {
        Some(&c) if !is_ws(c) => {}
        _ => return NONE,
    }
    let (host, path) = split_target_text(target_word(&req[start..]));
    // ASCII letters (checked above): the bytes are the text, upper case already in most lines.
    let method = lossy(&req[..sp]);
    let method = if method.bytes().any(|b| b.is_ascii_lowercase()) {
        Cow::Owned(method.to_ascii_uppercase())
    } else {
        method
    };
    (Some(method), owned(host), path)
}

/// The request target at the start of `tail` (up to whitespace), or as much of it as
/// `split_target_bytes` reads: the part before `?` and the first 64 bytes (Python's `target[:12]`
/// is at most 48 bytes). A token in the query is then not walked byte by byte.
pub(super) fn target_word(tail: &[u8]) -> &[u8] {
    match memchr(b'?', tail) {
        Some(q) if !tail[..q].iter().any(|c| is_ws(*c)) => {
            let lim = (q + 1).max(TARGET_PREFIX).min(tail.len());
            let e = tail[..lim].iter().position(|c| is_ws(*c)).unwrap_or(lim);
            &tail[..e]
        }
        _ => &tail[..word_end(tail, 0)],
    }
}

pub(super) const TARGET_PREFIX: usize = 64;
