//! Log formats: detect a file's format from its first lines and parse the request fields of a line
//! (the port of `formats/__init__.py`).
//!
//! Only lines that hold a token are parsed. A parser returns None when the line is not of its
//! format; `parse_line` then unwraps syslog/CRI prefixes, tries the other formats, and ends with the
//! generic best effort.

pub mod common;
pub mod generic;
pub mod jsonlog;
pub mod text;
pub mod w3c;
pub mod wrappers;

#[cfg(test)]
pub(crate) mod vectors;

pub use common::{FileContext, LineFields};
pub use generic::{parse_generic, Probe};
use wrappers::WrapKind;

/// A log format; `name()` is the `format` column's value (schema.py's FMT_*).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    Iis,
    Envoy,
    IngressNginx,
    Apache,
    Nginx,
    Alb,
    NginxError,
    Squid,
    Haproxy,
    Traefik,
    Caddy,
    AppGw,
    FrontDoor,
    Json,
    Syslog,
    Generic,
}

/// Detection order of the unwrapped formats: the most specific test first.
pub const PLAIN: [Format; 14] = [
    Format::Iis,
    Format::Envoy,
    Format::IngressNginx,
    Format::Apache,
    Format::Nginx,
    Format::Alb,
    Format::NginxError,
    Format::Squid,
    Format::Haproxy,
    Format::Traefik,
    Format::Caddy,
    Format::AppGw,
    Format::FrontDoor,
    Format::Json,
];

impl Format {
    pub const ALL: [Format; 16] = [
        Format::Iis,
        Format::Envoy,
        Format::IngressNginx,
        Format::Apache,
        Format::Nginx,
        Format::Alb,
        Format::NginxError,
        Format::Squid,
        Format::Haproxy,
        Format::Traefik,
        Format::Caddy,
        Format::AppGw,
        Format::FrontDoor,
        Format::Json,
        Format::Syslog,
        Format::Generic,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Format::Iis => "iis",
            Format::Envoy => "envoy",
            Format::IngressNginx => "ingress-nginx",
            Format::Apache => "apache",
            Format::Nginx => "nginx",
            Format::Alb => "aws-alb",
            Format::NginxError => "nginx-error",
            Format::Squid => "squid",
            Format::Haproxy => "haproxy",
            Format::Traefik => "traefik",
            Format::Caddy => "caddy",
            Format::AppGw => "azure-appgw",
            Format::FrontDoor => "azure-frontdoor",
            Format::Json => "json",
            Format::Syslog => "syslog",
            Format::Generic => "generic",
        }
    }

    pub fn from_name(name: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.name() == name)
    }

    /// App logs write a validator's error on a line of its own near the request.
    pub fn is_app(self) -> bool {
        matches!(
            self,
            Format::Json | Format::Generic | Format::Syslog | Format::Traefik | Format::Caddy
        )
    }

    /// The detection test of a plain format (on a line or its `Probe` text).
    fn looks_like(self, line: &[u8]) -> bool {
        match self {
            Format::Iis => w3c::looks_like_w3c(line),
            Format::Envoy => text::looks_like_envoy(line),
            Format::IngressNginx => text::looks_like_ingress(line),
            Format::Apache => text::looks_like_apache_vhost(line),
            Format::Nginx => text::looks_like_clf(line),
            Format::Alb => text::looks_like_alb(line),
            Format::NginxError => text::looks_like_nginx_error(line),
            Format::Squid => text::looks_like_squid(line),
            Format::Haproxy => text::looks_like_haproxy(line),
            Format::Traefik => jsonlog::looks_like_traefik(line),
            Format::Caddy => jsonlog::looks_like_caddy(line),
            Format::AppGw => jsonlog::looks_like_appgw(line),
            Format::FrontDoor => jsonlog::looks_like_frontdoor(line),
            Format::Json => jsonlog::looks_like_json(line),
            Format::Syslog => wrappers::looks_like_syslog(line),
            Format::Generic => true,
        }
    }

    /// The format's parser: None when the line is not of it (generic always answers).
    fn parse<'a>(self, line: &'a [u8], ctx: &FileContext) -> Option<LineFields<'a>> {
        match self {
            Format::Iis => w3c::parse_w3c(line, ctx),
            Format::Envoy => text::parse_envoy(line, ctx),
            Format::IngressNginx | Format::Apache | Format::Nginx => text::parse_clf(line, ctx),
            Format::Alb => text::parse_alb(line, ctx),
            Format::NginxError => text::parse_nginx_error(line, ctx),
            Format::Squid => text::parse_squid(line, ctx),
            Format::Haproxy => text::parse_haproxy(line, ctx),
            Format::Traefik | Format::Caddy | Format::AppGw | Format::FrontDoor | Format::Json => {
                jsonlog::parse_json_line(line, ctx, true)
            }
            Format::Syslog => parse_wrapped(line, ctx, None, None).map(|(_, f)| f),
            Format::Generic => Some(parse_generic(line, ctx, None)),
        }
    }

    fn is_plain(self) -> bool {
        !matches!(self, Format::Syslog | Format::Generic)
    }
}

/// The first plain format that recognises a line (on the line itself, as `detect` reads it).
fn classify(line: &[u8]) -> Option<Format> {
    PLAIN.into_iter().find(|f| f.looks_like(line))
}

/// `bytes.strip()` is empty: only the six ASCII whitespace bytes.
fn is_blank(line: &[u8]) -> bool {
    line.iter()
        .all(|c| matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c))
}

