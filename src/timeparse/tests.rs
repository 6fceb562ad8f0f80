use super::*;
use crate::formats::vectors::{bytes, load};
use proptest::prelude::*;

fn zone(name: &str) -> Zone {
    Zone::from_text(name).unwrap()
}

/// Where the vectors (Python's answers) differ on purpose: Python read an hours-only offset
/// (`+05`) as no zone, now it is the offset (the answer is that of the text with `:00` added to
/// it); and it read an offset no zone has (`+24:00`, `+05:60`) as written, now the time is refused.
fn departs_as_meant(text: &[u8], got: Option<i64>, run: impl Fn(&[u8]) -> Option<i64>) -> bool {
    let iso = search_by(text, b'-', 4, patterns::iso_at).and_then(|(_, h)| h.zone);
    let clf = search_clf(text).and_then(|(_, h)| h.zone);
    let zone = |(a, b): (usize, usize)| &text[a..b];
    if let Some((_, b)) = iso.filter(|&(a, b)| b - a == 3) {
        let patched = [&text[..b], b":00", &text[b..]].concat();
        return got == run(&patched);
    }
    let refused = [iso, clf]
        .into_iter()
        .flatten()
        .any(|z| dates::offset_seconds(zone(z)).is_none());
    refused && got.is_none()
}

/// Every row of `times.jsonl.gz`: what Python's timeparse answered, but for the departures above.
#[test]
fn every_time_vector_parses_as_python_did() {
    let rows = load("times");
    let mut bad = Vec::new();
    let mut zones: Vec<(String, Zone)> = Vec::new();
    for v in &rows {
        let want = v["expect"].as_i64();
        assert!(v["expect"].is_null() || want.is_some(), "{v}");
        let f = v["fn"].as_str().unwrap();
        if f == "from_number" {
            let got = from_number(v["value"].as_f64().unwrap());
            if got != want {
                bad.push(format!("{v}: got {got:?}"));
            }
            continue;
        }
        let name = v["tz"].as_str().unwrap();
        let tz = match zones.iter().find(|(n, _)| n == name) {
            Some((_, z)) => z.clone(),
            None => {
                zones.push((name.to_string(), zone(name)));
                zone(name)
            }
        };
        let text = bytes(&v["text"]);
        let year = v["year"].as_i64().unwrap() as i32;
        let before = v["before_us"].as_i64();
        let run = |text: &[u8]| match f {
            "parse_iso" => parse_iso(text, &tz),
            "parse_clf" => parse_clf(text, &tz),
            "parse_slashed" => parse_slashed(text, &tz),
            "parse_asctime" => parse_asctime(text, &tz),
            "parse_syslog" => parse_syslog(text, year, &tz, before),
            "parse_epoch" => parse_epoch(text),
            "parse_rfc1123" => parse_rfc1123(text, &tz),
            "parse_any" => parse_any(text, &tz),
            "search_any" => search_any(text, year, &tz, before),
            other => panic!("unknown fn {other}"),
        };
        let got = run(&text);
        if got != want && !departs_as_meant(&text, got, run) {
            bad.push(format!(
                "{f} {:?} tz={name} year={year} before={before:?}: want {want:?} got {got:?}",
                String::from_utf8_lossy(&text)
            ));
        }
    }
    for b in bad.iter().take(20) {
        eprintln!("{b}");
    }
    assert!(
        bad.is_empty(),
        "{} of {} time vectors differ",
        bad.len(),
        rows.len()
    );
    assert!(rows.len() > 150_000, "{} rows", rows.len());
}

#[test]
fn zones_from_text_as_python_reads_them() {
    assert_eq!(Zone::from_text(" utc "), Ok(Zone::Utc));
    assert_eq!(Zone::from_text("z"), Ok(Zone::Utc));
    assert_eq!(Zone::from_text("-00:00"), Ok(Zone::Utc));
    assert_eq!(Zone::from_text("+0000"), Ok(Zone::Utc));
    assert_eq!(Zone::from_text("+05:30"), Ok(Zone::Fixed(19_800)));
    assert_eq!(Zone::from_text("-0800"), Ok(Zone::Fixed(-28_800)));
    assert_eq!(Zone::from_text("+23:59"), Ok(Zone::Fixed(86_340)));
    assert_eq!(
        Zone::from_text("+24:00"),
        Err("offset '+24:00' is out of range".to_string())
    );
    assert_eq!(
        Zone::from_text("Europe/Berlin"),
        Ok(Zone::Named("Europe/Berlin".into()))
    );
    assert_eq!(
        Zone::from_text("Etc/UTC"),
        Ok(Zone::Named("Etc/UTC".into()))
    );
    let unknown = |t: &str| {
        format!(
            "unknown time zone {t} (use UTC, an offset like +01:00, or a name like Europe/Berlin)"
        )
    };
    for (text, shown) in [
        ("europe/berlin", "'europe/berlin'"),
        ("", "''"),
        ("   ", "''"),
        ("+1:00", "'+1:00'"),
        ("Europe//Berlin", "'Europe//Berlin'"),
        ("Europe/../Europe/Berlin", "'Europe/../Europe/Berlin'"),
        ("/etc/localtime", "'/etc/localtime'"),
        ("Europe/Berlin/", "'Europe/Berlin/'"),
        ("zone.tab", "'zone.tab'"),
        ("America", "'America'"),
        ("ab'c", "\"ab'c\""),
        ("a\"b'c", "'a\"b\\'c'"),
        ("a\u{1}b", "'a\\x01b'"),
    ] {
        assert_eq!(Zone::from_text(text), Err(unknown(shown)), "{text:?}");
    }
}

