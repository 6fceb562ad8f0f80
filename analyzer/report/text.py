"""How values read in the report: names instead of ids, times and durations as people write them.

`Names` turns the ids of a scan into what the config and Microsoft call them: `[[client]] name`,
`[[api]] name` (matched by host, or by the audiences the API accepts), Microsoft Graph and the
Entra token endpoint. Every `(none)` comes with the reason there is no value.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from analyzer import schema as S

GRAPH = "Microsoft Graph"
TOKEN_ENDPOINT = "Entra token endpoint (client assertions)"
_TOKEN_ENDPOINT = re.compile(
    r"^https://login\.(?:microsoftonline\.(?:com|us)|partner\.microsoftonline\.cn|windows\.net)/[^/\s]+/oauth2/"
    r"(?:v2\.0/)?token/?$",
    re.I,
)
_LOGIN_HOSTS = frozenset({"login.microsoftonline.com", "login.microsoftonline.us", "login.windows.net"})
_GRAPH_HOSTS = frozenset({"graph.microsoft.com"})
GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")

# What a missing value means, per dimension: (how it is shown, why there is none).
NONE: dict[str, tuple[str, str]] = {
    "client_id": ("(no client id)", "the token names no client (no appid or azp): ID tokens, which are addressed "
                  "to the client itself, and tokens that could not be read (malformed or encrypted)"),
    "audience": ("(no audience)", "no aud claim could be read: malformed or encrypted tokens"),
    "host": ("(no host)", "the log line has no host field"),
    "api": ("(no API matched)", "neither the host nor the audience matches an API described in the config file"),
    "issuer": ("(no issuer)", "no iss claim could be read: malformed or encrypted tokens"),
    "tenant_id": ("(no tenant)", "the token has no tid claim (ID tokens of personal accounts, client assertions, "
                  "unreadable tokens)"),
    "target": ("(unknown API)", "the log line names no host and the token's audience is unknown"),
}


def missing(value: Any) -> bool:
    """None, NaN, NA or NaT."""
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


@dataclass
class Names:
    """Display names for clients, audiences and APIs, from the config and built-in well-known ones."""

    clients: dict[str, str] = field(default_factory=dict)
    apis: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def of_run(cls, run: dict[str, Any]) -> Names:
        """The names the config gave (kept in run.json under `expectations`)."""
        exp = run.get("expectations") or {}
        raw = exp.get("clients")
        clients: dict[Any, Any] = raw if isinstance(raw, dict) else {}
        apis = [a for a in exp.get("apis") or [] if isinstance(a, dict)]
        return cls({str(k): str(v) for k, v in clients.items() if v}, apis)

    def client(self, cid: Any) -> str:
        """A client's name from the config, else its id; a reasoned placeholder when there is none."""
        if missing(cid):
            return NONE["client_id"][0]
        return self.clients.get(str(cid), str(cid))

    def has_name(self, dim: str, value: Any) -> bool:
        """Whether `name` shows something other than the value itself."""
        return not missing(value) and self.name(dim, value) != str(value)

    def audience(self, aud: Any) -> str:
        """What an audience is: a configured API, Microsoft Graph, the token endpoint, a client's own id."""
        if missing(aud):
            return NONE["audience"][0]
        parts = [p.strip() for p in str(aud).split(",") if p.strip()]
        named = [self._one_audience(p) for p in parts]
        return ", ".join(n or p for n, p in zip(named, parts, strict=True)) if any(named) else str(aud)

    def _one_audience(self, aud: str) -> str | None:
        for api in self.apis:
            if aud in (api.get("audiences") or ()) and api.get("name"):
                return str(api["name"])
        if aud in S.GRAPH_AUDIENCES:
            return GRAPH
        if _TOKEN_ENDPOINT.match(aud):
            return TOKEN_ENDPOINT
        if aud in self.clients:
            return f"{self.clients[aud]} (its own ID tokens)"
        return None

    def host(self, host: Any) -> str:
        """A host, with the well-known Microsoft ones named."""
        if missing(host):
            return NONE["host"][0]
        h = str(host)
        if h.lower() in _LOGIN_HOSTS:
            return f"{TOKEN_ENDPOINT.split(' (')[0]} ({h})"
        if h.lower() in _GRAPH_HOSTS:
            return GRAPH
        return h

    def audience_api(self, aud: Any) -> str | None:
        """The API an audience names: a configured one or the token endpoint (None for anything else)."""
        if missing(aud):
            return None
        for part in str(aud).split(","):
            one = self._one_audience(part.strip())
            if one is not None and one != GRAPH and not one.endswith("ID tokens)"):
                return one
        return None

    def host_api(self, host: Any) -> str | None:
        """The API a host stands for when no config names it: the token endpoint, Graph, or the host."""
        if missing(host):
            return None
        return TOKEN_ENDPOINT if str(host).lower() in _LOGIN_HOSTS else self.host(host)

    def target(self, api: Any, host: Any, aud: Any) -> str:
        """The API a request was for: the configured one, else what its audience or host says it is."""
        if not missing(api):
            return str(api)
        return (self.audience_api(aud) or self.host_api(host)
                or (self.audience(aud) if not missing(aud) else NONE["target"][0]))

    def name(self, dim: str, value: Any) -> str:
        """The display name of a value of a report dimension."""
        if missing(value):
            return NONE.get(dim, ("(none)", ""))[0]
        if dim == "client_id":
            return self.client(value)
        if dim == "audience":
            return self.audience(value)
        if dim == "host":
            return self.host(value)
        return str(value)


