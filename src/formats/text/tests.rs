//! Tests of the space-separated formats against Python's answers, the regexes themselves, random
//! and hostile input; an ignored timing test.

use super::super::vectors::{bytes, context, expected_fields, load};
use super::clf::{split_clf, starts_iso_date_t};
use super::shared::{
    is_address, is_ip_word, is_ws, outside_quotes, quote_split, target_word, words_escaped,
    TARGET_PREFIX,
};
use super::*;
use crate::formats::common::split_target_bytes;
use crate::formats::common::{FileContext, LineFields};
use crate::formats::Format;

type Parser = for<'a> fn(&'a [u8], &FileContext) -> Option<LineFields<'a>>;
type Looks = fn(&[u8]) -> bool;

fn parser(name: &str) -> Option<Parser> {
    Some(match name {
        "nginx" | "apache" | "ingress-nginx" => parse_clf,
        "envoy" => parse_envoy,
        "haproxy" => parse_haproxy,
        "aws-alb" => parse_alb,
        "nginx-error" => parse_nginx_error,
        "squid" => parse_squid,
        _ => return None,
    })
}

/// The vectors a parser of this module answered directly (given format = answered format).
#[test]
fn direct_vectors_parse_as_python_did() {
    let (mut checked, mut unwrapped) = (0, 0);
    let mut bad = Vec::new();
    for v in load("lines") {
        let (fmt, name) = (v["fmt"].as_str().unwrap(), v["name"].as_str().unwrap());
        let Some(parse) = parser(fmt).filter(|_| fmt == name) else {
            continue;
        };
        let line = bytes(&v["line"]);
        let want = expected_fields(&v["fields"]);
        match parse(&line, &context(&v)) {
            // A syslog- or CRI-wrapped line: the dispatch unwraps it first.
            None if crate::formats::wrappers::unwrap(&line, &context(&v)).is_some() => {
                unwrapped += 1
            }
            None => bad.push(format!(
                "{} [{fmt}] not parsed: {:?}",
                v["source"],
                String::from_utf8_lossy(&line[..line.len().min(400)]),
            )),
            Some(got) => {
                checked += 1;
                if got != want {
                    bad.push(format!(
                        "{} [{fmt}] {:?}\n  want {want:?}\n  got  {got:?}",
                        v["source"],
                        String::from_utf8_lossy(&line[..line.len().min(400)]),
                    ));
                }
            }
        }
    }
    for b in bad.iter().take(20) {
        eprintln!("{b}");
    }
    eprintln!("checked {checked}, wrapped {unwrapped}, bad {}", bad.len());
    assert!(bad.is_empty());
}

const MINE: [Format; 8] = [
    Format::Nginx,
    Format::Apache,
    Format::IngressNginx,
    Format::Envoy,
    Format::Haproxy,
    Format::Alb,
    Format::NginxError,
    Format::Squid,
];

/// The oracle through the dispatch (`formats::parse_line`): vectors given or answered in one of
/// this module's formats.
#[test]
fn line_vectors_of_these_formats_match() {
    let (checked, bad) = super::super::vectors::line_mismatches(&MINE);
    for b in bad.iter().take(20) {
        eprintln!("{b}");
    }
    eprintln!("checked {checked}, bad {}", bad.len());
    assert!(bad.is_empty());
}

