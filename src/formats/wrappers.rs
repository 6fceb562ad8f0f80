//! Prefixes that wrap another line: syslog (RFC 3164 and 5424, rsyslog's ISO form) and Kubernetes
//! CRI (the port of `formats/wrappers.py`). STUB: owned by the timeparse helper.

use super::common::FileContext;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WrapKind {
    Syslog,
    Cri,
}

/// (wrapper kind, its time, offset of the wrapped message), or None for an unwrapped line.
pub fn unwrap(_line: &[u8], _ctx: &FileContext) -> Option<(WrapKind, Option<i64>, usize)> {
    None
}

/// A syslog header (either RFC) at the start of the line.
pub fn looks_like_syslog(_line: &[u8]) -> bool {
    false
}
