//! Decode unique tokens: header, claims and every fact that needs no key or request (the port of
//! the decoding half of `decode.py`). STUB: owned by the decode helper.

use base64::Engine;

/// Whether the first segment decodes to a JSON object that names an algorithm (`alg` or `enc`).
///
/// Used for tokens found in free text, where a JWT-shaped string may be something else.
pub fn plausible_header(token: &[u8]) -> bool {
    let head = token.split(|&b| b == b'.').next().unwrap_or(b"");
    let core = {
        let mut end = head.len();
        while end > 0 && head[end - 1] == b'=' {
            end -= 1;
        }
        &head[..end]
    };
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::URL_SAFE,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    );
    let Ok(raw) = engine.decode(core) else {
        return false;
    };
    match serde_json::from_slice::<serde_json::Value>(&raw) {
        Ok(serde_json::Value::Object(m)) => m.contains_key("alg") || m.contains_key("enc"),
        _ => false,
    }
}