/// Replays a `.jsonl.gz` of lines (base64) with what Python's `looks_like` tests and parsers
/// answered (see `tests/data/README.md`): (lines, differences).
fn replay(path: &str) -> (usize, usize) {
    use std::io::BufRead;
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let (mut n, mut bad) = (0, 0);
    for l in std::io::BufReader::new(flate2::read::GzDecoder::new(file)).lines() {
        let v: serde_json::Value = serde_json::from_str(&l.unwrap()).unwrap();
        let line = bytes(&v["line"]);
        let ctx = FileContext {
            year: 2026,
            tz: crate::timeparse::Zone::from_text(v["tz"].as_str().unwrap_or("UTC")).unwrap(),
            ..FileContext::default()
        };
        n += 1;
        for (k, f) in ALL_LOOKS.iter().enumerate() {
            let want = v["looks"][k].as_bool().unwrap();
            if f(&line) != want {
                bad += 1;
                if bad < 30 {
                    eprintln!(
                        "looks {k} want {want}: {:?}",
                        String::from_utf8_lossy(&line)
                    );
                }
            }
        }
        for (k, p) in ALL_PARSERS.iter().enumerate() {
            let w = &v["parsed"][k];
            let want = (!w.is_null()).then(|| {
                let s = |i: usize| {
                    w[i].as_str()
                        .map(|t| std::borrow::Cow::Owned(t.to_string()))
                };
                let status = w[3].as_i64().map(|x| x as i32);
                (s(0), s(1), s(2), status, s(4), s(5), w[6].as_i64())
            });
            let got = p(&line, &ctx).map(|g| {
                let LineFields {
                    ts,
                    host,
                    method,
                    path,
                    status,
                    client_ip,
                    user_agent,
                    ..
                } = g;
                (host, method, path, status, client_ip, user_agent, ts)
            });
            if got != want {
                bad += 1;
                if bad < 30 {
                    eprintln!(
                        "parse {k}: {:?}\n  want {want:?}\n  got  {got:?}",
                        String::from_utf8_lossy(&line)
                    );
                }
            }
        }
    }
    (n, bad)
}

/// Lines built field by field from right and wrong variants, and vector lines cut or spliced:
/// every `looks_like` test and parser answers as Python's did.
#[test]
fn text_cases_read_as_python_did() {
    let (n, bad) = replay(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/text_cases.jsonl.gz"
    ));
    eprintln!("{n} lines, {bad} differences");
    assert!(n > 8000);
    assert_eq!(bad, 0);
}

/// The same over a larger file of such cases, named by `TEXT_DIFF` (made with a larger count).
#[test]
#[ignore]
fn more_text_cases_read_as_python_did() {
    let Ok(path) = std::env::var("TEXT_DIFF") else {
        return;
    };
    let (n, bad) = replay(&path);
    eprintln!("{n} lines, {bad} differences");
    assert_eq!(bad, 0);
}

/// This thread's time on a CPU (ns; Linux's schedstat), as the machine is shared.
fn cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// µs per line of each parser over the vectors it answered, and of each `looks_like_*` over
/// all line vectors (`cargo test --release --lib text_timing -- --ignored --nocapture`).
#[test]
#[ignore]
fn text_timing() {
    let cases: Vec<_> = load("lines")
        .iter()
        .map(|v| {
            let fmt = v["fmt"].as_str().unwrap().to_string();
            let direct = fmt == v["name"].as_str().unwrap();
            (bytes(&v["line"]), fmt, direct, context(v))
        })
        .collect();
    let rounds = 50;
    for name in [
        "nginx",
        "apache",
        "ingress-nginx",
        "envoy",
        "haproxy",
        "aws-alb",
        "nginx-error",
        "squid",
    ] {
        if std::env::var("TEXT_ONLY").is_ok_and(|o| o != name) {
            continue;
        }
        let parse = parser(name).unwrap();
        let mine: Vec<_> = cases.iter().filter(|c| c.1 == name && c.2).collect();
        let bytes_total: usize = mine.iter().map(|c| c.0.len()).sum();
        let rounds = 200_000 / mine.len().max(1);
        let (t, c) = (std::time::Instant::now(), cpu_ns());
        for _ in 0..rounds {
            for (line, _, _, ctx) in &mine {
                std::hint::black_box(parse(line, ctx));
            }
        }
        let n = (rounds * mine.len()) as f64;
        let per = t.elapsed().as_secs_f64() * 1e6 / n;
        let cpu = (cpu_ns() - c) as f64 / 1e3 / n;
        eprintln!(
            "{name:>14}: {per:.2} µs/line wall, {cpu:.2} on CPU, over {} lines (mean {} bytes)",
            mine.len(),
            bytes_total / mine.len().max(1)
        );
    }
    let looks: [(&str, Looks); 8] = [
        ("clf", looks_like_clf),
        ("apache_vhost", looks_like_apache_vhost),
        ("ingress", looks_like_ingress),
        ("envoy", looks_like_envoy),
        ("alb", looks_like_alb),
        ("nginx_error", looks_like_nginx_error),
        ("squid", looks_like_squid),
        ("haproxy", looks_like_haproxy),
    ];
    for (name, f) in looks {
        if std::env::var("TEXT_ONLY").is_ok_and(|o| o != name) {
            continue;
        }
        let (t, c) = (std::time::Instant::now(), cpu_ns());
        for _ in 0..rounds {
            for c in &cases {
                std::hint::black_box(f(&c.0));
            }
        }
        let n = (rounds * cases.len()) as f64;
        let per = t.elapsed().as_secs_f64() * 1e6 / n;
        let cpu = (cpu_ns() - c) as f64 / 1e3 / n;
        eprintln!(
            "looks_like_{name}: {per:.2} µs/line wall, {cpu:.2} on CPU, over {} lines",
            cases.len()
        );
    }
}

