//! Where a token sat, from the bytes of its line right before it: an Authorization header, a
//! query or form parameter, a cookie, a JSON field, or free text.
//!
//! The patterns are anchored at the end of at most 120 bytes and run on a finite automaton
//! (the `regex` crate: no backtracking), once per token.

use regex::bytes::Regex;
use std::borrow::Cow;
use std::sync::OnceLock;

pub const LOC_AUTHORIZATION: u8 = 0;
pub const LOC_QUERY: u8 = 1;
pub const LOC_FORM: u8 = 2;
pub const LOC_COOKIE: u8 = 3;
pub const LOC_JSON: u8 = 4;
pub const LOC_TEXT: u8 = 5;

/// How many bytes before a token are looked at.
pub const LOOK_BEHIND: usize = 120;

const BEARER_ENDINGS: [&[u8]; 4] = [b"Bearer ", b"bearer ", b"Bearer+", b"BEARER "];
const QUERY_KEYS: [&[u8]; 8] = [
    b"query",
    b"uri",
    b"url",
    b"path",
    b"target",
    b"referer",
    b"referrer",
    b"location",
];

struct Patterns {
    bearer: Regex,
    param: Regex,
    key_before: Regex,
    json_key: Regex,
}

// `\n?\z` is Python's `$` without MULTILINE: the end, or right before a final newline.
// `[\t\n\x0B\x0C\r ]` is Python's `\s` for bytes.
fn patterns() -> &'static Patterns {
    static P: OnceLock<Patterns> = OnceLock::new();
    P.get_or_init(|| {
        let re = |s: &str| Regex::new(s).expect("fixed pattern compiles");
        Patterns {
            bearer: re(r"(?-u)(?i:bearer)(?:[\t\n\x0B\x0C\r ]|\+|%20|\\t)+\n?\z"),
            param: re(r#"(?-u)([?&;\t\n\x0B\x0C\r "',{|]|^|%26|%3[Ff])([A-Za-z_][A-Za-z0-9_.\-]{0,40})(?:=|%3[Dd])\n?\z"#),
            key_before: re(r#"(?-u)["']([A-Za-z_@][A-Za-z0-9_.\-@]{0,60})["'][\t\n\x0B\x0C\r ]*:[\t\n\x0B\x0C\r ]*\n?\z"#),
            json_key: re(
                r#"(?-u)["']([A-Za-z_@:][A-Za-z0-9_.\-@:]{0,60})\\?["'][\t\n\x0B\x0C\r ]*[:=][\t\n\x0B\x0C\r ]*\\?["']\n?\z"#,
            ),
        }
    })
}

/// The last bytes each pattern can end with (its `\n?\z` taken into account): a tail that ends
/// otherwise is not run on the automaton. Most tokens in JSON logs sit after `":"` or `=`, so two
/// of the three searches were run to fail on every occurrence.
fn may_end(tail: &[u8], ends: &[u8]) -> bool {
    tail.last().is_some_and(|b| *b == b'\n' || ends.contains(b))
}

const BEARER_LAST: &[u8] = b"\t\x0b\x0c\r +0t";
const JSON_KEY_LAST: &[u8] = b"\"'";
const PARAM_LAST: &[u8] = b"=Dd";

/// Where the name that starts at `from` ends: the first byte after it that is no name byte
/// (`@` and `:` are name bytes of a JSON key, `at`).
fn name_end(tail: &[u8], from: usize, at: bool) -> usize {
    let name = |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-');
    from + tail[from..]
        .iter()
        .take_while(|&&c| name(c) || (at && matches!(c, b'@' | b':')))
        .count()
}

/// The capture group of a `json_key` match that starts at `start`: its key is the run of key
/// bytes after the opening quote. Only the match is searched for (`find`: the reverse DFA alone),
/// not its groups (a backtracker run per token occurrence).
fn json_key_group(tail: &[u8], start: usize) -> std::ops::Range<usize> {
    start + 1..name_end(tail, start + 1, true)
}

/// The capture groups of a `param` match that starts at `start`: the separator is the one byte
/// of the class there, `%26` or `%3F` where a `%` stands, or empty (`^`) where a name starts; the
/// name runs to the `=` or `%3D` (no name byte is either). No two readings of the separator can
/// start at one place, so the match's start decides them.
fn param_groups(tail: &[u8], start: usize) -> (std::ops::Range<usize>, std::ops::Range<usize>) {
    let sep = match tail[start] {
        b'%' => 3,
        c if c.is_ascii_alphabetic() || c == b'_' => 0,
        _ => 1,
    };
    let name = start + sep;
    (start..name, name..name_end(tail, name, false))
}

/// A `Cookie:` header or cookie field shortly before, with no quote in between.
fn is_cookie(before: &[u8]) -> bool {
    // The last `cookie` in any case (no two can overlap): its `c` is the last `c` or `C` that
    // starts one, found from the end rather than by every match of a regex.
    let mut end = before.len();
    let at = loop {
        let Some(i) = memchr::memrchr2(b'c', b'C', &before[..end]) else {
            return false;
        };
        if before
            .get(i..i + 6)
            .is_some_and(|w| w.eq_ignore_ascii_case(b"cookie"))
        {
            break i;
        }
        end = i;
    };
    let rest = &before[at + 6..];
    let skip = rest.iter().take_while(|b| b"\":= ".contains(b)).count();
    !rest[skip..].contains(&b'"')
}

/// Whether the `&` that precedes a parameter belongs to a URL (a `?` in the same word).
fn in_url(before: &[u8]) -> bool {
    let word_start = before
        .iter()
        .rposition(|b| matches!(b, b' ' | b'"' | b'\''))
        .map_or(0, |i| i + 1);
    let word = &before[word_start..];
    word.contains(&b'?')
        || memchr::memmem::find(word, b"%3F").is_some()
        || memchr::memmem::find(word, b"%3f").is_some()
}

fn lower(name: &[u8]) -> String {
    // The patterns admit ASCII only.
    crate::formats::common::lossy(name).to_ascii_lowercase()
}

/// (location code, parameter name) for a token preceded by these bytes of its line.
pub fn locate(before: &[u8]) -> (u8, String) {
    let (loc, name) = locate_param(before);
    (loc, name.into_owned())
}

/// `locate`, with the fixed names (`authorization`, `cookie`, none) not allocated: it runs once per
/// token occurrence.
pub fn locate_param(before: &[u8]) -> (u8, Cow<'static, str>) {
    let tail = &before[before.len().saturating_sub(LOOK_BEHIND)..];
    let p = patterns();
    if BEARER_ENDINGS.iter().any(|e| tail.ends_with(e))
        || (may_end(tail, BEARER_LAST) && p.bearer.is_match(tail))
    {
        return if is_cookie(tail) {
            (LOC_COOKIE, Cow::Borrowed("cookie"))
        } else {
            (LOC_AUTHORIZATION, Cow::Borrowed("authorization"))
        };
    }
    if let Some(m) = may_end(tail, JSON_KEY_LAST)
        .then(|| p.json_key.find(tail))
        .flatten()
    {
        let key = lower(&tail[json_key_group(tail, m.start())]);
        return match key.as_str() {
            "authorization" | "http_authorization" | "request_authorization" | "auth" => {
                (LOC_AUTHORIZATION, Cow::Borrowed("authorization"))
            }
            "cookie" | "cookies" => (LOC_COOKIE, Cow::Borrowed("cookie")),
            _ => (LOC_JSON, Cow::Owned(key)),
        };
    }
    if let Some(m) = may_end(tail, PARAM_LAST)
        .then(|| p.param.find(tail))
        .flatten()
    {
        let (sep_m, name_m) = param_groups(tail, m.start());
        let sep = &tail[sep_m.clone()];
        let lname = lower(&tail[name_m.clone()]);
        let before = &tail[..sep_m.start];
        if sep == b";" || before.ends_with(b";") || is_cookie(&tail[..name_m.start]) {
            return (LOC_COOKIE, Cow::Owned(lname));
        }
        if matches!(sep, b"?" | b"%3F" | b"%3f") || (matches!(sep, b"&" | b"%26") && in_url(before))
        {
            return (LOC_QUERY, Cow::Owned(lname));
        }
        if matches!(sep, b"\"" | b"'") {
            if let Some(k) = p.key_before.captures(before) {
                let key = k[1].to_ascii_lowercase();
                if QUERY_KEYS
                    .iter()
                    .any(|q| memchr::memmem::find(&key, q).is_some())
                {
                    return (LOC_QUERY, Cow::Owned(lname));
                }
            }
        }
        return (LOC_FORM, Cow::Owned(lname));
    }
    (LOC_TEXT, Cow::Borrowed(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loc(s: &[u8]) -> (u8, String) {
        locate(s)
    }

    #[test]
    fn locations() {
        assert_eq!(
            loc(b"GET / HTTP/1.1 Authorization: Bearer "),
            (LOC_AUTHORIZATION, "authorization".into())
        );
        assert_eq!(loc(b"Cookie: a=b; Bearer "), (LOC_COOKIE, "cookie".into()));
        assert_eq!(
            loc(b"GET /cb?x=1&access_token="),
            (LOC_QUERY, "access_token".into())
        );
        assert_eq!(loc(b"GET /cb?id_token%3D"), (LOC_QUERY, "id_token".into()));
        assert_eq!(
            loc(b"body: client_assertion_type=x&client_assertion="),
            (LOC_FORM, "client_assertion".into())
        );
        assert_eq!(
            loc(br#"{"Authorization":""#),
            (LOC_AUTHORIZATION, "authorization".into())
        );
        assert_eq!(loc(br#"{"Token": ""#), (LOC_JSON, "token".into()));
        assert_eq!(
            loc(br#"{"requestQuery":"access_token="#),
            (LOC_QUERY, "access_token".into())
        );
        assert_eq!(loc(b"Cookie: session=x; at="), (LOC_COOKIE, "at".into()));
        assert_eq!(loc(b"some text "), (LOC_TEXT, String::new()));
        assert_eq!(
            loc(b"bearer\\t"),
            (LOC_AUTHORIZATION, "authorization".into())
        );
    }

    mod props {
        use super::super::*;
        use proptest::prelude::*;

        fn tails() -> impl Strategy<Value = Vec<u8>> {
            crate::testing::pieces(
                vec![
                    &b"Bearer"[..],
                    b"bearer",
                    b" ",
                    b"\t",
                    b"\n",
                    b"+",
                    b"%20",
                    b"\\t",
                    b"\"",
                    b"'",
                    b":",
                    b"=",
                    b"%3D",
                    b"%3d",
                    b"key",
                    b"?",
                    b"&",
                    b"\\",
                    b"\r",
                    b"\x0b",
                    b"%26",
                    b"%3F",
                    b"%3f",
                    b"@",
                    b";",
                    b",",
                    b"{",
                    b"|",
                    b"_",
                    b".",
                    b"-",
                    b"a1",
                    b"Z",
                ],
                3,
                16,
            )
        }

        proptest! {
            /// The groups read from a match's start are the ones the regex captures.
            #[test]
            fn groups_from_the_start_are_the_captures(tail in tails()) {
                let p = patterns();
                if let Some(c) = p.json_key.captures(&tail) {
                    let start = c.get(0).expect("match").start();
                    prop_assert_eq!(json_key_group(&tail, start), c.get(1).expect("group 1").range());
                }
                if let Some(c) = p.param.captures(&tail) {
                    let start = c.get(0).expect("match").start();
                    let (sep, name) = param_groups(&tail, start);
                    prop_assert_eq!(sep, c.get(1).expect("group 1").range());
                    prop_assert_eq!(name, c.get(2).expect("group 2").range());
                }
            }

            /// The last-byte tests only skip searches that would find nothing.
            #[test]
            fn skipped_searches_find_nothing(tail in tails()) {
                let p = patterns();
                if !may_end(&tail, BEARER_LAST) {
                    prop_assert!(!p.bearer.is_match(&tail));
                }
                if !may_end(&tail, JSON_KEY_LAST) {
                    prop_assert!(!p.json_key.is_match(&tail));
                }
                if !may_end(&tail, PARAM_LAST) {
                    prop_assert!(!p.param.is_match(&tail));
                }
            }
        }
    }
}
