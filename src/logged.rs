//! The IDX/AADSTS code a server logged for a token's request (the port of `diagnose.logged_error`).
//! STUB: owned by the timeparse helper.

/// The IDX/AADSTS code the server logged for the token on the line `[line_start, line_end)`.
pub fn logged_error(
    _chunk: &[u8],
    _line_start: usize,
    _line_end: usize,
    _status: Option<i32>,
    _nearby: bool,
) -> Option<String> {
    None
}
