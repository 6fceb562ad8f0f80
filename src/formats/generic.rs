//! Any other line: the `Probe` (a line with its tokens cut short) and the generic best effort
//! (the port of `parse_generic` and `Probe` in `formats/__init__.py`).

use std::borrow::Cow;
use std::sync::LazyLock;

use memchr::memmem;
use regex::bytes::{Captures, Regex};

use super::common::{
    py_upper, split_target, status, strip_client_port, strip_port, FileContext, LineFields,
};
use super::jsonlog;
use crate::timeparse;

/// A line with each token cut down to one `x`, and the way back to the line's own offsets.
///
/// The formats' detection tests and the generic parser's searches (a timestamp, a request line,
/// key=value pairs anywhere in the line) run on it: none of them can match inside a token, and a
/// token is 1.2 KB to walk. What they capture is read from the line.
pub struct Probe<'a> {
    pub line: &'a [u8],
    pub text: Cow<'a, [u8]>,
    /// Where each `x` stands in `text`.
    marks: Vec<usize>,
    /// Bytes cut up to and including that token.
    shift: Vec<usize>,
}

impl<'a> Probe<'a> {
    pub fn new(line: &'a [u8]) -> Probe<'a> {
        let mut p = Probe {
            line,
            text: Cow::Borrowed(line),
            marks: Vec::new(),
            shift: Vec::new(),
        };
        if memmem::find(line, b"eyJ").is_none() {
            return p;
        }
        let hits = crate::scan::find_tokens(line, 1, false);
        if hits.is_empty() {
            return p;
        }
        let mut text = Vec::with_capacity(line.len());
        let (mut prev, mut cut) = (0, 0);
        for h in &hits {
            text.extend_from_slice(&line[prev..h.start]);
            p.marks.push(h.start - cut);
            cut += h.end - h.start - 1;
            p.shift.push(cut);
            text.push(b'x');
            prev = h.end;
        }
        text.extend_from_slice(&line[prev..]);
        p.text = Cow::Owned(text);
        p
    }

    /// The line's offset for an offset of `text` (one past a token's `x` is one past the token).
    pub fn at(&self, offset: usize) -> usize {
        let k = self.marks.partition_point(|&m| m < offset);
        offset + if k > 0 { self.shift[k - 1] } else { 0 }
    }

    /// What `text[start..end]` covers in the line.
    pub fn span(&self, start: usize, end: usize) -> &'a [u8] {
        let (a, b) = (self.at(start), self.at(end));
        self.line.get(a..b).unwrap_or_default()
    }

