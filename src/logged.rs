//! The IDX/AADSTS code a server logged for a token's request (the port of `diagnose.logged_error`
//! and its helpers `_nearby`, `_first_code`, `_request_id`).
//!
//! The code is taken from the token's line itself, else from a nearby line of the same request that
//! carries no token: one with the same request id within `LOOK_AROUND` lines, or, when the line has
//! no request id, the line right before (ASP.NET logs "Failed to validate the token" just before the
//! request). `IDX10503 keys=0` marks a kid miss by a server that had no keys at all.
//!
//! Python's regexes (`CODE_RE`, `_REQUEST_ID_RE`, `_NO_KEYS_RE`) are byte walks here with the same
//! matches; slices follow Python's clamping, so no offsets can make this panic.

use std::sync::LazyLock;

use memchr::memmem::Finder;

use crate::scan::Hit;

/// Lines searched before (and, with a matching request id, after) a token's line.
pub const LOOK_AROUND: usize = 5;
/// Qualifier of a code logged by a server that had no signing keys at all.
pub const NO_KEYS: &str = " keys=0";

/// Substring searchers built once (`_NO_KEYS_RE` is a plain text).
static NO_KEYS_TEXT: LazyLock<Finder<'static>> =
    LazyLock::new(|| Finder::new(b"Number of keys in Configuration: '0'"));
static IDX: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"IDX"));
static AADSTS: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"AADSTS"));
static TOKEN: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"eyJ"));

/// The codes `diagnose.LOGGED_CODES` knows (what they mean stays in Python).
pub const LOGGED_CODES: [&str; 44] = [
    "AADSTS500011",
    "AADSTS50013",
    "AADSTS500131",
    "AADSTS50027",
    "AADSTS50048",
    "AADSTS50146",
    "AADSTS700024",
    "AADSTS700027",
    "AADSTS90016",
    "IDX10204",
    "IDX10205",
    "IDX10206",
    "IDX10207",
    "IDX10208",
    "IDX10211",
    "IDX10212",
    "IDX10214",
    "IDX10215",
    "IDX10222",
    "IDX10223",
    "IDX10224",
    "IDX10225",
    "IDX10268",
    "IDX10500",
    "IDX10501",
    "IDX10503",
    "IDX10504",
    "IDX10508",
    "IDX10511",
    "IDX10516",
    "IDX10517",
    "IDX12709",
    "IDX12741",
    "IDX14100",
    "IDX14101",
    "IDX14102",
    "IDX14107",
    "IDX14120",
    "IDX40001",
    "IDX40002",
    "IDX40003",
    "IDX40004",
    "IDX40005",
    "IDX40012",
];

/// Python's `chunk[a:b]` for non-negative bounds.
fn py_slice(s: &[u8], a: usize, b: usize) -> &[u8] {
    let a = a.min(s.len());
    let b = b.min(s.len()).max(a);
    &s[a..b]
}

/// Where a code (`IDX`, `AADSTS`) may start in a chunk: every place either text starts, in order.
///
/// `logged_error` reads a code only from its line and the lines around it, and never one where
/// neither text stands: a token line with none of these near it is answered None without reading
/// its request id (a pass over the whole ~2 KB line).
pub struct CodeSpots(Vec<usize>);

impl CodeSpots {
    pub fn find(chunk: &[u8]) -> CodeSpots {
        let mut at: Vec<usize> = IDX.find_iter(chunk).collect();
        at.extend(AADSTS.find_iter(chunk));
        CodeSpots::new(at)
    }