/// `CLF` as the `regex` crate reads it (leftmost-first, as Python's engine): the reference the
/// hand-written head is checked against.
const CLF_REF: &str = concat!(
    r#"(?-u)^(?:(?P<vhost>[A-Za-z0-9._-]+(?::\d{1,5})?) )?(?P<ip>\S+(?:, ?[0-9A-Fa-f.:]+)*) "#,
    r#"(?:- \[[^\]\s]*\] )?\S+ (?P<user>"[^"]*"|\S+) "#,
    r#"\[(?P<ts>\d{1,2}/[A-Za-z]{3}/\d{4}[: ][^\]]{8,30}|\d{4}-\d{2}-\d{2}T[^\]]{8,30}|[A-Z][a-z]{2}, [^\]]{20,30})\] "#,
    r#""(?P<req>[^"\\]*(?:\\.[^"\\]*)*)" (?P<status>\d{3}|-) (?P<bytes>\S+)(?P<rest>.*)\n?\z"#,
);

/// The first (well-formed) variant `n` times more often than the others.
fn weigh(n: usize, v: Vec<&'static [u8]>) -> Vec<&'static [u8]> {
    let mut out = vec![v[0]; n - 1];
    out.extend(v);
    out
}

static CLF_RE: std::sync::LazyLock<regex::bytes::Regex> =
    std::sync::LazyLock::new(|| regex::bytes::Regex::new(CLF_REF).unwrap());

type ClfParts = (Option<Vec<u8>>, Vec<u8>, Vec<u8>, Vec<u8>, Vec<u8>, Vec<u8>);

fn clf_by_regex(re: &regex::bytes::Regex, line: &[u8]) -> Option<ClfParts> {
    if starts_iso_date_t(line) {
        return None;
    }
    let c = re.captures(line)?;
    let g = |n: &str| c.name(n).map(|m| m.as_bytes().to_vec());
    Some((
        g("vhost"),
        g("ip")?,
        g("ts")?,
        g("req")?,
        g("status")?,
        g("rest")?,
    ))
}

fn clf_by_hand(line: &[u8]) -> Option<ClfParts> {
    split_clf(line).map(|c| {
        (
            c.vhost.map(<[u8]>::to_vec),
            c.ip.to_vec(),
            c.ts.to_vec(),
            c.req.to_vec(),
            c.code.to_vec(),
            c.rest.to_vec(),
        )
    })
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(20000))]

    /// Lines made of the bytes and words the head's choices turn on read as the regex reads them.
    #[test]
    fn clf_head_reads_as_the_regex(parts in proptest::collection::vec(proptest::sample::select(vec![
        &b"1.2.3.4"[..], b"::1", b"h.example.com", b"h.example.com:443", b"-", b" ", b" ", b" ", b",", b", ",
        b"- [1.2.3.4] ", b"[", b"]", b"\"", b"\\", b"\n", b"frank", b"\"a b\"", b"26/Nov/2026:03:14:15 +0000",
        b"2026-11-26T03:14:15+01:00", b"Thu, 26 Nov 2026 03:14:15 GMT", b"[26/Nov/2026:03:14:15 +0000] \"",
        b"\"GET /a HTTP/1.1\" 200 5", b" 200 ", b"-", b"abc", b"5.6.7.8", b"a,b", b"x:1",
    ]), 0..16)) {
        let line = parts.concat();
        proptest::prop_assert_eq!(clf_by_hand(&line), clf_by_regex(&CLF_RE, &line));
    }

    /// Lines shaped like CLF, each slot from a few right and wrong variants.
    #[test]
    fn clf_shaped_lines_read_as_the_regex(slots in (
        proptest::sample::select(weigh(1, vec![&b""[..], b"example.com ", b"example.com:443 ", b"a_b.c ", b"1.2.3.4 ", b"a.b:123456 ", b"x:1:2 "])),
        proptest::sample::select(weigh(1, vec![&b"1.2.3.4"[..], b"1.2.3.4, 5.6.7.8", b"1.2.3.4,5.6.7.8", b"::1", b"h.example.com",
            b"-", b"1.2.3.4,", b"a,b", b"1.2.3.4, 5.6.7.8,9.9.9.9", b"1,2,3", b"1.2.3.4, x", b"1,, 2", b"a,b c,d", b"1.2.3.4,\t5"])),
        proptest::sample::select(weigh(4, vec![&b" "[..], b"  ", b"\t", b" - [1.2.3.4] ", b" - [1.2.3.4 ", b" - [] "])),
        proptest::sample::select(weigh(4, vec![&b"-"[..], b"- -", b"x y", b"", b"-  -"])),
        proptest::sample::select(weigh(6, vec![&b" "[..], b"  "])),
        proptest::sample::select(weigh(3, vec![&b"-"[..], b"frank", b"\"-\"", b"\"a b\"", b"\"", b"\"a\"b", b"[x]", b"\"a ] [\""])),
        proptest::sample::select(weigh(4, vec![&b" [26/Nov/2026:03:14:15 +0000] \""[..], b" [2026-11-26T03:14:15+01:00] \"",
            b" [Thu, 26 Nov 2026 03:14:15 GMT] \"", b" [26/Nov/2026 03:14:17] \"", b" [1/Nov/2026:03:14:15 +0000] \"",
            b" [26/Nov/2026:03] \"", b" [123/Nov/2026:03:14:15 +0000] \"", b" [Thu, 26 Nov] \"", b" [26/Nov/2026:03:14:15 +0000]\"",
            b" [26/Nov/2026:03:14:15 +0000 [x] \"", b" [2026-11-26T03:14:15.123456789012345678901234567] \""])),
        proptest::sample::select(weigh(3, vec![&b"GET /a?b HTTP/1.1"[..], b"-", b"\\x16\\x03", b"GET /a\\\"b HTTP/1.1", b"", b"a\\\nb", b"x\\"])),
        proptest::sample::select(weigh(4, vec![&b"\" 200 5"[..], b"\" - -", b"\" 2000 5", b"\" 20 5", b"\" 200 ", b"\"", b"\" 200 5\n", b"\" 200 5\nx"])),
        proptest::sample::select(weigh(1, vec![&b""[..], b" \"ref\" \"ua\"", b" \"-\" \"a\\\"b\" 1 2.5 [u]", b" rt=1.5", b"\n", b" \"x\n\""])),
    )) {
        let (a, b, c, d, e, f, g, h, i, j) = slots;
        let line = [a, b, c, d, e, f, g, h, i, j].concat();
        proptest::prop_assert_eq!(clf_by_hand(&line), clf_by_regex(&CLF_RE, &line));
    }
}

