//! The bytes of a segment to the text Python decodes them to (`json.detect_encoding`: UTF-8 with
//! or without a BOM, lone surrogates passed, UTF-16 and UTF-32), and whether orjson reads it.

use std::borrow::Cow;

/// The text Python would decode the bytes to, and whether orjson would read it.
///
/// Lone surrogates become U+FFFD (3 bytes in UTF-8, as a surrogate is in `surrogatepass` UTF-8).
pub fn text(raw: &[u8]) -> Option<(Cow<'_, str>, bool)> {
    match detect_encoding(raw) {
        Enc::Utf8 => match std::str::from_utf8(raw) {
            Ok(s) => match s.strip_prefix('\u{feff}') {
                Some(rest) => Some((Cow::Borrowed(rest), false)), // utf-8-sig
                None => Some((Cow::Borrowed(s), true)),
            },
            Err(_) => {
                let body = raw.strip_prefix(b"\xef\xbb\xbf").unwrap_or(raw);
                utf8_surrogatepass(body).map(|s| (Cow::Owned(s), false))
            }
        },
        Enc::Utf16 { be, bom } => {
            let body = if bom { raw.get(2..)? } else { raw };
            utf16(body, be).map(|s| (Cow::Owned(s), false))
        }
        Enc::Utf32 { be, bom } => {
            let body = if bom { raw.get(4..)? } else { raw };
            utf32(body, be).map(|s| (Cow::Owned(s), false))
        }
    }
}

enum Enc {
    Utf8,
    Utf16 { be: bool, bom: bool },
    Utf32 { be: bool, bom: bool },
}

/// `json.detect_encoding` (a UTF-8 BOM is handled by the caller).
fn detect_encoding(b: &[u8]) -> Enc {
    if b.starts_with(b"\x00\x00\xfe\xff") {
        return Enc::Utf32 {
            be: true,
            bom: true,
        };
    }
    if b.starts_with(b"\xff\xfe\x00\x00") {
        return Enc::Utf32 {
            be: false,
            bom: true,
        };
    }
    if b.starts_with(b"\xfe\xff") {
        return Enc::Utf16 {
            be: true,
            bom: true,
        };
    }
    if b.starts_with(b"\xff\xfe") {
        return Enc::Utf16 {
            be: false,
            bom: true,
        };
    }
    if b.starts_with(b"\xef\xbb\xbf") {
        return Enc::Utf8; // utf-8-sig
    }
    match b {
        [0, b1, _, _, ..] => {
            if *b1 != 0 {
                Enc::Utf16 {
                    be: true,
                    bom: false,
                }
            } else {
                Enc::Utf32 {
                    be: true,
                    bom: false,
                }
            }
        }
        [_, 0, b2, b3, ..] => {
            if *b2 != 0 || *b3 != 0 {
                Enc::Utf16 {
                    be: false,
                    bom: false,
                }
            } else {
                Enc::Utf32 {
                    be: false,
                    bom: false,
                }
            }
        }
        [0, _] => Enc::Utf16 {
            be: true,
            bom: false,
        },
        [_, 0] => Enc::Utf16 {
            be: false,
            bom: false,
        },
        _ => Enc::Utf8,
    }
}

/// UTF-8 as Python's `surrogatepass` reads it: encoded surrogates allowed (as U+FFFD here).
fn utf8_surrogatepass(raw: &[u8]) -> Option<String> {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    loop {
        match std::str::from_utf8(rest) {
            Ok(s) => {
                out.push_str(s);
                return Some(out);
            }
            Err(e) => {
                let (good, bad) = rest.split_at(e.valid_up_to());
                out.push_str(std::str::from_utf8(good).ok()?);
                match bad {
                    [0xed, 0xa0..=0xbf, 0x80..=0xbf, ..] => {
                        out.push('\u{fffd}');
                        rest = bad.get(3..)?;
                    }
                    _ => return None,
                }
            }
        }
    }
}

fn utf16(body: &[u8], be: bool) -> Option<String> {
    if body.len() % 2 != 0 {
        return None;
    }
    let units = body.chunks_exact(2).map(|c| {
        if be {
            u16::from_be_bytes([c[0], c[1]])
        } else {
            u16::from_le_bytes([c[0], c[1]])
        }
    });
    Some(
        char::decode_utf16(units)
            .map(|r| r.unwrap_or('\u{fffd}'))
            .collect(),
    )
}

fn utf32(body: &[u8], be: bool) -> Option<String> {
    if body.len() % 4 != 0 {
        return None;
    }
    let mut out = String::with_capacity(body.len() / 4);
    for c in body.chunks_exact(4) {
        let b = [c[0], c[1], c[2], c[3]];
        let u = if be {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        };
        match u {
            0xd800..=0xdfff => out.push('\u{fffd}'),
            _ => out.push(char::from_u32(u)?),
        }
    }
    Some(out)
}
