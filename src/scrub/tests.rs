use super::*;
use crate::lines::mask;

const HEADER: &str = "eyJhbGciOiJSUzI1NiIsImtpZCI6InFhLWsxIiwidHlwIjoiSldUIn0";

/// `n` base64 characters (standard alphabet) from a fixed generator: a stand-in signature.
fn b64(seed: u64, n: usize) -> String {
    const STD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    // splitmix64
    let mut x = seed;
    (0..n)
        .map(|_| {
            x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            STD[((z ^ (z >> 31)) >> 58) as usize] as char
        })
        .collect()
}

fn url_safe(s: &str) -> String {
    s.replace('+', "-").replace('/', "_")
}

fn pct(s: &str) -> String {
    s.replace('+', "%2B")
        .replace('/', "%2F")
        .replace('=', "%3D")
}

/// A token in the standard alphabet whose header and payload hold no `+` or `/` (as most do: the
/// base64 of JSON text rarely has them) and whose RS256-long signature may hold any.
fn std_token(seed: u64) -> (String, String) {
    let payload = format!("eyJ{}", b64(seed ^ 1, 600).replace(['+', '/'], "x"));
    let sig = b64(seed, 342);
    (format!("{HEADER}.{payload}.{sig}"), sig)
}

/// Whether any 20 characters of `secret` are in `out`.
fn holds_part(out: &str, secret: &str) -> bool {
    let s = secret.as_bytes();
    (0..=s.len().saturating_sub(20))
        .any(|i| out.contains(std::str::from_utf8(&s[i..i + 20]).unwrap()))
}

fn masked(v: &str) -> String {
    mask(Some(v.into())).unwrap().into_owned()
}

#[test]
fn a_standard_alphabet_token_is_masked_whole() {
    let (tok, sig) = std_token(1);
    assert!(sig.matches('/').count() > 2 && sig.contains('+'));
    let out = masked(&format!("/a/{tok}/b"));
    assert_eq!(out, "/a/[token]/b");
    let out = masked(&format!("/a/{}/b", pct(&tok)));
    assert_eq!(out, "/a/[token]/b");
    let twice = pct(&tok).replace('%', "%25");
    assert_eq!(masked(&format!("/a/{twice}/b")), "/a/[token]/b");
    assert_eq!(masked(&format!("Mozilla {tok}")), "Mozilla [token]");
    assert!(!holds_part(
        &masked(&format!("/x?t={}&y=1", pct(&tok))),
        &pct(&sig)
    ));
}

#[test]
fn a_token_broken_inside_is_masked_on_both_sides() {
    let (tok, sig) = std_token(2);
    let tok = url_safe(&tok);
    let sig = url_safe(&sig);
    for stray in ["%", "!", " ", "\u{1b}", "%zz"] {
        let broken = format!("{}{stray}{}", &tok[..140], &tok[140..]);
        let out = masked(&format!("/b/{broken}/x"));
        assert!(!holds_part(&out, &sig), "{stray:?}: {out}");
        assert!(out.ends_with("/x"), "{out}");
    }
}

#[test]
fn tokens_with_escaped_dots_are_masked() {
    let (tok, sig) = std_token(3);
    let tok = url_safe(&tok);
    let sig = url_safe(&sig);
    for dot in ["%2E", "%2e", "&#46;", "\\u002e", "%252E"] {
        let out = masked(&format!("UA {}", tok.replace('.', dot)));
        assert!(!holds_part(&out, &sig), "{dot}: {out}");
    }
    assert!(!holds_part(&masked(&format!("/p/sig_only/{sig}")), &sig));
}

#[test]
fn paths_and_agents_stay() {
    for v in [
        "/callback/[token]/done",
        "ua [token]",
        "/[token].json",
        "/v1/72f988bf-86f1-41af-91ab-2d7cd011db47/oauth2/v2.0/token",
        "/orders/3F2504E0-4F89-11D3-9A0C-0305E82C3301/Items/GetAll",
        "/blobs/sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "/v2/E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855/x",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
        "/api/v1/customers/8745/orders?page=2&sort=created_at_descending_order_by_id_value",
        "2001:db8::5",
        "10.0.0.1",
        "%20%41%2F",
    ] {
        assert_eq!(masked(v), v);
    }
    assert!(matches!(
        scrub(Some("/plain".into())),
        Some(Cow::Borrowed(_))
    ));
    assert_eq!(scrub(None), None);
}

#[test]
fn long_mixed_case_pieces_are_masked_wherever_they_stand() {
    let key = url_safe(&b64(9, 43));
    assert_eq!(masked(&format!("/k/{key}/x")), "/k/[token]/x");
    assert_eq!(
        masked(&format!("/k/{}/x", &key[..42])),
        format!("/k/{}/x", &key[..42])
    );
    // The pieces of a standard-alphabet signature around the long one go with it.
    let sig = b64(4, 342);
    let out = masked(&format!("/s/{sig}/end"));
    assert_eq!(out, "/s/[token]/end");
}

mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Whatever the signature, however its token is written and wherever it stands, no 20
        /// characters of it are left.
        #[test]
        fn no_part_of_a_signature_is_left(
            seed in any::<u64>(),
            form in 0usize..5,
            before in prop::sample::select(vec!["/a/", "GET /p?access_token=", "UA ", "x=", ""]),
            after in prop::sample::select(vec!["/b", " HTTP/1.1", "&x=1", "", ".json"]),
        ) {
            let (tok, sig) = std_token(seed);
            let written = match form {
                0 => tok.clone(),
                1 => pct(&tok),
                2 => url_safe(&tok).replace('.', "%2E"),
                3 => pct(&tok).replace('%', "%25"),
                _ => format!("{}!{}", &url_safe(&tok)[..100], &url_safe(&tok)[100..]),
            };
            let out = masked(&format!("{before}{written}{after}"));
            for s in [sig.clone(), url_safe(&sig), pct(&sig), pct(&sig).replace('%', "%25")] {
                prop_assert!(!holds_part(&out, &s), "{}", out);
            }
            prop_assert!(out.starts_with(before));
        }
    }
}
