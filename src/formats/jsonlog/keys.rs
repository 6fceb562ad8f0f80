//! The key roles: the names each field is looked up by (in order of preference) and the table
//! that tells, for any key of a record, which fields it stands for.
//!
//! Role lookups run for every key of every JSON line: the table answers most keys, which are no
//! looked-up key, from their length and a few bytes.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::OnceLock;

// Where a record has both, the time the request started beats the time it was logged.
pub(crate) const TS_KEYS: &[&str] = &[
    "startutc",
    "start_time",
    "edgestarttimestamp",
    "started_at",
    "@t",
    "@timestamp",
    "timestamp",
    "time",
    "time_iso8601",
    "timegenerated",
    "ts",
    "datetime",
    "starttime",
    "eventtime",
    "logged_at",
    "startlocal",
    "requesttime",
    "time_local",
    "msec",
    "date",
];
// App Gateway's `host` is the Host after any rewrite; `originalHost` is what the client sent.
pub(crate) const HOST_KEYS: &[&str] = &[
    "requesthost",
    "request.host",
    "request_host",
    "originalhost",
    "host",
    "hostname",
    "url.domain",
    ":authority",
    "authority",
    "x-forwarded-host",
    "http_host",
    "request_hostname",
    "clientrequesthost",
    "domainname",
    "vhost",
    "domain",
];
pub(crate) const METHOD_KEYS: &[&str] = &[
    "requestmethod",
    "request.method",
    "request_method",
    "http.request.method",
    "method",
    "httpmethod",
    "http_method",
    "clientrequestmethod",
    "verb",
];
pub(crate) const PATH_KEYS: &[&str] = &[
    "requestpath",
    "request.uri",
    "request_path",
    "url.path",
    "path",
    "x-envoy-origin-path",
    "x-envoy-original-path",
    "uri",
    "requesturi",
    "request_uri",
    "originalrequesturiwithargs",
    "url.original",
    "url.full",
    "requesturl",
    "request_url",
    "url",
    "originalurl",
    "clientrequesturi",
    "target",
];
pub(crate) const STATUS_KEYS: &[&str] = &[
    "downstreamstatus",
    "http.response.status_code",
    "status",
    "statuscode",
    "status_code",
    "httpstatus",
    "httpstatuscode",
    "http_status",
    "response_status",
    "responsestatus",
    "response_code",
    "responsecode",
    "edgeresponsestatus",
    "originstatus",
];
pub(crate) const IP_KEYS: &[&str] = &[
    "clienthost",
    "request.client_ip",
    "client_ip",
    "clientip",
    "request.remote_ip",
    "remote_ip",
    "remoteip",
    "remote_addr",
    "remoteaddr",
    "client.ip",
    "source.ip",
    "clientaddr",
    "c-ip",
    "clientaddress",
    "client_address",
    "sourceip",
    "downstream_remote_address",
    "client.address",
    "source.address",
    "ip",
    "x_real_ip",
    "x_forwarded_for",
    "x-forwarded-for",
    "http_x_forwarded_for",
    "x_forward_for",
    "fwd",
];
pub(crate) const UA_KEYS: &[&str] = &[
    "request_user-agent",
    "user_agent.original",
    "useragent",
    "user_agent",
    "user-agent",
    "http_user_agent",
    "useragent_s",
];
pub(super) const FIELD_KEYS: [&[&str]; 7] = [
    TS_KEYS,
    HOST_KEYS,
    METHOD_KEYS,
    PATH_KEYS,
    STATUS_KEYS,
    IP_KEYS,
    UA_KEYS,
];

/// A small multiplicative hash: role lookups run for every key of every JSON line.
#[derive(Default)]
pub(super) struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let w = u64::from_le_bytes(c.try_into().unwrap_or_default());
            self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ b as u64).wrapping_mul(K);
        }
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

pub(super) type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// One looked-up key: its id (for the seen set) and each (field, rank in that field's list).
pub(super) struct Role {
    pub(super) id: usize,
    pub(super) fields: Vec<(usize, usize)>,
}

pub(super) struct Roles {
    /// Each looked-up key with its role, by role id.
    pub(super) keys: Vec<(String, Role)>,
    /// Role ids by `bucket(key)`: a key is compared with the few that share its length and four
    /// bytes, without hashing it whole (most keys of a record are no looked-up key).
    pub(super) buckets: Vec<Vec<u16>>,
    /// The prefixes (`request.`, `http.request.` ...) under which a dotted path can be a looked-up key.
    pub(super) path_prefixes: Vec<String>,
    /// By length (< 64), the last bytes (ASCII) of the looked-up keys of that length.
    tails: [u128; 64],
    /// Some looked-up key is 64 bytes or longer.
    long: bool,
}

