//! Log formats: detect a file's format from its first lines and parse the request fields of a line
//! (the port of `formats/__init__.py`).
//!
//! Only lines that hold a token are parsed. A parser returns None when the line is not of its
//! format; `parse_line` then unwraps syslog/CRI prefixes, tries the other formats, and ends with the
//! generic best effort. STUB (dispatch, Probe, generic): owned by the dispatch helper.

pub mod common;
pub mod jsonlog;
pub mod text;
pub mod w3c;
pub mod wrappers;

#[cfg(test)]
pub(crate) mod vectors;

pub use common::{FileContext, LineFields};

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
}

/// The format most of these lines are in (generic if none fits); a wrapped line counts as its message.
pub fn detect(_lines: &[&[u8]]) -> Format {
    Format::Generic
}

/// Parse with the file's format; if the line is not of it, unwrap, try the others, then generic.
pub fn parse_line(_line: &[u8], _fmt: Format, _ctx: &FileContext) -> (Format, LineFields) {
    (Format::Generic, LineFields::default())
}

/// An inner message (of a JSON log line) read as any plain format; None if none fits.
pub fn parse_inner(_line: &[u8], _ctx: &FileContext) -> Option<LineFields> {
    None
}
