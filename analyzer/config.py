"""Settings: code defaults, then the TOML config file, then CLI flags (which win), frozen once.

A base module: it imports `errors`, `schema`, `scan.timeparse` (the core's time parser) and the version only.
"""

from __future__ import annotations

import base64
import binascii
import difflib
import ipaddress
import re
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from analyzer import __version__
from analyzer.errors import ConfigError
from analyzer.scan.inputs import CONFIG_NAME
from analyzer.scan.timeparse import parse_any, zone_from_text
from analyzer.schema import SCHEMA_VERSION

DEFAULT_LEEWAY = 300
MAX_LEEWAY = 10 * 365 * 86400  # a tolerance beyond years is a mistake, and overflows time arithmetic
MAX_KEEP_DAYS = 36_500
# Times the dataset's timestamps can hold (pandas' nanosecond range), in epoch microseconds.
MIN_TIME_US, MAX_TIME_US = -9_223_372_036_854_775, 9_223_372_036_854_775


@dataclass(frozen=True)
class IssuerSource:
    """An identity provider whose keys verify signatures."""

    metadata_url: str | None = None
    jwks_url: str | None = None
    jwks_file: Path | None = None
    issuer: str | None = None
    algorithms: tuple[str, ...] = ()
    allow_http: bool = False  # the user opted in to plain http for a non-loopback provider

    @property
    def location(self) -> str:
        """The URL or file this issuer's keys come from (its identity in caches and run.json)."""
        return self.metadata_url or self.jwks_url or str(self.jwks_file)


@dataclass(frozen=True)
class ApiExpectation:
    """What one protected API accepts."""

    name: str
    hosts: tuple[str, ...] = ()
    path_prefix: str = "/"
    sources: tuple[str, ...] = ()
    audiences: tuple[str, ...] = ()
    issuers: tuple[str, ...] = ()


@dataclass(frozen=True)
class ClientApp:
    """A confidential client whose client assertions are signed with registered certificates."""

    client_id: str
    name: str = ""
    thumbprints: frozenset[str] = frozenset()  # lowercase hex digests (SHA-1 or SHA-256)


@dataclass(frozen=True)
class Settings:
    """Everything a run needs, frozen: a run reads nothing else."""

    leeway_seconds: int = DEFAULT_LEEWAY
    offline: bool = False
    issuers: tuple[IssuerSource, ...] = ()
    apis: tuple[ApiExpectation, ...] = ()
    clients: tuple[ClientApp, ...] = ()
    config_path: Path | None = None
    cache_dir: Path | None = None  # None: the platform's user cache directory
    out_dir: Path = Path("reports")
    workers: int = 1
    quiet: bool = False
    include_pii: bool = False
    format: str | None = None
    timezone: str = "UTC"  # the zone of log times that carry none: UTC, an offset (+01:00), or an IANA name
    # Decompressed bytes read per compressed file at most (a bomb ends there); None: the default,
    # max(10 GiB, 1000 x the compressed size).
    max_decompressed: int | None = None
    engine: str = "local"  # "local" (worker processes) or "dask"
    scheduler: str | None = None  # a Dask scheduler address; None: a LocalCluster
    rescan: bool = False  # forget what earlier runs read, rebuild the dataset
    since_us: int | None = None  # the window of summary.parquet and the report (epoch µs)
    until_us: int | None = None
    keep_days: int | None = None  # retention of the events dataset, in days
    skip_paths: frozenset[Path] = field(default_factory=frozenset)
    # The key store's HTTP timeout (seconds, or (connect, read)) and retries; None: the key store's defaults.
    # Not config-file keys: tests shorten them.
    http_timeout: float | tuple[float, float] | None = None
    http_retries: int | None = None
    # The secret of the keyed hashes of personal claims (`tokens.privacy`): loaded once by the run, before
    # any worker starts, so every process hashes with it; b"": `tokens.privacy.load_key()` when needed.
    pii_key: bytes = field(default=b"", repr=False)
    # The wall clock (epoch seconds) a run and `inspect` read "now" from (the run's times, the state's,
    # the key store's, expiry at `inspect`): tests set their own. A module-level function, so that
    # Settings still pickles (Dask). Run ids and `--since 7d` read the real clock.
    clock: Callable[[], float] = field(default=time.time, repr=False, compare=False)

    def fingerprint(self) -> str:
        """A hash of everything that changes how a token is classified: a change means a full rescan."""
        import hashlib

        parts = (__version__, SCHEMA_VERSION, self.leeway_seconds, self.issuers, self.apis,
                 sorted((c.client_id, c.name, sorted(c.thumbprints)) for c in self.clients), self.format,
                 self.timezone, self.include_pii)
        return hashlib.sha256(repr(parts).encode()).hexdigest()[:32]

    def client_name(self, client_id: str) -> str:
        """The configured name of a client, or ''."""
        for c in self.clients:
            if c.client_id == client_id:
                return c.name
        return ""


