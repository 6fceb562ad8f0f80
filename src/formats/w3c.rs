//! W3C extended log files (IIS, also CloudFront): columns named by the latest `#Fields:` directive
//! (the port of `formats/w3c.py`).
//!
//! A line without its directive (a fragment of a rotated file, logs shipped without it) is read by
//! the known layouts its own shape fits; where those disagree on a field's column, the field is
//! left empty rather than guessed.

use std::sync::OnceLock;

use memchr::{memchr, memmem};
use regex::bytes::Regex;

use std::borrow::Cow;

use super::common::{
    arrival, seconds_us, split_target_text, status, strip_port_text, text, FileContext, LineFields,
};
use crate::timeparse;

/// Python's `str.isspace()` for a latin-1 character (what `str.split()` splits on).
fn is_latin1_space(b: u8) -> bool {
    matches!(b, b'\t'..=b'\r' | 0x1c..=0x20 | 0x85 | 0xa0)
}

/// The lowercased field names in what follows `#Fields:` on a directive line.
pub fn field_names(values: &[u8]) -> Vec<String> {
    // latin-1 decoding, split on whitespace, lowercased
    values
        .split(|&b| is_latin1_space(b))
        .filter(|w| !w.is_empty())
        .map(|w| w.iter().flat_map(|&b| (b as char).to_lowercase()).collect())
        .collect()
}

/// Every `#Fields:` directive in a chunk: (offset, lowercased field names), in order.
pub fn field_directives(chunk: &[u8]) -> Vec<(usize, Vec<String>)> {
    directives_at(chunk, memmem::find_iter(chunk, b"#Fields:"))
}

/// The directives of a chunk whose `#Fields:` texts stand at `spots` (in order).
pub fn directives_at(
    chunk: &[u8],
    spots: impl IntoIterator<Item = usize>,
) -> Vec<(usize, Vec<String>)> {
    let mut out = Vec::new();
    for at in spots {
        if at == 0 || chunk.get(at - 1) == Some(&b'\n') {
            // `#Fields:[ \t]*(.*?)\r?$` (re.M): the rest of the line, less one `\r` before its end.
            let rest = chunk.get(at + 8..).unwrap_or_default();
            let mut value = &rest[..memchr(b'\n', rest).unwrap_or(rest.len())];
            if let Some(v) = value.strip_suffix(b"\r") {
                value = v;
            }
            out.push((at, field_names(value)));
        }
    }
    out
}

/// `^\d{4}-\d{2}-\d{2}[ \t]\d{2}:\d{2}:\d{2}[ \t]`
fn w3c_dated(line: &[u8]) -> bool {
    const SHAPE: &[u8; 20] = b"dddd-dd-dd_dd:dd:dd_";
    line.len() >= 20
        && SHAPE.iter().zip(line).all(|(&s, &b)| match s {
            b'd' => b.is_ascii_digit(),
            b'_' => b == b' ' || b == b'\t',
            _ => s == b,
        })
}

/// A W3C directive line, or a data line that starts `date time`.
pub fn looks_like_w3c(line: &[u8]) -> bool {
    line.starts_with(b"#Software: Microsoft Internet Information")
        || line.starts_with(b"#Fields:")
        || (w3c_dated(line) && line.iter().filter(|&&b| b == b' ' || b == b'\t').count() >= 6)
}

// --- the column plan ------------------------------------------------------------------------------

/// The candidate columns of one field, in the order their names are preferred.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Cols {
    idx: [usize; 3],
    len: usize,
}

impl Cols {
    fn one(i: usize) -> Cols {
        Cols {
            idx: [i, 0, 0],
            len: 1,
        }
    }

    fn as_slice(&self) -> &[usize] {
        &self.idx[..self.len]
    }
}

const DATE: usize = 0;
const TIME: usize = 1;
const STEM: usize = 2;
const UA: usize = 3;
const HOST: usize = 4;
const METHOD: usize = 5;
const STATUS: usize = 6;
const IP: usize = 7;
const QUERY: usize = 8;
const TAKEN: usize = 9;

/// Per field (`DATE` ... `TAKEN`), its columns.
type Plan = [Cols; 10];

