//! JSON access and app logs: Traefik, Caddy, Azure App Gateway / Front Door, ASP.NET Core / Serilog,
//! Istio, nginx `escape=json` and any JSON object (the port of `formats/jsonlog.py`).
//!
//! One parser for all of them: values are looked up by the names these formats use, on the object
//! read as flattened to leaf names and dotted paths (lowercased). Fields a format has earlier win.
//!
//! The object is read as Python read it (orjson): strict JSON, UTF-8, at most 1024 levels deep, a
//! number that overflows a double rejects the line; an integer beyond 64 bits is a float. Python
//! `str()` of a number is reproduced where one reaches a text field.
//!
//! This file reads a line's fields from its record and tells the formats apart (`looks_like_*`);
//! the parts it stands on: `keys` (the names each field is looked up by), `doc` (the JSON reader),
//! `lookup` (the walk over the object) and `pyvalues` (Python's `str()` of numbers).

mod doc;
mod keys;
mod lookup;
mod pyvalues;

use std::borrow::Cow;

use memchr::memchr;

use super::common::{
    arrival, owned, owned_text, py_float, seconds_us_f64, split_target_str, status_f64,
    status_text, strip_client_port_text, strip_port_text, FileContext, LineFields, Text,
};
use crate::timeparse;
use doc::{Doc, Kind};
pub(crate) use keys::{HOST_KEYS, IP_KEYS, METHOD_KEYS, PATH_KEYS, STATUS_KEYS, UA_KEYS};
use lookup::{lookup, TOP_KEYS};
pub use pyvalues::py_float_repr;
use pyvalues::{num_f64, py_int, py_num_str, py_space};

/// Records whose time is written after the response, with their duration: (the key and the start
/// of its value that mark the record, the duration's key path; seconds).
const END_TIMES: [(&str, &str, &[&str]); 3] = [
    ("logger", "http.log.access", &["duration"]), // Caddy: `ts`, `duration` in seconds
    (
        "category",
        "FrontDoorAccessLog",
        &["properties", "timeTaken"],
    ), // Front Door: `time`, seconds
    (
        "category",
        "FrontdoorAccessLog",
        &["properties", "timeTaken"],
    ),
];

/// A document and the line's fields read from it.
struct Record<'s> {
    doc: Doc<'s>,
    top: [Option<usize>; 6],
}

impl<'s> Record<'s> {
    fn leaf_text(&self, v: usize) -> Cow<'s, str> {
        match self.doc.kind(v) {
            Kind::Num => Cow::Owned(py_num_str(&self.doc.text(v))),
            _ => self.doc.text(v),
        }
    }

    /// Python's truth value of a looked-up value (a number 0 is false).
    fn truthy(&self, v: Option<usize>) -> bool {
        match v {
            None => false,
            Some(v) if self.doc.kind(v) == Kind::Num => num_f64(&self.doc.text(v)) != 0.0,
            Some(v) => !self.doc.text(v).is_empty(),
        }
    }

    fn status_of(&self, v: usize) -> Option<i32> {
        let t = self.doc.text(v);
        match self.doc.kind(v) {
            Kind::Num => match py_int(&t) {
                Some(i) => (100..=999).contains(&i).then_some(i as i32),
                None => status_f64(num_f64(&t)),
            },
            _ => status_text(t.as_bytes()),
        }
    }

    fn time_of(&self, v: usize, ctx: &FileContext) -> Option<i64> {
        let t = self.doc.text(v);
        match self.doc.kind(v) {
            Kind::Num => timeparse::from_number(num_f64(&t)),
            _ => timeparse::parse_any(t.as_bytes(), &ctx.tz),
        }
    }

    /// `obj.get(key)` for one of `TOP_KEYS`.
    fn top(&self, key: &str) -> Option<usize> {
        let at = TOP_KEYS.iter().position(|t| *t == key)?;
        self.top[at]
    }

    /// The top-level string value of one of `TOP_KEYS`.
    fn top_str(&self, key: &str) -> Option<Cow<'s, str>> {
        let v = self.top(key)?;
        (self.doc.kind(v) == Kind::Str).then(|| self.doc.text(v))
    }

    /// The record's time, minus its duration where the format logs the end (`END_TIMES`).
    fn arrival(&self, ts: i64) -> Option<i64> {
        for (mark, prefix, path) in END_TIMES {
            if self.top_str(mark).is_some_and(|v| v.starts_with(prefix)) {
                let mut d = self.top(path[0]);
                for k in &path[1..] {
                    d = d.and_then(|o| self.doc.get(o, k));
                }
                let secs = d.and_then(|d| match self.doc.kind(d) {
                    Kind::Str => py_float(self.doc.text(d).as_bytes()),
                    Kind::Num => Some(num_f64(&self.doc.text(d))),
                    _ => None,
                });
                return arrival(Some(ts), secs.and_then(|s| seconds_us_f64(s, 1e6)));
            }
        }
        Some(ts)
    }
}

// --- the line -------------------------------------------------------------------------------------

/// The document a line holds from its first `{`, or None.
fn line_doc(line: &[u8]) -> Option<Doc<'_>> {
    let start = memchr(b'{', line)?;
    let mut end = line.len();
    while end > start && matches!(line[end - 1], b'\r' | b'\n' | b' ') {
        end -= 1;
    }
    let doc = Doc::parse(&line[start..end])?;
    (doc.kind(0) == Kind::Obj).then_some(doc)
}

