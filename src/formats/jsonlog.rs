//! JSON access and app logs: Traefik, Caddy, Azure App Gateway / Front Door, ASP.NET Core / Serilog,
//! Istio, nginx `escape=json` and any JSON object (the port of `formats/jsonlog.py`).
//! STUB: owned by the w3c/json helper.

use super::common::{FileContext, LineFields};

/// The fields of a JSON line, or None when the line holds no JSON object. `nested`: an inner
/// message (a `message`/`log` string holding a whole access line) is parsed with
/// `super::parse_inner`, as `jsonlog.py`'s `inner=` callback does.
pub fn parse_json_line(_line: &[u8], _ctx: &FileContext, _nested: bool) -> Option<LineFields> {
    None
}
pub fn looks_like_json(_line: &[u8]) -> bool {
    false
}
pub fn looks_like_traefik(_line: &[u8]) -> bool {
    false
}
pub fn looks_like_caddy(_line: &[u8]) -> bool {
    false
}
pub fn looks_like_appgw(_line: &[u8]) -> bool {
    false
}
pub fn looks_like_frontdoor(_line: &[u8]) -> bool {
    false
}