/// The looked-up names, each with its field; a field's names in the order they are preferred.
const KEYS: [(&str, usize); 13] = [
    ("date", DATE),
    ("time", TIME),
    ("cs-uri-stem", STEM),
    ("cs(user-agent)", UA),
    ("c-user-agent", UA),
    ("cs-host", HOST),
    ("x-host-header", HOST),
    ("cs(host)", HOST),
    ("cs-method", METHOD),
    ("sc-status", STATUS),
    ("c-ip", IP),
    ("cs-uri-query", QUERY),
    ("time-taken", TAKEN),
];

/// The index in `KEYS` of a field name.
fn key_index(name: &str) -> Option<usize> {
    Some(match name {
        "date" => 0,
        "time" => 1,
        "cs-uri-stem" => 2,
        "cs(user-agent)" => 3,
        "c-user-agent" => 4,
        "cs-host" => 5,
        "x-host-header" => 6,
        "cs(host)" => 7,
        "cs-method" => 8,
        "sc-status" => 9,
        "c-ip" => 10,
        "cs-uri-query" => 11,
        "time-taken" => 12,
        _ => return None,
    })
}

/// For a line of `n` values: each field's columns (a repeated name: its last column among the first `n`).
fn plan<S: AsRef<str>>(names: &[S], n: usize) -> Plan {
    let mut last = [usize::MAX; KEYS.len()];
    for (i, name) in names.iter().take(n).enumerate() {
        let name = name.as_ref();
        if let Some(k) = key_index(name) {
            last[k] = i;
        }
    }
    let mut out = Plan::default();
    for (k, &(_, field)) in KEYS.iter().enumerate() {
        if last[k] != usize::MAX {
            let c = &mut out[field];
            c.idx[c.len] = last[k];
            c.len += 1;
        }
    }
    out
}

/// The first of these columns with a value (`-` and empty are none).
fn get<'a>(parts: &[&'a [u8]], cols: &Cols) -> Option<&'a [u8]> {
    cols.as_slice()
        .iter()
        .filter_map(|&i| parts.get(i).copied())
        .find(|v| !v.is_empty() && *v != b"-")
}

// --- lines without their `#Fields:` directive -----------------------------------------------------

const IIS_DEFAULT: [&str; 15] = [
    "date",
    "time",
    "s-ip",
    "cs-method",
    "cs-uri-stem",
    "cs-uri-query",
    "s-port",
    "cs-username",
    "c-ip",
    "cs(user-agent)",
    "cs(referer)",
    "sc-status",
    "sc-substatus",
    "sc-win32-status",
    "time-taken",
];
const IIS_FULL: [&str; 22] = [
    "date",
    "time",
    "s-sitename",
    "s-computername",
    "s-ip",
    "cs-method",
    "cs-uri-stem",
    "cs-uri-query",
    "s-port",
    "cs-username",
    "c-ip",
    "cs-version",
    "cs(user-agent)",
    "cs(cookie)",
    "cs(referer)",
    "cs-host",
    "sc-status",
    "sc-substatus",
    "sc-win32-status",
    "sc-bytes",
    "cs-bytes",
    "time-taken",
];
const APP_SERVICE: [&str; 19] = [
    "date",
    "time",
    "s-sitename",
    "cs-method",
    "cs-uri-stem",
    "cs-uri-query",
    "s-port",
    "cs-username",
    "c-ip",
    "cs(user-agent)",
    "cs(cookie)",
    "cs(referer)",
    "cs-host",
    "sc-status",
    "sc-substatus",
    "sc-win32-status",
    "sc-bytes",
    "cs-bytes",
    "time-taken",
];
const CLOUDFRONT: [&str; 33] = [
    "date",
    "time",
    "x-edge-location",
    "sc-bytes",
    "c-ip",
    "cs-method",
    "cs(host)",
    "cs-uri-stem",
    "sc-status",
    "cs(referer)",
    "cs(user-agent)",
    "cs-uri-query",
    "cs(cookie)",
    "x-edge-result-type",
    "x-edge-request-id",
    "x-host-header",
    "cs-protocol",
    "cs-bytes",
    "time-taken",
    "x-forwarded-for",
    "ssl-protocol",
    "ssl-cipher",
    "x-edge-response-result-type",
    "cs-protocol-version",
    "fle-status",
    "fle-encrypted-fields",
    "c-port",
    "time-to-first-byte",
    "x-edge-detailed-result-type",
    "sc-content-type",
    "sc-content-len",
    "sc-range-start",
    "sc-range-end",
];

