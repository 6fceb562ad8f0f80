//! Tests of the shared field helpers: `split_target` against what Python's urlsplit answered,
//! and the borrowed readings against the owned ones on random input.

use super::*;
use proptest::prelude::*;

// What Python's `split_target` / `split_target_bytes` answered (urllib.parse of CPython 3.11).
const STR_CASES: &[(&str, Option<&str>, Option<&str>)] = &[
    ("/a?b", None, Some("/a")),
    ("https://h/a?b", Some("h"), Some("/a")),
    ("https://H.Example.COM:443/p/q?x", Some("h.example.com"), Some("/p/q")),
    ("http://user:pw@Host:8080", Some("host"), Some("/")),
    ("http://[::1]:443/p", Some("::1"), Some("/p")),
    ("http://[::1/p", None, Some("http://[::1/p")),
    ("http://::1]/p", None, Some("http://::1]/p")),
    ("http://[1.2.3.4]/p", None, Some("http://[1.2.3.4]/p")),
    ("http://[v1.fe]/p", Some("v1.fe"), Some("/p")),
    ("http://[v1.]/p", None, Some("http://[v1.]/p")),
    ("http://[vg.x]/p", None, Some("http://[vg.x]/p")),
    ("http://[fe80::1%25eTH0]/p", Some("fe80::1%25eTH0"), Some("/p")),
    ("http://[fe80::1%]/p", None, Some("http://[fe80::1%]/p")),
    ("http://[::ffff:1.2.3.4]/p", Some("::ffff:1.2.3.4"), Some("/p")),
    ("http://[::ffff:1.2.3.04]/p", None, Some("http://[::ffff:1.2.3.04]/p")),
    ("http://[1:2:3:4:5:6:7:8]/x", Some("1:2:3:4:5:6:7:8"), Some("/x")),
    ("http://[1:2:3:4:5:6:7]/x", None, Some("http://[1:2:3:4:5:6:7]/x")),
    ("http://[1::2::3]/x", None, Some("http://[1::2::3]/x")),
    ("http://[:1::2]/x", None, Some("http://[:1::2]/x")),
    ("http://[1::]/x", Some("1::"), Some("/x")),
    ("http://[::]/x", Some("::"), Some("/x")),
    ("http://[1:2:3:4:5:6:7::]/x", Some("1:2:3:4:5:6:7::"), Some("/x")),
    ("http://[1:2:3:4:5:6:7:8:9]/x", None, Some("http://[1:2:3:4:5:6:7:8:9]/x")),
    ("http://[12345::]/x", None, Some("http://[12345::]/x")),
    (" http://h/p", Some("h"), Some("/p")),
    ("\u{1}\u{2}http://h/p", Some("h"), Some("/p")),
    ("ht\u{9}tp://h/p", Some("h"), Some("/p")),
    ("http://h\u{a}.com/p", Some("h.com"), Some("/p")),
    ("http:/h/p", None, Some("http:/h/p")),
    ("http:h/p", None, Some("http:h/p")),
    ("abc def://x/y", None, Some("abc def://x/y")),
    ("1http://h/p", None, Some("1http://h/p")),
    ("ht%tp://h/p", None, Some("ht%tp://h/p")),
    ("http://h#frag/p", Some("h"), Some("/")),
    ("http://h/p#f?q", Some("h"), Some("/p")),
    ("http://h/p?q#f", Some("h"), Some("/p")),
    ("http://", None, Some("/")),
    ("http://@/", None, Some("/")),
    ("http://a@b@C/", Some("c"), Some("/")),
    ("http://h:/", Some("h"), Some("/")),
    ("http://:80/p", None, Some("/p")),
    ("http://\u{ff21}\u{ff22}\u{ff23}/p", Some("\u{ff41}\u{ff42}\u{ff43}"), Some("/p")),
    ("http://a\u{ff0f}b/p", None, Some("http://a\u{ff0f}b/p")),
    ("http://a\u{2100}b/p", None, Some("http://a\u{2100}b/p")),
    ("http://xn--caf-dma.com/p", Some("xn--caf-dma.com"), Some("/p")),
    ("http://Caf\u{e9}.COM/p", Some("caf\u{e9}.com"), Some("/p")),
    ("*", None, Some("*")),
    ("host:443", None, Some("host:443")),
    ("", None, None),
    ("-", None, Some("-")),
    ("\u{22}\u{22}", None, Some("\u{22}\u{22}")),
    ("?x", None, None),
    ("/?x", None, Some("/")),
    ("\u{9}/p?://", None, Some("/p")),
    ("a?://x", None, Some("a")),
    ("/a\u{9}b?x://", None, Some("/ab")),
    ("wss://h/p", Some("h"), Some("/p")),
    ("x://y", Some("y"), Some("/")),
    ("http://h", Some("h"), Some("/")),
    ("http://h?x", Some("h"), Some("/")),
    ("a\u{0}b://h/p", None, Some("a\u{0}b://h/p")),
    ("\u{e9}://h/p", None, Some("\u{e9}://h/p")),
    ("\u{e9}\u{e9}\u{e9}\u{e9}://h/p", None, Some("\u{e9}\u{e9}\u{e9}\u{e9}://h/p")),
    ("\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}://h/p", None, Some("\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}://h/p")),
    ("http://[::1]x:80/p", Some("::1"), Some("/p")),
    ("http://x[::1]/p", Some("::1"), Some("/p")),
    ("http://[::1]]/p", Some("::1"), Some("/p")),
    ("http://[[::1]/p", None, Some("http://[[::1]/p")),
    ("http://h]/p", None, Some("http://h]/p")),
    ("HTTP://H/P", Some("h"), Some("/P")),
    ("http://\u{3a3}\u{391}\u{3a3}/p", Some("\u{3c3}\u{3b1}\u{3c2}"), Some("/p")),
    ("http://[::1%]/", None, Some("http://[::1%]/")),
    ("http://[::1%a%b]/", None, Some("http://[::1%a%b]/")),
    ("http://[v1.a\u{e9}]/", Some("v1.a\u{e9}"), Some("/")),
    ("http://[1.2.3.4.5]/", None, Some("http://[1.2.3.4.5]/")),
    ("http://[::1.2.3.4]/", Some("::1.2.3.4"), Some("/")),
    ("http://[::1.2.3]/", None, Some("http://[::1.2.3]/")),
    ("http://[0::0:1.2.3.4]/", Some("0::0:1.2.3.4"), Some("/")),
    ("http://h:99999999/p", Some("h"), Some("/p")),
    ("https://h/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa?q", Some("h"), Some("/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")),
    ("\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}http://h/p", None, Some("\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}http://h/p")),
    ("           http://h/p", None, Some("           http://h/p")),
    ("https://h\u{5c}p/q", Some("h\u{5c}p"), Some("/q")),
    ("https://h;x/p", Some("h;x"), Some("/p")),
    ("http://\u{2047}/", None, Some("http://\u{2047}/")),
    ("http://[vAf.x\u{9}y]/", Some("vaf.xy"), Some("/")),
    ("http://[v1.x]y]/", Some("v1.x"), Some("/")),
];
const BYTE_CASES: &[(&[u8], Option<&str>, Option<&str>)] = &[
    (b"/a?b", None, Some("/a")),
    (b"https://h/a?b", Some("h"), Some("/a")),
    (b"https://H.Example.COM:443/p/q?x", Some("h.example.com"), Some("/p/q")),
    (b"http://user:pw@Host:8080", Some("host"), Some("/")),
    (b"http://[::1]:443/p", Some("::1"), Some("/p")),
    (b"http://[::1/p", None, Some("http://[::1/p")),
    (b"http://::1]/p", None, Some("http://::1]/p")),
    (b"http://[1.2.3.4]/p", None, Some("http://[1.2.3.4]/p")),
    (b"http://[v1.fe]/p", Some("v1.fe"), Some("/p")),
    (b"http://[v1.]/p", None, Some("http://[v1.]/p")),
    (b"http://[vg.x]/p", None, Some("http://[vg.x]/p")),
    (b"http://[fe80::1%25eTH0]/p", Some("fe80::1%25eTH0"), Some("/p")),
    (b"http://[fe80::1%]/p", None, Some("http://[fe80::1%]/p")),
    (b"http://[::ffff:1.2.3.4]/p", Some("::ffff:1.2.3.4"), Some("/p")),
    (b"http://[::ffff:1.2.3.04]/p", None, Some("http://[::ffff:1.2.3.04]/p")),
    (b"http://[1:2:3:4:5:6:7:8]/x", Some("1:2:3:4:5:6:7:8"), Some("/x")),
    (b"http://[1:2:3:4:5:6:7]/x", None, Some("http://[1:2:3:4:5:6:7]/x")),
    (b"http://[1::2::3]/x", None, Some("http://[1::2::3]/x")),
    (b"http://[:1::2]/x", None, Some("http://[:1::2]/x")),
    (b"http://[1::]/x", Some("1::"), Some("/x")),
    (b"http://[::]/x", Some("::"), Some("/x")),
    (b"http://[1:2:3:4:5:6:7::]/x", Some("1:2:3:4:5:6:7::"), Some("/x")),
    (b"http://[1:2:3:4:5:6:7:8:9]/x", None, Some("http://[1:2:3:4:5:6:7:8:9]/x")),
    (b"http://[12345::]/x", None, Some("http://[12345::]/x")),
    (b" http://h/p", Some("h"), Some("/p")),
    (b"\x01\x02http://h/p", Some("h"), Some("/p")),
    (b"ht\x09tp://h/p", Some("h"), Some("/p")),
    (b"http://h\x0a.com/p", Some("h.com"), Some("/p")),
    (b"http:/h/p", None, Some("http:/h/p")),
    (b"http:h/p", None, Some("http:h/p")),
    (b"abc def://x/y", None, Some("abc def://x/y")),
    (b"1http://h/p", None, Some("1http://h/p")),
    (b"ht%tp://h/p", None, Some("ht%tp://h/p")),
    (b"http://h#frag/p", Some("h"), Some("/")),
    (b"http://h/p#f?q", Some("h"), Some("/p")),
    (b"http://h/p?q#f", Some("h"), Some("/p")),
    (b"http://", None, Some("/")),
    (b"http://@/", None, Some("/")),
    (b"http://a@b@C/", Some("c"), Some("/")),
    (b"http://h:/", Some("h"), Some("/")),
    (b"http://:80/p", None, Some("/p")),
    (b"http://\xef\xbc\xa1\xef\xbc\xa2\xef\xbc\xa3/p", Some("\u{ff41}\u{ff42}\u{ff43}"), Some("/p")),
    (b"http://a\xef\xbc\x8fb/p", None, Some("http://a\u{ff0f}b/p")),
    (b"http://a\xe2\x84\x80b/p", None, Some("http://a\u{2100}b/p")),
    (b"http://xn--caf-dma.com/p", Some("xn--caf-dma.com"), Some("/p")),
    (b"http://Caf\xc3\xa9.COM/p", Some("caf\u{e9}.com"), Some("/p")),
    (b"*", None, Some("*")),
    (b"host:443", None, Some("host:443")),
    (b"", None, None),
    (b"-", None, None),
    (b"\x22\x22", None, None),
    (b"?x", None, None),
    (b"/?x", None, Some("/")),
    (b"\x09/p?://", None, Some("/p")),
    (b"a?://x", None, Some("a")),
    (b"/a\x09b?x://", None, Some("/ab")),
    (b"wss://h/p", Some("h"), Some("/p")),
    (b"x://y", Some("y"), Some("/")),
    (b"http://h", Some("h"), Some("/")),
    (b"http://h?x", Some("h"), Some("/")),
    (b"a\x00b://h/p", None, Some("a\u{0}b://h/p")),
    (b"\xc3\xa9://h/p", None, Some("\u{e9}://h/p")),
    (b"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9://h/p", None, Some("\u{e9}\u{e9}\u{e9}\u{e9}://h/p")),
    (b"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9://h/p", None, Some("\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}://h/p")),
    (b"http://[::1]x:80/p", Some("::1"), Some("/p")),
    (b"http://x[::1]/p", Some("::1"), Some("/p")),
    (b"http://[::1]]/p", Some("::1"), Some("/p")),
    (b"http://[[::1]/p", None, Some("http://[[::1]/p")),
    (b"http://h]/p", None, Some("http://h]/p")),
    (b"HTTP://H/P", Some("h"), Some("/P")),
    (b"http://\xce\xa3\xce\x91\xce\xa3/p", Some("\u{3c3}\u{3b1}\u{3c2}"), Some("/p")),
    (b"http://[::1%]/", None, Some("http://[::1%]/")),
    (b"http://[::1%a%b]/", None, Some("http://[::1%a%b]/")),
    (b"http://[v1.a\xc3\xa9]/", Some("v1.a\u{e9}"), Some("/")),
    (b"http://[1.2.3.4.5]/", None, Some("http://[1.2.3.4.5]/")),
    (b"http://[::1.2.3.4]/", Some("::1.2.3.4"), Some("/")),
    (b"http://[::1.2.3]/", None, Some("http://[::1.2.3]/")),
    (b"http://[0::0:1.2.3.4]/", Some("0::0:1.2.3.4"), Some("/")),
    (b"http://h:99999999/p", Some("h"), Some("/p")),
    (b"https://h/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa?q", Some("h"), Some("/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")),
    (b"\x00\x00\x00\x00\x00\x00\x00\x00\x00http://h/p", None, Some("\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}http://h/p")),
    (b"           http://h/p", None, Some("           http://h/p")),
    (b"https://h\x5cp/q", Some("h\u{5c}p"), Some("/q")),
    (b"https://h;x/p", Some("h;x"), Some("/p")),
    (b"http://\xe2\x81\x87/", None, Some("http://\u{2047}/")),
    (b"http://[vAf.x\x09y]/", Some("vaf.xy"), Some("/")),
    (b"http://[v1.x]y]/", Some("v1.x"), Some("/")),
    (b"\xff://h/p", None, Some("\u{fffd}://h/p")),
    (b"\xe2\x86?://h", None, Some("\u{fffd}")),
    (b"\xe2\x86\x92\xe2\x86\x92\xe2\x86\x92\xe2\x86\x92http://h/p", None, Some("\u{2192}\u{2192}\u{2192}\u{2192}http://h/p")),
    (b"http://h\xff/p?\xff", Some("h\u{fffd}"), Some("/p")),
    (b"/p\xc3?q", None, Some("/p\u{fffd}")),
    (b"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3?://x", None, Some("\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{fffd}")),
    (b"abc\xf0\x9f\x98://x/p", None, Some("abc\u{fffd}://x/p")),
    (b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff://h", None, Some("\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd}://h")),
    (b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff://h", None, Some("\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd}://h")),
    (b"h?\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9://", None, Some("h")),
];

fn owned(x: Option<&str>) -> Option<String> {
    x.map(str::to_string)
}

#[test]
fn split_target_reads_urls_as_urlsplit_does() {
    for &(target, host, path) in STR_CASES {
        assert_eq!(
            split_target(target),
            (owned(host), owned(path)),
            "{target:?}"
        );
    }
}

#[test]
fn split_target_bytes_is_split_target_of_the_text() {
    for &(target, host, path) in BYTE_CASES {
        assert_eq!(
            split_target_bytes(target),
            (owned(host), owned(path)),
            "{target:?}"
        );
    }
}

proptest! {
    #[test]
    fn split_target_bytes_agrees_with_split_target(
        b in proptest::collection::vec(
            prop_oneof![
                Just(b'?'), Just(b':'), Just(b'/'), Just(b'['), Just(b']'), Just(b'@'),
                Just(b'#'), Just(b'\t'), Just(0xc3u8), Just(0xa9u8), Just(0xffu8), Just(b'h'),
                Just(b'1'), Just(b'.'), Just(b'v'), Just(b'%'), any::<u8>()
            ],
            0..80,
        )
    ) {
        let want = match text(&b) {
            None => (None, None),
            Some(t) => split_target(&t),
        };
        prop_assert_eq!(split_target_bytes(&b), want);
    }

    /// The borrowed readings are the owned ones: the same text, from a borrowed or an
    /// owned input alike.
    #[test]
    fn borrowed_texts_are_the_owned_ones(
        b in crate::testing::pieces(
            vec![
                &b"["[..], b"]", b":", b".", b",", b"H", b"h", b"\xc3\x89", b"\xc3\xa9", b"\xff",
                b"-", b"", b"1", b"::1", b"?", b"://",
            ],
            3,
            12,
        )
    ) {
        let t = text(&b);
        let s = t.as_deref();
        prop_assert_eq!(strip_port_text(t.clone()).map(Cow::into_owned), strip_port(s));
        prop_assert_eq!(
            strip_port_text(owned_text(t.clone())).map(Cow::into_owned),
            strip_port(s)
        );
        prop_assert_eq!(
            strip_client_port_text(t.clone()).map(Cow::into_owned),
            strip_client_port(s)
        );
        prop_assert_eq!(
            strip_client_port_text(owned_text(t.clone())).map(Cow::into_owned),
            strip_client_port(s)
        );
        let (host, path) = split_target_text(&b);
        prop_assert_eq!((host, path.map(Cow::into_owned)), split_target_bytes(&b));
        let whole = lossy(&b);
        let (host, path) = split_target_str(whole.clone());
        prop_assert_eq!((host, path.map(Cow::into_owned)), split_target(&whole));
        if let Some(s) = s {
            prop_assert_eq!(lower_text(s), py_lower(s));
        }
    }
}
