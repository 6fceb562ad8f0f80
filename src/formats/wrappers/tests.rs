use super::*;
use crate::timeparse::Zone;
use proptest::prelude::*;

mod cases;

fn ctx() -> FileContext {
    FileContext {
        year: 2026,
        tz: Zone::Utc,
        mtime_us: Some(1_764_500_000_000_000),
        iis_fields: Vec::new(),
    }
}

fn check(cases: &[cases::Case]) {
    let ctx = ctx();
    for (line, want, looks) in cases {
        let got = unwrap(line, &ctx).map(|(k, t, e)| {
            let kind = match k {
                WrapKind::Cri => "cri",
                WrapKind::Syslog => "syslog",
            };
            (kind, t, e)
        });
        assert_eq!(got, *want, "{:?}", String::from_utf8_lossy(line));
        assert_eq!(
            looks_like_syslog(line),
            *looks,
            "{:?}",
            String::from_utf8_lossy(line)
        );
    }
}

#[test]
fn sample_lines_unwrap_as_python_did() {
    check(cases::CASES);
}

#[test]
fn every_backtracking_choice_as_python_made_it() {
    check(cases::TRICKY);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]
    #[test]
    fn no_input_panics(s in proptest::collection::vec(any::<u8>(), 0..120)) {
        let _ = unwrap(&s, &ctx());
        let _ = looks_like_syslog(&s);
    }

    #[test]
    fn cut_and_spliced_headers_never_panic(which in 0usize..4, cut in 0usize..90, at in 0usize..90, junk in any::<u8>()) {
        let base: &[u8] = [
            &b"<165>1 2026-11-26T22:14:15.003Z host app - ID47 [a x=\"1\\]\"][b] msg"[..],
            b"<34>Nov 26 03:14:17 2026 web01 nginx[12]: 10.2.3.4 - -",
            b"2026-11-26T03:14:15.123+01:00 host app[1]: x",
            b"2026-11-26T09:10:11.123456789Z stdout F x",
        ][which];
        let mut t = base[..cut.min(base.len())].to_vec();
        t.insert(at.min(t.len()), junk);
        let _ = unwrap(&t, &ctx());
        let _ = looks_like_syslog(&t);
    }
}

/// `cargo test --release --lib wrappers::tests::timing -- --ignored --nocapture`
#[test]
#[ignore]
fn timing() {
    let ctx = ctx();
    let n = 1_000_000u32;
    for line in [
        &b"<34>Nov 26 03:14:17 web01 nginx: 10.2.3.4 - - [26/Nov/2026:03:14:17 +0000] \"GET /x HTTP/1.1\" 401 0"[..],
        b"<165>1 2026-11-26T22:14:15.003Z host app - ID47 [a x=\"1\"] msg",
        b"2026-11-26T09:10:11.123456789Z stdout F 192.168.65.3 - - [26/Nov/2026:09:10:11 +0000]",
        b"10.2.3.4 - - [26/Nov/2026:03:14:17 +0000] \"GET /x HTTP/1.1\" 401 0",
    ] {
        let t0 = std::time::Instant::now();
        let mut acc = 0usize;
        for _ in 0..n {
            acc += unwrap(std::hint::black_box(line), &ctx).map_or(0, |u| u.2);
        }
        let per = t0.elapsed().as_secs_f64() * 1e6 / f64::from(n);
        eprintln!("unwrap {:?}: {per:.4} µs per call ({acc})", String::from_utf8_lossy(&line[..20]));
    }
}