def none_reason(dim: str) -> str:
    """Why a dimension has no value (the tooltip and footnote of a placeholder)."""
    return NONE.get(dim, ("(none)", "no value"))[1]


def as_int(value: Any) -> int:
    """A count from run.json as an int: 0 for anything missing or not a number (other tools add keys)."""
    try:
        return int(float(value or 0))
    except (TypeError, ValueError, OverflowError):
        return 0


def when(ts: Any) -> str:
    """A time as people write it: 2026-11-26 08:46 UTC (empty when missing or unreadable)."""
    if missing(ts) or ts == "":
        return ""
    try:
        t = pd.Timestamp(ts)
    except (TypeError, ValueError):
        return str(ts)
    t = t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")
    return t.strftime("%Y-%m-%d %H:%M UTC")


def day(ts: Any) -> str:
    """A date: 2026-11-26."""
    return when(ts)[:10]


def epoch(v: float) -> str:
    """A NumericDate claim (seconds since 1970) as a time."""
    try:
        return datetime.fromtimestamp(v, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (OverflowError, OSError, ValueError):
        return "out of range"


def duration(seconds: float) -> str:
    """A length of time in the two largest units: 4 min 2 s, 3 h 10 min, 2 days 4 h."""
    s = abs(float(seconds))
    if not math.isfinite(s):
        return "?"
    if s < 1:
        return "under 1 s"
    parts = []
    for unit, size in (("day", 86400), ("h", 3600), ("min", 60), ("s", 1)):
        n = int(s // size)
        if n:
            parts.append(f"{n} {unit}{'s' if unit == 'day' and n > 1 else ''}")
            s -= n * size
        if len(parts) == 2 or (parts and n == 0):
            break
    return " ".join(parts)


def offset(seconds: Any) -> str:
    """A clock offset in words: '4 min 2 s behind', 'in step' within a second."""
    try:
        v = float(seconds)
    except (TypeError, ValueError):
        return ""
    if abs(v) < 1:
        return "in step"
    return f"{duration(v)} {'behind' if v < 0 else 'ahead'}"


def plain(value: Any) -> str:
    """Any value as words: yes/no, lists as comma lists, numbers with separators; never a Python repr."""
    if not isinstance(value, list | tuple | dict | set) and missing(value):
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.1f}".rstrip("0").rstrip(".") if value != int(value) else f"{int(value):,}"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {plain(v)}" for k, v in value.items())
    if isinstance(value, list | tuple | set):
        return ", ".join(plain(v) for v in value)
    if isinstance(value, pd.Timestamp | datetime):
        return when(value)
    return str(value)


def count(n: Any) -> str:
    """A count with thousands separators."""
    return f"{int(n):,}"


def pct(part: float, whole: float) -> str:
    """A share as a percentage with one decimal, or a dash when there is no whole."""
    return f"{part / whole:.1%}" if whole else "–"


def plural(n: int, one: str, many: str | None = None) -> str:
    """'1 file', '2 files'."""
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


class PathScrubber:
    """Takes the scanning machine's directories out of text: paths read relative to what was scanned."""

    def __init__(self, run: dict[str, Any]) -> None:
        opts = run.get("options") or {}
        paths: list[str] = []
        for p in run.get("inputs") or []:
            if isinstance(p, str) and os.path.isabs(p):
                paths.append(os.path.dirname(p.rstrip("/")) or "/")
        for p in (opts.get("config"), opts.get("out"), opts.get("cache_dir")):
            if isinstance(p, str) and os.path.isabs(p):
                paths.append(os.path.dirname(p.rstrip("/")) or "/")
        for k in run.get("keys") or []:
            src = k.get("source") if isinstance(k, dict) else None
            if isinstance(src, str) and os.path.isabs(src):
                paths.append(os.path.dirname(src))
        for p in (os.getcwd(), os.path.expanduser("~")):
            if os.path.isabs(p):
                paths.append(p)
        prefixes = sorted({p.rstrip("/") for p in paths if p.rstrip("/")}, key=len, reverse=True)
        # A directory only where a path starts: not inside a URL or a longer path.
        self._re = (
            re.compile(r"(?<![\w.:/~-])(?:" + "|".join(re.escape(p) for p in prefixes) + r")/") if prefixes else None
        )

    def __call__(self, text: str) -> str:
        """The text with every known machine directory removed from the paths in it."""
        return self._re.sub("", text) if self._re is not None else text


def relative(path: Any, scrub: PathScrubber) -> str:
    """A path as shown: relative to what was scanned; a stray absolute path by its file name only."""
    if missing(path):
        return ""
    p = scrub(str(path))
    return os.path.basename(p) if os.path.isabs(p) else p


def join(values: Iterable[Any], sep: str = ", ") -> str:
    """Values joined as plain words."""
    return sep.join(plain(v) for v in values)


# What one of a dimension's values is called in a sentence ("only client X").
SINGULAR = {"client_id": "client", "target": "API", "audience": "audience", "host": "host", "api": "API",
            "issuer": "issuer", "tenant_id": "tenant"}
