"""The one source of truth for names: cause codes, token locations, log formats and columns.

Every other module imports these names; nothing else spells them out. Imports nothing of the package.
"""

from __future__ import annotations

import json

import pyarrow as pa

SCHEMA_VERSION = 1

# Cause codes in priority order: when several checks fail, `cause` is the first of these.
MALFORMED = "malformed"
ENCRYPTED = "encrypted"
UNSUPPORTED_ALG = "unsupported_alg"
MISSING_CLAIMS = "missing_claims"
WRONG_TOKEN_TYPE = "wrong_token_type"
AUDIENCE_MISMATCH = "audience_mismatch"
ISSUER_MISMATCH = "issuer_mismatch"
UNKNOWN_KID = "unknown_kid"
BAD_SIGNATURE = "bad_signature"
EXPIRED = "expired"
NOT_YET_VALID = "not_yet_valid"
MISSING_NONCE = "missing_nonce"
CLIENT_ASSERTION_KEY_MISMATCH = "client_assertion_key_mismatch"
OK = "ok"

CAUSES: tuple[str, ...] = (
    MALFORMED,
    ENCRYPTED,
    UNSUPPORTED_ALG,
    MISSING_CLAIMS,
    WRONG_TOKEN_TYPE,
    AUDIENCE_MISMATCH,
    ISSUER_MISMATCH,
    UNKNOWN_KID,
    BAD_SIGNATURE,
    EXPIRED,
    NOT_YET_VALID,
    MISSING_NONCE,
    CLIENT_ASSERTION_KEY_MISMATCH,
    OK,
)
CAUSE_RANK: dict[str, int] = {c: i for i, c in enumerate(CAUSES)}
FAILURE_CAUSES: tuple[str, ...] = tuple(c for c in CAUSES if c != OK)

# Where a token sat in the line.
LOC_AUTHORIZATION = "authorization_header"
LOC_QUERY = "query"
LOC_FORM = "form"
LOC_COOKIE = "cookie"
LOC_JSON = "json_field"
LOC_TEXT = "text"
LOCATIONS: tuple[str, ...] = (LOC_AUTHORIZATION, LOC_QUERY, LOC_FORM, LOC_COOKIE, LOC_JSON, LOC_TEXT)

# What kind of token it is.
KIND_ACCESS = "access_token"
KIND_ID = "id_token"
KIND_ASSERTION = "client_assertion"
KIND_UNKNOWN = "unknown"

# Log formats that detection can name.
FMT_NGINX = "nginx"
FMT_NGINX_ERROR = "nginx-error"
FMT_SQUID = "squid"
FMT_APACHE = "apache"
FMT_INGRESS_NGINX = "ingress-nginx"
FMT_ENVOY = "envoy"
FMT_IIS = "iis"
FMT_HAPROXY = "haproxy"
FMT_TRAEFIK = "traefik"
FMT_CADDY = "caddy"
FMT_JSON = "json"
FMT_ALB = "aws-alb"
FMT_APPGW = "azure-appgw"
FMT_FRONTDOOR = "azure-frontdoor"
FMT_SYSLOG = "syslog"
FMT_GENERIC = "generic"
FORMATS: tuple[str, ...] = (
    FMT_NGINX,
    FMT_NGINX_ERROR,
    FMT_SQUID,
    FMT_APACHE,
    FMT_INGRESS_NGINX,
    FMT_ENVOY,
    FMT_IIS,
    FMT_HAPROXY,
    FMT_TRAEFIK,
    FMT_CADDY,
    FMT_JSON,
    FMT_ALB,
    FMT_APPGW,
    FMT_FRONTDOOR,
    FMT_SYSLOG,
    FMT_GENERIC,
)

# Microsoft Graph: tokens for it carry a header nonce and cannot be verified by anyone else.
GRAPH_AUDIENCES = frozenset({"00000003-0000-0000-c000-000000000000", "https://graph.microsoft.com",
                             "https://graph.microsoft.com/"})

# Parameters that carry a token meant for an API, and one that carries a sign-in (ID) token.
BEARER_PARAMS = frozenset({"authorization", "access_token", "token", "bearer"})
SIGNIN_PARAMS = frozenset({"id_token"})

# Example tokens kept per cause (examples.json, the report's cause details): distinct tokens, first seen first.
EXAMPLES_PER_CAUSE = 3

_ts = pa.timestamp("us", tz="UTC")
_dict_str = pa.dictionary(pa.int32(), pa.string())

