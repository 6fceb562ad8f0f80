//! The Python binding `analyzer._core`: the only module that knows about Python.
//!
//! Chunks come in as `bytes` or, from the readers, a view of their reused buffer (borrowed, not
//! copied: `bytes_of`); the scan runs with the GIL released; results
//! go back as Arrow record batches through the Arrow C data interface (`arrow-pyarrow`), so no
//! Python object is made per row here.

use std::borrow::Cow;
use std::sync::Arc;

use arrow_array::builder::{BinaryBuilder, StringBuilder, StringDictionaryBuilder};
use arrow_array::types::Int32Type;
use arrow_array::{
    ArrayRef, BooleanArray, DictionaryArray, Int32Array, Int64Array, RecordBatch, StringArray,
    UInt32Array, UInt8Array,
};
use arrow_pyarrow::ToPyArrow;
use pyo3::buffer::PyBuffer;
use pyo3::exceptions::{PyBufferError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyString, PyTuple};

use crate::chunk::ChunkScan;
use crate::formats::{FileContext, Format, LineFields};
use crate::lines::{LineScanner, Rows, TokenLine};
use crate::scan::Hit;
use crate::timeparse::Zone;

/// A record batch whose columns are all nullable: the schema of a chunk must not depend on whether
/// its rows happen to hold a null (batches of many chunks are joined into one table).
fn batch(columns: Vec<(&str, ArrayRef)>) -> PyResult<RecordBatch> {
    RecordBatch::try_from_iter_with_nullable(columns.into_iter().map(|(n, a)| (n, a, true)))
        .map_err(|e| PyValueError::new_err(e.to_string()))
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
        ("token", binary(s.tokens.iter().map(|t| &**t))),
        ("fp", utf8(|| s.fps.iter().map(|f| Some(f.as_str())))),
    ])?
    .to_pyarrow(py)?;
    Ok((occurrences, tokens, s.marks, s.masked))
}

/// The bytes of a buffer-protocol object (`bytes`, or a `memoryview` of the readers' buffer): no
/// copy, where `&[u8]` takes `bytes` only and a chunk read into a reused buffer had to be copied
/// into one first.
///
/// The slice is read with the GIL released. Python code could write to a writable buffer meanwhile;
/// the readers never do: their buffer is written only between chunks, while no call holds it.
#[allow(unsafe_code)]
fn bytes_of(buf: &PyBuffer<u8>) -> PyResult<&[u8]> {
    if !buf.is_c_contiguous() {
        return Err(PyBufferError::new_err("a chunk must be contiguous bytes"));
    }
    // SAFETY: a contiguous buffer of `len_bytes` u8 at `buf_ptr`, kept alive (and, for a
    // bytearray, unresizable) by `buf` for as long as the slice borrows it.
    Ok(unsafe { std::slice::from_raw_parts(buf.buf_ptr() as *const u8, buf.len_bytes()) })
}

/// The newlines in `data`, any bytes-like object (memchr's vectorized count; Python's `bytes.count`
/// was a tenth as fast).
#[pyfunction]
fn count_newlines(py: Python<'_>, data: PyBuffer<u8>) -> PyResult<usize> {
    let data = bytes_of(&data)?;
    Ok(py.detach(|| memchr::memchr_iter(b'\n', data).count()))
}

