//! The Python binding: `analyzer._core`. Only this module knows about Python.

use pyo3::prelude::*;

/// First 16 hex digits of SHA-256 of the whole token.
#[pyfunction]
fn fingerprint(token: &[u8]) -> String {
    crate::fingerprint::fingerprint(token)
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(fingerprint, m)?)?;
    Ok(())
}
