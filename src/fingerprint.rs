//! Token fingerprints: the first 16 hex digits of SHA-256 of the whole token.

use sha2::{Digest, Sha256};

const HEX: &[u8; 16] = b"0123456789abcdef";

/// A fingerprint's 16 hex digits, held inline: a chunk makes one per distinct token, and a
/// `String` each was an allocation (and a free) per token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fp([u8; 16]);

impl Fp {
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("hex digits are ASCII")
    }
}

/// First 16 hex digits of SHA-256 of `token`: joins occurrences, reveals nothing.
pub fn fp(token: &[u8]) -> Fp {
    let digest = Sha256::digest(token);
    let mut out = [0u8; 16];
    for (i, b) in digest[..8].iter().enumerate() {
        out[2 * i] = HEX[(b >> 4) as usize];
        out[2 * i + 1] = HEX[(b & 15) as usize];
    }
    Fp(out)
}

/// `fp` as a `String`.
pub fn fingerprint(token: &[u8]) -> String {
    fp(token).as_str().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digest() {
        // sha256("abc") = ba7816bf8f01cfea414140de5dae2223...
        assert_eq!(fingerprint(b"abc"), "ba7816bf8f01cfea");
        assert_eq!(fingerprint(b""), "e3b0c44298fc1c14");
    }
}