const BUCKETS: usize = 1024;

/// A key's bucket from its length and four of its bytes (no pass over the whole key); the bytes
/// are read lowercased, so an ASCII key has its lowercase form's bucket.
fn bucket(key: &[u8]) -> Option<usize> {
    let n = key.len();
    let low = |b: u8| b.to_ascii_lowercase();
    let (first, last) = (low(*key.first()?), low(*key.last()?));
    let (mid, tail) = (low(key[n / 2]), low(key[n.saturating_sub(3)]));
    let h = u64::from_le_bytes([n as u8, first, mid, tail, last, 0, 0, 0])
        .wrapping_mul(0x9E37_79B9_7F4A_7C15);
    Some((h >> 54) as usize % BUCKETS)
}

// `#[inline]`: the walk in `lookup.rs` asks for every key of a record; the split into files
// left these calls out of line (`get_ascii` was ~1% of a JSON scan's instructions in calls).
impl Roles {
    /// Whether some looked-up key is `n` bytes long and ends in the ASCII byte `last`.
    #[inline]
    pub(super) fn may_be(&self, n: usize, last: u8) -> bool {
        match self.tails.get(n) {
            Some(set) => last >= 128 || set & (1u128 << last) != 0,
            None => self.long,
        }
    }

    #[inline]
    pub(super) fn get(&self, key: &str) -> Option<&Role> {
        let ids = self.buckets.get(bucket(key.as_bytes())?)?;
        ids.iter()
            .filter_map(|&id| self.keys.get(id as usize))
            .find(|(k, _)| k == key)
            .map(|(_, role)| role)
    }

    /// `get` of an ASCII key's lowercase form, without making it (the looked-up keys are
    /// lowercase: comparing without case is comparing with the lowercased key).
    #[inline]
    pub(super) fn get_ascii(&self, key: &str) -> Option<&Role> {
        let ids = self.buckets.get(bucket(key.as_bytes())?)?;
        ids.iter()
            .filter_map(|&id| self.keys.get(id as usize))
            .find(|(k, _)| k.as_bytes().eq_ignore_ascii_case(key.as_bytes()))
            .map(|(_, role)| role)
    }
}

pub(super) fn roles() -> &'static Roles {
    static R: OnceLock<Roles> = OnceLock::new();
    R.get_or_init(|| {
        let mut order: Vec<String> = Vec::new();
        let mut fields: FxMap<String, Vec<(usize, usize)>> = FxMap::default();
        for (f, keys) in FIELD_KEYS.iter().enumerate() {
            for (r, k) in keys.iter().enumerate() {
                let e = fields.entry(k.to_string()).or_insert_with(|| {
                    order.push(k.to_string());
                    Vec::new()
                });
                e.push((f, r));
            }
        }
        // Log Analytics' `AzureDiagnostics` table types its columns by suffix (`clientIP_s`,
        // `httpStatus_d`): each such name stands for what the name without it stands for.
        for k in order.clone() {
            if k.contains('.') {
                continue;
            }
            for suffix in ["_s", "_d"] {
                let name = format!("{k}{suffix}");
                if !fields.contains_key(&name) {
                    let v = fields[&k].clone();
                    fields.insert(name.clone(), v);
                    order.push(name);
                }
            }
        }
        let mut path_prefixes: Vec<String> = Vec::new();
        for k in &order {
            for (i, c) in k.char_indices() {
                if c == '.' && !path_prefixes.iter().any(|p| p == &k[..=i]) {
                    path_prefixes.push(k[..=i].to_string());
                }
            }
        }
        let keys: Vec<(String, Role)> = order
            .iter()
            .enumerate()
            .map(|(id, k)| {
                (
                    k.clone(),
                    Role {
                        id,
                        fields: fields[k].clone(),
                    },
                )
            })
            .collect();
        let mut buckets = vec![Vec::new(); BUCKETS];
        for (id, (k, _)) in keys.iter().enumerate() {
            if let Some(b) = bucket(k.as_bytes()) {
                buckets[b].push(id as u16);
            }
        }
        let mut tails = [0u128; 64];
        for (k, _) in &keys {
            if let (Some(set), Some(&last)) = (tails.get_mut(k.len()), k.as_bytes().last()) {
                if last < 128 {
                    *set |= 1u128 << last;
                }
            }
        }
        let long = keys.iter().any(|(k, _)| k.len() >= tails.len());
        Roles {
            tails,
            long,
            keys,
            buckets,
            path_prefixes,
        }
    })
}
