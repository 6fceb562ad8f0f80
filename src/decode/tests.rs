//! Tests of token decoding: an access token's facts, the verdicts of broken tokens, claims of odd
//! types and base64 as Python read them, and random input.

use super::*;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use proptest::prelude::*;

fn tok(header: &str, claims: &str, sig: &str) -> Vec<u8> {
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(claims),
        sig
    )
    .into_bytes()
}

#[test]
fn decodes_an_access_token() {
    let t = tok(
        r#"{"alg":"RS256","kid":"k1","typ":"JWT"}"#,
        r#"{"aud":["b","a","b"],"iss":"https://x/","exp":1795003600,"iat":1.5,"tid":"t","scp":"read write","appid":"c-1","ver":"2.0","oid":"o"}"#,
        "c2ln",
    );
    let d = decode(&t, false);
    assert_eq!(d.status, Status::Decoded);
    assert_eq!(d.failures, vec![]);
    assert_eq!(d.kind, KIND_ACCESS);
    assert_eq!(d.audiences, ["a", "b"]);
    assert_eq!(d.exp, Some(1_795_003_600_000_000));
    assert_eq!(d.iat, Some(1_500_000));
    assert_eq!(d.client_id.as_deref(), Some("c-1"));
    assert_eq!(d.subject.as_deref(), Some("o"));
    assert_eq!(d.signature, b"sig");
    assert_eq!(d.signing_input_len, t.len() - 5);
}

