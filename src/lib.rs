//! The scan core of `analyzer`: plain Rust modules that find tokens in log bytes, and (behind the
//! `python` feature) the PyO3 binding `analyzer._core` in `py.rs`.
//!
//! Everything but `py.rs` is free of Python so that `cargo test` runs without an interpreter.

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
pub mod timeparse;

#[cfg(feature = "python")]
mod py;
