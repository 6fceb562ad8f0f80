//! The Python binding `analyzer._core`: the only module that knows about Python.
//!
//! Chunks come in as `bytes` (borrowed, not copied); the scan runs with the GIL released; results
//! go back as Arrow record batches through the Arrow C data interface (`arrow-pyarrow`), so no
//! Python object is made per row here.

use std::sync::Arc;

use arrow_array::{
    ArrayRef, BinaryArray, BooleanArray, Int64Array, RecordBatch, StringArray, UInt32Array,
    UInt8Array,
};
use arrow_pyarrow::ToPyArrow;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyString, PyTuple};

use crate::chunk::ChunkScan;
use crate::scan::Hit;

fn batch(columns: Vec<(&str, ArrayRef)>) -> PyResult<RecordBatch> {
    RecordBatch::try_from_iter(columns).map_err(|e| PyValueError::new_err(e.to_string()))
}

fn i64s(hits: &[Hit], f: impl Fn(&Hit) -> usize) -> ArrayRef {
    Arc::new(Int64Array::from_iter_values(
        hits.iter().map(|h| f(h) as i64),
    ))
}

fn hit_columns(hits: &[Hit]) -> Vec<(&'static str, ArrayRef)> {
    vec![
        (
            "line",
            Arc::new(Int64Array::from_iter_values(hits.iter().map(|h| h.line_no))) as ArrayRef,
        ),
        ("line_start", i64s(hits, |h| h.line_start)),
        ("line_end", i64s(hits, |h| h.line_end)),
        ("start", i64s(hits, |h| h.start)),
        ("end", i64s(hits, |h| h.end)),
    ]
}

/// Every token candidate of a chunk: a record batch of `line`, `line_start`, `line_end`, `start`,
/// `end` (int64). `pct`: the chunk holds URL-encoded padding (`chunk_marks(chunk) & MARK_PCT`).
#[pyfunction]
fn find_tokens<'py>(
    py: Python<'py>,
    chunk: &[u8],
    first_line: i64,
    pct: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let hits = py.detach(|| crate::scan::find_tokens(chunk, first_line, pct));
    batch(hit_columns(&hits))?.to_pyarrow(py)
}

/// Scan one chunk of whole lines. Returns `(occurrences, tokens, marks, masked)`:
///
/// - `occurrences`: a record batch of `line`, `line_start`, `line_end`, `start`, `end` (int64),
///   `location` (uint8 code: authorization, query, form, cookie, json_field, text), `param` (utf8),
///   `token` (uint32 index into `tokens`), `cut` (bool: the line ends right after the token);
/// - `tokens`: a record batch of the distinct tokens, `token` (binary, `%3D` padding decoded) and
///   `fp` (utf8, 16 hex digits of SHA-256), in order of first occurrence;
/// - `marks`: the chunk's MARK_* bits; `masked`: Bearer values masked before logging.
#[pyfunction]
fn scan_chunk<'py>(
    py: Python<'py>,
    chunk: &[u8],
    first_line: i64,
) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>, u32, usize)> {
    let s: ChunkScan = py.detach(|| crate::chunk::scan_chunk(chunk, first_line));
    let mut cols = hit_columns(&s.hits);
    cols.push((
        "location",
        Arc::new(UInt8Array::from(s.location)) as ArrayRef,
    ));
    cols.push((
        "param",
        Arc::new(StringArray::from_iter_values(s.param.iter())),
    ));
    cols.push(("token", Arc::new(UInt32Array::from(s.token))));
    cols.push(("cut", Arc::new(BooleanArray::from(s.cut))));
    let occurrences = batch(cols)?.to_pyarrow(py)?;
    let tokens = batch(vec![
        (
            "token",
            Arc::new(BinaryArray::from_iter_values(s.tokens.iter())) as ArrayRef,
        ),
        ("fp", Arc::new(StringArray::from_iter_values(s.fps.iter()))),
    ])?
    .to_pyarrow(py)?;
    Ok((occurrences, tokens, s.marks, s.masked))
}

/// Which MARK_* strings the chunk holds.
#[pyfunction]
fn chunk_marks(py: Python<'_>, chunk: &[u8]) -> u32 {
    py.detach(|| crate::marks::chunk_marks(chunk))
}

/// Bearer values that were masked before logging (`Bearer REDACTED`, `Bearer ***`).
#[pyfunction]
fn count_masked(py: Python<'_>, chunk: &[u8]) -> usize {
    py.detach(|| crate::masked::count_masked(chunk))
}

/// (location code, parameter name) for a token preceded by these bytes of its line.
#[pyfunction]
fn locate(before: &[u8]) -> (u8, String) {
    crate::locate::locate(before)
}

/// The token as issued: URL-encoded padding (`%3D`) turned back into `=`.
#[pyfunction]
fn canonical(token: &[u8]) -> Vec<u8> {
    crate::scan::canonical(token).into_owned()
}

/// First 16 hex digits of SHA-256 of the whole token.
#[pyfunction]
fn fingerprint(token: &[u8]) -> String {
    crate::fingerprint::fingerprint(token)
}

