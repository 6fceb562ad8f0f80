//! Decode unique tokens: header, claims and every fact that needs no key or request (the decoding
//! half of `decode.py`'s `analyze_token`, whose verdicts and texts it keeps). Python does the rest:
//! the issuer check, the signature (PyJWT and `cryptography`) and client assertion certificates.
//!
//! Runs once per unique token. Header and claims go back as the JSON text they were decoded from,
//! for Python to read only where a dict is needed (examples, `inspect`).

mod pyjson;

use crate::timeparse::clamp_us;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;
use pyjson::{Doc, Value};

/// Longer than any real token: not decoded.
pub const MAX_TOKEN_BYTES: usize = 64 * 1024;
/// `config.SIGNING_ALGS` (checked by tests/tokens/test_decode.py).
pub const SIGNING_ALGS: [&str; 12] = [
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES256K", "ES384", "ES512",
    "EdDSA", "Ed25519",
];
const HMAC_ALGS: [&str; 3] = ["HS256", "HS384", "HS512"];

// Cause codes and token kinds (`schema.py`).
pub const MALFORMED: &str = "malformed";
pub const ENCRYPTED: &str = "encrypted";
pub const UNSUPPORTED_ALG: &str = "unsupported_alg";
pub const MISSING_CLAIMS: &str = "missing_claims";
pub const KIND_ACCESS: &str = "access_token";
pub const KIND_ID: &str = "id_token";
pub const KIND_ASSERTION: &str = "client_assertion";
pub const KIND_UNKNOWN: &str = "unknown";

const ASSERTION_AUD_HINTS: [&str; 2] = ["/oauth2/token", "/oauth2/v2.0/token"];
const ID_HINTS: [&str; 8] = [
    "nonce",
    "at_hash",
    "c_hash",
    "preferred_username",
    "email",
    "auth_time",
    "name",
    "login_hint",
];
const ACCESS_HINTS: [&str; 5] = ["scp", "roles", "appid", "azp", "idtyp"];

/// How far decoding got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// A compact JWS with JSON header and claims: the checks that need keys come next.
    Decoded = 0,
    /// Not a usable JWS (`failures` says why); `header` is set where the header was JSON.
    Malformed = 1,
    /// A JWE: five segments, claims unreadable.
    Encrypted = 2,
}

/// Everything `analyze_token` derives from a token without keys.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    pub status: Status,
    /// The decoded header segment (JSON text; empty when it is not a JSON object).
    pub header: Vec<u8>,
    /// The decoded payload (empty unless `status` is Decoded).
    pub claims: Vec<u8>,
    pub alg: Option<String>,
    pub kid: Option<String>,
    pub typ: Option<String>,
    pub kind: &'static str,
    pub issuer: Option<String>,
    /// `aud`: its members as text, sorted, without repeats.
    pub audiences: Vec<String>,
    pub client_id: Option<String>,
    pub tenant_id: Option<String>,
    pub version: Option<String>,
    pub scopes: Option<String>,
    pub roles: Option<String>,
    /// Epoch microseconds.
    pub exp: Option<i64>,
    pub nbf: Option<i64>,
    pub iat: Option<i64>,
    /// The claims hold a `nonce`; `header_nonce`: the header does (Graph tokens).
    pub has_nonce: bool,
    pub header_nonce: bool,
    /// The header's `x5t` where it is a string.
    pub x5t: Option<String>,
    /// Header certificate references (`x5t`, `x5t#S256`, a hex `kid`) as lowercase hex, sorted.
    pub thumbprints: Vec<String>,
    /// `oid` (else `sub`) of a token issued to a user.
    pub subject: Option<String>,
    /// The signed part is `token[..signing_input_len]`.
    pub signing_input_len: usize,
    pub signature: Vec<u8>,
    /// Failures found without keys, in the order found: (cause, detail).
    pub failures: Vec<(&'static str, String)>,
}

impl Decoded {
    fn empty() -> Decoded {
        Decoded {
            status: Status::Malformed,
            header: Vec::new(),
            claims: Vec::new(),
            alg: None,
            kid: None,
            typ: None,
            kind: KIND_UNKNOWN,
            issuer: None,
            audiences: Vec::new(),
            client_id: None,
            tenant_id: None,
            version: None,
            scopes: None,
            roles: None,
            exp: None,
            nbf: None,
            iat: None,
            has_nonce: false,
            header_nonce: false,
            x5t: None,
            thumbprints: Vec::new(),
            subject: None,
            signing_input_len: 0,
            signature: Vec::new(),
            failures: Vec::new(),
        }
    }

    fn malformed(mut self, reason: String) -> Decoded {
        self.status = Status::Malformed;
        self.claims.clear();
        self.failures = vec![(MALFORMED, reason)];
        self
    }
}