    fn group(&self, c: &Captures<'_>, i: usize) -> &'a [u8] {
        c.get(i).map_or(&[][..], |m| self.span(m.start(), m.end()))
    }
}

// --- the keys app logs name their fields by (jsonlog.py's *_KEYS) ------------------------------
// TODO(lead): the w3cjson helper ports these to jsonlog.rs; dedupe when both have landed.
const HOST_KEYS: &[&str] = &[
    "requesthost",
    "request.host",
    "request_host",
    "originalhost",
    "host",
    "hostname",
    "url.domain",
    ":authority",
    "authority",
    "x-forwarded-host",
    "http_host",
    "request_hostname",
    "clientrequesthost",
    "domainname",
    "vhost",
    "domain",
];
const METHOD_KEYS: &[&str] = &[
    "requestmethod",
    "request.method",
    "request_method",
    "http.request.method",
    "method",
    "httpmethod",
    "http_method",
    "clientrequestmethod",
    "verb",
];
const PATH_KEYS: &[&str] = &[
    "requestpath",
    "request.uri",
    "request_path",
    "url.path",
    "path",
    "x-envoy-origin-path",
    "x-envoy-original-path",
    "uri",
    "requesturi",
    "request_uri",
    "originalrequesturiwithargs",
    "url.original",
    "url.full",
    "requesturl",
    "request_url",
    "url",
    "originalurl",
    "clientrequesturi",
    "target",
];
const STATUS_KEYS: &[&str] = &[
    "downstreamstatus",
    "http.response.status_code",
    "status",
    "statuscode",
    "status_code",
    "httpstatus",
    "httpstatuscode",
    "http_status",
    "response_status",
    "responsestatus",
    "response_code",
    "responsecode",
    "edgeresponsestatus",
    "originstatus",
];
const IP_KEYS: &[&str] = &[
    "clienthost",
    "request.client_ip",
    "client_ip",
    "clientip",
    "request.remote_ip",
    "remote_ip",
    "remoteip",
    "remote_addr",
    "remoteaddr",
    "client.ip",
    "source.ip",
    "clientaddr",
    "c-ip",
    "clientaddress",
    "client_address",
    "sourceip",
    "downstream_remote_address",
    "client.address",
    "source.address",
    "ip",
    "x_real_ip",
    "x_forwarded_for",
    "x-forwarded-for",
    "http_x_forwarded_for",
    "x_forward_for",
    "fwd",
];
const UA_KEYS: &[&str] = &[
    "request_user-agent",
    "user_agent.original",
    "useragent",
    "user_agent",
    "user-agent",
    "http_user_agent",
    "useragent_s",
];

/// The key=value pairs of a line, first value of a key kept (lowercased key, value's bytes).
struct Flat<'a> {
    pairs: Vec<(String, &'a [u8])>,
}

impl<'a> Flat<'a> {
    /// `jsonlog.first`: the value of the first of these keys present (every value here is real:
    /// empty and `-` values were not kept).
    fn first(&self, keys: &[&str]) -> Option<&'a [u8]> {
        keys.iter()
            .find_map(|k| self.pairs.iter().find(|(pk, _)| pk == k).map(|(_, v)| *v))
    }

    fn first_text(&self, keys: &[&str]) -> Option<String> {
        self.first(keys)
            .map(|v| String::from_utf8_lossy(v).into_owned())
    }
}

// --- the searches -------------------------------------------------------------------------------
const METHODS: &str = "(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS)";

fn rx(pattern: &str) -> Regex {
    Regex::new(pattern).expect("a valid pattern")
}