#[test]
fn fold_zero_in_gaps_and_folds() {
    let berlin = zone("Europe/Berlin");
    // 2026-03-29 02:30 does not exist in Berlin: read with +01:00 (the offset before).
    assert_eq!(
        parse_iso(b"2026-03-29T02:30:00", &berlin),
        parse_iso(b"2026-03-29T01:30:00Z", &Zone::Utc)
    );
    // 2026-10-25 02:30 happens twice: the first, at +02:00.
    assert_eq!(
        parse_iso(b"2026-10-25T02:30:00", &berlin),
        parse_iso(b"2026-10-25T00:30:00Z", &Zone::Utc)
    );
    // 1970-01-01T00:00:00Z is 0, which Python's `or` chain in parse_any drops.
    assert_eq!(parse_iso(b"1970-01-01T00:00:00Z", &Zone::Utc), Some(0));
    assert_eq!(parse_any(b"1970-01-01T00:00:00Z", &Zone::Utc), None);
    // A leap second is :59; seconds above 60 are impossible in UTC but not in a named zone.
    assert_eq!(
        parse_iso(b"2026-11-26T03:14:60Z", &Zone::Utc),
        parse_iso(b"2026-11-26T03:14:59Z", &Zone::Utc)
    );
    assert_eq!(parse_iso(b"2026-11-26T03:14:61Z", &Zone::Utc), None);
    assert!(parse_iso(b"2026-11-26T03:14:61", &berlin).is_some());
}

#[test]
fn search_any_parses_the_first_match_of_each_pattern_in_order() {
    let utc = Zone::Utc;
    // ISO's first match is an impossible date: CLF is tried next, not ISO's second match.
    let line = b"x 2026-13-01T00:00:00Z 2026-11-26T03:14:15Z 26/Nov/2026:03:14:15 +0100";
    assert_eq!(
        search_any(line, 2026, &utc, None),
        parse_clf(b"26/Nov/2026:03:14:15 +0100", &utc)
    );
    // A digit after a zone offset drops the zone (`(?!\d)`).
    assert_eq!(
        search_any(b"at 2026-11-26 03:14:15+01001", 2026, &utc, None),
        parse_iso(b"2026-11-26 03:14:15", &utc)
    );
    // Epoch: not after a word character or '.'.
    assert_eq!(
        search_any(b"id=a1764126855 t=1764126855", 2026, &utc, None),
        Some(1_764_126_855_000_000)
    );
    assert_eq!(search_any(b"v1.1764126855", 2026, &utc, None), None);
}

#[test]
fn numbers_and_clamps() {
    assert_eq!(
        from_number(1_764_126_855_123.0),
        Some(1_764_126_855_123_000)
    );
    assert_eq!(from_number(f64::NAN), None);
    assert_eq!(from_number(f64::INFINITY), None);
    assert_eq!(clamp_us(1.5), Some(1_500_000));
    assert_eq!(clamp_us(-1.5), Some(-1_500_000));
    assert_eq!(clamp_us(f64::NAN), None);
    assert_eq!(clamp_us(253_402_300_799.0), Some(253_402_300_799_000_000));
    assert_eq!(clamp_us(253_402_300_800.0), None);
    assert_eq!(clamp_us(-62_135_596_800.0), Some(-62_135_596_800_000_000));
    assert_eq!(clamp_us(-62_135_596_801.0), None);
    assert_eq!(clamp_us(f64::INFINITY), None);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]
    #[test]
    fn no_input_panics(s in proptest::collection::vec(any::<u8>(), 0..80), cut in 0usize..80) {
        let zones = [Zone::Utc, Zone::Fixed(3600), Zone::Named("Europe/Berlin".into())];
        for tz in &zones {
            for t in [&s[..], &s[..cut.min(s.len())]] {
                let _ = parse_iso(t, tz);
                let _ = parse_clf(t, tz);
                let _ = parse_slashed(t, tz);
                let _ = parse_asctime(t, tz);
                let _ = parse_syslog(t, 2026, tz, Some(1));
                let _ = parse_epoch(t);
                let _ = parse_rfc1123(t, tz);
                let _ = parse_any(t, tz);
                let _ = search_any(t, 1, tz, Some(-1));
            }
        }
    }

    #[test]
    fn cut_times_never_panic(cut in 0usize..40, junk in any::<u8>(), at in 0usize..40) {
        for base in [
            &b"2026-11-26T03:14:15.123456789+01:00"[..],
            b"26/Nov/2026:03:14:15.123 -08:00",
            b"2026/11/26 - 03:14:15,5",
            b"Thu Nov 26 03:14:15.123456 2026",
            b"Nov 26 03:14:15.123456",
            b"Wed, 26 Nov 2026 03:14:15.5 +0100",
            b"1764126855.123456789",
        ] {
            let mut t = base[..cut.min(base.len())].to_vec();
            t.insert(at.min(t.len()), junk);
            let _ = search_any(&t, 2026, &Zone::Named("America/New_York".into()), Some(5));
            let _ = parse_any(&t, &Zone::Fixed(-1));
            let _ = zone_text_never_panics(&t);
        }
    }
}

