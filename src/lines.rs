//! The line stage: one chunk of whole lines in, one row per token occurrence out, with the request
//! fields of its line. Everything per line happens once per line, everything per token once per
//! distinct token; nothing here knows about Python.

use std::borrow::Cow;
use std::sync::LazyLock;

use memchr::memmem::Finder;

use crate::chunk::{occurrences, ChunkScan};
use crate::decode::plausible_header;
use crate::fingerprint::Fp;
use crate::formats::common::Text;
use crate::formats::w3c::{directives_at, field_names};
use crate::formats::{parse_line, FileContext, Format, LineFields};
use crate::locate::{LOC_AUTHORIZATION, LOC_FORM, LOC_QUERY, LOC_TEXT};
use crate::logged::{logged_error, CodeSpots, SpotLines};
use crate::marks::line_marks;
use crate::scan::find_tokens;
use crate::scrub::scrub;

/// What a token in a log field is replaced with: a path like `/cb/eyJ...` must not carry one out.
pub const TOKEN_STANDIN: &str = "[token]";

/// One token line as its occurrences share it: its request fields (tokens masked: `mask`), the format
/// that parsed it and the validator's error logged near it.
#[derive(Debug)]
pub struct TokenLine<'c> {
    pub fields: LineFields<'c>,
    pub format: Format,
    pub logged_error: Option<String>,
}

/// The occurrence columns of one chunk (one entry per accepted occurrence), and its distinct tokens.
///
/// A line's fields are kept once, in `lines`, and each occurrence points at its line (`at`): no
/// string is copied per occurrence here, the Arrow columns are built from the two.
#[derive(Debug, Default)]
pub struct Rows<'c> {
    pub line: Vec<i64>,
    /// `locate::LOC_*`, after a query-string field of the line's format was taken into account.
    pub location: Vec<u8>,
    pub param: Vec<Cow<'static, str>>,
    /// Index into `lines`.
    pub at: Vec<u32>,
    pub lines: Vec<TokenLine<'c>>,
    /// Index into `tokens`.
    pub token: Vec<u32>,
    /// Distinct tokens of the chunk, with their fingerprints; `used`: at least one occurrence was
    /// accepted; `cut`: its first accepted occurrence ended its line (the log probably cut it).
    pub tokens: Vec<Cow<'c, [u8]>>,
    pub fps: Vec<Fp>,
    pub used: Vec<bool>,
    pub cut: Vec<bool>,
    /// JWT-shaped strings outside an Authorization header whose first segment is no JOSE header.
    pub rejected: usize,
    /// Bearer values masked before logging.
    pub masked: usize,
    /// Lines that are not valid UTF-8 (read as bytes anyway).
    pub invalid_utf8_lines: usize,
}

impl Rows<'_> {
    pub fn len(&self) -> usize {
        self.line.len()
    }

    pub fn is_empty(&self) -> bool {
        self.line.is_empty()
    }

    /// The fields of occurrence `i`'s line.
    pub fn line_of(&self, i: usize) -> &TokenLine<'_> {
        &self.lines[self.at[i] as usize]
    }
}

/// Reads the token lines of one file (or byte range), chunk after chunk: the file's format, its
/// parsing context, and the W3C field list in force, which directives in a chunk change.
pub struct LineScanner {
    pub format: Format,
    pub ctx: FileContext,
    /// The format and (masked) fields of the line the last chunk ended inside. The reader hands a
    /// line longer than its buffer on in pieces; a later piece lacks the line's head, where its
    /// time and request fields are, so its tokens take the head's (parsed once, kept owned).
    head: Option<(Format, LineFields<'static>)>,
}

/// A log field's value with every token in it replaced by `TOKEN_STANDIN`.
pub fn redact(value: Text<'_>) -> Text<'_> {
    let v = value?;
    // Five fields of every token line: a searcher built once, not one per call (`str::contains`).
    static TOKEN_START: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"eyJ"));
    if TOKEN_START.find(v.as_bytes()).is_none() {
        return Some(v);
    }
    let hits = find_tokens(v.as_bytes(), 1, false);
    if hits.is_empty() {
        return Some(v);
    }
    let mut out = String::with_capacity(v.len());
    let mut prev = 0;
    for h in hits {
        // Token bytes are ASCII: both ends fall on character boundaries.
        out.push_str(&v[prev..h.start]);
        out.push_str(TOKEN_STANDIN);
        prev = h.end;
    }
    out.push_str(&v[prev..]);
    Some(Cow::Owned(out))
}

