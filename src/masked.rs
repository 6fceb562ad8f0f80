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

/// A masked value after the `earer` (`EARER`) that stands at `q`, behind one of `first`:
/// `[Bb]earer` / `BEARER` followed by separators and a mask value.
pub fn bearer_masked_at(c: &[u8], q: usize, first: &[u8]) -> bool {
    if q == 0 || !first.contains(&c[q - 1]) {
        return false;
    }
    let (end, seps) = separators(c, q + 5);
    // A JWT right after the run is no masked value (giving separators back leaves one next).
    seps > 0 && !c[end..].starts_with(b"eyJ") && mask_at(c, end)
}

/// A masked value after the `uthorization` that stands at `q`: `[Aa]uthorization` `"'`? `:`/`=`
/// `[`? `"'`? followed by a mask value (not by `Bearer` or a JWT).
pub fn authorization_masked_at(c: &[u8], q: usize) -> bool {
    if q == 0 || !matches!(c[q - 1], b'A' | b'a') {
        return false;
    }
    let mut i = q + 12;
    if i < c.len() && matches!(c[i], b'"' | b'\'') {
        i += 1;
    }
    i = skip_space(c, i);
    if i >= c.len() || !matches!(c[i], b':' | b'=') {
        return false;
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
        return false; // what a backtracking match would end on is a separator: never a mask value
    }
    mask_at(c, i)
}

/// Bearer values masked before logging.
pub fn count_masked(c: &[u8]) -> usize {
    let n = |needle: &[u8], at: &dyn Fn(usize) -> bool| {
        memmem::find_iter(c, needle).filter(|&q| at(q)).count()
    };
    n(b"earer", &|q| bearer_masked_at(c, q, b"Bb"))
        + n(b"EARER", &|q| bearer_masked_at(c, q, b"B"))
        + n(b"uthorization", &|q| authorization_masked_at(c, q))
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