/// The layouts IIS and CloudFront write by default or that people commonly pick, each with the
/// fewest fields a line of it may have (a layout that grew over the years is cut at any point
/// after that, as CloudFront's did).
fn layouts() -> Vec<(Vec<&'static str>, usize)> {
    let with = |base: &[&'static str], extra: &[&'static str]| -> Vec<&'static str> {
        base.iter().chain(extra).copied().collect()
    };
    let mut sited = vec!["date", "time", "s-sitename"];
    sited.extend_from_slice(&IIS_DEFAULT[2..]);
    vec![
        (IIS_DEFAULT.to_vec(), 15),
        // IIS 7's default, before `cs(Referer)` was added.
        (
            IIS_DEFAULT
                .iter()
                .copied()
                .filter(|f| *f != "cs(referer)")
                .collect(),
            14,
        ),
        (with(&IIS_DEFAULT, &["x-forwarded-for"]), 16),
        (sited, 16),
        (IIS_FULL.to_vec(), 22),
        (with(&IIS_FULL, &["x-forwarded-for"]), 23),
        // Azure App Service's web server logs.
        (APP_SERVICE.to_vec(), 19),
        (CLOUDFRONT.to_vec(), 19),
    ]
}

/// The shape of each field that has one; a field not named here may hold anything.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    Date,
    Time,
    Ip,
    Method,
    Stem,
    Port,
    Version,
    Protocol,
    Status,
    Number,
    Xff,
}

fn shape_of(name: &str) -> Option<Shape> {
    Some(match name {
        "date" => Shape::Date,
        "time" => Shape::Time,
        "s-ip" | "c-ip" => Shape::Ip,
        "cs-method" => Shape::Method,
        "cs-uri-stem" => Shape::Stem,
        "s-port" | "c-port" => Shape::Port,
        "cs-version" => Shape::Version,
        "cs-protocol" => Shape::Protocol,
        "sc-status" => Shape::Status,
        "sc-substatus" | "sc-win32-status" | "sc-bytes" | "cs-bytes" | "time-taken" => {
            Shape::Number
        }
        "x-forwarded-for" => Shape::Xff,
        _ => return None,
    })
}

const IP_RE: &str = r"(?:[0-9]{1,3}(?:\.[0-9]{1,3}){3}|[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:\.[0-9]{1,3}){0,4})";

struct Shapes {
    ip: Regex,
    xff: Regex,
}

fn shapes() -> &'static Shapes {
    static S: OnceLock<Shapes> = OnceLock::new();
    S.get_or_init(|| Shapes {
        ip: Regex::new(&format!(r"(?-u)\A{IP_RE}\z")).expect("valid regex"),
        xff: Regex::new(&format!(r"(?-u)\A(?:-|{IP_RE}(?:(?:,|%2C)\+?{IP_RE})*)\z"))
            .expect("valid regex"),
    })
}

fn digits(v: &[u8]) -> bool {
    !v.is_empty() && v.iter().all(u8::is_ascii_digit)
}

/// `\d+(?:\.\d+)?`
fn number(v: &[u8]) -> bool {
    match memchr(b'.', v) {
        None => digits(v),
        Some(p) => digits(&v[..p]) && digits(&v[p + 1..]),
    }
}