// --- Decoding unique tokens (decode helper: `crate::decode`) ----------------------------------------

/// The interned Python string of a cause code or token kind.
fn code<'py>(py: Python<'py>, c: &'static str) -> Bound<'py, PyAny> {
    let s = match c {
        crate::decode::MALFORMED => pyo3::intern!(py, "malformed"),
        crate::decode::ENCRYPTED => pyo3::intern!(py, "encrypted"),
        crate::decode::UNSUPPORTED_ALG => pyo3::intern!(py, "unsupported_alg"),
        crate::decode::MISSING_CLAIMS => pyo3::intern!(py, "missing_claims"),
        crate::decode::KIND_ACCESS => pyo3::intern!(py, "access_token"),
        crate::decode::KIND_ID => pyo3::intern!(py, "id_token"),
        crate::decode::KIND_ASSERTION => pyo3::intern!(py, "client_assertion"),
        _ => pyo3::intern!(py, "unknown"),
    };
    s.clone().into_any()
}

/// Decode one unique token: everything `analyze_token` derives without keys, as one tuple
/// `(status, header, claims, alg, kid, typ, kind, issuer, audiences, client_id, tenant_id, version,
/// scopes, roles, exp, nbf, iat, has_nonce, header_nonce, x5t, thumbprints, subject,
/// signing_input_len, signature, failures)`: status 0 decoded, 1 malformed, 2 encrypted; header and
/// claims the decoded JSON bytes; audiences and thumbprints tuples of str; failures a tuple of
/// (cause, detail).
#[pyfunction]
fn decode_token<'py>(
    py: Python<'py>,
    token: &[u8],
    truncated: bool,
) -> PyResult<Bound<'py, PyTuple>> {
    let d = py.detach(|| crate::decode::decode(token, truncated));
    let failures = PyTuple::new(
        py,
        d.failures
            .iter()
            .map(|(c, t)| PyTuple::new(py, [code(py, c), PyString::new(py, t).into_any()]))
            .collect::<PyResult<Vec<_>>>()?,
    )?;
    let items: [Bound<'py, PyAny>; 25] = [
        (d.status as u8).into_pyobject(py)?.into_any(),
        PyBytes::new(py, &d.header).into_any(),
        PyBytes::new(py, &d.claims).into_any(),
        d.alg.into_pyobject(py)?.into_any(),
        d.kid.into_pyobject(py)?.into_any(),
        d.typ.into_pyobject(py)?.into_any(),
        code(py, d.kind),
        d.issuer.into_pyobject(py)?.into_any(),
        PyTuple::new(py, &d.audiences)?.into_any(),
        d.client_id.into_pyobject(py)?.into_any(),
        d.tenant_id.into_pyobject(py)?.into_any(),
        d.version.into_pyobject(py)?.into_any(),
        d.scopes.into_pyobject(py)?.into_any(),
        d.roles.into_pyobject(py)?.into_any(),
        d.exp.into_pyobject(py)?.into_any(),
        d.nbf.into_pyobject(py)?.into_any(),
        d.iat.into_pyobject(py)?.into_any(),
        PyBool::new(py, d.has_nonce).to_owned().into_any(),
        PyBool::new(py, d.header_nonce).to_owned().into_any(),
        d.x5t.into_pyobject(py)?.into_any(),
        PyTuple::new(py, &d.thumbprints)?.into_any(),
        d.subject.into_pyobject(py)?.into_any(),
        d.signing_input_len.into_pyobject(py)?.into_any(),
        PyBytes::new(py, &d.signature).into_any(),
        failures.into_any(),
    ];
    PyTuple::new(py, items)
}

/// Whether a token found in free text has a JOSE header (a JSON object naming `alg` or `enc`).
#[pyfunction]
fn plausible_header(token: &[u8]) -> bool {
    crate::decode::plausible_header(token)
}

fn add_decode(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(decode_token, m)?)?;
    m.add_function(wrap_pyfunction!(plausible_header, m)?)?;
    m.add("SIGNING_ALGS", crate::decode::SIGNING_ALGS.to_vec())?;
    Ok(())
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(find_tokens, m)?)?;
    m.add_function(wrap_pyfunction!(scan_chunk, m)?)?;
    m.add_function(wrap_pyfunction!(chunk_marks, m)?)?;
    m.add_function(wrap_pyfunction!(count_masked, m)?)?;
    m.add_function(wrap_pyfunction!(locate, m)?)?;
    m.add_function(wrap_pyfunction!(canonical, m)?)?;
    m.add_function(wrap_pyfunction!(fingerprint, m)?)?;
    add_decode(m)?;
    m.add("MARK_PCT", crate::marks::MARK_PCT)?;
    m.add("MARK_CODES", crate::marks::MARK_CODES)?;
    m.add("MARK_FIELDS", crate::marks::MARK_FIELDS)?;
    m.add("MARK_MASK", crate::marks::MARK_MASK)?;
    m.add("MARK_COOKIE", crate::marks::MARK_COOKIE)?;
    m.add("MARK_ALL", crate::marks::MARK_ALL)?;
    Ok(())
}