/// The newlines in bytes [start, end) of a file, read through one reused 1 MiB buffer with the GIL
/// released; None when it cannot be read (the scan of that range reports the error).
#[pyfunction]
fn count_file_newlines(
    py: Python<'_>,
    path: std::path::PathBuf,
    start: u64,
    end: u64,
) -> Option<u64> {
    py.detach(|| {
        use std::io::{Read, Seek, SeekFrom};
        let mut file = std::fs::File::open(&path).ok()?;
        file.seek(SeekFrom::Start(start)).ok()?;
        let mut buf = vec![0u8; 1 << 20];
        let (mut want, mut n) = (end.saturating_sub(start), 0u64);
        while want > 0 {
            let take = want.min(buf.len() as u64) as usize;
            let got = file.read(&mut buf[..take]).ok()?;
            if got == 0 {
                break;
            }
            n += memchr::memchr_iter(b'\n', &buf[..got]).count() as u64;
            want -= got as u64;
        }
        Some(n)
    })
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

/// The `location` column's values, by `locate::LOC_*` code.
const LOCATIONS: [&str; 6] = [
    "authorization_header",
    "query",
    "form",
    "cookie",
    "json_field",
    "text",
];

fn format_of(name: &str) -> PyResult<Format> {
    Format::from_name(name).ok_or_else(|| PyValueError::new_err(format!("unknown format {name:?}")))
}

fn zone_of(text: &str) -> PyResult<Zone> {
    Zone::from_text(text).map_err(PyValueError::new_err)
}

/// A utf8 column whose data buffer is sized first (a pass over the values' lengths): a column
/// grown by doubling is copied about twice over and reallocated a dozen times per chunk.
fn utf8<'a, I>(values: impl Fn() -> I) -> ArrayRef
where
    I: Iterator<Item = Option<&'a str>>,
{
    let (n, bytes) = values().fold((0, 0), |(n, b), v| (n + 1, b + v.map_or(0, str::len)));
    let mut out = StringBuilder::with_capacity(n, bytes);
    for v in values() {
        out.append_option(v);
    }
    Arc::new(out.finish())
}

/// A binary column, sized first as `utf8` is.
fn binary<'a>(values: impl Iterator<Item = &'a [u8]> + Clone) -> ArrayRef {
    let (n, bytes) = values
        .clone()
        .fold((0, 0), |(n, b), v| (n + 1, b + v.len()));
    let mut out = BinaryBuilder::with_capacity(n, bytes);
    for v in values {
        out.append_value(v);
    }
    Arc::new(out.finish())
}

/// A utf8 column of a line field, one value per occurrence (the line's, repeated).
fn line_strings<'r>(
    rows: &'r Rows<'_>,
    field: impl Fn(&'r TokenLine<'_>) -> Option<&'r str>,
) -> ArrayRef {
    utf8(|| (0..rows.len()).map(|i| field(rows.line_of(i))))
}

/// A dictionary-coded utf8 column: the distinct values in order of first appearance and an int32
/// code per row (null where the row has none), as Arrow's `dictionary_encode` makes of the column.
/// A value repeated on the next rows (the fields of a line with several tokens, a run of lines to one
/// host) is looked up once per run.
fn coded<'a>(values: impl Iterator<Item = Option<&'a str>>) -> ArrayRef {
    let mut out = StringDictionaryBuilder::<Int32Type>::new();
    let mut run: Option<(Option<&str>, usize)> = None;
    for v in values {
        match &mut run {
            Some((last, n)) if *last == v => *n += 1,
            _ => {
                if let Some((last, n)) = run.replace((v, 1)) {
                    out.append_options(last, n);
                }
            }
        }
    }
    if let Some((last, n)) = run {
        out.append_options(last, n);
    }
    Arc::new(out.finish())
}

/// `coded` of values that are already numbered (`keys` index the `n` values `value` names):
/// renumbered in order of first appearance without hashing a string.
fn coded_keys<'a>(
    keys: impl Iterator<Item = usize>,
    n: usize,
    value: impl Fn(usize) -> &'a str,
) -> PyResult<ArrayRef> {
    let mut number = vec![-1i32; n];
    let mut dictionary = StringBuilder::new();
    let mut next = 0;
    let codes: Int32Array = keys
        .map(|k| {
            if number[k] < 0 {
                number[k] = next;
                next += 1;
                dictionary.append_value(value(k));
            }
            number[k]
        })
        .collect();
    let array = DictionaryArray::<Int32Type>::try_new(codes, Arc::new(dictionary.finish()))
        .map_err(|e| PyValueError::new_err(e.to_string()))?;
    Ok(Arc::new(array))
}