    /// The spots found otherwise (`marks::line_marks`), in any order.
    pub fn new(mut at: Vec<usize>) -> CodeSpots {
        at.sort_unstable();
        CodeSpots(at)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether a code text stands on the line [start, end) or within `LOOK_AROUND` lines before
    /// or after it: the only lines `logged_error` reads a code from.
    pub fn near(&self, chunk: &[u8], start: usize, end: usize) -> bool {
        let k = self.0.partition_point(|&q| q < start);
        if self.0.get(k).is_some_and(|&q| q < end) {
            return true;
        }
        // A spot k lines before has k newlines between it and the line; k lines after, k from
        // the line's end to it (a code holds no newline). Both are counted from the line
        // outwards, and only so far: no more is read than the lines `logged_error` would read.
        let far = LOOK_AROUND + 1;
        let before = k
            .checked_sub(1)
            .and_then(|j| self.0.get(j))
            .is_some_and(|&q| {
                memchr::memrchr_iter(b'\n', py_slice(chunk, q, start))
                    .take(far)
                    .count()
                    < far
            });
        before
            || self.0.get(k).is_some_and(|&q| {
                memchr::memchr_iter(b'\n', py_slice(chunk, end, q))
                    .take(far)
                    .count()
                    < far
            })
    }
}

/// The line numbers of a chunk's code spots near its token lines, in order: `near` of a token line
/// is then a binary search, where `CodeSpots::near` counted up to `LOOK_AROUND` + 1 lines either
/// side of every token line (two passes over ~6 KB per line).
///
/// A spot's line comes from the token line it stands on, or the one before or after it (their
/// numbers are known: `Hit::line_no`), counting at most `LOOK_AROUND` + 1 newlines from each; a
/// spot farther than that from both is near no token line and is left out.
pub struct SpotLines(Vec<i64>);

impl SpotLines {
    /// `hits`: the chunk's token candidates, in order (as `find_tokens` gives them).
    pub fn new(chunk: &[u8], spots: &CodeSpots, hits: &[Hit]) -> SpotLines {
        let far = LOOK_AROUND + 1;
        let mut lines = Vec::with_capacity(spots.0.len());
        for &q in &spots.0 {
            let k = hits.partition_point(|h| h.line_start <= q);
            let before = k.checked_sub(1).map(|j| &hits[j]);
            if let Some(b) = before.filter(|b| q < b.line_end) {
                lines.push(b.line_no);
                continue;
            }
            let after_before = before.and_then(|b| {
                let n = memchr::memchr_iter(b'\n', py_slice(chunk, b.line_end, q))
                    .take(far)
                    .count();
                (n < far).then_some(b.line_no + n as i64)
            });
            let before_after = || {
                let a = hits.get(k)?;
                let n = memchr::memrchr_iter(b'\n', py_slice(chunk, q, a.line_start))
                    .take(far)
                    .count();
                (n < far).then_some(a.line_no - n as i64)
            };
            if let Some(line) = after_before.or_else(before_after) {
                lines.push(line);
            }
        }
        SpotLines(lines)
    }

