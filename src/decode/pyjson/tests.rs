//! Tests of the Python-compatible JSON reader: what orjson or json accepts, and Python's reprs of
//! what was read.

use super::repr::float_repr;
use super::*;

fn doc(raw: &[u8]) -> Option<(bool, String)> {
    let (t, clean) = text(raw)?;
    let d = parse_doc(&t, clean)?;
    let v = Value::Obj(d.members.clone());
    Some((d.orjson, v.py_str(d.orjson)))
}

#[test]
fn accepts_what_orjson_or_json_accepts() {
    assert_eq!(doc(br#"{"a":1}"#), Some((true, "{'a': 1}".into())));
    assert_eq!(
        doc(br#" {"a":[1,2.5,true,null,"x"]} "#).unwrap().1,
        "{'a': [1, 2.5, True, None, 'x']}"
    );
    assert_eq!(
        doc(br#"{"a":NaN,"b":-Infinity}"#),
        Some((false, "{'a': nan, 'b': -inf}".into()))
    );
    assert_eq!(doc(br#"{"a":1e400}"#), Some((false, "{'a': inf}".into())));
    assert_eq!(
        doc(br#"{"a":"\ud800"}"#),
        Some((false, "{'a': '\u{fffd}'}".into()))
    );
    assert_eq!(
        doc(br#"{"a":"\ud83d\ude00"}"#),
        Some((true, "{'a': '\u{1f600}'}".into()))
    );
    assert!(!doc(b"\xef\xbb\xbf{\"a\":1}").unwrap().0);
    assert_eq!(
        doc(b"{\x00\"\x00a\x00\"\x00:\x001\x00}\x00").unwrap().1,
        "{'a': 1}"
    );
    assert!(!doc(b"{\"a\":\"\xed\xa0\x80\"}").unwrap().0);
    assert_eq!(
        doc(br#"{"a":1,"a":2,"b":3}"#).unwrap().1,
        "{'a': 2, 'b': 3}"
    );
    assert_eq!(
        doc(br#"{"a":999999999999999999999999999999}"#).unwrap().1,
        "{'a': 1e+30}"
    );
    assert_eq!(
        doc(br#"{"a":18446744073709551615,"b":-0}"#).unwrap().1,
        "{'a': 18446744073709551615, 'b': 0}"
    );
    let big = format!("{{\"a\":{}, \"b\": NaN}}", "9".repeat(400));
    assert_eq!(
        doc(big.as_bytes()).unwrap().1,
        format!("{{'a': {}, 'b': nan}}", "9".repeat(400))
    );
    for bad in [
        &b"{\"a\":1}\x00"[..],
        b"{\"a\":1,}",
        b"{\"a\":01}",
        b"{\"a\":1.}",
        b"{\"a\":.5}",
        b"{\"a\":-NaN}",
        b"{\"a\":\"\x1f\"}",
        b"{\"a\":\"\\x\"}",
        b"{\"\xff\":1}",
        b"[1]",
        b"\"s\"",
        b"",
        b"{\"a\":\xc2\xa01}",
        b"{\"a\":1e}",
        b"{\"a\":tru}",
    ] {
        assert_eq!(doc(bad), None, "{:?}", String::from_utf8_lossy(bad));
    }
    let n = |d: usize| format!("{{\"a\":{}{}}}", "[".repeat(d), "]".repeat(d));
    assert!(doc(n(1023).as_bytes()).is_some());
    assert!(doc(n(1024).as_bytes()).is_none());
    assert!(doc(format!("{{\"a\":{}}}", "9".repeat(4300)).as_bytes()).is_some());
    assert!(doc(format!("{{\"a\":{}}}", "9".repeat(4301)).as_bytes()).is_none());
}

#[test]
fn python_reprs() {
    for (f, s) in [
        (1e16, "1e+16"),
        (1e15, "1000000000000000.0"),
        (1.0, "1.0"),
        (-0.0, "-0.0"),
        (0.0001, "0.0001"),
        (0.00001, "1e-05"),
        (1.5e-7, "1.5e-07"),
        (123.456, "123.456"),
        (1e308, "1e+308"),
        (2.5e22, "2.5e+22"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
        (5e-324, "5e-324"),
        (0.1, "0.1"),
    ] {
        assert_eq!(float_repr(f), s);
    }
    let r = |s: &str| {
        let mut o = String::new();
        str_repr_into(s, &mut o);
        o
    };
    assert_eq!(r("it's"), "\"it's\"");
    assert_eq!(r("a'\"b"), "'a\\'\"b'");
    assert_eq!(
        r("\u{0}\n\u{7f}é\u{202e}\u{a0}"),
        "'\\x00\\n\\x7fé\\u202e\\xa0'"
    );
}
