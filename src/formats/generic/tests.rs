//! Tests of the generic best-effort parser: the probe, the call status, the vectors and fragment
//! cases Python answered, random searches and tokens; an ignored timing test.

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
        let m = call(line).unwrap();
        let got = call_status(line, m.end).map(|i| &line[i..i + 3]);
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

/// This thread's time on a CPU, in ns (wall time says little on a machine shared by many jobs).
fn cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// CPU µs per `parse_line` over the vectors' lines (`cargo test --release --lib parse_line_timing
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
    // The thread's CPU time moves at scheduler ticks: each figure runs for at least 0.3 s.
    let per_line = |run: &dyn Fn(usize) -> usize, lines: usize| {
        let t = cpu_ns();
        let mut calls = 0;
        while cpu_ns() - t < 300_000_000 {
            calls += run(lines);
        }
        (cpu_ns() - t) as f64 / 1e3 / calls as f64
    };
    let all = |_: usize| {
        for (line, fmt, ctx) in &cases {
            std::hint::black_box(super::super::parse_line(line, *fmt, ctx));
        }
        cases.len()
    };
    eprintln!(
        "parse_line: {:.2} µs/line over {} lines",
        per_line(&all, cases.len()),
        cases.len()
    );
    let spans: Vec<_> = cases.iter().map(|c| plain_tokens(&c.0)).collect();
    let with_tokens = |_: usize| {
        for ((line, fmt, ctx), s) in cases.iter().zip(&spans) {
            std::hint::black_box(super::super::parse_line_with_tokens(
                line,
                *fmt,
                ctx,
                Some(s),
            ));
        }
        cases.len()
    };
    eprintln!(
        "parse_line_with_tokens: {:.2} µs/line",
        per_line(&with_tokens, cases.len())
    );
    for f in Format::ALL {
        let mine: Vec<_> = cases.iter().filter(|c| c.1 == f).collect();
        if mine.is_empty() {
            continue;
        }
        let run = |_: usize| {
            for (line, fmt, ctx) in &mine {
                std::hint::black_box(super::super::parse_line(line, *fmt, ctx));
            }
            mine.len()
        };
        eprintln!(
            "  given {:16} {:7.2} µs/line ({} lines)",
            f.name(),
            per_line(&run, mine.len()),
            mine.len()
        );
    }
}

const METHODS: &str = "(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS)";