/// A request field as a token line writes it: every token replaced (`redact`), then what is left
/// of a token the grammar read only in part, or not at all (`scrub`).
pub fn mask(value: Text<'_>) -> Text<'_> {
    scrub(redact(value))
}

/// A line's fields as a token line keeps them: the texts `mask`ed.
fn masked(got: LineFields<'_>) -> LineFields<'_> {
    LineFields {
        host: mask(got.host),
        method: mask(got.method),
        path: mask(got.path),
        client_ip: mask(got.client_ip),
        user_agent: mask(got.user_agent),
        ..got
    }
}

fn invalid_utf8_lines(chunk: &[u8]) -> usize {
    if chunk.is_ascii() || std::str::from_utf8(chunk).is_ok() {
        return 0;
    }
    chunk
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_ascii() && std::str::from_utf8(l).is_err())
        .count()
}

impl LineScanner {
    pub fn new(format: Format, ctx: FileContext) -> LineScanner {
        LineScanner {
            format,
            ctx,
            head: None,
        }
    }

    /// Take the field list of a `#Fields:` directive (the bytes after `#Fields:`).
    pub fn set_fields(&mut self, values: &[u8]) {
        self.ctx.iis_fields = field_names(values);
    }

    /// What `head` is after `chunk`: None when it ends its last line; the carried head when the
    /// whole chunk is a middle piece of it; else the fields of the line it ends inside. That line
    /// is parsed once more only here, when the chunk stops mid-line (a long line's first piece, or
    /// a file's last line without a newline): once per piece, so a long line costs no rescans.
    fn head_after(
        &self,
        chunk: &[u8],
        carried: Option<(Format, LineFields<'static>)>,
    ) -> Option<(Format, LineFields<'static>)> {
        if chunk.last().is_none_or(|&b| b == b'\n') {
            return None;
        }
        let start = memchr::memrchr(b'\n', chunk).map_or(0, |i| i + 1);
        if start == 0 && carried.is_some() {
            return carried;
        }
        let (f, got) = parse_line(&chunk[start..], self.format, &self.ctx);
        // Its query span is of the head's bytes, not of a later piece's.
        let fields = LineFields {
            query_span: None,
            ..masked(got)
        };
        Some((f, fields.into_owned()))
    }

    /// Every token occurrence of a chunk of whole lines whose first line is `first_line`.
    ///
    /// No pass of `chunk_marks` over the chunk: one pass (`line_marks`) finds what the marks
    /// gated (`marks` tests that they agree). Without a mask string `count_masked` finds nothing,
    /// without `#Fields:` no directive, and without a code near it a line has no logged error
    /// (`CodeSpots`), so those marks need no search of their own.
    pub fn scan<'c>(&mut self, chunk: &'c [u8], first_line: i64) -> Rows<'c> {
        let marks = line_marks(chunk);
        let s: ChunkScan = occurrences(chunk, first_line, marks.pct);
        let n_tokens = s.tokens.len();
        let n = s.hits.len();
        let mut out = Rows {
            line: Vec::with_capacity(n),
            location: Vec::with_capacity(n),
            param: Vec::with_capacity(n),
            at: Vec::with_capacity(n),
            token: Vec::with_capacity(n),
            masked: marks.masked,
            invalid_utf8_lines: invalid_utf8_lines(chunk),
            // A `TokenLine` is ~200 bytes: grown by doubling, the column was copied over and over.
            lines: Vec::with_capacity(
                1 + s
                    .hits
                    .windows(2)
                    .filter(|w| w[0].line_start != w[1].line_start)
                    .count(),
            ),
            used: vec![false; n_tokens],
            cut: vec![false; n_tokens],
            ..Rows::default()
        };
        let directives = directives_at(chunk, marks.fields);
        let mut next_directive = 0;
        let codes = SpotLines::new(chunk, &CodeSpots::new(marks.codes), &s.hits);
        let mut plausible: Vec<Option<bool>> = vec![None; n_tokens];
        let mut parsed: Option<usize> = None; // the start of the line `query_span` belongs to
        let mut query_span = None;
        let mut params = s.param.into_iter();
        // Whether this chunk's first line goes on from the last chunk's (see `head`).
        let carried = self.head.take();
        for (i, h) in s.hits.iter().enumerate() {
            let param = params.next().unwrap_or_default();
            while next_directive < directives.len() && directives[next_directive].0 < h.line_start {
                self.ctx.iis_fields = directives[next_directive].1.clone();
                next_directive += 1;
            }
            let mut location = s.location[i];
            let tok = s.token[i] as usize;
            // Inside an Authorization header anything `eyJ...` is a token (maybe a malformed one);
            // elsewhere a JWT-shaped string must at least have a JOSE header to count.
            if location != LOC_AUTHORIZATION {
                let ok = *plausible[tok].get_or_insert_with(|| plausible_header(&s.tokens[tok]));
                if !ok {
                    out.rejected += 1;
                    continue;
                }
            }
            if !out.used[tok] {
                out.used[tok] = true;
                out.cut[tok] = s.cut[i];
            }
            if parsed != Some(h.line_start) {
                // Once per line, however many tokens it holds.
                parsed = Some(h.line_start);
                let (f, got) = match &carried {
                    Some((f, fields)) if h.line_start == 0 => (*f, fields.clone()),
                    _ => {
                        let line = &chunk[h.line_start..h.line_end];
                        let (f, got) = parse_line(line, self.format, &self.ctx);
                        (f, masked(got))
                    }
                };
                query_span = got.query_span;
                // Only app logs write the validator's error on a line of its own near the request.
                let logged_error = if codes.near(h.line_no) {
                    logged_error(chunk, h.line_start, h.line_end, got.status, f.is_app())
                } else {
                    None
                };
                out.lines.push(TokenLine {
                    fields: got,
                    format: f,
                    logged_error,
                });
            }
            if let Some((lo, hi)) = query_span {
                let at = h.start - h.line_start;
                if (location == LOC_FORM || location == LOC_TEXT) && lo <= at && at < hi {
                    location = LOC_QUERY;
                }
            }
            out.line.push(h.line_no);
            out.location.push(location);
            out.param.push(param);
            out.at.push(out.lines.len() as u32 - 1);
            out.token.push(s.token[i]);
        }
        if let Some((_, names)) = directives.last() {
            self.ctx.iis_fields = names.clone();
        }
        self.head = self.head_after(chunk, carried);
        out.tokens = s.tokens;
        out.fps = s.fps;
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timeparse::Zone;

    #[test]
    fn redact_replaces_every_token() {
        assert_eq!(
            redact(Some("/cb/eyJhbGciOi.eyJzdWIi.c2ln?x=1".into())).as_deref(),
            Some("/cb/[token]?x=1")
        );
        assert_eq!(redact(Some("/plain".into())).as_deref(), Some("/plain"));
        assert!(matches!(
            redact(Some("/plain".into())),
            Some(Cow::Borrowed(_))
        ));
        assert_eq!(redact(None), None);
    }

    #[test]
    fn invalid_lines_are_counted() {
        assert_eq!(invalid_utf8_lines(b"ok\n\xff bad\nfine \xc3\xa9\n\xc3"), 2);
        assert_eq!(invalid_utf8_lines(b"all ascii"), 0);
    }

    /// A line longer than the reader's buffer comes in pieces: a token in a later piece takes the
    /// time and fields of the line's head, however many pieces come between, and the next line
    /// is its own again.
    #[test]
    fn a_long_lines_later_pieces_take_its_head() {
        let tok = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.c2lnbmF0dXJl";
        let head = format!(
            "10.0.0.1 - - [10/Oct/2024:13:55:36 +0000] \"GET /x?{}",
            "a=b&".repeat(50)
        );
        let middle = "a=b&".repeat(50);
        let tail = format!("z HTTP/1.1\" 401 5 \"-\" \"curl/8\" \"Bearer {tok}\"\n");
        let next = format!("no time here Bearer {tok}\n");
        let mut sc = LineScanner::new(Format::Nginx, FileContext::default());
        let first = sc.scan(head.as_bytes(), 1);
        assert!(first.is_empty());
        assert!(sc.scan(middle.as_bytes(), 1).is_empty());
        let last = [tail.as_bytes(), next.as_bytes()].concat();
        let rows = sc.scan(&last, 1);
        assert_eq!(rows.line, vec![1, 2]);
        let at = crate::timeparse::parse_clf(b"10/Oct/2024:13:55:36 +0000", &Zone::Utc);
        assert!(at.is_some());
        assert_eq!(rows.line_of(0).fields.ts, at);
        assert_eq!(rows.line_of(1).fields.ts, None);
        assert!(sc.head.is_none());
        // A chunk that ends its line keeps no head: the next chunk's first line is its own.
        let rows = sc.scan(next.as_bytes(), 3);
        assert_eq!(rows.line_of(0).fields.ts, None);
    }
}