/// Decode one token. `truncated`: the log line was cut right after it.
pub fn decode(token: &[u8], truncated: bool) -> Decoded {
    let d = Decoded::empty();
    if token.len() > MAX_TOKEN_BYTES {
        return d.malformed(format!(
            "token is {} bytes long, far beyond any real token",
            token.len()
        ));
    }
    let mut parts: Vec<&[u8]> = Vec::with_capacity(5);
    let mut from = 0;
    for dot in memchr::memchr_iter(b'.', token) {
        parts.push(token.get(from..dot).unwrap_or_default());
        from = dot + 1;
    }
    parts.push(token.get(from..).unwrap_or_default());
    let header_raw = parts.first().and_then(|p| b64decode(p));
    let header_text = header_raw.as_deref().and_then(pyjson::text);
    let header = header_text
        .as_ref()
        .and_then(|(t, clean)| pyjson::parse_doc(t, *clean));
    let (Some(header), Some(header_raw)) = (header, header_raw.as_ref()) else {
        return d.malformed("the header is not base64url-encoded JSON".into());
    };
    let mut d = d;
    d.header = header_raw.clone();
    d.alg = text_of(&header, "alg", 40);
    d.kid = text_of(&header, "kid", 128);
    d.typ = text_of(&header, "typ", 40);
    if parts.len() == 5 {
        let enc = text_of(&header, "enc", 40).filter(|e| !e.is_empty());
        d.status = Status::Encrypted;
        d.failures = vec![(
            ENCRYPTED,
            format!(
                "an encrypted token (JWE, enc {}): its claims cannot be read without the recipient's private key",
                enc.as_deref().unwrap_or("?")
            ),
        )];
        return d;
    }
    if parts.len() != 3 {
        let n = parts.len();
        let reason = if n < 3 {
            format!("truncated: only {n} of 3 segments (the log line was probably cut at a length limit)")
        } else {
            format!("{n} segments; a signed token has 3 and an encrypted one 5")
        };
        return d.malformed(reason);
    }
    let claims_raw = b64decode(parts[1]);
    let claims_text = claims_raw.as_deref().and_then(pyjson::text);
    let claims = claims_text
        .as_ref()
        .and_then(|(t, clean)| pyjson::parse_doc(t, *clean));
    let (Some(claims), Some(claims_raw)) = (claims, claims_raw.as_ref()) else {
        let reason = if truncated {
            "truncated: the payload ends early (the log line was probably cut at a length limit)"
        } else {
            "the payload is not base64url-encoded JSON"
        };
        return d.malformed(reason.into());
    };
    let Some(signature) = b64decode(parts[2]) else {
        return d.malformed("the signature is not valid base64url".into());
    };
    d.status = Status::Decoded;
    d.claims = claims_raw.clone();
    d.signing_input_len = token.len() - parts[2].len() - 1;
    facts(&mut d, &header, &claims, signature);
    d
}

/// The facts of a token whose header and claims are JSON objects.
fn facts(d: &mut Decoded, header: &Doc<'_>, claims: &Doc<'_>, signature: Vec<u8>) {
    let mut failures = Vec::new();
    let mut dates = [None; 3];
    for (slot, name) in dates.iter_mut().zip(["exp", "nbf", "iat"]) {
        match numeric_date(claims, name) {
            Ok(us) => *slot = us,
            Err(problem) => failures.push((MALFORMED, problem)),
        }
    }
    [d.exp, d.nbf, d.iat] = dates;
    d.audiences = audiences(claims);
    d.issuer = text_of(claims, "iss", 512);
    d.kind = token_kind(claims, &d.audiences);
    let chosen = [claims.get("appid"), claims.get("azp")]
        .into_iter()
        .flatten()
        .find(|v| v.truthy());
    // `appid or azp or (sub if assertion else None)`: the last of an `or` chain even when falsy.
    let client = match chosen {
        Some(v) => Some(v),
        None if d.kind == KIND_ASSERTION => claims.get("sub"),
        None => None,
    };
    d.client_id = client.and_then(|v| text(v, 128, claims.orjson));
    d.header_nonce = header.contains("nonce");
    d.has_nonce = claims.contains("nonce");

    match d.alg.as_deref() {
        None => failures.push((UNSUPPORTED_ALG, NONE_ALG.into())),
        Some(a) if a.eq_ignore_ascii_case("none") => failures.push((UNSUPPORTED_ALG, NONE_ALG.into())),
        Some(a) if HMAC_ALGS.contains(&a) => failures.push((
            UNSUPPORTED_ALG,
            format!(
                "alg {a} is a shared-secret algorithm, but the issuer signs with public keys: possible \
                 algorithm-confusion attempt"
            ),
        )),
        Some(a) if !SIGNING_ALGS.contains(&a) => {
            let mut r = String::new();
            pyjson::str_repr_into(a, &mut r);
            failures.push((UNSUPPORTED_ALG, format!("alg {r} is not an allowed signing algorithm")));
        }
        Some(_) if signature.is_empty() => {
            failures.push((MALFORMED, "the signature segment is empty".into()))
        }
        Some(_) => {}
    }
    let missing: Vec<&str> = ["exp", "aud", "iss"]
        .into_iter()
        .filter(|c| !claims.contains(c))
        .collect();
    if !missing.is_empty() {
        failures.push((
            MISSING_CLAIMS,
            format!("the token has no {} claim", missing.join(", ")),
        ));
    }
    d.failures = failures;
    d.tenant_id = text_of(claims, "tid", 64);
    d.version = text_of(claims, "ver", 10);
    d.scopes = text_of(claims, "scp", 512);
    d.roles = text_of(claims, "roles", 512);
    d.x5t = match header.get("x5t") {
        Some(Value::Str(s)) => Some(s.to_string()),
        _ => None,
    };
    d.thumbprints = thumbprints(header);
    d.subject = user_subject(d.kind, claims);
    d.signature = signature;
}