_TOP_KEYS = {"leeway_seconds", "offline", "issuer", "api", "client", "jwks_file", "include_pii", "cache_dir",
             "timezone", "max_decompressed"}
_ISSUER_KEYS = {"metadata_url", "jwks_url", "jwks_file", "issuer", "algorithms", "allow_http"}
_API_KEYS = {"name", "hosts", "path_prefix", "sources", "audiences", "issuers"}
_CLIENT_KEYS = {"client_id", "name", "certificate_thumbprints"}
# Algorithms an issuer entry may pin. HMAC is absent on purpose: identity providers sign with key pairs,
# and accepting a shared-secret alg for them is the classic algorithm-confusion hole.
SIGNING_ALGS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES256K", "ES384", "ES512",
                "EdDSA", "Ed25519")
_HEX = re.compile(r"^[0-9A-Fa-f:\s]+$")


def normalize_thumbprint(value: str) -> str:
    """A certificate thumbprint as lowercase hex: accepts hex (with colons) or base64url `x5t`."""
    v = value.strip()
    if _HEX.match(v):
        digits = re.sub(r"[:\s]", "", v).lower()
        if len(digits) in (40, 64):
            return digits
    try:
        raw = base64.urlsafe_b64decode(v + "=" * (-len(v) % 4))
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) in (20, 32):
        return raw.hex()
    raise ConfigError(f"certificate thumbprint {value[:60]!r} is neither hex SHA-1/SHA-256 nor base64url x5t")


def is_loopback(host: str) -> bool:
    """Whether a URL host is this machine (localhost, 127.0.0.0/8, ::1)."""
    h = host.strip("[]").lower()
    if h == "localhost" or h.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(h).is_loopback
    except ValueError:
        return False


