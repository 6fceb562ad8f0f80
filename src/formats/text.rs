//! Space-separated proxy formats: nginx/Apache (combined, common, ingress-nginx), Envoy, HAProxy,
//! AWS ALB, nginx's error log, Squid (the port of `formats/text.py`).
//!
//! Python matched these lines with backtracking regexes. Here each regex is read by hand: a part
//! with one way to match (a fixed field, a run of one class of bytes ended by a byte outside it)
//! is a byte walk or a `memchr`, so a 1.5 KB token in a request or header is skipped, not walked;
//! the few real choices (nginx/Apache's vhost, `X-Forwarded-For` list, quoted user; HAProxy's
//! timers) are tried in the order the regex engine tries them. Python's fast paths were
//! optimisations of the same semantics: one reading serves both. The answers are checked against
//! Python's (the line vectors and `tests/data/text_cases.jsonl.gz`) and, for CLF's head, against
//! the regex itself run by the `regex` crate (leftmost-first, as Python's engine).
//!
//! One file per format (`clf`, `nginx_error`, `squid`, `envoy`, `haproxy`, `alb`) and `shared`, the
//! byte walks, value tests and quoted fields they all read with.

mod alb;
mod clf;
mod envoy;
mod haproxy;
mod nginx_error;
mod shared;
mod squid;

pub use alb::{looks_like_alb, parse_alb};
pub use clf::{looks_like_apache_vhost, looks_like_clf, looks_like_ingress, parse_clf};
pub use envoy::{looks_like_envoy, parse_envoy};
pub use haproxy::{looks_like_haproxy, parse_haproxy};
pub use nginx_error::{looks_like_nginx_error, parse_nginx_error};
pub use shared::{is_hostname, request_line};
pub use squid::{looks_like_squid, parse_squid};

#[cfg(test)]
mod tests;
