//! Space-separated proxy formats: nginx/Apache (combined, common, ingress-nginx), Envoy, HAProxy,
//! AWS ALB, nginx's error log, Squid (the port of `formats/text.py`). STUB: owned by the text helper.

use super::common::{FileContext, LineFields};

pub fn looks_like_clf(_line: &[u8]) -> bool {
    false
}
pub fn looks_like_apache_vhost(_line: &[u8]) -> bool {
    false
}
pub fn looks_like_ingress(_line: &[u8]) -> bool {
    false
}
pub fn parse_clf(_line: &[u8], _ctx: &FileContext) -> Option<LineFields> {
    None
}
pub fn looks_like_envoy(_line: &[u8]) -> bool {
    false
}
pub fn parse_envoy(_line: &[u8], _ctx: &FileContext) -> Option<LineFields> {
    None
}
pub fn looks_like_alb(_line: &[u8]) -> bool {
    false
}
pub fn parse_alb(_line: &[u8], _ctx: &FileContext) -> Option<LineFields> {
    None
}
pub fn looks_like_nginx_error(_line: &[u8]) -> bool {
    false
}
pub fn parse_nginx_error(_line: &[u8], _ctx: &FileContext) -> Option<LineFields> {
    None
}
pub fn looks_like_squid(_line: &[u8]) -> bool {
    false
}
pub fn parse_squid(_line: &[u8], _ctx: &FileContext) -> Option<LineFields> {
    None
}
pub fn looks_like_haproxy(_line: &[u8]) -> bool {
    false
}
pub fn parse_haproxy(_line: &[u8], _ctx: &FileContext) -> Option<LineFields> {
    None
}
