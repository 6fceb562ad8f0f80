use super::*;
use crate::formats::vectors::{bytes, load};
use proptest::prelude::*;

/// Every row of `logged.jsonl.gz`: what Python's `diagnose.logged_error` answered.
#[test]
fn every_logged_vector_as_python_answered() {
    let rows = load("logged");
    let mut bad = Vec::new();
    for v in &rows {
        let chunk = bytes(&v["chunk"]);
        let start = v["line_start"].as_u64().unwrap() as usize;
        let end = v["line_end"].as_u64().unwrap() as usize;
        let status = v["status"].as_i64().map(|s| s as i32);
        let nearby = v["nearby"].as_bool().unwrap();
        let want = v["expect"].as_str().map(str::to_string);
        let got = logged_error(&chunk, start, end, status, nearby);
        if got != want {
            bad.push(format!(
                "{:?} [{start}..{end}] status={status:?} nearby={nearby}: want {want:?} got {got:?}",
                String::from_utf8_lossy(&chunk[..chunk.len().min(400)])
            ));
        }
    }
    for b in bad.iter().take(10) {
        eprintln!("{b}");
    }
    assert!(
        bad.is_empty(),
        "{} of {} logged vectors differ",
        bad.len(),
        rows.len()
    );
    assert!(rows.len() > 4000);
}

fn on_last_line(lines: &[&[u8]], status: Option<i32>) -> Option<String> {
    let chunk = [lines.join(&b"\n"[..]), b"\n".to_vec()].concat();
    let last = lines[lines.len() - 1];
    let start = chunk.len() - 1 - last.len();
    logged_error(&chunk, start, start + last.len(), status, true)
}

/// The cases of Python's test_logged_error_comes_from_the_line_or_its_request.
#[test]
fn the_line_or_its_request() {
    let err = |keys: &str, rid: &str| {
        format!(
            "{{\"@x\":\"IDX10503: Signature validation failed. Number of keys in Configuration: '{keys}'.\",\"RequestId\":\"{rid}\"}}"
        )
    };
    let tok = br#"{"RequestId":"r-1","h":"Bearer eyJx"}"#;
    assert_eq!(
        on_last_line(
            &[b"x IDX10214: Audience validation failed Bearer eyJx"],
            Some(401)
        ),
        Some("IDX10214".into())
    );
    assert_eq!(
        on_last_line(&[err("0", "r-1").as_bytes(), tok], Some(401)),
        Some("IDX10503 keys=0".into())
    );
    assert_eq!(
        on_last_line(&[err("2", "r-1").as_bytes(), tok], Some(401)),
        Some("IDX10503".into())
    );
    assert_eq!(
        on_last_line(&[err("2", "r-0").as_bytes(), tok], Some(401)),
        None
    );
    let assertion: [&[u8]; 2] = [
        b"AADSTS700027: Client assertion failed",
        b"POST /token client_assertion=eyJx",
    ];
    assert_eq!(
        on_last_line(&assertion, Some(401)),
        Some("AADSTS700027".into())
    );
    assert_eq!(on_last_line(&assertion, Some(200)), None);
    assert_eq!(
        on_last_line(&[b"IDX10223 Bearer eyJa", b"Bearer eyJx"], Some(401)),
        None
    );
    // With a request id, a matching line after the token's line counts too.
    assert_eq!(
        on_last_line(&[tok, b"noise", err("0", "r-1").as_bytes()], None).as_deref(),
        Some("IDX10503 keys=0")
    );
}

#[test]
fn codes_and_request_ids_as_the_regexes_find_them() {
    assert_eq!(first_code(b"AADSTS5002712 x"), Some(&b"AADSTS500271"[..]));
    assert_eq!(
        first_code(b"IDX99999 then IDX10223"),
        Some(&b"IDX10223"[..])
    );
    assert_eq!(first_code(b"IDX99999 only"), Some(&b"IDX99999"[..]));
    assert_eq!(first_code(b"IDX1021 idx10214"), None);
    assert_eq!(first_code(b"AAADSTS50027"), Some(&b"AADSTS50027"[..]));
    assert_eq!(
        request_id(b"x REQUEST_ID = \"ab:c.d-e_f\" y"),
        Some(&b"ab:c.d-e_f"[..])
    );
    assert_eq!(request_id(b"myrequest_id=1 trace_id=2"), Some(&b"2"[..]));
    assert_eq!(request_id(b"Request-Id: 1"), None);
    assert_eq!(request_id(b"X-Request-ID:\t\"z\""), Some(&b"z"[..]));
    assert_eq!(
        request_id(&[b"requestid=".as_slice(), &[b'a'; 200]].concat()).map(<[u8]>::len),
        Some(128)
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]
    #[test]
    fn no_input_panics(
        picks in proptest::collection::vec(any::<u8>(), 0..200),
        start in 0usize..220,
        end in 0usize..220,
        status in proptest::option::of(-1i32..600),
        nearby in any::<bool>(),
    ) {
        // Mostly the bytes that matter (newlines, codes, ids, token starts), some of any value.
        let alphabet = b"\nIDXAS10=eyJ\"r_ :'";
        let chunk: Vec<u8> = picks
            .iter()
            .map(|&p| alphabet.get(usize::from(p) % 24).copied().unwrap_or(p))
            .collect();
        let _ = logged_error(&chunk, start, end, status, nearby);
        let mut c = chunk.clone();
        c.extend_from_slice(b"\nIDX10503 Number of keys in Configuration: '0' request_id=a\nrequest_id=a eyJ");
        let _ = logged_error(&c, start.min(c.len()), c.len(), status, nearby);
    }
}

