//! Tests of the JSON parsers against Python's answers (vectors and cases), of the key roles, of
//! Python float reprs and of the document reader against serde_json held to orjson's rules; ignored
//! timing tests.

use super::super::vectors::line_mismatches;
use super::super::Format;
use super::doc::{find_special, number_ok};
use super::keys::{roles, FIELD_KEYS};
use super::*;
use serde_json::Value;

fn show(what: &str, checked: usize, bad: &[String]) {
    let n = if std::env::var_os("SHOW_ALL").is_some() {
        usize::MAX
    } else {
        12
    };
    for b in bad.iter().take(n) {
        eprintln!("{b}");
    }
    eprintln!("{what}: {} of {checked} differ", bad.len());
}

#[test]
fn vectors_of_my_formats_parse_as_python_did() {
    let (checked, bad) = line_mismatches(&[
        Format::Iis,
        Format::Traefik,
        Format::Caddy,
        Format::AppGw,
        Format::FrontDoor,
        Format::Json,
    ]);
    show("iis/json formats", checked, &bad);
    assert!(bad.is_empty());
}

/// The vectors whose given format is the one Python answered, parsed by these parsers directly.
fn direct_mismatches() -> (usize, Vec<String>) {
    use super::super::vectors::{bytes, context, expected_fields, load};
    let mine = [
        Format::Iis,
        Format::Traefik,
        Format::Caddy,
        Format::AppGw,
        Format::FrontDoor,
        Format::Json,
    ];
    let mut checked = 0;
    let mut bad = Vec::new();
    for v in load("lines") {
        let fmt = Format::from_name(v["fmt"].as_str().unwrap()).unwrap();
        if v["name"].as_str() != Some(fmt.name()) || !mine.contains(&fmt) {
            continue;
        }
        checked += 1;
        let line = bytes(&v["line"]);
        let ctx = context(&v);
        let want = expected_fields(&v["fields"]);
        let got = if fmt == Format::Iis {
            super::super::w3c::parse_w3c(&line, &ctx)
        } else {
            parse_json_line(&line, &ctx, true)
        };
        let Some(got) = got else {
            bad.push(format!(
                "{} [{}] None {:?}",
                v["source"],
                fmt.name(),
                String::from_utf8_lossy(&line)
            ));
            continue;
        };
        if got != want {
            bad.push(format!(
                "{} [{}] {:?}\n  want {:?}\n  got  {:?}",
                v["source"],
                fmt.name(),
                String::from_utf8_lossy(&line[..line.len().min(400)]),
                want,
                got
            ));
        }
    }
    (checked, bad)
}

#[test]
fn vectors_of_my_formats_parse_directly_as_python_did() {
    let (checked, bad) = direct_mismatches();
    show("direct", checked, &bad);
    assert!(bad.is_empty());
}