#[test]
fn verdicts_of_broken_tokens() {
    let reason = |t: &[u8], cut: bool| decode(t, cut).failures[0].1.clone();
    assert_eq!(
        reason(b"eyJhbGciOiJSUzI1NiJ9.!!!.abc", false),
        "the payload is not base64url-encoded JSON"
    );
    assert!(reason(b"eyJhbGciOiJSUzI1NiJ9.!!!.abc", true).starts_with("truncated: the payload"));
    assert_eq!(
        reason(b"abc.def.ghi", false),
        "the header is not base64url-encoded JSON"
    );
    assert!(reason(b"eyJhbGciOiJSUzI1NiJ9.e30", false).starts_with("truncated: only 2 of 3"));
    assert!(reason(b"eyJhbGciOiJSUzI1NiJ9.e30.a.b", false).starts_with("4 segments"));
    assert_eq!(
        reason(b"eyJhbGciOiJSUzI1NiJ9.e30.a", false),
        "the signature is not valid base64url"
    );
    let jwe = tok(r#"{"alg":"RSA-OAEP","enc":"A256GCM"}"#, "x", "a.b.c");
    assert_eq!(decode(&jwe, false).status, Status::Encrypted);
    assert!(reason(&jwe, false).contains("enc A256GCM"));
    assert!(reason(&vec![b'a'; MAX_TOKEN_BYTES + 1], false).contains("65537 bytes"));
    let d = decode(
        &tok(
            r#"{"alg":"HS256"}"#,
            r#"{"exp":true,"nbf":1e300,"iat":"x"}"#,
            "",
        ),
        false,
    );
    let got: Vec<_> = d
        .failures
        .iter()
        .map(|(c, t)| format!("{c}: {t}"))
        .collect();
    assert_eq!(got, [
        "malformed: claim exp is bool, not a number of seconds",
        "malformed: claim nbf (1e+300) is outside any representable date",
        "malformed: claim iat is str, not a number of seconds",
        "unsupported_alg: alg HS256 is a shared-secret algorithm, but the issuer signs with public keys: possible algorithm-confusion attempt",
        "missing_claims: the token has no aud, iss claim",
    ]);
    let d = decode(
        &tok(r#"{"alg":"nOnE"}"#, r#"{"exp":1,"aud":"a","iss":"i"}"#, ""),
        false,
    );
    assert_eq!(d.failures[0].1, NONE_ALG);
    let d = decode(
        &tok(r#"{"alg":"it's"}"#, r#"{"exp":1,"aud":"a","iss":"i"}"#, ""),
        false,
    );
    assert_eq!(
        d.failures[0].1,
        "alg \"it's\" is not an allowed signing algorithm"
    );
    let d = decode(
        &tok(r#"{"alg":"RS256"}"#, r#"{"exp":1,"aud":"a","iss":"i"}"#, ""),
        false,
    );
    assert_eq!(d.failures[0].1, "the signature segment is empty");
}

#[test]
fn claims_of_odd_types_as_python_shows_them() {
    let d = decode(
        &tok(
            r#"{"alg":"RS256","kid":{"a":1},"x5t":"3q2-7w","x5t#S256":5}"#,
            r#"{"iss":7,"sub":7.0,"aud":[1,{"a":null},null,"/oauth2/token"],"scp":["a",1,true,null,2.0],"roles":5,"azp":[],"appid":"","ver":2.0,"tid":[1e16]}"#,
            "c2ln",
        ),
        false,
    );
    assert_eq!(d.kind, KIND_ASSERTION);
    assert_eq!(d.kid.as_deref(), Some("{'a': 1}"));
    assert_eq!(d.issuer.as_deref(), Some("7"));
    assert_eq!(d.audiences, ["/oauth2/token", "1", "{'a': None}"]);
    assert_eq!(d.scopes.as_deref(), Some("a 1 True None 2.0"));
    assert_eq!(d.roles.as_deref(), Some("5"));
    assert_eq!(d.client_id.as_deref(), Some("7.0"));
    assert_eq!(d.version.as_deref(), Some("2.0"));
    assert_eq!(d.tenant_id.as_deref(), Some("1e+16"));
    assert_eq!(d.thumbprints, ["deadbeef"]);
}

#[test]
fn base64_as_python_reads_it() {
    assert_eq!(b64decode(b"YQ"), Some(b"a".to_vec()));
    assert_eq!(b64decode(b"YQ=="), Some(b"a".to_vec()));
    assert_eq!(b64decode(b"YWJj!!!!"), Some(b"abc".to_vec())); // `!` skipped
    assert_eq!(b64decode(b"Y!Q"), None);
    assert_eq!(b64decode(b"Y=Q"), None);
    assert_eq!(b64decode(b"YWJjZ"), None);
    assert_eq!(b64decode(b"YW!!!"), None); // 2 data characters, 1 padding: incorrect padding
    assert_eq!(b64decode(b""), Some(vec![]));
    assert_eq!(from_hex("ab cd"), Some(vec![0xab, 0xcd]));
    assert_eq!(from_hex("a bcd"), None);
}

#[test]
fn plausible_headers() {
    assert!(!plausible_header(b"eyJmb28iOiJiYXIifQ.eyJ4IjoxfQ.c2ln"));
    assert!(!plausible_header(b"eyJeyJeyJ.eyJ"));
    assert!(plausible_header(b"eyJhbGciOiJub25lIn0.e30."));
    // Padding inside the segment ends the decoding there, as Python's decoder does.
    assert!(plausible_header(b"eyJhbGciOiJub25lIn0=eyJ.e30."));
}

proptest! {
    #[test]
    fn never_panics(raw in proptest::collection::vec(any::<u8>(), 0..300), cut in any::<bool>()) {
        let mut t = b"eyJ".to_vec();
        t.extend(&raw);
        let _ = decode(&t, cut);
        let _ = decode(&raw, cut);
        let _ = plausible_header(&t);
    }

    #[test]
    fn never_panics_on_json_shapes(s in "[{}\\[\\]\",:0-9a-z.eE+\\\\ -]{0,60}") {
        let t = tok(r#"{"alg":"RS256"}"#, &s, "c2ln");
        let _ = decode(&t, false);
        let t = tok(&s, "{}", "c2ln");
        let _ = decode(&t, false);
        let _ = plausible_header(&t);
    }
}
