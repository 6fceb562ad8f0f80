//! Bearer values that were masked before logging (`Bearer REDACTED`, `Authorization: ***`).
//!
//! A Bearer (or whole Authorization) value that is not a JWT is found by a literal search for
//! `earer`, `EARER` and `uthorization`; only those few are matched against the masked shapes.

use crate::marks::is_space;
use memchr::memmem;

/// What may not follow a mask value: it would be part of a longer word.
#[inline]
fn wordy(c: &[u8], i: usize) -> bool {
    i < c.len() && (c[i].is_ascii_alphanumeric() || matches!(c[i], b'_' | b'.' | b'-'))
}

#[inline]
fn starts_ci(c: &[u8], i: usize, word: &[u8]) -> bool {
    c.len() >= i + word.len() && c[i..i + word.len()].eq_ignore_ascii_case(word)
}

/// Whether a mask value starts at `i`: `***`, `[REDACTED]`, `<token>`, `xxx`, ... (any case for words).
pub fn mask_at(c: &[u8], i: usize) -> bool {
    let stars = c[i.min(c.len())..]
        .iter()
        .take_while(|&&b| b == b'*')
        .count();
    // With four or more stars, giving one back leaves a `*` next: never part of a word.
    if stars >= 4 || (stars == 3 && !wordy(c, i + 3)) {
        return true;
    }
    let j = if i < c.len() && c[i] == b'[' {
        i + 1
    } else {
        i
    };
    for word in [
        &b"redacted"[..],
        b"filtered",
        b"masked",
        b"hidden",
        b"removed",
        b"pii is hidden",
    ] {
        if starts_ci(c, j, word) {
            let k = j + word.len();
            if (k < c.len() && c[k] == b']') || !wordy(c, k) {
                return true;
            }
        }
    }
    if i < c.len() && c[i] == b'<' {
        for word in [&b"redacted"[..], b"token", b"hidden"] {
            let k = i + 1 + word.len();
            if starts_ci(c, i + 1, word) && k < c.len() && c[k] == b'>' && !wordy(c, k + 1) {
                return true;
            }
        }
    }
    for x in [b'x', b'X'] {
        let n = c[i.min(c.len())..].iter().take_while(|&&b| b == x).count();
        if n >= 3 && !wordy(c, i + n) {
            return true;
        }
    }
    false
}

/// After `Bearer`: one or more separators (whitespace, `+`, `%20`); the end of the run.
fn separators(c: &[u8], mut i: usize) -> (usize, usize) {
    let mut n = 0;
    loop {
        if i < c.len() && (is_space(c[i]) || c[i] == b'+') {
            i += 1;
        } else if c[i.min(c.len())..].starts_with(b"%20") {
            i += 3;
        } else {
            return (i, n);
        }
        n += 1;
    }
}

fn skip_space(c: &[u8], mut i: usize) -> usize {
    while i < c.len() && is_space(c[i]) {
        i += 1;
    }
    i
}

/// `[Bb]earer` / `BEARER` followed by separators and a mask value.
fn count_bearer(c: &[u8], needle: &[u8], first: &[u8]) -> usize {
    let mut n = 0;
    for q in memmem::find_iter(c, needle) {
        if q == 0 || !first.contains(&c[q - 1]) {
            continue;
        }
        let (end, seps) = separators(c, q + needle.len());
        // A JWT right after the run is no masked value (giving separators back leaves one next).
        if seps > 0 && !c[end..].starts_with(b"eyJ") && mask_at(c, end) {
            n += 1;
        }
    }
    n
}

/// `[Aa]uthorization` `"'`? `:`/`=` `[`? `"'`? followed by a mask value (not by `Bearer` or a JWT).
fn count_authorization(c: &[u8]) -> usize {
    let mut n = 0;
    for q in memmem::find_iter(c, b"uthorization") {
        if q == 0 || !matches!(c[q - 1], b'A' | b'a') {
            continue;
        }
        let mut i = q + 12;
        if i < c.len() && matches!(c[i], b'"' | b'\'') {
            i += 1;
        }
        i = skip_space(c, i);
        if i >= c.len() || !matches!(c[i], b':' | b'=') {
            continue;
        }
        i = skip_space(c, i + 1);
        if i < c.len() && c[i] == b'[' {
            i += 1;
        }
        i = skip_space(c, i);
        if i < c.len() && matches!(c[i], b'"' | b'\'') {
            i += 1;
        }
        let rest = &c[i..];
        if rest.starts_with(b"Bearer") || rest.starts_with(b"bearer") || rest.starts_with(b"eyJ") {
            continue; // what a backtracking match would end on is a separator: never a mask value
        }
        if mask_at(c, i) {
            n += 1;
        }
    }
    n
}

/// Bearer values that were masked before logging.
pub fn count_masked(c: &[u8]) -> usize {
    count_bearer(c, b"earer", b"Bb") + count_bearer(c, b"EARER", b"B") + count_authorization(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masked_shapes() {
        assert_eq!(count_masked(b"Authorization: Bearer ***"), 1);
        assert_eq!(count_masked(b"Bearer [REDACTED] x"), 1);
        assert_eq!(count_masked(b"BEARER xxx"), 1);
        assert_eq!(count_masked(b"authorization=<token>"), 1);
        assert_eq!(count_masked(b"Authorization: REDACTED"), 1);
        assert_eq!(count_masked(b"Bearer eyJabc.def.ghi"), 0);
        assert_eq!(count_masked(b"Bearer xxxy"), 0);
        assert_eq!(count_masked(b"Bearer ***a"), 0);
        assert_eq!(count_masked(b"Bearer ****a"), 1);
        assert_eq!(count_masked(b"Bearer hidden]"), 1);
        assert_eq!(count_masked(b"Bearer%20PII is hidden"), 1);
        assert_eq!(count_masked(b"Bearer"), 0);
    }
}
