//! W3C extended log files (IIS, also CloudFront): columns named by the latest `#Fields:` directive
//! (the port of `formats/w3c.py`). STUB: owned by the w3c/json helper.

use super::common::{FileContext, LineFields};

/// The lowercased field names in what follows `#Fields:` on a directive line.
pub fn field_names(values: &[u8]) -> Vec<String> {
    // latin-1 decoding, split on whitespace, lowercased
    values
        .split(|b| b.is_ascii_whitespace())
        .filter(|w| !w.is_empty())
        .map(|w| {
            w.iter()
                .map(|&b| (b as char).to_lowercase().collect::<String>())
                .collect()
        })
        .collect()
}

/// Every `#Fields:` directive in a chunk: (offset, lowercased field names), in order.
pub fn field_directives(_chunk: &[u8]) -> Vec<(usize, Vec<String>)> {
    Vec::new()
}

pub fn looks_like_w3c(_line: &[u8]) -> bool {
    false
}

pub fn parse_w3c(_line: &[u8], _ctx: &FileContext) -> Option<LineFields> {
    None
}