#[test]
fn clf_head_reads_the_vectors_as_the_regex() {
    for v in load("lines") {
        let line = bytes(&v["line"]);
        assert_eq!(
            clf_by_hand(&line),
            clf_by_regex(&CLF_RE, &line),
            "{:?}",
            String::from_utf8_lossy(&line)
        );
    }
}

proptest::proptest! {
    /// `target_word` cuts a target where `split_target_bytes` no longer looks.
    #[test]
    fn a_cut_target_splits_as_the_whole(
        head in proptest::collection::vec(proptest::sample::select(vec![
            &b"/"[..], b"a", b"https://", b"http://h.example.com", b":80", b"[::1]", b"#", b"%", b"\xc3\xa9", b"\xff",
            b"@", b".", b"*", b"\xe3\x80\x82", b"?"]), 0..12),
        query in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..120),
    ) {
        let mut target = head.concat();
        target.push(b'?');
        target.extend(query.iter().filter(|c| !is_ws(**c)));
        let cut = target_word(&target);
        proptest::prop_assert!(cut.len() >= TARGET_PREFIX.min(target.len()));
        proptest::prop_assert_eq!(split_target_bytes(cut), split_target_bytes(&target));
    }
}

const ALL_LOOKS: [Looks; 8] = [
    looks_like_clf,
    looks_like_apache_vhost,
    looks_like_ingress,
    looks_like_envoy,
    looks_like_alb,
    looks_like_nginx_error,
    looks_like_squid,
    looks_like_haproxy,
];
const ALL_PARSERS: [Parser; 6] = [
    parse_clf,
    parse_envoy,
    parse_alb,
    parse_nginx_error,
    parse_squid,
    parse_haproxy,
];

