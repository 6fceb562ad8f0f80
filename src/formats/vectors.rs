//! The oracle: what the Python parsers answered (`tests/data/vectors/`, written by
//! a script before they were deleted, see `tests/data/README.md`), replayed against the core.

use std::borrow::Cow;
use std::io::{BufRead, BufReader};

use base64::Engine;
use serde_json::Value;

use super::common::{FileContext, LineFields, Text};
use super::{detect, parse_line, Format};
use crate::timeparse::Zone;

pub fn load(name: &str) -> Vec<Value> {
    let path = format!(
        "{}/tests/data/vectors/{name}.jsonl.gz",
        env!("CARGO_MANIFEST_DIR")
    );
    let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    BufReader::new(flate2::read::GzDecoder::new(file))
        .lines()
        .map(|l| serde_json::from_str(&l.unwrap()).unwrap())
        .collect()
}

pub fn bytes(v: &Value) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(v.as_str().unwrap())
        .unwrap()
}

fn opt_str(v: &Value) -> Text<'static> {
    v.as_str().map(|s| Cow::Owned(s.to_string()))
}

pub fn expected_fields(f: &Value) -> LineFields<'static> {
    LineFields {
        ts: f["ts"].as_i64(),
        host: opt_str(&f["host"]),
        method: opt_str(&f["method"]),
        path: opt_str(&f["path"]),
        status: f["status"].as_i64().map(|s| s as i32),
        client_ip: opt_str(&f["client_ip"]),
        user_agent: opt_str(&f["user_agent"]),
        query_span: f["query_span"].as_array().map(|a| {
            (
                a[0].as_u64().unwrap() as usize,
                a[1].as_u64().unwrap() as usize,
            )
        }),
    }
}

pub fn context(v: &Value) -> FileContext {
    FileContext {
        year: v["year"].as_i64().unwrap() as i32,
        tz: Zone::from_text(v["tz"].as_str().unwrap()).unwrap_or(Zone::Utc),
        mtime_us: v["mtime_us"].as_i64(),
        iis_fields: v["iis_fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_string())
            .collect(),
    }
}

/// Mismatches of `parse_line` against the vectors whose expected (or given) format is in `only`
/// (all when empty): (source, given format, line, expected name+fields, got name+fields).
pub fn line_mismatches(only: &[Format]) -> (usize, Vec<String>) {
    let mut checked = 0;
    let mut bad = Vec::new();
    for v in load("lines") {
        let fmt = Format::from_name(v["fmt"].as_str().unwrap()).unwrap();
        let want_name = Format::from_name(v["name"].as_str().unwrap()).unwrap();
        if !only.is_empty() && !only.contains(&want_name) && !only.contains(&fmt) {
            continue;
        }
        checked += 1;
        let line = bytes(&v["line"]);
        let want = expected_fields(&v["fields"]);
        let (name, got) = parse_line(&line, fmt, &context(&v));
        if name != want_name || got != want {
            bad.push(format!(
                "{} [{}] {:?}\n  want {} {:?}\n  got  {} {:?}",
                v["source"],
                fmt.name(),
                String::from_utf8_lossy(&line[..line.len().min(300)]),
                want_name.name(),
                want,
                name.name(),
                got
            ));
        }
    }
    (checked, bad)
}

fn report(what: &str, checked: usize, bad: &[String]) {
    for b in bad.iter().take(15) {
        eprintln!("{b}");
    }
    assert!(
        bad.is_empty(),
        "{what}: {} of {checked} vectors differ",
        bad.len()
    );
}

#[test]
fn every_line_vector_parses_as_python_did() {
    let (checked, bad) = line_mismatches(&[]);
    report("parse_line", checked, &bad);
}

#[test]
fn every_detect_vector_detects_as_python_did() {
    let mut bad = Vec::new();
    let vs = load("detect");
    for v in &vs {
        let lines: Vec<Vec<u8>> = v["lines"].as_array().unwrap().iter().map(bytes).collect();
        let refs: Vec<&[u8]> = lines.iter().map(Vec::as_slice).collect();
        let got = detect(&refs);
        if got.name() != v["expect"].as_str().unwrap() {
            bad.push(format!("want {} got {}", v["expect"], got.name()));
        }
    }
    report("detect", vs.len(), &bad);
}