# The events dataset: one row per token occurrence. `date` is the Hive partition key.
EVENT_FIELDS: tuple[pa.Field, ...] = (
    pa.field("ts", _ts),
    pa.field("source", _dict_str),
    pa.field("line", pa.int64()),
    pa.field("format", _dict_str),
    pa.field("location", _dict_str),
    pa.field("param", _dict_str),
    pa.field("host", _dict_str),
    pa.field("method", _dict_str),
    pa.field("path", _dict_str),
    pa.field("status", pa.int32()),
    pa.field("client_ip", _dict_str),
    pa.field("user_agent", _dict_str),
    pa.field("token_fp", _dict_str),
    pa.field("token_kind", _dict_str),
    pa.field("alg", _dict_str),
    pa.field("kid", _dict_str),
    pa.field("typ", _dict_str),
    pa.field("issuer", _dict_str),
    pa.field("audience", _dict_str),
    pa.field("client_id", _dict_str),
    pa.field("tenant_id", _dict_str),
    pa.field("version", _dict_str),
    pa.field("scopes", _dict_str),
    pa.field("roles", _dict_str),
    pa.field("subject_hash", _dict_str),
    pa.field("exp", _ts),
    pa.field("nbf", _ts),
    pa.field("iat", _ts),
    pa.field("cause", _dict_str),
    pa.field("causes", pa.list_(pa.string())),
    pa.field("detail", pa.string()),
    pa.field("signature_checked", pa.bool_()),
    pa.field("logged_error", _dict_str),
    pa.field("seconds_past_exp", pa.float64()),
    pa.field("api", _dict_str),
)
EVENT_COLUMNS: tuple[str, ...] = tuple(f.name for f in EVENT_FIELDS)
# pandas reads an int32 column that has nulls back as float64 (401.0) unless the file says which
# pandas type it is: this note makes `pandas.read_parquet` give `status` as nullable Int32.
_PANDAS_TYPES = json.dumps({
    "index_columns": [], "column_indexes": [], "creator": {"library": "analyzer"},
    "columns": [{"name": "status", "field_name": "status", "pandas_type": "int32", "numpy_type": "Int32",
                 "metadata": None}],
})
EVENT_SCHEMA = pa.schema(list(EVENT_FIELDS), metadata={"analyzer.schema_version": str(SCHEMA_VERSION),
                                                       "pandas": _PANDAS_TYPES})

# Event columns whose min/max statistics a part file keeps, for readers that skip row groups (DuckDB, pyarrow
# filters): times, numbers and the low-cardinality strings queries filter on. Nearly unique strings
# (path, detail, user agent, client IP, token fingerprint, subject hash, scopes) span their whole range in
# every row group, so their statistics could skip nothing and cost an eighth of the write.
EVENT_STATISTICS: tuple[str, ...] = (
    "ts", "line", "status", "exp", "nbf", "iat", "seconds_past_exp", "signature_checked", "source", "format",
    "location", "param", "host", "method", "token_kind", "alg", "kid", "typ", "issuer", "audience", "client_id",
    "tenant_id", "version", "cause", "logged_error", "api",
)
SUMMARY_KEYS: tuple[str, ...] = ("date", "host", "client_id", "audience", "issuer", "cause")
SUMMARY_SCHEMA = pa.schema(
    [
        pa.field("date", pa.date32()),
        pa.field("host", _dict_str),
        pa.field("client_id", _dict_str),
        pa.field("audience", _dict_str),
        pa.field("issuer", _dict_str),
        pa.field("cause", _dict_str),
        pa.field("occurrences", pa.int64()),
        pa.field("unique_tokens", pa.int64()),
        pa.field("first_seen", _ts),
        pa.field("last_seen", _ts),
    ],
    metadata={"analyzer.schema_version": str(SCHEMA_VERSION)},
)

# Claims that identify a person: never written unless the user asks for them. Lower case: a claim matches
# whatever its case (`Email`), at any depth (`ctx.email`), in the header too. OpenID Connect Core 5.1's
# claims about the user (not zoneinfo, locale or the *_verified flags); Entra ID's user, subject, session
# and address claims; Azure AD B2C's user attributes. A value that holds an e-mail address is personal
# whatever its claim's name (`tokens.privacy`).
PERSONAL_CLAIMS = frozenset({
    # OpenID Connect Core 5.1
    "sub", "name", "given_name", "family_name", "middle_name", "nickname", "preferred_username", "profile",
    "picture", "website", "email", "gender", "birthdate", "phone_number", "address",
    # Entra ID
    "upn", "unique_name", "oid", "puid", "altsecid", "home_oid", "onprem_sid", "sid", "ipaddr", "login_hint",
    "verified_primary_email", "verified_secondary_email", "mail", "samaccountname", "employeeid",
    # Azure AD B2C (user attributes as its policies name them)
    "emails", "signinname", "signinnames.emailaddress", "displayname", "givenname", "surname", "streetaddress",
    "city", "postalcode", "jobtitle", "mobile", "mobilephone", "telephonenumber",
})