fn zone_text_never_panics(t: &[u8]) -> Option<Zone> {
    Zone::from_text(&String::from_utf8_lossy(t)).ok()
}

/// `cargo test --release --lib timeparse::tests::timing -- --ignored --nocapture`
#[test]
#[ignore]
fn timing() {
    let n = 2_000_000u32;
    let utc = Zone::Utc;
    let generic = format!(
        "worker 7 rejected {} at 2026-11-26T03:14:15.123Z",
        "eyJhbGciOiJSUzI1NiJ9x".repeat(60)
    );
    let cases: [(&str, &[u8]); 5] = [
        ("parse_iso", b"2026-11-26T03:14:15.123456Z"),
        ("parse_clf", b"26/Nov/2026:03:14:15 +0000"),
        ("parse_iso (Berlin, no zone)", b"2026-11-26 03:14:15"),
        (
            "search_any (syslog line)",
            b"<34>Nov 26 03:14:15 host app[1]: GET /x?token=eyJhbGciOi",
        ),
        (
            "search_any (1.2 KB token, ISO time after it)",
            generic.as_bytes(),
        ),
    ];
    for (name, text) in cases {
        let tz = if name.contains("Berlin") {
            zone("Europe/Berlin")
        } else {
            utc.clone()
        };
        let t0 = std::time::Instant::now();
        let mut acc = 0i64;
        for i in 0..n {
            let v = if name.starts_with("parse_iso") {
                parse_iso(std::hint::black_box(text), &tz)
            } else if name.starts_with("parse_clf") {
                parse_clf(std::hint::black_box(text), &tz)
            } else {
                search_any(std::hint::black_box(text), 2026, &tz, None)
            };
            acc = acc.wrapping_add(v.unwrap_or(0) ^ i64::from(i));
        }
        let per = t0.elapsed().as_secs_f64() * 1e6 / f64::from(n);
        eprintln!("{name}: {per:.4} µs per call ({acc})");
    }
}

#[test]
fn hours_only_offsets_are_read_and_impossible_offsets_refused() {
    let utc = Zone::Utc;
    let five_west = parse_iso(b"2026-11-20T15:00:00Z", &utc);
    assert!(five_west.is_some());
    // PostgreSQL's `-05`, with or without a space, is the same instant as `-05:00` and `-0500`.
    for text in [
        &b"2026-11-20T10:00:00-05"[..],
        b"2026-11-20 10:00:00 -05",
        b"2026-11-20 10:00:00-05:00",
        b"2026-11-20 10:00:00 -0500",
        b"2026-11-20 10:00:00-05]",
    ] {
        assert_eq!(parse_iso(text, &utc), five_west, "{text:?}");
    }
    assert_eq!(
        parse_iso(b"2026-11-20 10:00:00.5+05", &utc),
        parse_iso(b"2026-11-20T05:00:00.5Z", &utc)
    );
    assert_eq!(
        search_any(b"LOG 2026-11-20 10:00:00-05 [42] x", 2026, &utc, None),
        five_west
    );
    // Three digits are no offset (`(?!\d)`), nor two that are no hour or go on as more of a
    // time or a word: the time has no zone, as before.
    for text in [
        &b"2026-11-20 10:00:00-051"[..],
        b"2026-11-20 10:00:00+24",
        b"2026-11-20T10:00:00-11-20T10:00:00Z",
        b"2026-11-20 10:00:00 -05.5",
        b"2026-11-20 10:00:00-05:3",
        b"2026-11-20 10:00:00 -05x",
    ] {
        assert_eq!(
            parse_iso(text, &utc),
            parse_iso(b"2026-11-20 10:00:00", &utc),
            "{text:?}"
        );
    }
    // No zone has these offsets: the time is unparsable, as an impossible date is.
    for text in [
        &b"2026-11-20 10:00:00-2400"[..],
        b"2026-11-20 10:00:00+05:60",
        b"2026-11-20 10:00:00 +9999",
    ] {
        assert_eq!(parse_iso(text, &utc), None, "{text:?}");
    }
    assert!(parse_iso(b"2026-11-20 10:00:00-23:59", &utc).is_some());
    assert_eq!(parse_clf(b"20/Nov/2026:10:00:00 +2500", &utc), None);
    assert_eq!(parse_rfc1123(b"20 Nov 2026 10:00:00 -0099", &utc), None);
}