fn run_all(line: &[u8]) {
    let ctx = FileContext::default();
    for f in ALL_LOOKS {
        f(line);
    }
    for p in ALL_PARSERS {
        p(line, &ctx);
    }
    request_line(Some(line));
    is_hostname(line);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3000))]

    /// Random bytes never panic.
    #[test]
    fn random_bytes_never_panic(line in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)) {
        run_all(&line);
    }

    /// Nor do the bytes the formats turn on, in any order.
    #[test]
    fn format_bytes_never_panic(parts in proptest::collection::vec(proptest::sample::select(vec![
        &b" "[..], b"\"", b"\\", b"[", b"]", b"{", b"}", b"|", b",", b", ", b":", b"/", b".", b"-", b"?", b"\n",
        b"1", b"12", b"123", b"1234", b"a", b"GET ", b"1.2.3.4:80 ", b"2026-11-26T03:14:15Z ", b"26/Nov/2026:03:14:15 ",
        b"2026/11/26 03:14:15 ", b"1795662855.123 ", b", client: ", b", request: \"", b"rt=", b"host=", b"http://",
        b"\xff", b"\xc3", b"ACCESS ", b"TCP_MISS/200 ", b"0/0/1 ", b"-1 ", b"[error] ", b"1#0: ",
    ]), 0..40)) {
        run_all(&parts.concat());
    }
}