/// The format most of these lines are in (generic if none fits); a wrapped line counts as its message.
pub fn detect(lines: &[&[u8]]) -> Format {
    // Votes in the order the formats were first seen: a tie goes to the first.
    let mut votes: Vec<(Format, usize)> = Vec::new();
    let ctx = FileContext::default();
    for &line in lines {
        if line.starts_with(b"#Fields:")
            || line.starts_with(b"#Software: Microsoft Internet Information")
        {
            return Format::Iis;
        }
        if is_blank(line) || line.starts_with(b"#") {
            continue;
        }
        let name = classify(line).or_else(|| {
            let (kind, _, offset) = wrappers::unwrap(line, &ctx)?;
            classify(line.get(offset..).unwrap_or_default())
                .or((kind == WrapKind::Syslog).then_some(Format::Syslog))
        });
        if let Some(name) = name {
            match votes.iter_mut().find(|(f, _)| *f == name) {
                Some((_, n)) => *n += 1,
                None => votes.push((name, 1)),
            }
        }
    }
    // Python's `max` keeps the first of equal counts.
    let mut best: Option<(Format, usize)> = None;
    for (f, n) in votes {
        if best.is_none_or(|(_, b)| n > b) {
            best = Some((f, n));
        }
    }
    best.map_or(Format::Generic, |(f, _)| f)
}

/// The first format (other than `skip`) that recognises and parses an unwrapped line; the tests
/// run on the line's `Probe` text.
fn parse_plain<'a>(
    line: &'a [u8],
    ctx: &FileContext,
    skip: Option<Format>,
    probe: &Probe<'_>,
) -> Option<(Format, LineFields<'a>)> {
    PLAIN
        .into_iter()
        .filter(|&f| Some(f) != skip && f.looks_like(&probe.text))
        .find_map(|f| f.parse(line, ctx).map(|got| (f, got)))
}

/// The spans of a line's tokens, when the caller has them (see `Probe::with_tokens`).
type Tokens<'t> = Option<&'t [(usize, usize)]>;

/// The token spans of `line[offset..]`, from those of the line; None (scan again) when a token
/// straddles the offset or the byte before it could continue one.
fn tokens_from(line: &[u8], offset: usize, tokens: Tokens<'_>) -> Option<Vec<(usize, usize)>> {
    let tokens = tokens?;
    if offset > 0 && line.get(offset - 1).is_none_or(|&b| crate::scan::is_b64(b)) {
        return None;
    }
    let mut out = Vec::with_capacity(tokens.len());
    for &(a, b) in tokens {
        if b <= offset {
            continue;
        }
        if a < offset {
            return None;
        }
        out.push((a - offset, b - offset));
    }
    Some(out)
}

/// A syslog- or CRI-wrapped line: the message's own fields, the wrapper's time as a fallback.
///
/// The message is tried in the file's own format `first` (as an unwrapped line is), then in the
/// others.
fn parse_wrapped<'a>(
    line: &'a [u8],
    ctx: &FileContext,
    first: Option<Format>,
    tokens: Tokens<'_>,
) -> Option<(Format, LineFields<'a>)> {
    let (kind, wts, offset) = wrappers::unwrap(line, ctx)?;
    let inner = line.get(offset..).unwrap_or_default();
    let own = first
        .filter(|f| f.is_plain())
        .and_then(|f| f.parse(inner, ctx).map(|got| (f, got)));
    let (name, mut fields) = match own {
        Some(got) => got,
        None => {
            let inner_tokens = tokens_from(line, offset, tokens);
            let probe = Probe::with_tokens(inner, inner_tokens.as_deref());
            match parse_plain(inner, ctx, first, &probe) {
                Some(got) => got,
                None => (
                    if kind == WrapKind::Syslog {
                        Format::Syslog
                    } else {
                        Format::Generic
                    },
                    parse_generic(inner, ctx, Some(&probe)),
                ),
            }
        }
    };
    if fields.ts.is_none() {
        fields.ts = wts;
    }
    fields.query_span = fields.query_span.map(|(a, b)| (a + offset, b + offset));
    Some((name, fields))
}

/// Parse with the file's format; if the line is not of it, unwrap, try the others, then generic.
pub fn parse_line<'a>(line: &'a [u8], fmt: Format, ctx: &FileContext) -> (Format, LineFields<'a>) {
    parse_line_with_tokens(line, fmt, ctx, None)
}

/// `parse_line` of a line whose tokens the caller has found already: `tokens` are the spans (in
/// the line) that `scan::find_tokens(line, 1, false)` gives, in order. A chunk scanned with the
/// `%3D` grammar (`pct`) finds other spans: pass None for its lines. The answer is the same
/// either way; the tokens only spare a second scan of them when the line needs its `Probe`.
pub fn parse_line_with_tokens<'a>(
    line: &'a [u8],
    fmt: Format,
    ctx: &FileContext,
    tokens: Tokens<'_>,
) -> (Format, LineFields<'a>) {
    let own = match fmt {
        Format::Generic => None,
        Format::Syslog => parse_wrapped(line, ctx, None, tokens).map(|(_, f)| f),
        _ => fmt.parse(line, ctx),
    };
    if let Some(got) = own {
        return (fmt, got);
    }
    if let Some(wrapped) = parse_wrapped(line, ctx, Some(fmt), tokens) {
        return wrapped;
    }
    let probe = Probe::with_tokens(line, tokens);
    if let Some(plain) = parse_plain(line, ctx, Some(fmt), &probe) {
        return plain;
    }
    (Format::Generic, parse_generic(line, ctx, Some(&probe)))
}

/// An inner message (of a JSON log line) read as any plain format; None if none fits.
pub fn parse_inner<'a>(line: &'a [u8], ctx: &FileContext) -> Option<LineFields<'a>> {
    parse_plain(line, ctx, None, &Probe::new(line)).map(|(_, f)| f)
}