    /// `CodeSpots::near` of the token line numbered `line_no`.
    pub fn near(&self, line_no: i64) -> bool {
        let from = line_no - LOOK_AROUND as i64;
        let k = self.0.partition_point(|&l| l < from);
        self.0
            .get(k)
            .is_some_and(|&l| l <= line_no + LOOK_AROUND as i64)
    }
}

/// The IDX/AADSTS code the server logged for the token on this line, or None.
pub fn logged_error(
    chunk: &[u8],
    line_start: usize,
    line_end: usize,
    status: Option<i32>,
    nearby: bool,
) -> Option<String> {
    let line = py_slice(chunk, line_start, line_end);
    let mut code = first_code(line);
    let mut source = line;
    // A request the server answered 2xx or 3xx passed validation: a nearby error belongs to another one.
    let passed = status.is_some_and(|s| (200..400).contains(&s));
    if code.is_none() && nearby && !passed {
        let rid = request_id(line);
        let n = if rid.is_some() { LOOK_AROUND } else { 1 };
        for other in Nearby::new(chunk, line_start, line_end, n, rid.is_some()) {
            if TOKEN.find(other).is_some() {
                // Another token's line: its error is its own.
                continue;
            }
            let Some(c) = first_code(other) else {
                continue;
            };
            if let (Some(rid), Some(orid)) = (rid, request_id(other)) {
                if orid != rid {
                    continue;
                }
            }
            code = Some(c);
            source = other;
            break;
        }
    }
    let code = code?;
    let mut text = String::from_utf8_lossy(code).into_owned();
    if matches!(code, b"IDX10503" | b"IDX10501" | b"IDX10516")
        && NO_KEYS_TEXT.find(source).is_some()
    {
        text.push_str(NO_KEYS);
    }
    Some(text)
}

/// `CODE_RE = IDX\d{5}|AADSTS\d{5,6}` at `i`: the code's length.
fn code_at(s: &[u8], i: usize) -> Option<usize> {
    let rest = s.get(i..)?;
    let digits = |from: usize| {
        rest.get(from..).map_or(0, |t| {
            t.iter().take(6).take_while(|c| c.is_ascii_digit()).count()
        })
    };
    if rest.starts_with(b"IDX") && digits(3) >= 5 {
        return Some(8);
    }
    if rest.starts_with(b"AADSTS") {
        let n = digits(6);
        if n >= 5 {
            return Some(6 + n);
        }
    }
    None
}

/// The first known code in a line (else its first code at all): `CODE_RE.findall`'s order.
fn first_code(line: &[u8]) -> Option<&[u8]> {
    if IDX.find(line).is_none() && AADSTS.find(line).is_none() {
        // Cheap: most lines carry no error.
        return None;
    }
    let mut first = None;
    let mut i = 0;
    while let Some(off) = line.get(i..).and_then(|t| memchr::memchr2(b'I', b'A', t)) {
        let at = i + off;
        match code_at(line, at) {
            Some(len) => {
                let code = &line[at..at + len];
                if std::str::from_utf8(code).is_ok_and(|c| LOGGED_CODES.contains(&c)) {
                    return Some(code);
                }
                first.get_or_insert(code);
                i = at + len;
            }
            None => i = at + 1,
        }
    }
    first
}

fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// `\s` of a bytes pattern.
fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// `(?i)request_?id|x-request-id|trace_?id|correlation_?id|requestid` at `k`: its end.
fn keyword_at(s: &[u8], k: usize) -> Option<usize> {
    let starts = |at: usize, word: &[u8]| {
        s.get(at..at + word.len())
            .is_some_and(|t| t.eq_ignore_ascii_case(word))
    };
    // `name_?id`: the underscore is taken when it is there (without it, 'i' would be needed).
    let opt_id = |at: usize| {
        if s.get(at) == Some(&b'_') && starts(at + 1, b"id") {
            Some(at + 3)
        } else if starts(at, b"id") {
            Some(at + 2)
        } else {
            None
        }
    };
    for name in [&b"request"[..], b"trace", b"correlation"] {
        if starts(k, name) {
            return opt_id(k + name.len());
        }
    }
    if starts(k, b"x-request-id") {
        return Some(k + 12);
    }
    None
}

/// `_REQUEST_ID_RE.search(line).group(1)`:
/// `(?i)"?\b(?:KEYWORD)"?\s*[:=]\s*"?([A-Za-z0-9:._\-]{1,128})`.
fn request_id(line: &[u8]) -> Option<&[u8]> {
    let id_byte = |c: u8| c.is_ascii_alphanumeric() || matches!(c, b':' | b'.' | b'_' | b'-');
    for k in 0..line.len() {
        if !matches!(line[k] | 0x20, b'r' | b'x' | b't' | b'c') || (k > 0 && is_word(line[k - 1])) {
            continue;
        }
        let Some(mut i) = keyword_at(line, k) else {
            continue;
        };
        // Each optional part is taken when it is there: giving one back never lets the rest match.
        if line.get(i) == Some(&b'"') {
            i += 1;
        }
        while line.get(i).is_some_and(|&c| is_space(c)) {
            i += 1;
        }
        if !matches!(line.get(i), Some(b':' | b'=')) {
            continue;
        }
        i += 1;
        while line.get(i).is_some_and(|&c| is_space(c)) {
            i += 1;
        }
        if line.get(i) == Some(&b'"') {
            i += 1;
        }
        let n = line.get(i..).map_or(0, |t| {
            t.iter().take(128).take_while(|&&c| id_byte(c)).count()
        });
        if n > 0 {
            return Some(&line[i..i + n]);
        }
    }
    None
}

/// `_nearby`: up to n lines before the line [start, end) (closest first), then, if `both`, up to n
/// after; Python's `rfind`/`find`/slices on the same bounds.
struct Nearby<'a> {
    chunk: &'a [u8],
    before_pos: usize,
    before_left: usize,
    after_pos: usize,
    after_left: usize,
}

impl<'a> Nearby<'a> {
    fn new(chunk: &'a [u8], start: usize, end: usize, n: usize, both: bool) -> Self {
        Nearby {
            chunk,
            before_pos: start,
            before_left: n,
            after_pos: end,
            after_left: if both { n } else { 0 },
        }
    }
}

impl<'a> Iterator for Nearby<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let c = self.chunk;
        if self.before_left > 0 {
            self.before_left -= 1;
            let pos = self.before_pos;
            if pos == 0 {
                self.before_left = 0;
            } else {
                // chunk.rfind(b"\n", 0, pos - 1) + 1
                let prev = memchr::memrchr(b'\n', py_slice(c, 0, pos - 1)).map_or(0, |i| i + 1);
                self.before_pos = prev;
                return Some(py_slice(c, prev, pos - 1));
            }
        }
        if self.after_left > 0 {
            self.after_left -= 1;
            let pos = self.after_pos;
            if pos >= c.len() {
                self.after_left = 0;
                return None;
            }
            // chunk.find(b"\n", pos + 1), else the end
            let nxt = memchr::memchr(b'\n', py_slice(c, pos + 1, c.len()))
                .map_or(c.len(), |i| pos + 1 + i);
            self.after_pos = nxt;
            return Some(py_slice(c, pos + 1, nxt));
        }
        None
    }
}

#[cfg(test)]
mod tests;
