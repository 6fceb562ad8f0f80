//! Tests of the W3C / IIS parser: UTC times, the cases Python answered, the key index, the shapes
//! against their regexes on random input; an ignored profiling loop.

use super::super::vectors::expected_fields;
use super::*;
use proptest::prelude::*;
use serde_json::Value;

/// W3C times are UTC whatever the configured zone, also where the clock is followed by text
/// (Python read `date clock Z` with its default zone, UTC).
#[test]
fn times_are_utc_whatever_the_zone() {
    let line = b"2026-11-20 00:00:38 10.0.0.4 GET /p\tx";
    let berlin = FileContext {
        tz: timeparse::Zone::from_text("Europe/Berlin").unwrap(),
        iis_fields: IIS_DEFAULT.iter().map(|f| f.to_string()).collect(),
        ..FileContext::default()
    };
    let got = parse_w3c(line, &berlin).and_then(|f| f.ts);
    assert_eq!(got, Some(1_795_132_838_000_000));
    let plain = b"2026-11-20 00:00:38 10.0.0.4 GET /p - 443 - 10.0.0.9 ua - 200 0 0 15";
    let got = parse_w3c(plain, &berlin).and_then(|f| f.ts);
    assert_eq!(got, Some(1_795_132_838_000_000));
}

/// Lines and what Python's `w3c.py` answered (`tests/data/w3c_cases.json`).
#[test]
fn cases_parse_as_python_did() {
    let cases: Vec<Value> =
        serde_json::from_str(include_str!("../../../tests/data/w3c_cases.json")).unwrap();
    let mut bad = Vec::new();
    for c in &cases {
        if let Some(d) = c.get("directives") {
            let chunk = b"x\n#Fields: date time\r\n#Fields:  a  B\tc\r\r\nno#Fields: x\n#Fields:";
            let want: Vec<(usize, Vec<String>)> = serde_json::from_value(d.clone()).unwrap();
            assert_eq!(field_directives(chunk), want);
            continue;
        }
        if let Some(n) = c.get("names") {
            let want: Vec<String> = serde_json::from_value(n.clone()).unwrap();
            assert_eq!(field_names(b"A\x1cB\x85C\xa0D\xc0E"), want);
            continue;
        }
        let line = c["line"].as_str().unwrap().as_bytes();
        let ctx = FileContext {
            iis_fields: field_names(c["fields_directive"].as_str().unwrap().as_bytes()),
            ..FileContext::default()
        };
        assert_eq!(looks_like_w3c(line), c["looks"].as_bool().unwrap(), "{c}");
        let want = (!c["fields"].is_null()).then(|| expected_fields(&c["fields"]));
        let got = parse_w3c(line, &ctx);
        if got != want {
            bad.push(format!(
                "{line:?}\n  want {want:?}\n  got  {got:?}",
                line = c["line"]
            ));
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn key_index_is_the_position_in_keys() {
    for (i, (k, _)) in KEYS.iter().enumerate() {
        assert_eq!(key_index(k), Some(i));
    }
    assert_eq!(key_index("s-ip"), None);
}

#[test]
fn shapes_agree_with_their_regexes() {
    let re = |p: &str| Regex::new(&format!(r"(?-u)\A(?:{p})\n?\z")).unwrap();
    let cases: [(Shape, Regex); 9] = [
        (Shape::Date, re(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")),
        (Shape::Time, re(r"[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?")),
        (Shape::Method, re(r"[A-Z][A-Z-]{2,15}")),
        (Shape::Port, re(r"[0-9]{1,5}")),
        (Shape::Version, re(r"HTTP/[0-9.]+|-")),
        (Shape::Protocol, re(r"https?|wss?|-")),
        (Shape::Status, re(r"[0-9]{3}|000|-")),
        (Shape::Number, re(r"[0-9]+(?:\.[0-9]+)?")),
        (Shape::Ip, re(IP_RE)),
    ];
    let mut runner = proptest::test_runner::TestRunner::default();
    runner
        .run(&"[0-9A-Za-z.:/\\-\n]{0,20}", |s| {
            for (shape, rx) in &cases {
                prop_assert_eq!(
                    fits_shape(*shape, s.as_bytes()),
                    rx.is_match(s.as_bytes()),
                    "{:?} {:?}",
                    shape,
                    s
                );
            }
            Ok(())
        })
        .unwrap();
}

proptest! {
    #[test]
    fn any_bytes_never_panic(line in proptest::collection::vec(any::<u8>(), 0..300), n in 0usize..20) {
        let mut ctx = FileContext::default();
        let _ = parse_w3c(&line, &ctx);
        let _ = looks_like_w3c(&line);
        let _ = field_directives(&line);
        ctx.iis_fields = IIS_DEFAULT.iter().take(n).map(|s| s.to_string()).collect();
        let _ = parse_w3c(&line, &ctx);
    }

    #[test]
    fn cut_and_spliced_lines_never_panic(cut in 0usize..200, at in 0usize..200, junk in "[ \t0-9A-Z:./=-]{0,4}") {
        let base = b"2026-11-26 05:06:07 10.0.0.1 GET /api/orders access_token=x 443 - 203.0.113.9 UA - 401 0 0 1500";
        let mut line = base[..cut.min(base.len())].to_vec();
        let at = at.min(line.len());
        line.splice(at..at, junk.bytes());
        for fields in [Vec::new(), field_names(b"date time s-ip cs-method cs-uri-stem cs-uri-query")] {
            let ctx = FileContext { iis_fields: fields, ..FileContext::default() };
            if let Some(f) = parse_w3c(&line, &ctx) {
                if let Some((a, b)) = f.query_span {
                    prop_assert!(a <= b && b <= line.len());
                }
            }
        }
    }
}

/// A loop over the IIS vectors for a profiler (`perf record ... w3c::tests::profile_loop`).
#[test]
#[ignore]
fn profile_loop() {
    use super::super::vectors::{bytes, context, load};
    let cases: Vec<_> = load("lines")
        .iter()
        .filter(|v| v["fmt"].as_str() == Some("iis") && v["name"].as_str() == Some("iis"))
        .map(|v| (bytes(&v["line"]), context(v)))
        .collect();
    let mut n = 0;
    for _ in 0..2000 {
        for (l, c) in &cases {
            n += parse_w3c(l, c).is_some() as usize;
        }
    }
    assert!(n > 0);
}
