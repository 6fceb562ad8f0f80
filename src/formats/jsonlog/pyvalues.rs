//! Python's view of the values: a JSON number as the int or float orjson gives, `str()` and
//! `repr()` of it as Python prints them, and `str.isspace()`.

/// A JSON number's value as a Python int, when orjson gives an int (up to 64 bits; beyond, a float).
pub(super) fn py_int(s: &str) -> Option<i128> {
    if s.contains(['.', 'e', 'E']) {
        return None;
    }
    let v: i128 = s.parse().ok()?;
    (i128::from(i64::MIN)..=i128::from(u64::MAX))
        .contains(&v)
        .then_some(v)
}

pub(super) fn num_f64(s: &str) -> f64 {
    s.parse::<f64>().unwrap_or(f64::NAN)
}

/// Python's `repr(float)`: the shortest digits that read back, fixed between 1e-4 and 1e16.
pub fn py_float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf" } else { "-inf" }.into();
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0.0" } else { "0.0" }.into();
    }
    let sci = format!("{f:e}");
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let neg = mant.starts_with('-');
    let digits = even_tie(
        f.abs(),
        mant.chars().filter(char::is_ascii_digit).collect(),
        exp,
    );
    let mut out = String::with_capacity(digits.len() + 8);
    if neg {
        out.push('-');
    }
    if (-4..16).contains(&exp) {
        if exp >= 0 {
            let point = exp as usize + 1;
            if digits.len() <= point {
                out.push_str(&digits);
                out.extend(std::iter::repeat_n('0', point - digits.len()));
                out.push_str(".0");
            } else {
                out.push_str(&digits[..point]);
                out.push('.');
                out.push_str(&digits[point..]);
            }
        } else {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-exp - 1) as usize));
            out.push_str(&digits);
        }
    } else {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push_str(&format!(
            "e{}{:02}",
            if exp < 0 { '-' } else { '+' },
            exp.abs()
        ));
    }
    out
}

/// The shortest digits of `f` (given as Rust found them, with their exponent) as Python picks
/// them: where the value lies exactly halfway between two such digit strings that both read back,
/// the one that ends in an even digit (Rust's may end in the odd one).
fn even_tie(f: f64, digits: String, exp: i32) -> String {
    let n = digits.len();
    let exact = format!("{f:.800e}");
    let Some((m, e)) = exact.split_once('e') else {
        return digits;
    };
    if e.parse::<i32>() != Ok(exp) {
        return digits;
    }
    let all: String = m.chars().filter(char::is_ascii_digit).collect();
    let (Some(head), Some(tail)) = (all.get(..n), all.get(n..)) else {
        return digits;
    };
    if !(tail.starts_with('5') && tail[1..].bytes().all(|b| b == b'0')) {
        return digits;
    }
    let last = head.bytes().last().unwrap_or(b'0');
    let candidate = if last % 2 == 0 {
        head.to_string()
    } else if last == b'9' {
        return digits;
    } else {
        format!("{}{}", &head[..n - 1], (last + 1 - b'0'))
    };
    let text = format!("{}.{}e{exp}", &candidate[..1], &candidate[1..]);
    if candidate != digits && text.parse::<f64>() == Ok(f) {
        candidate
    } else {
        digits
    }
}

/// Python's `str()` of the value orjson gives for a JSON number's text.
pub(super) fn py_num_str(s: &str) -> String {
    match py_int(s) {
        Some(i) => i.to_string(),
        None => py_float_repr(num_f64(s)),
    }
}

/// Python's `str.isspace()`: Unicode White_Space and the ASCII separators \x1c-\x1f.
pub(super) fn py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}