/// The Python regexes, as references for the hand-written searches.
static REQUEST_ANY: LazyLock<Regex> = LazyLock::new(|| {
    rx(&format!(
        r#"(?-u)"?\b{METHODS} (\S+) HTTP/[\d.]+"?(?:\s+(\d{{3}})\b)?"#
    ))
});
static ORIGIN_BEFORE: LazyLock<Regex> = LazyLock::new(|| rx(r#"(?-u)(https?://[^\s/"]+) "?\n?$"#));
static CALL: LazyLock<Regex> = LazyLock::new(|| {
    rx(&format!(
        r#"(?-u)\b{METHODS}[ \t]+"?((?:https?://|/)[^\s"'<>]*)"?"#
    ))
});

static KV: LazyLock<Regex> = LazyLock::new(|| {
    rx(r#"(?-u)(?:^|[\s,;])([A-Za-z_@][\w.@-]{0,40})=("[^"\\]*(?:\\.[^"\\]*)*"|[^\s,;"]*)"#)
});

fn searches() -> impl Strategy<Value = Vec<u8>> {
    let bits = prop::sample::select(vec![
        &b"GET"[..],
        b"POST",
        b"PUT",
        b"OPTIONS",
        b"xGET",
        b" ",
        b"\t",
        b"\n",
        b"\"",
        b"'",
        b"/",
        b"http://",
        b"https://",
        b" HTTP/",
        b"1.1",
        b"200",
        b"2001",
        b"a",
        b"_",
        b".",
        b"<",
        b"=",
        b"k=",
        b"@",
        b"-",
        b",",
        b";",
        b"\\",
        b"\"v\\\"w\"",
        b"abcdefghijklmnopqrstuvwxyz0123456789",
    ]);
    prop::collection::vec(bits, 0..24).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]
    #[test]
    fn hand_written_searches_match_the_regexes(t in searches()) {
        let want = REQUEST_ANY.captures(&t);
        let got = request_any(&t);
        prop_assert_eq!(want.is_some(), got.is_some());
        if let (Some(w), Some(g)) = (want, got) {
            let span = |i: usize| w.get(i).map(|m| (m.start(), m.end()));
            prop_assert_eq!(w.get(0).map(|m| (m.start(), m.end())), Some((g.start, g.end)));
            prop_assert_eq!(span(1), Some(g.method));
            prop_assert_eq!(span(2), Some(g.target));
            prop_assert_eq!(span(3), g.code);
        }
        let want = CALL.captures(&t);
        let got = call(&t);
        prop_assert_eq!(want.is_some(), got.is_some());
        if let (Some(w), Some(g)) = (want, got) {
            let span = |i: usize| w.get(i).map(|m| (m.start(), m.end()));
            prop_assert_eq!(w.get(0).map(|m| (m.start(), m.end())), Some((g.start, g.end)));
            prop_assert_eq!(span(1), Some(g.method));
            prop_assert_eq!(span(2), Some(g.target));
        }
        let want: Vec<_> = KV
            .captures_iter(&t)
            .map(|c| {
                let g = |i: usize| c.get(i).map_or((0, 0), |m| (m.start(), m.end()));
                (g(1), g(2))
            })
            .collect();
        prop_assert_eq!(key_values(&t), want);
        let want = ORIGIN_BEFORE.captures(&t).and_then(|c| c.get(1)).map(|m| m.as_bytes());
        prop_assert_eq!(origin_before(&t), want);
    }
}

fn pieces() -> impl Strategy<Value = Vec<u8>> {
    crate::testing::pieces(
        vec![
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
        ],
        6,
        30,
    )
}

/// Lines of app-log fragments and what Python's `parse_line` answered for them
/// (see `tests/data/README.md`): the generic parser's searches meet each other there.
#[test]
fn fragment_cases_parse_as_python_did() {
    use super::super::vectors::{bytes, context, expected_fields};
    use std::io::BufRead;
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/generic_cases.jsonl.gz"
    );
    let file = std::fs::File::open(path).unwrap();
    let mut bad = Vec::new();
    let mut n = 0;
    for l in std::io::BufReader::new(flate2::read::GzDecoder::new(file)).lines() {
        let v: serde_json::Value = serde_json::from_str(&l.unwrap()).unwrap();
        n += 1;
        let line = bytes(&v["line"]);
        let fmt = Format::from_name(v["fmt"].as_str().unwrap()).unwrap();
        let want = (
            Format::from_name(v["name"].as_str().unwrap()).unwrap(),
            expected_fields(&v["fields"]),
        );
        let got = super::super::parse_line(&line, fmt, &context(&v));
        if got != want {
            bad.push(format!(
                "[{}] {:?}\n  want {want:?}\n  got  {got:?}",
                fmt.name(),
                String::from_utf8_lossy(&line)
            ));
        }
    }
    for b in bad.iter().take(20) {
        eprintln!("{b}");
    }
    assert!(n > 1000 && bad.is_empty(), "{} of {n} differ", bad.len());
}

#[test]
fn targets_decode_as_python_decoded_them() {
    // (line, method, path, status) as Python's parse_generic answered.
    let cases: [(&[u8], &str, &str, Option<i32>); 5] = [
        (b"x GET - HTTP/1.1 200", "GET", "-", Some(200)),
        (b"x GET \"\" HTTP/1.1", "GET", "\"\"", None),
        (b"x GET /a\xc3?q HTTP/1.1", "GET", "/a\u{fffd}", None),
        (b"POST /p\xe2\x86). then", "POST", "/p\u{fffd}", None),
        (b"y path=- uri=/u", "", "/u", None),
    ];
    for (line, method, path, code) in cases {
        let got = parse_generic(line, &FileContext::default(), None);
        assert_eq!(got.method.as_deref().unwrap_or(""), method);
        assert_eq!(got.path.as_deref(), Some(path));
        assert_eq!(got.status, code);
    }
}

fn plain_tokens(line: &[u8]) -> Vec<(usize, usize)> {
    crate::scan::find_tokens(line, 1, false)
        .iter()
        .map(|h| (h.start, h.end))
        .collect()
}

#[test]
fn tokens_given_answer_as_tokens_found() {
    use super::super::vectors::{bytes, context, load};
    use super::super::{parse_line, parse_line_with_tokens};
    for v in load("lines") {
        let line = bytes(&v["line"]);
        let fmt = Format::from_name(v["fmt"].as_str().unwrap()).unwrap();
        let ctx = context(&v);
        let spans = plain_tokens(&line);
        assert_eq!(
            parse_line_with_tokens(&line, fmt, &ctx, Some(&spans)),
            parse_line(&line, fmt, &ctx)
        );
    }
    // Spans that cannot be a scan's are not trusted.
    let line = [&b"a="[..], TOKEN].concat();
    let p = Probe::with_tokens(&line, Some(&[(1, 99)]));
    assert_eq!(&*p.text, b"a=x");
}

proptest! {
    #[test]
    fn tokens_given_answer_as_tokens_found_on_any_bytes(line in pieces(), k in 0usize..16) {
        let ctx = FileContext::default();
        let fmt = Format::ALL[k];
        let spans = plain_tokens(&line);
        prop_assert_eq!(
            super::super::parse_line_with_tokens(&line, fmt, &ctx, Some(&spans)),
            super::super::parse_line(&line, fmt, &ctx)
        );
    }

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
