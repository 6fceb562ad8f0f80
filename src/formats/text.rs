//! Space-separated proxy formats: nginx/Apache (combined, common, ingress-nginx), Envoy, HAProxy,
//! AWS ALB, nginx's error log, Squid (the port of `formats/text.py`).
//!
//! Python matched these lines with backtracking regexes. Here each regex is read by hand: a part
//! with one way to match (a fixed field, a run of one class of bytes ended by a byte outside it)
//! is a byte walk or a `memchr`, so a 1.5 KB token in a request or header is skipped, not walked;
//! the few real choices (nginx/Apache's vhost, `X-Forwarded-For` list, quoted user; HAProxy's
//! timers) are tried in the order the regex engine tries them. Python's fast paths were
//! optimisations of the same semantics: one reading serves both. The answers are checked against
//! Python's (the line vectors and `tests/data/text_cases.jsonl.gz`) and, for CLF's head, against
//! the regex itself run by the `regex` crate (leftmost-first, as Python's engine).

use memchr::{memchr, memchr2, memmem, memrchr};

use std::borrow::Cow;

use super::common::{
    arrival, lossy, owned, seconds_us, split_target_text, status, strip_client_port_text,
    strip_port_text, text, FileContext, LineFields, Text,
};
use crate::timeparse as T;

// --- small byte helpers -------------------------------------------------------------------------

/// Python's `bytes.isspace()` byte set (and a bytes regex's `\s`).
#[inline]
fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// `bytes.split()`: the words between runs of whitespace.
fn split_ws(b: &[u8]) -> impl Iterator<Item = &[u8]> {
    b.split(|c| is_ws(*c)).filter(|w| !w.is_empty())
}

/// Whether a short text holds `needle` (no searcher to build, as `memmem::find` does).
fn has(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// `b.split(b'"')`, the quotes found with memchr (a token inside quotes is skipped, not walked).
fn quote_split(b: &[u8]) -> impl Iterator<Item = &[u8]> {
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

fn digits(b: &[u8]) -> bool {
    b.iter().all(u8::is_ascii_digit)
}

/// The end of the run of bytes from `i` for which `f` holds.
fn run_end(b: &[u8], i: usize, f: impl Fn(u8) -> bool) -> usize {
    b.get(i..)
        .and_then(|s| s.iter().position(|c| !f(*c)))
        .map_or(b.len(), |p| i + p)
}

/// The end of a run of non-whitespace from `i` (`\S+` / `\S*`).
fn word_end(b: &[u8], i: usize) -> usize {
    run_end(b, i, |c| !is_ws(c))
}

/// After `\d{n}` at `i` (exactly n ASCII digits), or None.
fn fixed_digits(b: &[u8], i: usize, n: usize) -> Option<usize> {
    let s = b.get(i..i + n)?;
    digits(s).then_some(i + n)
}

fn byte_at(b: &[u8], i: usize, c: u8) -> Option<usize> {
    (b.get(i) == Some(&c)).then_some(i + 1)
}

/// Python's `$` at the end of a regex whose last part is `.*`: the text must not hold a newline
/// but as its last byte, which `.*` then leaves out.
fn dot_star_to_end(rest: &[u8]) -> Option<&[u8]> {
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
fn or_else<S: AsRef<str>>(a: Option<S>, b: impl FnOnce() -> Option<S>) -> Option<S> {
    match a {
        Some(s) if !s.as_ref().is_empty() => Some(s),
        _ => b(),
    }
}

/// The closing quote of a quoted value whose content starts at `i`, backslash escapes allowed
/// (`[^"\\]*(?:\\.[^"\\]*)*"`; `.` is any byte but a newline), or None.
fn escaped_end(b: &[u8], mut i: usize) -> Option<usize> {
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
fn is_ip_word(v: &[u8]) -> bool {
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
fn is_address(v: &[u8]) -> bool {
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
fn words(rest: &[u8]) -> Vec<(&[u8], bool)> {
    words_escaped(rest, memchr(b'\\', rest).is_some())
}

/// `words(rest)`, told whether `rest` holds a backslash.
fn words_escaped(rest: &[u8], escaped: bool) -> Vec<(&[u8], bool)> {
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
fn outside_quotes(rest: &[u8], ws: &[(&[u8], bool)]) -> Vec<u8> {
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
fn quoted(rest: &[u8]) -> Vec<&[u8]> {
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
fn target_word(tail: &[u8]) -> &[u8] {
    match memchr(b'?', tail) {
        Some(q) if !tail[..q].iter().any(|c| is_ws(*c)) => {
            let lim = (q + 1).max(TARGET_PREFIX).min(tail.len());
            let e = tail[..lim].iter().position(|c| is_ws(*c)).unwrap_or(lim);
            &tail[..e]
        }
        _ => &tail[..word_end(tail, 0)],
    }
}

const TARGET_PREFIX: usize = 64;

// --- nginx / Apache combined and common, with appended fields -------------------------------------
//
// Python's `CLF`, read by hand:
//
//     ^(?!\d{4}-\d{2}-\d{2}T)(?:(?P<vhost>[A-Za-z0-9._-]+(?::\d{1,5})?) )?(?P<ip>\S+(?:, ?[0-9A-Fa-f.:]+)*)
//     (?:- \[[^\]\s]*\] )?\S+ (?P<user>"[^"]*"|\S+)
//     \[(?P<ts>\d{1,2}/[A-Za-z]{3}/\d{4}[: ][^\]]{8,30}|\d{4}-\d{2}-\d{2}T[^\]]{8,30}|[A-Z][a-z]{2}, [^\]]{20,30})\]
//     "(?P<req>[^"\\]*(?:\\.[^"\\]*)*)" (?P<status>\d{3}|-) (?P<bytes>\S+)(?P<rest>.*)$
//
// Its head (up to the request's opening quote) has four real choices, tried in the regex's order:
// the vhost or not, where the (X-Forwarded-For) address list ends, the pre-0.20 ingress-nginx
// `- [$the_real_ip] ` or not, and a quoted or bare user. Every other part is a run of one class
// ended by a fixed byte: one way to match, or none. `clf_heads` walks the choices depth first, as
// the regex engine backtracks, and hands each head to a continuation until one accepts it.

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
fn starts_iso_date_t(line: &[u8]) -> bool {
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
struct Clf<'a> {
    vhost: Option<&'a [u8]>,
    ip: &'a [u8],
    ts: &'a [u8],
    req: &'a [u8],
    code: &'a [u8],
    rest: &'a [u8],
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
fn split_clf(line: &[u8]) -> Option<Clf<'_>> {
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

// --- nginx error log ----------------------------------------------------------------------------

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

// --- Squid native access log --------------------------------------------------------------------

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

// --- Envoy default access log (and Istio's, which adds fields) ------------------------------------

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

// --- HAProxy HTTP log (usually behind a syslog header) --------------------------------------------

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

// --- AWS Application (and Classic) Load Balancer --------------------------------------------------

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

#[cfg(test)]
mod tests;