/// Lines and what Python's `jsonlog.py` answered (`tests/data/jsonlog_cases.json`, written
/// without the `inner=` callback).
#[test]
fn cases_parse_as_python_did() {
    let cases: Vec<Value> =
        serde_json::from_str(include_str!("../../../tests/data/jsonlog_cases.json")).unwrap();
    let mut bad = Vec::new();
    for c in &cases {
        let line = c["line"].as_str().unwrap().as_bytes();
        let want =
            (!c["fields"].is_null()).then(|| super::super::vectors::expected_fields(&c["fields"]));
        let got = parse_json_line(line, &FileContext::default(), false);
        if got != want {
            bad.push(format!(
                "{:?}\n  want {want:?}\n  got  {got:?}",
                &c["line"].as_str().unwrap()[..c["line"].as_str().unwrap().len().min(200)]
            ));
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

proptest::proptest! {
    #[test]
    fn find_special_is_the_first_quote_backslash_or_control(
        b in proptest::collection::vec(proptest::sample::select(vec![b'a', b'"', b'\\', 0u8, 0x1f, 0x20, 0x7f, 0x80, 0xff, b'!', b'[']), 0..200)
    ) {
        let want = b.iter().position(|&x| x == b'"' || x == b'\\' || x < 0x20);
        proptest::prop_assert_eq!(find_special(&b), want);
    }
}

#[test]
fn every_role_key_is_found_and_ids_fit_the_seen_set() {
    let r = roles();
    assert!(r.keys.len() <= 512);
    let most = r.buckets.iter().map(Vec::len).max();
    assert!(most <= Some(6), "{most:?}");
    for keys in FIELD_KEYS {
        for k in keys {
            assert!(r.get(k).is_some(), "{k}");
            if !k.contains('.') {
                assert!(r.get(&format!("{k}_s")).is_some(), "{k}_s");
            }
        }
    }
    assert!(r.get("elapsed").is_none() && r.get("").is_none());
    assert!(r.keys.iter().all(|(k, _)| k.to_lowercase() == *k));
}

proptest::proptest! {
    /// `get_ascii` of a key is `get` of its lowercase form.
    #[test]
    fn ascii_keys_are_found_without_lowering(
        pick in 0usize..400,
        flips in proptest::collection::vec(proptest::prelude::any::<bool>(), 0..40),
        junk in "[A-Za-z_.@-]{0,12}",
    ) {
        let r = roles();
        let base = r.keys.get(pick).map_or(junk.as_str(), |(k, _)| k.as_str());
        let key: String = base
            .chars()
            .zip(flips.iter().chain(std::iter::repeat(&false)))
            .map(|(c, &up)| if up { c.to_ascii_uppercase() } else { c })
            .collect();
        let want = r.get(&key.to_ascii_lowercase()).map(|role| role.id);
        proptest::prop_assert_eq!(r.get_ascii(&key).map(|role| role.id), want);
    }
}

#[test]
fn floats_print_as_python_repr() {
    for (f, want) in [
        (1.0, "1.0"),
        (1e16, "1e+16"),
        (1e15, "1000000000000000.0"),
        (1e-5, "1e-05"),
        (0.0001, "0.0001"),
        (123456789.0, "123456789.0"),
        (0.1, "0.1"),
        (-0.0, "-0.0"),
        (1.5e300, "1.5e+300"),
        (1.8446744073709552e19, "1.8446744073709552e+19"),
        (-2.5e-7, "-2.5e-07"),
        (12345.678, "12345.678"),
        // exactly halfway between two shortest forms: Python takes the even one
        (-1438096285768600.2, "-1438096285768600.2"),
    ] {
        assert_eq!(py_float_repr(f), want);
    }
    for (text, want) in [
        ("-0", "0"),
        ("18446744073709551615", "18446744073709551615"),
        ("18446744073709551616", "1.8446744073709552e+19"),
        ("-9223372036854775808", "-9223372036854775808"),
        ("-9223372036854775809", "-9.223372036854776e+18"),
        ("1E2", "100.0"),
        ("0e5", "0.0"),
    ] {
        assert_eq!(py_num_str(text), want);
    }
}

fn nested(depth: usize, inner: &str) -> String {
    format!(
        "{{\"host\":\"deep.example\",\"x\":{}{inner}{}}}",
        "[".repeat(depth - 1),
        "]".repeat(depth - 1)
    )
}

#[test]
fn documents_are_read_as_orjson_reads_them() {
    let host = |s: &str| {
        let doc = Doc::parse(s.as_bytes())?;
        doc.get(0, "host").map(|h| doc.text(h).into_owned())
    };
    // orjson takes 1024 levels (serde_json alone stops at 128)
    assert!(host(&nested(1024, "1")).is_some());
    assert!(host(&nested(1025, "1")).is_none());
    assert!(host(&nested(300, "{\"a\":[1,2,{\"b\":\"\\ud83d\\ude00\"}]}")).is_some());
    for bad in [
        "1e400",
        "\"\\ud800\"",
        "\"\\udc00x\"",
        "\"\\ud800\\u0041\"",
        "1,",
        "01",
        "1.",
        "-",
        "\"\\x\"",
        "\"\u{1}\"",
        "tru",
        "{\"a\" 1}",
        "{\"a\":1,}",
        "[1 2]",
        "NaN",
    ] {
        assert!(host(&nested(200, bad)).is_none(), "{bad}");
        assert!(host(&nested(2, bad)).is_none(), "{bad}");
    }
    for good in [
        "1e-400",
        "-0.0",
        "\"\\u00e9\\/\"",
        "{}",
        "[]",
        "{\"a\":[true,false,null]}",
    ] {
        assert!(host(&nested(200, good)).is_some(), "{good}");
        assert!(host(&nested(2, good)).is_some(), "{good}");
    }
    assert!(line_doc(b"{\"a\":1} x").is_none());
    assert!(line_doc(b"{\"a\":1}\x0c").is_none());
    assert!(line_doc(b"{\"a\":\"\xff\"}").is_none());
    assert!(line_doc(b"[1]").is_none());
    assert!(line_doc(b"x {\"a\":1}\t\r\n ").is_some());
    let doc = line_doc(b"{\"a\":1,\"b\":2,\"\\u0061\":3}").unwrap();
    let m: Vec<String> = doc
        .members(0)
        .iter()
        .map(|(k, c)| format!("{k}={}", doc.text(c.unwrap())))
        .collect();
    assert_eq!(m, ["a=3", "b=2"]);
}

/// The document as serde_json would hold it (its map keeps Python's dict order).
fn to_value(doc: &Doc<'_>, i: usize) -> Value {
    match doc.kind(i) {
        Kind::Obj => Value::Object(
            doc.members(i)
                .into_iter()
                .map(|(k, c)| (k.into_owned(), to_value(doc, c.unwrap())))
                .collect(),
        ),
        Kind::Arr => Value::Array(doc.children(i).map(|c| to_value(doc, c)).collect()),
        Kind::Str => Value::String(doc.text(i).into_owned()),
        Kind::Num => Value::Number(doc.text(i).parse().unwrap()),
        Kind::True => Value::Bool(true),
        Kind::False => Value::Bool(false),
        Kind::Null => Value::Null,
    }
}

fn serde_numbers_ok(v: &Value) -> bool {
    match v {
        Value::Number(n) => number_ok(n.as_str()),
        Value::Array(a) => a.iter().all(serde_numbers_ok),
        Value::Object(m) => m.values().all(serde_numbers_ok),
        _ => true,
    }
}

/// What serde_json reads, held to orjson's stricter number rule.
fn serde_reading(s: &str) -> Option<String> {
    let v: Value = serde_json::from_str(s).ok()?;
    serde_numbers_ok(&v).then(|| serde_json::to_string(&v).unwrap())
}

fn json_value() -> impl proptest::strategy::Strategy<Value = Value> {
    use proptest::prelude::*;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        "[a-zA-Z0-9 \"\\\\/\u{e9}\u{1f600}\u{1}-]{0,8}".prop_map(Value::String),
    ];
    leaf.prop_recursive(6, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::vec(("[aAbB\u{e9}-]{0,3}", inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

proptest::proptest! {
    #[test]
    fn documents_read_as_serde_json_reads_them(
        v in json_value(),
        at in 0usize..400,
        cut in 0usize..400,
        junk in proptest::sample::select(vec![
            "", "\\u00e9", "\\ud800", "\\udc00", "\\ud83d\\ude00", "\\ud83d\\u0041", "\\u+12a",
            "1e400", "-0", "01", "1.", ".5", "1e", "tru", "nul", ",", ":", "{", "}", "[", "]",
            "\"", "\\", "\u{1}", "\t", "\u{c}", "NaN", "\u{e9}", " ", "\"a\":1,", "1e-400", "2e308",
        ]),
    ) {
        let text = format!("{{\"k\":{}}}", serde_json::to_string(&v).unwrap());
        let mut b = text.into_bytes();
        if cut > 0 {
            b.truncate(b.len().saturating_sub(cut % 8));
        }
        let at = at.min(b.len());
        b.splice(at..at, junk.bytes());
        let Ok(s) = std::str::from_utf8(&b) else { return Ok(()) };
        let mine = Doc::parse(s.as_bytes()).map(|d| serde_json::to_string(&to_value(&d, 0)).unwrap());
        proptest::prop_assert_eq!(mine, serde_reading(s), "{}", s);
    }
}

proptest::proptest! {
    #[test]
    fn any_bytes_never_panic(line in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)) {
        let ctx = FileContext::default();
        let _ = parse_json_line(&line, &ctx, true);
        let _ = parse_json_line(&line, &ctx, false);
        let _ = looks_like_traefik(&line) || looks_like_caddy(&line) || looks_like_appgw(&line) || looks_like_frontdoor(&line);
    }

    #[test]
    fn cut_and_spliced_json_never_panics(cut in 0usize..400, at in 0usize..400, junk in "[\\[\\]{}\",:0-9a-z\\\\ .eE+-]{0,6}", depth in 1usize..300) {
        let base = nested(depth, "{\"request\":\"GET /p?x HTTP/1.1\",\"status\":401,\"ts\":1795669567.5,\"log\":\"x\"}");
        let mut line = base.as_bytes()[..cut.min(base.len())].to_vec();
        let at = at.min(line.len());
        line.splice(at..at, junk.bytes());
        let ctx = FileContext::default();
        let _ = parse_json_line(&line, &ctx, true);
        let _ = line_doc(&line);
    }
}

/// This thread's CPU time in ns (the machine is shared: wall time would count the others).
fn cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// CPU µs per line of these parsers on the vectors of their formats (`cargo test --release --lib
/// jsonlog::tests::timing -- --ignored --nocapture`).
#[test]
#[ignore]
fn timing() {
    use super::super::vectors::{bytes, context, load};
    let vs = load("lines");
    for f in [
        Format::Iis,
        Format::Traefik,
        Format::Caddy,
        Format::AppGw,
        Format::FrontDoor,
        Format::Json,
    ] {
        let cases: Vec<_> = vs
            .iter()
            .filter(|v| v["fmt"].as_str() == Some(f.name()) && v["name"].as_str() == Some(f.name()))
            .map(|v| (bytes(&v["line"]), context(v)))
            .collect();
        let bytes_total: usize = cases.iter().map(|c| c.0.len()).sum();
        // whole rounds until 0.3 s of CPU (the thread's CPU time moves at scheduler ticks)
        let t = cpu_ns();
        let mut n = 0usize;
        let mut rounds = 0usize;
        while cpu_ns() - t < 300_000_000 && !cases.is_empty() {
            for (line, ctx) in &cases {
                let got = if f == Format::Iis {
                    super::super::w3c::parse_w3c(line, ctx)
                } else {
                    parse_json_line(line, ctx, true)
                };
                n += std::hint::black_box(got).is_some() as usize;
            }
            rounds += 1;
        }
        let per = (cpu_ns() - t) as f64 / 1e3 / (rounds * cases.len()).max(1) as f64;
        eprintln!(
            "{:16} {per:6.2} µs/line over {} lines (avg {} bytes; {n} parsed)",
            f.name(),
            cases.len(),
            bytes_total / cases.len().max(1)
        );
    }
}

#[test]
#[ignore]
fn timing_breakdown() {
    use super::super::vectors::{bytes, context, load};
    let vs = load("lines");
    let cases: Vec<_> = vs
        .iter()
        .filter(|v| v["fmt"].as_str() == Some("json") && v["name"].as_str() == Some("json"))
        .map(|v| (bytes(&v["line"]), context(v)))
        .collect();
    let per = |f: &dyn Fn(&[u8], &FileContext) -> usize| {
        let t = cpu_ns();
        let mut n = 0;
        for _ in 0..200 {
            for (l, c) in &cases {
                n += f(l, c);
            }
        }
        std::hint::black_box(n);
        (cpu_ns() - t) as f64 / 1e3 / (200 * cases.len()) as f64
    };
    eprintln!(
        "utf8     {:.2}",
        per(&|l, _| std::str::from_utf8(l).is_ok() as usize)
    );
    eprintln!(
        "doc      {:.2}",
        per(&|l, _| line_doc(l).map_or(0, |d| d.nodes.len()))
    );
    eprintln!(
        "members  {:.2}",
        per(&|l, _| line_doc(l).map_or(0, |d| d.members(0).len()))
    );
    eprintln!(
        "lookup   {:.2}",
        per(&|l, _| line_doc(l).map_or(0, |d| lookup(&d).0.iter().flatten().count()))
    );
    eprintln!(
        "full     {:.2}",
        per(&|l, c| parse_json_line(l, c, false).map_or(0, |f| f.path.is_some() as usize))
    );
    eprintln!(
        "nested   {:.2}",
        per(&|l, c| parse_json_line(l, c, true).map_or(0, |f| f.path.is_some() as usize))
    );
}