/// `cargo test --release --lib logged::tests::timing -- --ignored --nocapture`
#[test]
#[ignore]
fn timing() {
    let token = format!(
        "eyJhbGciOiJSUzI1NiJ9.{}.sig",
        "eyJzdWIiOiIxMjM0NTY3ODkwIn0x".repeat(40)
    );
    let chunk = format!(
        "2026-11-26T03:14:15Z info worker started\n{{\"@x\":\"IDX10214: Audience validation failed\",\"RequestId\":\"r-1\"}}\n{{\"RequestId\":\"r-1\",\"h\":\"Bearer {token}\"}}\n"
    );
    let chunk = chunk.as_bytes();
    let start = chunk.len()
        - 1
        - (chunk[..chunk.len() - 1]
            .iter()
            .rev()
            .position(|&c| c == b'\n')
            .unwrap());
    let n = 200_000u32;
    for (name, nearby) in [
        (
            "logged_error, code on the line before (1.2 KB token line)",
            true,
        ),
        ("logged_error, nearby=false", false),
    ] {
        let t0 = std::time::Instant::now();
        let mut hits = 0;
        for _ in 0..n {
            hits += usize::from(
                logged_error(
                    std::hint::black_box(chunk),
                    start,
                    chunk.len() - 1,
                    Some(401),
                    nearby,
                )
                .is_some(),
            );
        }
        let per = t0.elapsed().as_secs_f64() * 1e6 / f64::from(n);
        eprintln!("{name}: {per:.3} µs per call ({hits})");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]
    /// The line stage asks `logged_error` only for lines with a code text near them: for every
    /// other line it must answer None, whatever the status and `nearby`.
    #[test]
    fn no_code_near_means_no_logged_error(
        picks in proptest::collection::vec(0usize..12, 0..60),
        status in proptest::option::of(-1i32..600),
        nearby in any::<bool>(),
    ) {
        let parts: [&[u8]; 12] = [
            b"\n", b"\n", b"\n", b"IDX10214 ", b"AADSTS50013 ", b"request_id=r1 ", b"request_id=r2 ",
            b"Bearer eyJab.cd.ef ", b"text ", b"IDX", b"AADSTS", b"\n\n",
        ];
        let chunk: Vec<u8> = picks.iter().flat_map(|&p| parts[p].iter().copied()).collect();
        let spots = CodeSpots::find(&chunk);
        let mut start = 0;
        while start <= chunk.len() {
            let end = memchr::memchr(b'\n', &chunk[start..]).map_or(chunk.len(), |i| start + i);
            if !spots.near(&chunk, start, end) {
                prop_assert_eq!(logged_error(&chunk, start, end, status, nearby), None);
            }
            start = end + 1;
        }
    }

    /// `SpotLines::near` of a token line is `CodeSpots::near` of its bounds.
    #[test]
    fn spot_lines_are_code_spots(
        picks in proptest::collection::vec(0usize..12, 0..80),
        first_line in 1i64..5,
    ) {
        let parts: [&[u8]; 12] = [
            b"\n", b"\n", b"\n", b"IDX10214 ", b"AADSTS50013 ", b"x ", b"\n\n\n\n",
            b"Bearer eyJab.cd.ef ", b"text ", b"IDX", b"AADSTS", b"\n\n",
        ];
        let chunk: Vec<u8> = picks.iter().flat_map(|&p| parts[p].iter().copied()).collect();
        let spots = CodeSpots::find(&chunk);
        let hits = crate::scan::find_tokens(&chunk, first_line, false);
        let lines = SpotLines::new(&chunk, &spots, &hits);
        for h in &hits {
            prop_assert_eq!(lines.near(h.line_no), spots.near(&chunk, h.line_start, h.line_end));
        }
    }
}