/// Every vector line cut short, or with a byte spliced in, never panics.
#[test]
fn cut_vector_lines_never_panic() {
    for v in load("lines") {
        let line = bytes(&v["line"]);
        let step = (line.len() / 9).max(1);
        for at in (0..=line.len())
            .step_by(step)
            .chain(line.len().saturating_sub(3)..line.len())
        {
            run_all(&line[..at]);
            for junk in [b'"', b'\\', b'\n', b']'] {
                let mut l = line[..at].to_vec();
                l.push(junk);
                l.extend_from_slice(&line[at..]);
                run_all(&l);
            }
        }
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(20000))]

    /// `is_hostname`, `is_ip_word` and `is_address` say what `HOSTNAME`, `_IP_WORD` and
    /// `_ADDRESS` say (`match` with `$`: a final newline may follow).
    #[test]
    fn value_tests_read_as_their_regexes(v in proptest::collection::vec(proptest::sample::select(vec![
        b'a', b'Z', b'0', b'9', b'f', b'G', b'.', b'-', b':', b'[', b']', b'_', b'\n', b' ', 0xc3,
    ]), 0..24), label in 55usize..70) {
        static HOSTNAME: std::sync::LazyLock<regex::bytes::Regex> = std::sync::LazyLock::new(|| {
            regex::bytes::Regex::new(r"(?-u)^[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}\.)+[A-Za-z]{2,63}\.?(?::\d{1,5})?\n?\z").unwrap()
        });
        static IP_WORD: std::sync::LazyLock<regex::bytes::Regex> = std::sync::LazyLock::new(|| {
            regex::bytes::Regex::new(r"(?-u)^(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7})\n?\z").unwrap()
        });
        static ADDRESS: std::sync::LazyLock<regex::bytes::Regex> = std::sync::LazyLock::new(|| {
            regex::bytes::Regex::new(r"(?-u)^(?:\d{1,3}(?:\.\d{1,3}){3}|\[[0-9A-Fa-f:.]+\]):\d{1,5}\n?\z").unwrap()
        });
        proptest::prop_assert_eq!(is_hostname(&v), HOSTNAME.is_match(&v));
        proptest::prop_assert_eq!(is_ip_word(&v), IP_WORD.is_match(&v));
        proptest::prop_assert_eq!(is_address(&v), ADDRESS.is_match(&v));
        // Long labels and top-level labels (the 62 and 63 limits).
        let mut long = b"a".repeat(label);
        long.extend_from_slice(b".");
        long.extend(std::iter::repeat_n(b'b', label));
        long.extend_from_slice(&v);
        proptest::prop_assert_eq!(is_hostname(&long), HOSTNAME.is_match(&long));
    }
}

/// Long hostile lines cost time in proportion to their length: the time per byte of each
/// pattern at 64 KB is at most 4 times that at 4 KB, give or take 2 µs a byte for a busy
/// machine (a quadratic walk would take 16 times as long a byte there).
#[test]
fn hostile_lines_take_linear_time() {
    let units: [&[u8]; 14] = [
        b"1,",
        b"1, ",
        b"a:1 [26/Nov/2026:03:14:15] x ",
        b"\"\\\" ",
        b"\"\\",
        b"\" ",
        b" rt=",
        b"{",
        b", client: \"",
        b" GET /",
        b"\"GET ",
        b" 2026-11-26T22:23:00Z",
        b"- [",
        b"x.example.com ",
    ];
    let heads: [&[u8]; 3] = [
        b"",
        b"1.2.3.4 - - [26/Nov/2026:03:14:15 +0000] \"GET /\\",
        b"2026/11/26 03:14:15 [error] 1#0: ",
    ];
    // The fastest of three runs: a run the scheduler interrupted does not count.
    let per_byte = |line: &[u8]| {
        (0..3)
            .map(|_| {
                let t = std::time::Instant::now();
                run_all(line);
                t.elapsed().as_secs_f64()
            })
            .fold(f64::MAX, f64::min)
            / line.len() as f64
    };
    for unit in units {
        for head in heads {
            let line = |n: usize| [head, &unit.repeat(n / unit.len())].concat();
            let small = per_byte(&line(4_000));
            let big = per_byte(&line(64_000));
            assert!(
                big < small * 4.0 + 2e-6,
                "{:?} + {:?}: {:.1} ns/byte at 4 KB, {:.1} at 64 KB",
                String::from_utf8_lossy(head),
                String::from_utf8_lossy(unit),
                small * 1e9,
                big * 1e9
            );
        }
    }
}

proptest::proptest! {
    /// `outside_quotes` finds from the words what `b"".join(rest.split(b'"')[::2])` gives.
    #[test]
    fn outside_quotes_is_the_even_pieces(
        rest in proptest::collection::vec(proptest::sample::select(vec![b'a', b'"', b' ', b'\t', b'[', b'r', b't', b'=', b'1']), 0..60)
    ) {
        let want: Vec<u8> = quote_split(&rest).step_by(2).collect::<Vec<_>>().concat();
        proptest::prop_assert_eq!(outside_quotes(&rest, &words_escaped(&rest, false)), want);
    }
}