static REQUEST_ANY: LazyLock<Regex> = LazyLock::new(|| {
    rx(&format!(
        r#"(?-u)"?\b{METHODS} (\S+) HTTP/[\d.]+"?(?:\s+(\d{{3}})\b)?"#
    ))
});
// urllib3's debug line names the origin before the request: `https://host:443 "POST /p HTTP/1.1" 200 12`.
static ORIGIN_BEFORE: LazyLock<Regex> = LazyLock::new(|| rx(r#"(?-u)(https?://[^\s/"]+) "?$"#));
// A call an app logs without a protocol version: `http: POST https://host/p -> 200 (122 ms)`,
// `GET /p 200 5.1 ms` (morgan), `POST https://host/p status=401`. The status must follow the
// target closely (an arrow, `returned`, `status=` or only spaces): `call_status` reads it.
static CALL: LazyLock<Regex> = LazyLock::new(|| {
    rx(&format!(
        r#"(?-u)\b{METHODS}[ \t]+"?((?:https?://|/)[^\s"'<>]*)"?"#
    ))
});
static IP_CELL: LazyLock<Regex> = LazyLock::new(|| {
    rx(r"(?-u)^(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]{0,4}){2,7})$")
});
const ADDR: &str = r"([0-9A-Fa-f.:]*[.:][0-9A-Fa-f.:]*|\[[0-9A-Fa-f:.]+\](?::\d+)?)";

#[derive(Clone, Copy, PartialEq)]
enum Field {
    Status,
    ClientIp,
}

// Where some well-known app servers write a status or the client, when nothing else gave them:
// (a cheap marker that must be in the line, the field, a regex whose group 1 is the value).
static EXTRAS: LazyLock<[(&[u8], Field, Regex); 4]> = LazyLock::new(|| {
    [
        // uWSGI: `(HTTP/1.1 200)`
        (
            &b"(HTTP/"[..],
            Field::Status,
            rx(r"(?-u)\(HTTP/[\d.]+ (\d{3})\)"),
        ),
        // Apache's error log
        (
            b"[client ",
            Field::ClientIp,
            rx(&format!(r"(?-u)\[client {ADDR}\]")),
        ),
        // uWSGI
        (
            b" vars in ",
            Field::ClientIp,
            rx(&format!(r"(?-u)\] {ADDR} \([^)]*\) \{{\d+ vars")),
        ),
        // Rails
        (
            b" for ",
            Field::ClientIp,
            rx(&format!(r#"(?-u)^Started [A-Z]+ "[^"]*" for {ADDR} at "#)),
        ),
    ]
});
static KV: LazyLock<Regex> = LazyLock::new(|| {
    rx(r#"(?-u)(?:^|[\s,;])([A-Za-z_@][\w.@-]{0,40})=("[^"\\]*(?:\\.[^"\\]*)*"|[^\s,;"]*)"#)
});

/// `_CALL`'s optional tail from `pos` (after the target and its quote): `[ \t]*(?:->|=>|→|returned|
/// responded(?: with)?|status(?:=|: ?)|-)?[ \t]*(\d{3})(?![\w.])`, the three digits' start.
fn call_status(t: &[u8], pos: usize) -> Option<usize> {
    const ARROWS: [&[u8]; 10] = [
        b"->",
        b"=>",
        b"\xe2\x86\x92",
        b"returned",
        b"responded with",
        b"responded",
        b"status=",
        b"status: ",
        b"status:",
        b"-",
    ];
    let blank = |mut i: usize| {
        while t.get(i).is_some_and(|&b| b == b' ' || b == b'\t') {
            i += 1;
        }
        i
    };
    let digits = |i: usize| {
        let d = t.get(i..i + 3)?;
        let next_ok = t
            .get(i + 3)
            .is_none_or(|&b| !(b.is_ascii_alphanumeric() || b == b'_' || b == b'.'));
        (d.iter().all(u8::is_ascii_digit) && next_ok).then_some(i)
    };
    let q = blank(pos);
    let rest = t.get(q..).unwrap_or_default();
    ARROWS
        .iter()
        .filter(|a| rest.starts_with(a))
        .find_map(|a| digits(blank(q + a.len())))
        .or_else(|| digits(q))
}

/// `bytes.strip()`: the six ASCII whitespace bytes off both ends.
fn strip(b: &[u8]) -> &[u8] {
    let ws = |c: &u8| matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c);
    let start = b.iter().position(|c| !ws(c)).unwrap_or(b.len());
    let end = b.iter().rposition(|c| !ws(c)).map_or(start, |e| e + 1);
    &b[start..end]
}

/// `status()` of a value that is 0 when its digits are `000` (Python's `status(a) or status(b)`
/// takes the second then).
fn truthy(code: Option<i32>) -> Option<i32> {
    code.filter(|&c| c != 0)
}

/// Best effort: the first timestamp anywhere, a request line if there is one, and key=value pairs.
///
/// The searches run on the line's `Probe` (the caller's, when it has one); what they capture is
/// read from the line itself.
pub fn parse_generic(line: &[u8], ctx: &FileContext, probe: Option<&Probe<'_>>) -> LineFields {
    let own;
    let probe = match probe {
        Some(p) => p,
        None => {
            own = Probe::new(line);
            &own
        }
    };
    let t: &[u8] = &probe.text;
    let ts = timeparse::search_any(t, ctx.year, &ctx.tz, ctx.mtime_us);
    if memmem::find(line, b"{\"").is_some() {
        if let Some(mut got) = jsonlog::parse_json_line(line, ctx, false) {
            if got.ts.is_none() {
                got.ts = ts;
            }
            return got;
        }
    }
    let mut method: Option<String> = None;
    let mut target: Option<String> = None;
    let mut code: Option<&[u8]> = None;
    let mut origin: Option<String> = None;
    if let Some(m) = REQUEST_ANY.captures(t) {
        let whole = m.get(0).map_or(0, |g| g.start());
        method = m
            .get(1)
            .map(|g| String::from_utf8_lossy(g.as_bytes()).into_owned());
        let tgt = String::from_utf8_lossy(probe.group(&m, 2)).into_owned();
        code = m.get(3).map(|g| g.as_bytes());
        if tgt.starts_with('/') {
            // `$` also matches before a final newline.
            let mut window = &t[whole.saturating_sub(300)..whole];
            if let Some(w) = window.strip_suffix(b"\n") {
                window = w;
            }
            if let Some(o) = ORIGIN_BEFORE.captures(window).and_then(|o| o.get(1)) {
                origin = Some(String::from_utf8_lossy(o.as_bytes()).into_owned());
            }
        }
        target = Some(tgt);
    } else if let Some(m) = CALL.captures(t) {
        method = m
            .get(1)
            .map(|g| String::from_utf8_lossy(g.as_bytes()).into_owned());
        // A sentence's punctuation after the target is not part of it.
        let tgt = String::from_utf8_lossy(probe.group(&m, 2));
        target = Some(tgt.trim_end_matches([':', ',', ';', '.', ')']).to_string());
        let end = m.get(0).map_or(0, |g| g.end());
        code = call_status(t, end).and_then(|i| t.get(i..i + 3));
    }
    let mut flat = Flat { pairs: Vec::new() };
    if memchr::memchr(b'=', line).is_some() {
        for k in KV.captures_iter(t) {
            let mut v = probe.group(&k, 2);
            if v.first() == Some(&b'"') {
                v = v.get(1..v.len().saturating_sub(1)).unwrap_or_default();
            }
            if !v.is_empty() && v != b"-" {
                let key = k.get(1).map_or(String::new(), |g| {
                    String::from_utf8_lossy(g.as_bytes()).to_ascii_lowercase()
                });
                if !flat.pairs.iter().any(|(pk, _)| *pk == key) {
                    flat.pairs.push((key, v));
                }
            }
        }
    }
    if target.is_none() {
        target = flat.first_text(PATH_KEYS);
    }
    let (mut thost, path) = match &target {
        Some(t) => split_target(t),
        None => (None, None),
    };
    if let Some(o) = origin {
        thost = split_target(&(o + "/")).0;
    }
    let host = flat.first_text(HOST_KEYS);
    if method.is_none() {
        method = flat.first_text(METHOD_KEYS);
    }
    let mut code_ =
        truthy(code.and_then(status)).or_else(|| flat.first(STATUS_KEYS).and_then(status_text));
    let mut ip = flat.first_text(IP_KEYS);
    if code_.is_none() || ip.is_none() {
        for (marker, field, rx) in EXTRAS.iter() {
            let missing = match field {
                Field::Status => code_.is_none(),
                Field::ClientIp => ip.is_none(),
            };
            if missing && memmem::find(t, marker).is_some() {
                if let Some(x) = rx.captures(t).and_then(|x| x.get(1)) {
                    match field {
                        Field::Status => code_ = status(x.as_bytes()),
                        Field::ClientIp => {
                            ip = Some(String::from_utf8_lossy(x.as_bytes()).into_owned())
                        }
                    }
                }
            }
        }
    }
    if (code_.is_none() || ip.is_none()) && memmem::find(t, b" | ").is_some() {
        // Go web frameworks' request lines (Gin, Fiber, Echo): `| 401 | 1.2ms | 203.0.113.9 | GET "/p"`.
        let cells = t.split(|&b| b == b'|').map(strip);
        if code_.is_none() {
            code_ = cells
                .clone()
                .find(|c| c.len() == 3 && c.iter().all(u8::is_ascii_digit))
                .and_then(status);
        }
        if ip.is_none() {
            ip = cells
                .into_iter()
                .find(|c| IP_CELL.is_match(c))
                .map(|c| String::from_utf8_lossy(c).into_owned());
        }
    }
    let client_ip = match ip {
        Some(ip) if ip.contains('.') || ip.starts_with('[') => strip_client_port(Some(&ip)),
        other => other,
    };
    LineFields {
        ts,
        host: strip_port(thost.or(host).as_deref()),
        method: method.filter(|m| !m.is_empty()).map(|m| py_upper(&m)),
        path,
        status: code_,
        client_ip,
        user_agent: flat.first_text(UA_KEYS),
        query_span: None,
    }
}

/// `status()` of a text value: three characters that are all decimal digits. Python's
/// `str.isdigit` and `int` take any script's decimal digits (`١٢٣` is 123).
fn status_text(v: &[u8]) -> Option<i32> {
    if v.len() == 3 {
        return status(v);
    }
    if v.len() > 12 || v.is_ascii() {
        return None;
    }
    let text = String::from_utf8_lossy(v);
    let mut n = 0;
    let mut count = 0;
    for c in text.chars() {
        n = n * 10 + decimal_digit(c)? as i32;
        count += 1;
    }
    (count == 3).then_some(n)
}

/// The value of a Unicode decimal digit (general category Nd, Unicode 14 as in CPython 3.11).
fn decimal_digit(c: char) -> Option<u32> {
    const ZEROS: [u32; 66] = [
        0x30, 0x660, 0x6F0, 0x7C0, 0x966, 0x9E6, 0xA66, 0xAE6, 0xB66, 0xBE6, 0xC66, 0xCE6, 0xD66,
        0xDE6, 0xE50, 0xED0, 0xF20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90,
        0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0,
        0xFF10, 0x104A0, 0x10D30, 0x11066, 0x110F0, 0x11136, 0x111D0, 0x112F0, 0x11450, 0x114D0,
        0x11650, 0x116C0, 0x11730, 0x118E0, 0x11950, 0x11C50, 0x11D50, 0x11DA0, 0x16A60, 0x16AC0,
        0x16B50, 0x1D7CE, 0x1D7D8, 0x1D7E2, 0x1D7EC, 0x1D7F6, 0x1E140, 0x1E2F0, 0x1E950, 0x1FBF0,
    ];
    let cp = c as u32;
    let k = ZEROS.partition_point(|&z| z <= cp);
    let zero = *ZEROS.get(k.checked_sub(1)?)?;
    (cp - zero < 10).then_some(cp - zero)
}

#[cfg(test)]
mod tests {
    use super::super::vectors::line_mismatches;
    use super::super::Format;
    use super::*;
    use proptest::prelude::*;

    const TOKEN: &[u8] = b"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln";

    #[test]
    fn probe_cuts_tokens_and_maps_offsets_back() {
        let line = [&b"a="[..], TOKEN, b" b ", TOKEN, b"!"].concat();
        let p = Probe::new(&line);
        assert_eq!(&*p.text, b"a=x b x!");
        assert_eq!(p.at(0), 0);
        assert_eq!(p.at(2), 2); // the first `x` is where the token starts
        assert_eq!(p.at(3), 2 + TOKEN.len()); // one past it is one past the token
        assert_eq!(p.span(2, 3), TOKEN);
        assert_eq!(p.span(6, 7), TOKEN);
        assert_eq!(p.span(7, 8), b"!");
        assert_eq!(
            &*Probe::new(b"no token eyJ here").text,
            b"no token eyJ here"
        );
    }

    #[test]
    fn call_status_reads_what_follows_a_target() {
        assert_eq!(status_text("١٢٣".as_bytes()), Some(123));
        assert_eq!(status_text("4٠٣".as_bytes()), Some(403));
        assert_eq!(status_text("²²²".as_bytes()), None);
        assert_eq!(status_text(b"4031"), None);
        let cases: [(&[u8], Option<&[u8]>); 12] = [
            (b"GET /p 200 5.1 ms", Some(b"200")),
            (b"POST https://h/p -> 401 (12 ms)", Some(b"401")),
            (b"GET /p => 403", Some(b"403")),
            (b"GET /p \xe2\x86\x92 404", Some(b"404")),
            (b"GET /p returned 500", Some(b"500")),
            (b"GET /p responded with 201", Some(b"201")),
            (b"GET /p status: 204", Some(b"204")),
            (b"GET /p - 302", Some(b"302")),
            (b"GET /p 2001", None),
            (b"GET /p 200.5", None),
            (b"GET /p took 200", None),
            (b"GET \"/p\" 200", Some(b"200")),
        ];
        for (line, want) in cases {
            let m = CALL.find(line).unwrap();
            let got = call_status(line, m.end()).map(|i| &line[i..i + 3]);
            assert_eq!(got, want, "{:?}", String::from_utf8_lossy(line));
        }
    }

    #[test]
    fn generic_and_syslog_vectors_parse_as_python_did() {
        let (checked, bad) = line_mismatches(&[Format::Generic, Format::Syslog]);
        for b in bad.iter().take(40) {
            eprintln!("{b}");
        }
        assert!(bad.is_empty(), "{} of {checked} differ", bad.len());
    }

    /// µs per `parse_line` over the vectors' lines (`cargo test --release --lib parse_line_timing
    /// -- --ignored --nocapture`).
    #[test]
    #[ignore]
    fn parse_line_timing() {
        use super::super::vectors::{bytes, context, load};
        let cases: Vec<_> = load("lines")
            .iter()
            .map(|v| {
                (
                    bytes(&v["line"]),
                    Format::from_name(v["fmt"].as_str().unwrap()).unwrap(),
                    context(v),
                )
            })
            .collect();
        let rounds = 20;
        let t = std::time::Instant::now();
        let mut n = 0usize;
        for _ in 0..rounds {
            for (line, fmt, ctx) in &cases {
                n += std::hint::black_box(super::super::parse_line(line, *fmt, ctx))
                    .1
                    .path
                    .is_some() as usize;
            }
        }
        let per = t.elapsed().as_secs_f64() * 1e6 / (rounds * cases.len()) as f64;
        eprintln!(
            "parse_line: {per:.2} µs/line over {} lines ({n})",
            cases.len()
        );
        for f in Format::ALL {
            let mine: Vec<_> = cases.iter().filter(|c| c.1 == f).collect();
            if mine.is_empty() {
                continue;
            }
            let t = std::time::Instant::now();
            for _ in 0..rounds {
                for (line, fmt, ctx) in &mine {
                    std::hint::black_box(super::super::parse_line(line, *fmt, ctx));
                }
            }
            let per = t.elapsed().as_secs_f64() * 1e6 / (rounds * mine.len()) as f64;
            eprintln!(
                "  given {:16} {per:7.2} µs/line ({} lines)",
                f.name(),
                mine.len()
            );
        }
    }

    fn pieces() -> impl Strategy<Value = Vec<u8>> {
        let bits = prop::sample::select(vec![
            TOKEN,
            b"eyJ",
            b"GET ",
            b"POST https://h:443/p",
            b" HTTP/1.1\" ",
            b"200",
            b" | ",
            b"=",
            b"\"",
            b"a=",
            b"status=",
            b"ip=",
            b"[client ",
            b"(HTTP/1.1 ",
            b"Started GET \"",
            b" for ",
            b" vars in ",
            b"{\"",
            b"\n",
            b" ",
            b"1.2.3.4:5",
            b"[::1]",
            b"\xe2\x86\x92",
            b"\xff",
            b"<13>Nov 26 12:14:14 h app[1]: ",
            b"2026-11-26T09:10:12Z stdout F ",
        ]);
        let piece = prop_oneof![
            bits.prop_map(|b| b.to_vec()),
            prop::collection::vec(any::<u8>(), 0..6)
        ];
        prop::collection::vec(piece, 0..30).prop_map(|v| v.concat())
    }

    proptest! {
        #[test]
        fn any_bytes_parse_without_panic(line in pieces(), k in 0usize..16) {
            let ctx = FileContext::default();
            let fmt = Format::ALL[k];
            let (_, got) = super::super::parse_line(&line, fmt, &ctx);
            if let Some((a, b)) = got.query_span {
                prop_assert!(a <= b && b <= line.len());
            }
            let _ = parse_generic(&line, &ctx, None);
            let _ = super::super::detect(&[&line[..], &line[..line.len() / 2]]);
            let p = Probe::new(&line);
            for i in 0..=p.text.len() {
                prop_assert!(p.at(i) <= line.len());
            }
        }
    }
}