const NONE_ALG: &str = "alg is 'none': the token is unsigned and must be rejected";

/// `base64.urlsafe_b64decode` of a segment, as `decode.py`'s `_b64decode` calls it: padding only at
/// the end and never one character past a multiple of four; other characters outside the alphabet
/// are skipped, as Python's non-strict decoder does.
pub fn b64decode(segment: &[u8]) -> Option<Vec<u8>> {
    let end = segment
        .iter()
        .rposition(|&b| b != b'=')
        .map_or(0, |i| i + 1);
    let core = segment.get(..end)?;
    if core.contains(&b'=') || core.len() % 4 == 1 {
        return None;
    }
    a2b_base64(core, (4 - core.len() % 4) % 4)
}

/// URL-safe base64 without padding, leftover bits ignored (as Python's decoder does).
const URL_SAFE_LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone),
);

/// `binascii.a2b_base64` (non-strict) of `core` followed by `pad` `=`, with `-_` read as `+/`.
fn a2b_base64(core: &[u8], pad: usize) -> Option<Vec<u8>> {
    // The common case, a clean base64url segment: the fast decoder (which refuses anything else).
    if let Ok(out) = URL_SAFE_LENIENT.decode(core) {
        return Some(out);
    }
    let mut out = Vec::with_capacity(core.len() / 4 * 3 + 3);
    let (mut quad, mut left) = (0u8, 0u32);
    let mut pads = 0usize;
    for &c in core {
        if c == b'=' {
            if quad >= 2 {
                pads += 1;
                if usize::from(quad) + pads >= 4 {
                    return Some(out);
                }
            }
            continue;
        }
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => continue,
        } as u32;
        pads = 0;
        match quad {
            0 => {
                left = v;
                quad = 1;
            }
            1 => {
                out.push(((left << 2) | (v >> 4)) as u8);
                left = v & 0xf;
                quad = 2;
            }
            2 => {
                out.push((((left << 4) | (v >> 2)) & 0xff) as u8);
                left = v & 0x3;
                quad = 3;
            }
            _ => {
                out.push((((left << 6) | v) & 0xff) as u8);
                quad = 0;
            }
        }
    }
    // The padding appended: it completes a quad of 2 or 3 characters, or is ignored after 0.
    let complete = match quad {
        0 => true,
        2 => pads + pad >= 2,
        3 => pads + pad >= 1,
        _ => false,
    };
    complete.then_some(out)
}

/// `_text(value, limit)`: a claim as bounded text, lists joined with spaces.
fn text(v: &Value<'_>, limit: usize, orjson: bool) -> Option<String> {
    let s = match v {
        Value::Null => return None,
        Value::List(items) => items
            .iter()
            .map(|x| x.py_str(orjson))
            .collect::<Vec<_>>()
            .join(" "),
        _ => v.py_str(orjson),
    };
    Some(cut(s, limit))
}

fn text_of(doc: &Doc<'_>, name: &str, limit: usize) -> Option<String> {
    doc.get(name).and_then(|v| text(v, limit, doc.orjson))
}

/// The first `limit` characters.
fn cut(mut s: String, limit: usize) -> String {
    if s.len() <= limit {
        return s; // no more bytes than that, so no more characters
    }
    if let Some((i, _)) = s.char_indices().nth(limit) {
        s.truncate(i);
    }
    s
}