/// The occurrence and token record batches of one chunk's rows. The columns whose values repeat
/// (`format`, `location`, `param`, `host`, `method`, `user_agent`, `token_fp`) come dictionary-coded
/// (`coded`): the batches of many chunks join their dictionaries without hashing every row again.
fn rows_batches(rows: &Rows<'_>) -> PyResult<(RecordBatch, RecordBatch)> {
    let n = rows.len();
    let lines = || (0..n).map(|i| rows.line_of(i));
    let repeated: [ArrayRef; 7] = [
        coded(lines().map(|l| Some(l.format.name()))),
        coded_keys(
            rows.location.iter().map(|&l| l as usize),
            LOCATIONS.len(),
            |k| LOCATIONS[k],
        )?,
        coded(rows.param.iter().map(|p| Some(&**p))),
        coded(lines().map(|l| l.fields.host.as_deref())),
        coded(lines().map(|l| l.fields.method.as_deref())),
        coded(lines().map(|l| l.fields.user_agent.as_deref())),
        coded_keys(
            rows.token.iter().map(|&t| t as usize),
            rows.fps.len(),
            |k| rows.fps[k].as_str(),
        )?,
    ];
    let [format, location, param, host, method, user_agent, token_fp] = repeated;
    let occurrences = batch(vec![
        (
            "line",
            Arc::new(Int64Array::from_iter_values(rows.line.iter().copied())) as ArrayRef,
        ),
        (
            "ts",
            Arc::new(Int64Array::from_iter(lines().map(|l| l.fields.ts))),
        ),
        ("format", format),
        ("location", location),
        ("param", param),
        ("host", host),
        ("method", method),
        ("path", line_strings(rows, |l| l.fields.path.as_deref())),
        (
            "status",
            Arc::new(Int32Array::from_iter(lines().map(|l| l.fields.status))),
        ),
        (
            "client_ip",
            line_strings(rows, |l| l.fields.client_ip.as_deref()),
        ),
        ("user_agent", user_agent),
        (
            "logged_error",
            line_strings(rows, |l| l.logged_error.as_deref()),
        ),
        ("token_fp", token_fp),
    ])?;
    let tokens = batch(vec![
        ("token", binary(rows.tokens.iter().map(|t| &**t))),
        ("fp", utf8(|| rows.fps.iter().map(|f| Some(f.as_str())))),
        ("used", Arc::new(BooleanArray::from(rows.used.clone()))),
        ("cut", Arc::new(BooleanArray::from(rows.cut.clone()))),
    ])?;
    Ok((occurrences, tokens))
}

/// Occurrences, tokens, and (rejected, masked, invalid_utf8_lines).
type ScanOut<'py> = (Bound<'py, PyAny>, Bound<'py, PyAny>, (usize, usize, usize));

/// Reads the token lines of one file (or byte range), chunk after chunk.
#[pyclass(name = "LineScanner", module = "analyzer._core")]
struct PyLineScanner {
    inner: LineScanner,
}

#[pymethods]
impl PyLineScanner {
    /// A scanner for a file of format `format` (a `format` column value) whose times without a
    /// year are in `year`, without a zone in `tz` (`UTC`, `+01:00`, an IANA name).
    #[new]
    #[pyo3(signature = (format, year, tz, mtime_us=None))]
    fn new(format: &str, year: i32, tz: &str, mtime_us: Option<i64>) -> PyResult<Self> {
        let ctx = FileContext {
            year,
            tz: zone_of(tz)?,
            mtime_us,
            iis_fields: Vec::new(),
        };
        Ok(PyLineScanner {
            inner: LineScanner::new(format_of(format)?, ctx),
        })
    }

    /// Take the field list of a W3C `#Fields:` directive (the bytes after `#Fields:`).
    fn set_fields(&mut self, values: &[u8]) {
        self.inner.set_fields(values);
    }

    /// Scan one chunk of whole lines. Returns `(occurrences, tokens, (rejected, masked, invalid_utf8_lines))`:
    ///
    /// - `occurrences`: `line` (int64), `ts` (int64 epoch µs, null where the line has no time),
    ///   `format`, `location`, `param` (utf8), `host`, `method`, `path` (utf8, null where the line has
    ///   none), `status` (int32), `client_ip`, `user_agent`, `logged_error` (utf8), `token_fp` (utf8:
    ///   the fingerprint of the row's token); one row per accepted occurrence;
    /// - `tokens`: the chunk's distinct tokens: `token` (binary), `fp` (utf8), `used` (an occurrence
    ///   was accepted), `cut` (its first accepted occurrence ended its line).
    ///
    /// `chunk` is any bytes-like object: the readers hand a view of their reused buffer, not a copy.
    /// `format`, `location`, `param`, `host`, `method`, `user_agent` and `token_fp` come
    /// dictionary-coded (int32 codes into the chunk's distinct values, in order of first appearance).
    fn scan<'py>(
        &mut self,
        py: Python<'py>,
        chunk: PyBuffer<u8>,
        first_line: i64,
    ) -> PyResult<ScanOut<'py>> {
        let chunk = bytes_of(&chunk)?;
        let inner = &mut self.inner;
        let rows = py.detach(|| inner.scan(chunk, first_line));
        let (occ, tokens) = rows_batches(&rows)?;
        Ok((
            occ.to_pyarrow(py)?,
            tokens.to_pyarrow(py)?,
            (rows.rejected, rows.masked, rows.invalid_utf8_lines),
        ))
    }
}

