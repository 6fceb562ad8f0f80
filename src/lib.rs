//! The scan core of `analyzer`: plain Rust modules that find tokens in log bytes, and (behind the
//! `python` feature) the PyO3 binding `analyzer._core` in `py.rs`.
//!
//! Everything but `py.rs` is free of Python so that `cargo test` runs without an interpreter.
//! No `unsafe` but the one read of a Python buffer in `py.rs` (`bytes_of`), allowed there by name.

#![deny(unsafe_code)]

pub mod chunk;
pub mod decode;
pub mod fingerprint;
pub mod formats;
pub mod lines;
pub mod locate;
pub mod logged;
pub mod marks;
pub mod masked;
pub mod scan;
pub mod scrub;
pub mod timeparse;

#[cfg(feature = "python")]
mod py;

/// What the property tests share.
#[cfg(test)]
pub(crate) mod testing {
    use proptest::prelude::*;

    /// Byte strings of up to `count` pieces, each one of `bits` (the bytes that matter to the code
    /// under test) or up to `raw - 1` arbitrary bytes, concatenated.
    pub fn pieces(
        bits: Vec<&'static [u8]>,
        raw: usize,
        count: usize,
    ) -> impl Strategy<Value = Vec<u8>> {
        let piece = prop_oneof![
            prop::sample::select(bits).prop_map(|b| b.to_vec()),
            prop::collection::vec(any::<u8>(), 0..raw)
        ];
        prop::collection::vec(piece, 0..count).prop_map(|v| v.concat())
    }
}