/// Whether a value has a shape: Python's `re.match(shape + "$")`, whose `$` also matches before a
/// final newline.
fn fits_shape(shape: Shape, v: &[u8]) -> bool {
    if shape == Shape::Stem {
        return v.first() == Some(&b'/');
    }
    let v = v.strip_suffix(b"\n").unwrap_or(v);
    match shape {
        Shape::Date => {
            v.len() == 10
                && v.iter().enumerate().all(|(i, &b)| {
                    if i == 4 || i == 7 {
                        b == b'-'
                    } else {
                        b.is_ascii_digit()
                    }
                })
        }
        Shape::Time => {
            v.len() >= 8
                && v[..8].iter().enumerate().all(|(i, &b)| {
                    if i == 2 || i == 5 {
                        b == b':'
                    } else {
                        b.is_ascii_digit()
                    }
                })
                && (v.len() == 8 || (v[8] == b'.' && digits(&v[9..])))
        }
        Shape::Method => {
            (3..=16).contains(&v.len())
                && v[0].is_ascii_uppercase()
                && v[1..].iter().all(|&b| b.is_ascii_uppercase() || b == b'-')
        }
        Shape::Port => (1..=5).contains(&v.len()) && digits(v),
        Shape::Version => {
            v == b"-"
                || v.strip_prefix(b"HTTP/").is_some_and(|r| {
                    !r.is_empty() && r.iter().all(|&b| b.is_ascii_digit() || b == b'.')
                })
        }
        Shape::Protocol => matches!(v, b"http" | b"https" | b"ws" | b"wss" | b"-"),
        Shape::Status => v == b"-" || (v.len() == 3 && digits(v)),
        Shape::Number => number(v),
        Shape::Ip => shapes().ip.is_match(v),
        Shape::Xff => shapes().xff.is_match(v),
        Shape::Stem => true,
    }
}

/// One layout cut to a field count: its plan, and the columns whose values must have a shape.
struct Cut {
    plan: Plan,
    shaped: Vec<(usize, Shape)>,
}

/// Per field count, the layout cuts of that many fields (`_BY_COUNT`), in the layouts' order.
fn by_count() -> &'static Vec<Vec<Cut>> {
    static B: OnceLock<Vec<Vec<Cut>>> = OnceLock::new();
    B.get_or_init(|| {
        let mut out: Vec<Vec<Cut>> = Vec::new();
        for (names, fewest) in layouts() {
            for n in fewest..=names.len() {
                if out.len() <= n {
                    out.resize_with(n + 1, Vec::new);
                }
                let cut = &names[..n];
                out[n].push(Cut {
                    plan: plan(cut, n),
                    shaped: cut
                        .iter()
                        .enumerate()
                        .filter_map(|(i, name)| shape_of(name).map(|s| (i, s)))
                        .collect(),
                });
            }
        }
        out
    })
}

/// The columns of a line without a directive, from the known layouts its shape fits.
///
/// A line that fits none still gives its date, time, method and path (and the query after it)
/// when a method word is followed by a path; otherwise None.
fn infer_plan(parts: &[&[u8]]) -> Option<Plan> {
    let n = parts.len();
    let mut agreed: Option<Plan> = None;
    for cut in by_count().get(n).map(Vec::as_slice).unwrap_or_default() {
        let fits = cut
            .shaped
            .iter()
            .all(|&(i, s)| parts.get(i).is_some_and(|v| fits_shape(s, v)));
        if !fits {
            continue;
        }
        match &mut agreed {
            None => agreed = Some(cut.plan),
            Some(a) => {
                for (mine, theirs) in a.iter_mut().zip(&cut.plan) {
                    if mine != theirs {
                        *mine = Cols::default();
                    }
                }
            }
        }
    }
    if agreed.is_some() {
        return agreed;
    }
    // IIS keeps one order whatever fields are picked: `cs-method cs-uri-stem cs-uri-query s-port
    // cs-username c-ip ... sc-status sc-substatus sc-win32-status`.
    for i in 2..n.saturating_sub(1) {
        if parts[i + 1].first() == Some(&b'/') && fits_shape(Shape::Method, parts[i]) {
            let mut p = Plan::default();
            p[DATE] = Cols::one(0);
            p[TIME] = Cols::one(1);
            p[STEM] = Cols::one(i + 1);
            p[METHOD] = Cols::one(i);
            let q = i + 2;
            if q >= n || !(parts[q] == b"-" || memchr(b'=', parts[q]).is_some()) {
                return Some(p);
            }
            if q + 3 < n
                && fits_shape(Shape::Port, parts[q + 1])
                && fits_shape(Shape::Ip, parts[q + 3])
            {
                p[IP] = Cols::one(q + 3);
            }
            if let Some(j) = (q + 1..n.saturating_sub(2)).find(|&j| {
                parts[j].len() == 3
                    && digits(parts[j])
                    && digits(parts[j + 1])
                    && digits(parts[j + 2])
            }) {
                p[STATUS] = Cols::one(j);
            }
            p[QUERY] = Cols::one(q);
            return Some(p);
        }
    }
    None
}