/// The format most of these lines are in (`generic` if none fits).
#[pyfunction]
fn detect(lines: Vec<Vec<u8>>) -> &'static str {
    let refs: Vec<&[u8]> = lines.iter().map(Vec::as_slice).collect();
    crate::formats::detect(&refs).name()
}

type PyFields = (
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<i32>,
    Option<String>,
    Option<String>,
    Option<(usize, usize)>,
);

/// `(format, (ts, host, method, path, status, client_ip, user_agent, query_span))` of one line.
#[pyfunction]
#[pyo3(signature = (line, format, year, tz, mtime_us, iis_fields))]
fn parse_line(
    line: &[u8],
    format: &str,
    year: i32,
    tz: &str,
    mtime_us: Option<i64>,
    iis_fields: Vec<String>,
) -> PyResult<(&'static str, PyFields)> {
    let ctx = FileContext {
        year,
        tz: zone_of(tz)?,
        mtime_us,
        iis_fields,
    };
    let (f, x): (Format, LineFields<'_>) =
        crate::formats::parse_line(line, format_of(format)?, &ctx);
    Ok((
        f.name(),
        (
            x.ts,
            x.host.map(Cow::into_owned),
            x.method.map(Cow::into_owned),
            x.path.map(Cow::into_owned),
            x.status,
            x.client_ip.map(Cow::into_owned),
            x.user_agent.map(Cow::into_owned),
            x.query_span,
        ),
    ))
}

/// A time of shape `shape` (`iso`, `clf`, `slashed`, `asctime`, `syslog`, `epoch`, `rfc1123`,
/// `any`, or `search` for the first time anywhere in the text) as epoch µs, or None.
#[pyfunction]
#[pyo3(signature = (shape, text, tz="UTC", year=1970, before_us=None))]
fn parse_time(
    shape: &str,
    text: &[u8],
    tz: &str,
    year: i32,
    before_us: Option<i64>,
) -> PyResult<Option<i64>> {
    use crate::timeparse as t;
    let z = zone_of(tz)?;
    Ok(match shape {
        "iso" => t::parse_iso(text, &z),
        "clf" => t::parse_clf(text, &z),
        "slashed" => t::parse_slashed(text, &z),
        "asctime" => t::parse_asctime(text, &z),
        "syslog" => t::parse_syslog(text, year, &z, before_us),
        "epoch" => t::parse_epoch(text),
        "rfc1123" => t::parse_rfc1123(text, &z),
        "any" => t::parse_any(text, &z),
        "search" => t::search_any(text, year, &z, before_us),
        _ => {
            return Err(PyValueError::new_err(format!(
                "unknown time shape {shape:?}"
            )))
        }
    })
}

/// A JSON number as a time: epoch seconds, milliseconds, microseconds or nanoseconds.
#[pyfunction]
fn time_from_number(value: f64) -> Option<i64> {
    crate::timeparse::from_number(value)
}

/// Why `text` is no time zone (`UTC`, an offset like `+01:00`, an IANA name), or None if it is one.
#[pyfunction]
fn zone_problem(text: &str) -> Option<String> {
    Zone::from_text(text).err()
}

/// A log field with every token the grammar reads replaced by `[token]`: the first step of what the
/// line stage does to a field (`lines::mask`; `scrub` then masks what is left of a token).
#[pyfunction]
fn redact(value: String) -> String {
    crate::lines::redact(Some(value.into()))
        .map(Cow::into_owned)
        .unwrap_or_default()
}

/// A syslog or CRI prefix of a line: (`syslog` or `cri`, its time, where the message starts).
#[pyfunction]
#[pyo3(signature = (line, year=1970, tz="UTC", mtime_us=None))]
fn unwrap(
    line: &[u8],
    year: i32,
    tz: &str,
    mtime_us: Option<i64>,
) -> PyResult<Option<(&'static str, Option<i64>, usize)>> {
    use crate::formats::wrappers::WrapKind;
    let ctx = FileContext {
        year,
        tz: zone_of(tz)?,
        mtime_us,
        iis_fields: Vec::new(),
    };
    Ok(
        crate::formats::wrappers::unwrap(line, &ctx).map(|(kind, ts, at)| {
            let name = match kind {
                WrapKind::Syslog => "syslog",
                WrapKind::Cri => "cri",
            };
            (name, ts, at)
        }),
    )
}

/// Every W3C `#Fields:` directive of a chunk: (offset, lowercased field names).
#[pyfunction]
fn field_directives(chunk: &[u8]) -> Vec<(usize, Vec<String>)> {
    crate::formats::w3c::field_directives(chunk)
}

/// The IDX/AADSTS code the server logged for the token on the line `[line_start, line_end)`.
#[pyfunction]
#[pyo3(signature = (chunk, line_start, line_end, status=None, nearby=true))]
fn logged_error(
    chunk: &[u8],
    line_start: usize,
    line_end: usize,
    status: Option<i32>,
    nearby: bool,
) -> Option<String> {
    crate::logged::logged_error(chunk, line_start, line_end, status, nearby)
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
        shared(py, d.alg.as_deref()),
        shared(py, d.kid.as_deref()),
        shared(py, d.typ.as_deref()),
        code(py, d.kind),
        shared(py, d.issuer.as_deref()),
        PyTuple::new(py, d.audiences.iter().map(|a| PyString::intern(py, a)))?.into_any(),
        shared(py, d.client_id.as_deref()),
        shared(py, d.tenant_id.as_deref()),
        shared(py, d.version.as_deref()),
        shared(py, d.scopes.as_deref()),
        shared(py, d.roles.as_deref()),
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

/// An interned `str` (None for None): the issuer, tenant, client, audience, scopes ... that thousands of
/// tokens share are one object each in the process's caches, not one per token.
fn shared<'py>(py: Python<'py>, text: Option<&str>) -> Bound<'py, PyAny> {
    match text {
        Some(t) => PyString::intern(py, t).into_any(),
        None => py.None().into_bound(py),
    }
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
    m.add_function(wrap_pyfunction!(count_newlines, m)?)?;
    m.add_function(wrap_pyfunction!(count_file_newlines, m)?)?;
    m.add_function(wrap_pyfunction!(chunk_marks, m)?)?;
    m.add_function(wrap_pyfunction!(count_masked, m)?)?;
    m.add_function(wrap_pyfunction!(locate, m)?)?;
    m.add_function(wrap_pyfunction!(canonical, m)?)?;
    m.add_function(wrap_pyfunction!(fingerprint, m)?)?;
    m.add_class::<PyLineScanner>()?;
    m.add_function(wrap_pyfunction!(detect, m)?)?;
    m.add_function(wrap_pyfunction!(parse_line, m)?)?;
    m.add_function(wrap_pyfunction!(parse_time, m)?)?;
    m.add_function(wrap_pyfunction!(time_from_number, m)?)?;
    m.add_function(wrap_pyfunction!(zone_problem, m)?)?;
    m.add_function(wrap_pyfunction!(field_directives, m)?)?;
    m.add_function(wrap_pyfunction!(unwrap, m)?)?;
    m.add_function(wrap_pyfunction!(redact, m)?)?;
    m.add_function(wrap_pyfunction!(logged_error, m)?)?;
    m.add("LOGGED_CODES", crate::logged::LOGGED_CODES.to_vec())?;
    add_decode(m)?;
    m.add("MARK_PCT", crate::marks::MARK_PCT)?;
    m.add("MARK_CODES", crate::marks::MARK_CODES)?;
    m.add("MARK_FIELDS", crate::marks::MARK_FIELDS)?;
    m.add("MARK_MASK", crate::marks::MARK_MASK)?;
    m.add("MARK_COOKIE", crate::marks::MARK_COOKIE)?;
    m.add("MARK_ALL", crate::marks::MARK_ALL)?;
    Ok(())
}