/// The fields of a JSON line, or None when the line holds no JSON object. `nested`: an inner
/// message (a `message`/`log` string holding a whole access line) is parsed with
/// `super::parse_inner`, as `jsonlog.py`'s `inner=` callback does.
pub fn parse_json_line<'a>(
    line: &'a [u8],
    ctx: &FileContext,
    nested: bool,
) -> Option<LineFields<'a>> {
    let doc = line_doc(line)?;
    let ([ts_v, host_v, method_v, path_v, status_v, ip_v, ua_v], top) = lookup(&doc);
    let rec = Record { doc, top };
    let ts = ts_v
        .and_then(|v| rec.time_of(v, ctx))
        .and_then(|t| rec.arrival(t));
    if nested {
        if let Some(wrapped) = rec.top_str("log") {
            if !wrapped.trim_start_matches(py_space).starts_with('{') {
                // The message's fields borrow from the line where the string is its bytes.
                let got = match &wrapped {
                    Cow::Borrowed(msg) => {
                        super::parse_inner(msg.trim_matches(py_space).as_bytes(), ctx)
                    }
                    Cow::Owned(msg) => {
                        super::parse_inner(msg.trim_matches(py_space).as_bytes(), ctx)
                            .map(LineFields::into_owned)
                    }
                };
                if let Some(got) = got {
                    return Some(LineFields {
                        ts: got.ts.or(ts),
                        ..got
                    });
                }
            }
        }
    }
    let (mut thost, mut path): (Text<'a>, Text<'a>) = match path_v {
        Some(v) => {
            let (h, p) = split_target_str(rec.leaf_text(v));
            (owned(h), p)
        }
        None => (None, None),
    };
    let mut method = method_v.map(|v| rec.leaf_text(v));
    if path.is_none() {
        if let Some(request) = rec.top_str("request") {
            // nginx's JSON `log_format`s carry `"request": "$request"`, the request line.
            let (rmethod, rhost, rpath) = match request {
                Cow::Borrowed(r) => super::text::request_line(Some(r.as_bytes())),
                Cow::Owned(r) => {
                    let (m, h, p) = super::text::request_line(Some(r.as_bytes()));
                    (owned_text(m), owned_text(h), owned_text(p))
                }
            };
            thost = rhost;
            path = rpath;
            if !rec.truthy(method_v) {
                method = rmethod;
            }
        }
    }
    let mut ip = ip_v.map(|v| rec.leaf_text(v));
    if ip.as_ref().is_some_and(|s| s.contains(',')) {
        // an X-Forwarded-For list: the client is the first
        fn first(s: &str) -> &str {
            s.split(',')
                .next()
                .unwrap_or_default()
                .trim_matches(py_space)
        }
        ip = ip.map(|s| match s {
            Cow::Borrowed(s) => Cow::Borrowed(first(s)),
            Cow::Owned(s) => Cow::Owned(first(&s).to_string()),
        });
    }
    let client_ip = match ip {
        // `203.0.113.9:51234` and `[2001:db8::1]:51234` lose the port; bare IPv6 is left alone.
        Some(s) if !s.is_empty() && (s.contains('.') || s.starts_with('[')) => {
            strip_client_port_text(Some(s))
        }
        other => other,
    };
    let host = host_v.map(|v| rec.leaf_text(v)).or(thost);
    Some(LineFields {
        ts,
        host: strip_port_text(host),
        method,
        path,
        status: status_v.and_then(|v| rec.status_of(v)),
        client_ip,
        user_agent: ua_v.map(|v| rec.leaf_text(v)),
        query_span: None,
    })
}

fn lstrip(line: &[u8]) -> &[u8] {
    let at = line
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\x0b' | b'\x0c'))
        .unwrap_or(line.len());
    &line[at..]
}

fn has(line: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(line, needle).is_some()
}

/// Any JSON object line.
pub fn looks_like_json(line: &[u8]) -> bool {
    lstrip(line).first() == Some(&b'{')
}

/// Traefik's JSON access log (`RequestHost`, `DownstreamStatus`); not Serilog's compact JSON,
/// whose request logging has a `RequestHost` property too (`@t`, `@mt`).
pub fn looks_like_traefik(line: &[u8]) -> bool {
    looks_like_json(line)
        && (has(line, b"\"RequestHost\"") || has(line, b"\"DownstreamStatus\""))
        && !has(line, b"\"@mt\"")
        && !has(line, b"\"@t\"")
}

/// Caddy's access logger.
pub fn looks_like_caddy(line: &[u8]) -> bool {
    looks_like_json(line) && (has(line, b"\"http.log.access") || has(line, b"\"resp_headers\""))
}

/// Azure Application Gateway access log records.
pub fn looks_like_appgw(line: &[u8]) -> bool {
    looks_like_json(line) && has(line, b"ApplicationGatewayAccess")
}

/// Azure Front Door access log records (classic and Standard/Premium).
pub fn looks_like_frontdoor(line: &[u8]) -> bool {
    looks_like_json(line)
        && (has(line, b"FrontDoorAccessLog")
            || has(line, b"FrontdoorAccessLog")
            || has(line, b"\"trackingReference\""))
}

#[cfg(test)]
mod tests;