def check_url(url: str, allow_http: bool = False) -> str | None:
    """Why a provider URL may not be fetched, or None: https only, plain http for loopback or on opt-in."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return f"{url!r} is not a valid URL"
    if parts.scheme == "https" and host:
        return None
    if parts.scheme == "http" and host:
        if allow_http or is_loopback(host):
            return None
        return f"{url} uses plain http; use https, or set allow_http = true on this issuer"
    return f"{url!r} is not an https URL"


def _str_list(entry: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = entry.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}.{key} must be a list of strings")
    return tuple(value)


def _table_list(data: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = data.get(key, [])
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ConfigError(f"[[{key}]] must be a table array")
    return value


def _known_keys(entry: dict[str, Any], known: set[str], where: str | None) -> None:
    """Refuse a key that is not a setting: a typo must not silently switch a check off."""
    unknown = sorted(set(entry) - known)
    if not unknown:
        return
    key = unknown[0]
    close = difflib.get_close_matches(key, sorted(known), n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"known: {', '.join(sorted(known))}"
    if where is None:
        raise ConfigError(f"unknown setting {key!r} ({hint})")
    raise ConfigError(f"{where}: unknown key {key!r} ({hint})")


def _name(entry: dict[str, Any], where: str) -> None:
    if "name" in entry and not isinstance(entry["name"], str):
        raise ConfigError(f"{where}.name must be a string")


def parse_config(data: dict[str, Any], base_dir: Path) -> dict[str, Any]:
    """Turn a parsed TOML document into Settings fields; raises ConfigError on anything unusable."""
    _known_keys(data, _TOP_KEYS, None)
    out: dict[str, Any] = {}
    if "leeway_seconds" in data:
        leeway = data["leeway_seconds"]
        if isinstance(leeway, bool) or not isinstance(leeway, int) or not 0 <= leeway <= MAX_LEEWAY:
            raise ConfigError(f"leeway_seconds must be a whole number of seconds, 0 to {MAX_LEEWAY:,} (10 years)")
        out["leeway_seconds"] = leeway
    if "timezone" in data:
        tz = data["timezone"]
        if not isinstance(tz, str):
            raise ConfigError("timezone must be a string such as \"UTC\", \"+01:00\" or \"Europe/Berlin\"")
        try:
            zone_from_text(tz)
        except ValueError as e:
            raise ConfigError(f"timezone: {e}") from None
        out["timezone"] = tz.strip()
    if "max_decompressed" in data:
        try:
            out["max_decompressed"] = parse_size(data["max_decompressed"])
        except ValueError as e:
            raise ConfigError(f"max_decompressed: {e}") from None
    for flag in ("offline", "include_pii"):
        if flag in data:
            if not isinstance(data[flag], bool):
                raise ConfigError(f"{flag} must be true or false")
            out[flag] = data[flag]
    if "cache_dir" in data:
        if not isinstance(data["cache_dir"], str) or not data["cache_dir"]:
            raise ConfigError("cache_dir must be a directory path")
        out["cache_dir"] = (base_dir / Path(data["cache_dir"]).expanduser()).resolve()

    issuers = [_issuer_entry(e, f"issuer[{i}]", base_dir) for i, e in enumerate(_table_list(data, "issuer"))]
    if "jwks_file" in data and (not isinstance(data["jwks_file"], str) or not data["jwks_file"]):
        raise ConfigError("jwks_file must be a file path")
    if isinstance(data.get("jwks_file"), str):
        issuers.append(IssuerSource(jwks_file=(base_dir / data["jwks_file"]).resolve()))
    out["issuers"] = tuple(issuers)

    apis = []
    for i, entry in enumerate(_table_list(data, "api")):
        where = f"api[{i}]"
        _known_keys(entry, _API_KEYS, where)
        _name(entry, where)
        prefix = entry.get("path_prefix", "/")
        if not isinstance(prefix, str) or not prefix.startswith("/"):
            raise ConfigError(f"{where}.path_prefix must start with '/'")
        api = ApiExpectation(
            name=str(entry.get("name") or f"api-{i + 1}"),
            hosts=tuple(h.lower() for h in _str_list(entry, "hosts", where)),
            path_prefix=prefix,
            sources=_str_list(entry, "sources", where),
            audiences=_str_list(entry, "audiences", where),
            issuers=_str_list(entry, "issuers", where),
        )
        if not api.hosts and not api.sources:
            raise ConfigError(f"{where} ({api.name}) needs hosts or sources to know which requests it gets")
        apis.append(api)
    out["apis"] = tuple(apis)

    clients = []
    for i, entry in enumerate(_table_list(data, "client")):
        where = f"client[{i}]"
        _known_keys(entry, _CLIENT_KEYS, where)
        _name(entry, where)
        cid = entry.get("client_id")
        if "client_id" in entry and not isinstance(cid, str):
            raise ConfigError(f"{where}.client_id must be a string")
        if not isinstance(cid, str) or not cid:
            raise ConfigError(f"{where}.client_id is required")
        prints = frozenset(
            normalize_thumbprint(t) for t in _str_list(entry, "certificate_thumbprints", where)
        )
        clients.append(ClientApp(client_id=cid, name=str(entry.get("name", "")), thumbprints=prints))
    out["clients"] = tuple(clients)
    return out


def _issuer_entry(entry: dict[str, Any], where: str, base_dir: Path) -> IssuerSource:
    """One [[issuer]] table, checked: one key source, known keys, https (or loopback) URLs, key-pair algs."""
    _known_keys(entry, _ISSUER_KEYS, where)
    sources = [k for k in ("metadata_url", "jwks_url", "jwks_file") if entry.get(k)]
    if len(sources) != 1:
        raise ConfigError(f"{where} needs exactly one of metadata_url, jwks_url, jwks_file")
    for key in ("metadata_url", "jwks_url", "jwks_file", "issuer"):
        if key in entry and not isinstance(entry[key], str):
            raise ConfigError(f"{where}.{key} must be a string")
    allow_http = entry.get("allow_http", False)
    if not isinstance(allow_http, bool):
        raise ConfigError(f"{where}.allow_http must be true or false")
    for key in ("metadata_url", "jwks_url"):
        if entry.get(key):
            problem = check_url(entry[key], allow_http)
            if problem:
                raise ConfigError(f"{where}.{key}: {problem}")
    algorithms = _str_list(entry, "algorithms", where)
    bad = [a for a in algorithms if a not in SIGNING_ALGS]
    if bad:
        raise ConfigError(f"{where}.algorithms: {bad[0]!r} is not an asymmetric signing algorithm "
                          f"(allowed: {', '.join(SIGNING_ALGS)})")
    jwks_file = entry.get("jwks_file")
    return IssuerSource(
        metadata_url=entry.get("metadata_url"),
        jwks_url=entry.get("jwks_url"),
        jwks_file=(base_dir / jwks_file).resolve() if isinstance(jwks_file, str) else None,
        issuer=entry.get("issuer"),
        algorithms=algorithms,
        allow_http=allow_http,
    )


def load_config(path: Path) -> dict[str, Any]:
    """Read and validate one TOML config file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"cannot read config: {e.strerror or e}", str(path)) from None
    except UnicodeDecodeError:
        raise ConfigError("config is not UTF-8 text", str(path)) from None
    # Windows editors (Notepad) start a UTF-8 file with a byte-order mark, which TOML does not allow.
    text = text.removeprefix("\ufeff")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"invalid TOML: {e}", str(path)) from None
    # Paths in a config are relative to its directory; a pipe's (/dev/fd) is none the user chose.
    base_dir = path.parent if path.is_file() else Path.cwd()
    try:
        fields = parse_config(data, base_dir)
    except ConfigError as e:
        raise ConfigError(e.message, str(path)) from None
    fields["config_path"] = _absolute(path)
    return fields