/// A data line, read with the field names of the latest `#Fields:` directive.
///
/// Without a directive (or when the line's field count is not the directive's), the line is read
/// by the known layouts its shape fits; a line that fits none is not taken as W3C.
pub fn parse_w3c<'a>(line: &'a [u8], ctx: &FileContext) -> Option<LineFields<'a>> {
    let names = &ctx.iis_fields;
    if line.first() == Some(&b'#') {
        return None;
    }
    let mut end = line.len();
    while end > 0 && line[end - 1] == b'\r' {
        end -= 1;
    }
    let line = &line[..end];
    let sep = if memchr(b'\t', line).is_some() {
        b'\t'
    } else {
        b' '
    };
    // `bytes.split(sep)`, found with memchr (a token makes a value 1.2 KB long)
    let mut parts: Vec<&[u8]> = Vec::with_capacity(40);
    let mut from = 0;
    for at in memchr::memchr_iter(sep, line) {
        parts.push(&line[from..at]);
        from = at + 1;
    }
    parts.push(&line[from..]);
    let dated = w3c_dated(line);
    let mut p = None;
    if (names.is_empty() || names.len() != parts.len()) && dated {
        p = infer_plan(&parts);
    }
    let p = match p {
        Some(p) => p,
        None => {
            if names.is_empty() || (names[0] == "date" && !dated) {
                return None;
            }
            plan(names, parts.len())
        }
    };
    let date = get(&parts, &p[DATE]);
    let clock = get(&parts, &p[TIME]);
    // W3C times are UTC by definition, whatever the server's zone. They are when the entry was
    // written, after the response: `time-taken` (IIS: ms; CloudFront: seconds, with a point) before.
    let mut ts = match (date, clock) {
        (Some(d), Some(c)) => {
            let mut buf = Vec::with_capacity(d.len() + c.len() + 2);
            buf.extend_from_slice(d);
            buf.push(b' ');
            buf.extend_from_slice(c);
            buf.push(b'Z');
            // UTC also where the `Z` cannot be read as the zone (a clock with trailing text).
            timeparse::parse_iso(&buf, &timeparse::Zone::Utc)
        }
        _ => None,
    };
    if let (Some(taken), Some(_)) = (get(&parts, &p[TAKEN]), ts) {
        let scale = if memchr(b'.', taken).is_some() {
            1_000_000.0
        } else {
            1000.0
        };
        ts = arrival(ts, seconds_us(taken, scale));
    }
    let (_, path) = match get(&parts, &p[STEM]) {
        Some(stem) => split_target_text(stem),
        None => (None, None),
    };
    let query_span = p[QUERY].as_slice().first().and_then(|&q| {
        // one separator byte after each earlier value
        let start: usize = parts.get(..q)?.iter().map(|v| v.len()).sum::<usize>() + q;
        Some((start, start + parts.get(q)?.len()))
    });
    Some(LineFields {
        ts,
        host: strip_port_text(get(&parts, &p[HOST]).and_then(text)),
        method: get(&parts, &p[METHOD]).and_then(text),
        path,
        status: get(&parts, &p[STATUS]).and_then(status),
        client_ip: get(&parts, &p[IP]).and_then(text),
        // IIS writes spaces inside a value as `+`.
        user_agent: get(&parts, &p[UA])
            .and_then(text)
            .map(|ua| match ua.contains('+') {
                true => Cow::Owned(ua.replace('+', " ")),
                false => ua,
            }),
        query_span,
    })
}

#[cfg(test)]
mod tests;