/// (epoch µs, or the problem) of a NumericDate claim; Ok(None) when it is absent.
fn numeric_date(claims: &Doc<'_>, name: &str) -> Result<Option<i64>, String> {
    let Some(v) = claims.get(name) else {
        return Ok(None);
    };
    let Some(f) = v
        .number()
        .filter(|f| f.is_finite() || matches!(v, Value::Int(_)))
    else {
        return Err(format!(
            "claim {name} is {}, not a number of seconds",
            v.type_name(claims.orjson)
        ));
    };
    match clamp_us(f) {
        Some(us) => Ok(Some(us)),
        None => Err(format!(
            "claim {name} ({}) is outside any representable date",
            cut(v.py_str(claims.orjson), 30)
        )),
    }
}

/// `aud` as sorted unique texts (each cut at 256 characters); `None` members are left out.
fn audiences(claims: &Doc<'_>) -> Vec<String> {
    match claims.get("aud") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::List(items)) => {
            let mut out: Vec<String> = items
                .iter()
                .filter(|v| !matches!(v, Value::Null))
                .map(|v| cut(v.py_str(claims.orjson), 256))
                .collect();
            out.sort_unstable();
            out.dedup();
            out
        }
        Some(v) => vec![cut(v.py_str(claims.orjson), 256)],
    }
}

/// access_token, id_token, client_assertion or unknown, from the claims alone.
fn token_kind(claims: &Doc<'_>, audiences: &[String]) -> &'static str {
    if let (Some(iss), Some(sub)) = (claims.get("iss"), claims.get("sub")) {
        if iss.truthy()
            && iss.py_eq(sub, claims.orjson)
            && audiences
                .iter()
                .any(|a| ASSERTION_AUD_HINTS.iter().any(|h| a.ends_with(h)))
        {
            return KIND_ASSERTION;
        }
    }
    if ACCESS_HINTS.iter().any(|k| claims.contains(k)) {
        return KIND_ACCESS;
    }
    if ID_HINTS.iter().any(|k| claims.contains(k)) {
        return KIND_ID;
    }
    if claims.contains("tid") {
        return KIND_ACCESS;
    }
    KIND_UNKNOWN
}

/// Header certificate references (`x5t`, `x5t#S256`, hex `kid`) as lowercase hex, sorted.
fn thumbprints(header: &Doc<'_>) -> Vec<String> {
    let mut out = Vec::new();
    for name in ["x5t", "x5t#S256"] {
        if let Some(Value::Str(s)) = header.get(name) {
            if let Some(b) = b64decode(s.as_bytes()) {
                out.push(hex(&b));
            }
        }
    }
    if let Some(Value::Str(kid)) = header.get("kid") {
        if matches!(kid.chars().count(), 40 | 64) {
            if let Some(b) = from_hex(kid) {
                out.push(hex(&b));
            }
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

fn hex(b: &[u8]) -> String {
    use std::fmt::Write;
    b.iter()
        .fold(String::with_capacity(b.len() * 2), |mut s, x| {
            let _ = write!(s, "{x:02x}");
            s
        })
}

/// `bytes.fromhex`: pairs of hex digits, ASCII whitespace allowed between them.
fn from_hex(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len() / 2);
    let mut i = 0;
    loop {
        while let Some(b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c) = b.get(i) {
            i += 1;
        }
        let Some(&hi) = b.get(i) else {
            return Some(out);
        };
        let hi = (hi as char).to_digit(16)?;
        let lo = (*b.get(i + 1)? as char).to_digit(16)?;
        out.push((hi * 16 + lo) as u8);
        i += 2;
    }
}

/// The user a token was issued to (`oid`, else `sub`); None for app-only tokens and assertions.
fn user_subject(kind: &str, claims: &Doc<'_>) -> Option<String> {
    let app_only = matches!(claims.get("idtyp"), Some(Value::Str(s)) if s == "app");
    let user = kind == KIND_ID || (kind == KIND_ACCESS && claims.contains("scp") && !app_only);
    if !user {
        return None;
    }
    let v = match claims.get("oid") {
        Some(Value::Null) | None => claims.get("sub"),
        oid => oid,
    };
    v.and_then(|v| text(v, 256, claims.orjson))
}

/// Whether a token found in free text has a JOSE header: its first segment decodes (as orjson reads
/// it) to a JSON object that names an algorithm (`alg` or `enc`).
pub fn plausible_header(token: &[u8]) -> bool {
    let head = token.split(|&b| b == b'.').next().unwrap_or_default();
    let end = head.iter().rposition(|&b| b != b'=').map_or(0, |i| i + 1);
    let Some(core) = head.get(..end) else {
        return false;
    };
    let Some(raw) = a2b_base64(core, (4 - core.len() % 4) % 4) else {
        return false;
    };
    // orjson alone: no byte order mark, no lone surrogate, no NaN.
    let Ok(text) = std::str::from_utf8(&raw) else {
        return false;
    };
    match pyjson::parse_doc(text, true) {
        Some(doc) if doc.orjson => doc.contains("alg") || doc.contains("enc"),
        _ => false,
    }
}

#[cfg(test)]
mod tests;