def _user_file(path: Path, what: str) -> None:
    """Refuse a --config or --jwks that cannot be read as a file: missing, a directory, a socket.

    A pipe (`--config <(...)`, /dev/fd/63) or a character device is read as a file is: each is read once.
    """
    if path.is_dir():
        raise ConfigError(f"is a directory, not a {what}", str(path))
    if path.is_file() or path.is_fifo() or path.is_char_device():
        return
    if path.exists() or path.is_symlink():
        problem = "a symbolic link to nothing" if not path.exists() else "not a regular file"
        raise ConfigError(f"is {problem}, not a {what}", str(path))
    raise ConfigError(f"{what} not found", str(path))


def _absolute(path: Path) -> Path:
    """The path a file the user named is recorded and read by: resolved, except a pipe's `/dev/fd/N`, which
    resolves to a name (`/proc/N/fd/pipe:[…]`) that cannot be opened."""
    return path.resolve() if path.is_file() else path.absolute()


def find_config(explicit: Path | None, inputs: list[str]) -> Path | None:
    """The config to use: the one given, else ./analyzer.toml, else one inside a scanned directory."""
    if explicit is not None:
        _user_file(explicit, "config file")
        return explicit
    candidates = [Path.cwd() / CONFIG_NAME] + [Path(p) / CONFIG_NAME for p in inputs]
    for c in candidates:
        if c.is_file():
            return c
    return None


