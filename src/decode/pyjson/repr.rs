//! Python's `str()` and `repr()` of what `json.loads` gives, its truth value and `==`, as the
//! decoder's text fields show them.

use std::borrow::Cow;

use super::Value;

impl Value<'_> {
    /// Python truthiness.
    pub fn truthy(&self) -> bool {
        match self {
            Value::Null => false,
            Value::Bool(b) => *b,
            Value::Int(t) => !matches!(*t, "0" | "-0"),
            Value::Float(f) => *f != 0.0,
            Value::Str(s) => !s.is_empty(),
            Value::List(v) => !v.is_empty(),
            Value::Obj(m) => !m.is_empty(),
        }
    }

    /// `type(v).__name__`.
    pub fn type_name(&self, orjson: bool) -> &'static str {
        match self {
            Value::Null => "NoneType",
            Value::Bool(_) => "bool",
            Value::Int(t) if orjson && big_int(t) => "float",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "str",
            Value::List(_) => "list",
            Value::Obj(_) => "dict",
        }
    }

    /// The number a NumericDate holds, as `float(v)`: None for what is not an int or float.
    /// An int too large for a double is infinite here (Python raises OverflowError).
    pub fn number(&self) -> Option<f64> {
        match self {
            Value::Int(t) => Some(t.parse().unwrap_or(f64::INFINITY)),
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }

    /// `str(v)`.
    pub fn py_str(&self, orjson: bool) -> String {
        match self {
            Value::Str(s) => s.to_string(),
            _ => {
                let mut out = String::new();
                self.repr_into(&mut out, orjson);
                out
            }
        }
    }

    /// `repr(v)` appended to `out`.
    fn repr_into(&self, out: &mut String, orjson: bool) {
        match self {
            Value::Null => out.push_str("None"),
            Value::Bool(true) => out.push_str("True"),
            Value::Bool(false) => out.push_str("False"),
            Value::Int(t) => {
                if orjson && big_int(t) {
                    out.push_str(&float_repr(t.parse().unwrap_or(f64::INFINITY)));
                } else if *t == "-0" {
                    out.push('0');
                } else {
                    out.push_str(t);
                }
            }
            Value::Float(f) => out.push_str(&float_repr(*f)),
            Value::Str(s) => str_repr_into(s, out),
            Value::List(items) => {
                out.push('[');
                for (n, v) in items.iter().enumerate() {
                    if n > 0 {
                        out.push_str(", ");
                    }
                    v.repr_into(out, orjson);
                }
                out.push(']');
            }
            Value::Obj(members) => {
                out.push('{');
                for (n, (k, v)) in dict_items(members).into_iter().enumerate() {
                    if n > 0 {
                        out.push_str(", ");
                    }
                    str_repr_into(k, out);
                    out.push_str(": ");
                    v.repr_into(out, orjson);
                }
                out.push('}');
            }
        }
    }

    /// Python `==` between two JSON values (numbers compare by value, `True == 1`).
    pub fn py_eq(&self, other: &Value<'_>, orjson: bool) -> bool {
        match (self, other) {
            (Value::Null, Value::Null) => true,
            (Value::Str(a), Value::Str(b)) => a == b,
            (Value::List(a), Value::List(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.py_eq(y, orjson))
            }
            (Value::Obj(a), Value::Obj(b)) => {
                let (a, b) = (dict_items(a), dict_items(b));
                a.len() == b.len()
                    && a.iter()
                        .all(|(k, v)| b.iter().any(|(k2, v2)| k == k2 && v.py_eq(v2, orjson)))
            }
            (Value::Int(a), Value::Int(b)) if !(orjson && (big_int(a) || big_int(b))) => {
                norm_int(a) == norm_int(b)
            }
            _ => match (self.num_like(), other.num_like()) {
                (Some(a), Some(b)) => a == b,
                _ => false,
            },
        }
    }

    fn num_like(&self) -> Option<f64> {
        match self {
            Value::Bool(b) => Some(f64::from(u8::from(*b))),
            Value::Int(_) | Value::Float(_) => self.number(),
            _ => None,
        }
    }
}

fn norm_int(t: &str) -> &str {
    if t == "-0" {
        "0"
    } else {
        t
    }
}

/// An integer literal outside orjson's 64-bit range (read as a double by orjson).
fn big_int(t: &str) -> bool {
    t.parse::<i64>().is_err() && t.parse::<u64>().is_err()
}

/// A dict's items as Python builds them: a repeated key keeps its first place and takes the last value.
fn dict_items<'v, 'a>(members: &'v [(Cow<'a, str>, Value<'a>)]) -> Vec<(&'v str, &'v Value<'a>)> {
    let mut out: Vec<(&str, &Value)> = Vec::with_capacity(members.len());
    let mut index: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for (k, v) in members {
        match index.get(k.as_ref()) {
            Some(&n) => {
                if let Some(slot) = out.get_mut(n) {
                    slot.1 = v;
                }
            }
            None => {
                index.insert(k.as_ref(), out.len());
                out.push((k.as_ref(), v));
            }
        }
    }
    out
}

/// `repr(float)`: the shortest digits that round-trip, in exponent form outside 1e-4 <= |x| < 1e16.
pub fn float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let e = format!("{:e}", f.abs());
    let (mant, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mant.chars().filter(|c| *c != '.').collect();
    let n = digits.len() as i32;
    let decpt = exp + 1;
    let mut out = String::new();
    if f.is_sign_negative() {
        out.push('-');
    }
    if -4 < decpt && decpt <= 16 {
        if decpt <= 0 {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-decpt) as usize));
            out.push_str(&digits);
        } else if decpt >= n {
            out.push_str(&digits);
            out.extend(std::iter::repeat_n('0', (decpt - n) as usize));
            out.push_str(".0");
        } else {
            let (a, b) = digits.split_at(decpt as usize);
            out.push_str(a);
            out.push('.');
            out.push_str(b);
        }
    } else {
        let (a, b) = digits.split_at(1);
        out.push_str(a);
        if !b.is_empty() {
            out.push('.');
            out.push_str(b);
        }
        let x = decpt - 1;
        out.push_str(&format!("e{}{:02}", if x < 0 { '-' } else { '+' }, x.abs()));
    }
    out
}

/// `repr(str)`: single quotes unless the text holds one and no double quote; escapes as Python's.
pub fn str_repr_into(s: &str, out: &mut String) {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if (c as u32) < 0x7f || printable(c) => out.push(c),
            c if (c as u32) <= 0xff => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if (c as u32) <= 0xffff => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push(quote);
}

/// `str.isprintable` for a non-ASCII character, without Unicode tables: separators, controls, format
/// characters and private use are not printable (unassigned code points are taken as printable).
fn printable(c: char) -> bool {
    let u = c as u32;
    !(c.is_control()
        || c.is_whitespace()
        || matches!(u,
            0xad | 0x600..=0x605 | 0x61c | 0x6dd | 0x70f | 0x890..=0x891 | 0x8e2 | 0x180e
            | 0x200b..=0x200f | 0x202a..=0x202e | 0x2060..=0x2064 | 0x2066..=0x206f | 0xfeff
            | 0xfff9..=0xfffb | 0x110bd | 0x110cd | 0x13430..=0x1343f | 0x1bca0..=0x1bca3
            | 0x1d173..=0x1d17a | 0xe0001 | 0xe0020..=0xe007f | 0xe000..=0xf8ff
            | 0xf0000..=0xffffd | 0x100000..=0x10fffd))
}