def build_settings(config: Path | None, inputs: list[str], **flags: Any) -> Settings:
    """Defaults, then the config file, then flags that were given (None means 'not given')."""
    fields: dict[str, Any] = {}
    path = find_config(config, inputs)
    if path is not None:
        fields.update(load_config(path))
    jwks = flags.pop("jwks", None) or []
    extra_issuers = []
    for j in jwks:
        p = Path(j)
        _user_file(p, "key set file")
        extra_issuers.append(IssuerSource(jwks_file=_absolute(p)))
    fields["issuers"] = tuple(fields.get("issuers", ())) + tuple(extra_issuers)
    for key, value in flags.items():
        if value is not None:
            fields[key] = value
    skip = {p for p in (fields.get("config_path"),) if p}
    skip |= {s.jwks_file for s in fields["issuers"] if s.jwks_file}
    # The output directory inside a scanned one: a second run must not read the first one's outputs as logs.
    skip.add(Path(fields.get("out_dir", Settings.out_dir)).resolve())
    fields["skip_paths"] = frozenset(skip)
    return Settings(**fields)


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?)b?\s*$", re.IGNORECASE)


def parse_size(value: object) -> int:
    """A byte count from `1048576`, `500MB`, `10GiB` or `2t` (decimal or binary units); ValueError if none."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    m = _SIZE.match(value) if isinstance(value, str) else None
    if m is None or float(m[1]) <= 0:
        raise ValueError(f"{value!r} is not a size such as 500MB or 10GiB")
    power = "_kmgtp".index(m[2].lower() or "_")
    size = int(float(m[1]) * (1024 if m[3] else 1000) ** power)
    if size < 1:  # '0.1' would be no byte at all
        raise ValueError(f"{value!r} is less than one byte")
    return size


_RELATIVE = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


# The UTC offset that ends a time of day (ISO 8601 `+01:00`, `+0100`, `+01`; CLF and RFC 1123 `+0100`).
_OFFSET = re.compile(r"\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*([+-]\d{2})(?::?(\d{2}))?\s*$")


def parse_when(value: str, now_us: int) -> int:
    """A point in time for --since/--until/--at: `7d`, `12h`, `30m` before now, or an ISO 8601 date/time
    (a date alone is its midnight UTC)."""
    m = _RELATIVE.match(value)
    if m:
        return _in_range(value, now_us - int(m.group(1)) * _UNIT_SECONDS[m.group(2)] * 1_000_000)
    text = value.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        text += "T00:00:00Z"
    offset = _OFFSET.search(text)
    if offset:
        # The log parser reads what a log holds as it stands (+99:00 moves a time by four days); a time the
        # user types is held to the rule of the config's `timezone`. `+01` is read as `+0100`.
        zone = f"{offset[1]}:{offset[2] or '00'}"
        try:
            zone_from_text(zone)
            if int(zone[-2:]) > 59:
                raise ValueError(f"offset {zone!r} has more than 59 minutes")
        except ValueError as e:
            raise ConfigError(f"{value!r}: the UTC {e}") from None
        if offset[2] is None:  # every shape the parser knows reads `+0100`
            text = text[:offset.start(1)] + zone.replace(":", "")
    us = parse_any(text.encode()) if text else None
    if us is None:
        raise ConfigError(f"{value!r} is not a time: use 7d, 12h, 30m, or an ISO 8601 date/time")
    return _in_range(value, us)


def _in_range(value: str, us: int) -> int:
    if not MIN_TIME_US <= us <= MAX_TIME_US:
        raise ConfigError(f"{value!r} is out of range (years 1678 to 2261)")
    return us
