"""The key store: the one module that talks to the network.

It turns the issuers the user configured into a KeyRing: OpenID metadata, then the JWKS at its
`jwks_uri` (or a JWKS URL, or a file). HTTP caching (Cache-Control, ETag/304) is requests-cache's
job, in a SQLite file in the cache directory. On top of it, `key-history.json` keeps every key set
seen for each issuer with when it was seen, and the last good set, which is served when the
provider cannot be reached, and in offline mode.

Only URLs from the configuration are ever requested: nothing read from a token (`iss`, `jku`, `x5u`,
`x5c`) reaches this module.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from analyzer.config import IssuerSource, Settings, check_url
from analyzer.errors import ConfigError
from analyzer.tokens.keys import KeyRing, KeySet, load_jwks_file, parse_jwks

if TYPE_CHECKING:
    import requests

DEFAULT_COOLDOWN = 300.0  # Microsoft.IdentityModel refreshes at most every 5 minutes on a kid miss
DEFAULT_TIMEOUT = (5.0, 10.0)  # connect, read (seconds)
DEFAULT_RETRIES = 2
HISTORY_NAME = "key-history.json"
HTTP_CACHE_NAME = "http-cache.sqlite"
HISTORY_VERSION = 1
MAX_SETS_KEPT = 100
# JWK members that only a private or symmetric key has: never stored, never used.
_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})


def default_cache_dir() -> Path:
    """The platform's user cache directory for the analyzer (XDG_CACHE_HOME on Linux)."""
    import platformdirs

    return Path(platformdirs.user_cache_dir("analyzer"))


def utc_now() -> datetime:
    """The current time, in UTC."""
    return datetime.now(tz=UTC)


class FetchError(Exception):
    """A provider URL could not be turned into a usable document."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(reason)
        self.url = url
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.reason} (GET {self.url})"


def public_jwks(keys: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Public signing keys only: symmetric keys dropped, private members stripped."""
    return [{k: v for k, v in jwk.items() if k not in _PRIVATE_MEMBERS}
            for jwk in keys if jwk.get("kty") != "oct"]


def _carry_appid(metadata_url: str, jwks_uri: str) -> str:
    """Apps with custom signing keys use `?appid=` metadata; keep the appid on the JWKS URL too."""
    appid = dict(parse_qsl(urlsplit(metadata_url).query)).get("appid")
    parts = urlsplit(jwks_uri)
    query = dict(parse_qsl(parts.query))
    if not appid or "appid" in query:
        return jwks_uri
    query["appid"] = appid
    return urlunsplit(parts._replace(query=urlencode(query)))


class History:
    """key-history.json: per source, every key set seen (kids, first/last seen) and the last good one."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.data: dict[str, Any] = self._read()
        self._touched: set[str] = set()

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {"version": HISTORY_VERSION, "sources": {}}  # a missing or broken history starts afresh
        if not isinstance(data, dict) or not isinstance(data.get("sources"), dict):
            return {"version": HISTORY_VERSION, "sources": {}}
        return data

    def entry(self, source: str) -> dict[str, Any]:
        """The history of one source (a metadata or JWKS URL), created empty when new."""
        sources: dict[str, Any] = self.data["sources"]
        e = sources.setdefault(source, {})
        e.setdefault("kids", {})
        e.setdefault("sets", [])
        e.setdefault("last_good", None)
        return e

    def last_good(self, source: str) -> dict[str, Any] | None:
        """The last key set fetched successfully for a source: {fetched_at, issuer, jwks_uri, keys}."""
        lg = self.data["sources"].get(source, {}).get("last_good")
        return lg if isinstance(lg, dict) and isinstance(lg.get("keys"), list) else None

    def kids(self, source: str) -> dict[str, str]:
        """kid -> when it was last seen in a set fetched for this source (ISO 8601)."""
        kids = self.data["sources"].get(source, {}).get("kids", {})
        return {k: v["last_seen"] for k, v in kids.items() if isinstance(v, dict) and "last_seen" in v}

    def record(self, source: str, keys: list[dict[str, Any]], fetched_at: str, issuer: str | None,
               jwks_uri: str | None) -> None:
        """Note that the provider served (or confirmed) this key set at `fetched_at`."""
        e = self.entry(source)
        kid_list = sorted({str(k["kid"]) for k in keys if "kid" in k})
        for kid in kid_list:
            seen = e["kids"].setdefault(kid, {"first_seen": fetched_at, "last_seen": fetched_at})
            seen["first_seen"] = min(seen["first_seen"], fetched_at)
            seen["last_seen"] = max(seen["last_seen"], fetched_at)
        same = next((s for s in e["sets"] if s.get("kids") == kid_list), None)
        if same is None:
            e["sets"].append({"kids": kid_list, "first_seen": fetched_at, "last_seen": fetched_at})
            del e["sets"][:-MAX_SETS_KEPT]
        else:
            same["last_seen"] = max(same["last_seen"], fetched_at)
        lg = e["last_good"]
        if lg is None or lg.get("fetched_at", "") <= fetched_at:
            e["last_good"] = {"fetched_at": fetched_at, "issuer": issuer, "jwks_uri": jwks_uri, "keys": keys}
        self._touched.add(source)

    def save(self) -> None:
        """Write the history atomically, merged over what another run may have written meanwhile."""
        if not self._touched:
            return
        merged = self._read()
        for src in self._touched:
            merged["sources"][src] = self.data["sources"][src]
        merged["version"] = HISTORY_VERSION
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(merged, f, indent=1, sort_keys=True)
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        self.data = merged
        self._touched.clear()


class KeyStore:
    """Fetches, caches and remembers the key sets of the configured issuers."""

    def __init__(self, cache_dir: Path | None = None, offline: bool = False, *,
                 timeout: float | tuple[float, float] = DEFAULT_TIMEOUT, retries: int = DEFAULT_RETRIES,
                 backoff: float = 0.5, cooldown: float = DEFAULT_COOLDOWN,
                 now: Callable[[], datetime] = utc_now, clock: Callable[[], float] = time.monotonic) -> None:
        self.cache_dir = cache_dir or default_cache_dir()
        self.offline = offline
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.cooldown = cooldown
        self.now = now
        self.clock = clock
        self.history = History(self.cache_dir / HISTORY_NAME)
        self._went_out = False  # whether the last fetch reached (or tried to reach) the provider
        self._session: Any = None
        self._sources: dict[str, IssuerSource] = {}
        self._last_attempt: dict[str, float] = {}

    # ------------------------------------------------------------------ HTTP

    def _http(self) -> Any:
        """The cached HTTP session, made on first use; offline runs never make one."""
        if self.offline:  # pragma: no cover - guarded by callers; a last line of defence
            raise RuntimeError("the key store is offline")
        if self._session is None:
            # Imported here: offline runs and runs with key files only do not pay for it.
            import requests_cache
            from requests.adapters import HTTPAdapter
            from urllib3.util.retry import Retry

            try:
                self.cache_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
                # The cache is the user's own: no world read bit, whatever the umask (SQLite gives its
                # journal files the database file's mode).
                db = self.cache_dir / HTTP_CACHE_NAME
                os.close(os.open(db, os.O_WRONLY | os.O_CREAT, 0o600))
                os.chmod(db, 0o600)
            except OSError as e:
                raise ConfigError(f"cannot create the key cache directory: {e.strerror or e}",
                                  str(self.cache_dir)) from None
            # expire_after=0: a response without Cache-Control is kept only to revalidate it (ETag),
            # never served as fresh; max-age and Expires from the provider win (cache_control=True).
            session = requests_cache.CachedSession(
                str(self.cache_dir / HTTP_CACHE_NAME), backend="sqlite", serializer="json",
                cache_control=True, expire_after=0, stale_if_error=False, allowable_methods=("GET",),
            )
            retry = Retry(total=self.retries, connect=self.retries, read=self.retries, status=self.retries,
                          backoff_factor=self.backoff, backoff_max=10,
                          status_forcelist=(429, 500, 502, 503, 504),
                          allowed_methods=("GET",), raise_on_status=False, respect_retry_after_header=True)
            adapter = HTTPAdapter(max_retries=retry)
            session.mount("https://", adapter)
            session.mount("http://", adapter)
            session.headers["User-Agent"] = "analyzer-keystore"
            session.trust_env = False  # no proxy or .netrc surprises: exactly the configured URL is contacted
            self._session = session
        return self._session

    def _get_json(self, url: str, allow_http: bool,
                  refresh: bool) -> tuple[dict[str, Any], bool, datetime | None]:
        """(document, whether the provider answered, when the cached copy was made) for one URL."""
        import requests

        problem = check_url(url, allow_http)
        if problem:
            raise FetchError(url, f"refused: {problem}")
        session = self._http()
        kwargs: dict[str, Any] = {"timeout": self.timeout, "allow_redirects": False,
                                  "headers": {"Accept": "application/json"}}
        try:
            resp: requests.Response = session.get(url, refresh=refresh, **kwargs)
            if refresh and getattr(resp, "from_cache", False) and not getattr(resp, "revalidated", False):
                # Fresh and without a validator: refresh=True revalidates only with an ETag/Last-Modified.
                resp = session.get(url, force_refresh=True, **kwargs)
        except requests.RequestException as e:
            self._went_out = True
            text = str(e).lower()
            timeout = self.timeout[1] if isinstance(self.timeout, tuple) else self.timeout
            if isinstance(e, requests.Timeout) or "timed out" in text or "timeout" in text:
                raise FetchError(url, f"provider unreachable: no answer within {timeout:g} s") from None
            raise FetchError(url, f"provider unreachable: {type(e).__name__}") from None
        contacted = not getattr(resp, "from_cache", False) or bool(getattr(resp, "revalidated", False))
        # Any answer from the provider, an error status included, was a visit: the kid-miss cooldown
        # starts now, or a provider that answers 503 would be asked again for every unknown kid.
        self._went_out = self._went_out or contacted or resp.status_code != 200
        if 300 <= resp.status_code < 400:
            raise FetchError(url, f"provider redirected to {resp.headers.get('Location', '?')}, which is not "
                             "followed: configure the final URL")
        if resp.status_code != 200:
            raise FetchError(url, f"provider unreachable: HTTP {resp.status_code}")
        try:
            data = json.loads(resp.content)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            self._forget(url)
            raise FetchError(url, "the provider's answer is not a JSON object")
        created = getattr(resp, "created_at", None)
        return data, contacted, created if isinstance(created, datetime) else None

    def _forget(self, url: str) -> None:
        """Drop a cached answer that turned out unusable, so that it is not served again as fresh."""
        with contextlib.suppress(Exception):  # the cache is an optimisation; never fail a run on it
            self._http().cache.delete(urls=[url])

    # ------------------------------------------------------------------ key sets

    def fetch(self, src: IssuerSource, refresh: bool = False) -> KeySet:
        """The current key set of one issuer: from a file, the network, or (when that fails) the cache."""
        if src.jwks_file is not None:
            return KeySet(source=str(src.jwks_file), origin="file", jwks=load_jwks_file(src.jwks_file),
                          issuer=src.issuer, algorithms=src.algorithms)
        source = src.location
        self._sources[source] = src
        if self.offline:
            return self._from_history(src, None)
        self._went_out = False
        try:
            return self._fetch_url(src, refresh)
        finally:
            if self._went_out:
                # The kid-miss cooldown counts from the last time the provider was asked for the key
                # set, whatever the outcome; an answer from a fresh HTTP cache asked nobody.
                self._last_attempt[source] = self.clock()

    def _fetch_url(self, src: IssuerSource, refresh: bool) -> KeySet:
        source = src.location
        issuer, jwks_uri = src.issuer, src.jwks_url
        try:
            if src.metadata_url:
                meta, _, _ = self._get_json(src.metadata_url, src.allow_http, refresh)
                uri, meta_iss = meta.get("jwks_uri"), meta.get("issuer")
                if not isinstance(uri, str) or not uri:
                    self._forget(src.metadata_url)
                    raise FetchError(src.metadata_url, "the metadata has no jwks_uri")
                jwks_uri = _carry_appid(src.metadata_url, uri)
                if issuer is None and isinstance(meta_iss, str) and meta_iss:
                    issuer = meta_iss
                # The cooldown is about key sets: metadata asked anew while the keys came from a fresh
                # cache (unconfirmed) must not stop a kid miss from asking for the keys.
                self._went_out = False
            assert jwks_uri is not None
            doc, hit, created = self._get_json(jwks_uri, src.allow_http, refresh)
            try:
                keys = public_jwks(parse_jwks(doc, jwks_uri))
            except ConfigError:
                self._forget(jwks_uri)
                raise FetchError(jwks_uri, "the answer is not a JSON Web Key Set (no 'keys' list)") from None
            if not keys:
                raise FetchError(jwks_uri, "the key set has no keys")
        except FetchError as e:
            return self._from_history(src, str(e))
        fetched_at = self._fetched_at(source, keys, hit, created)
        self.history.record(source, keys, fetched_at, issuer, jwks_uri)
        self._save_history()
        return KeySet(source=source, origin="network" if hit else "cache", jwks=keys, issuer=issuer,
                      algorithms=src.algorithms, fetched_at=fetched_at, jwks_uri=jwks_uri)

    def _fetched_at(self, source: str, keys: list[dict[str, Any]], hit: bool,
                    created: datetime | None) -> str:
        """When the provider last served or confirmed these keys."""
        if hit:
            return self.now().isoformat(timespec="seconds")
        lg = self.history.last_good(source)
        if lg is not None and lg["keys"] == keys:
            return str(lg["fetched_at"])
        when = created or self.now()
        return (when if when.tzinfo else when.replace(tzinfo=UTC)).isoformat(timespec="seconds")

    def _from_history(self, src: IssuerSource, error: str | None) -> KeySet:
        """The last good set of a source: served when a fetch fails (stale) or when offline."""
        source = src.location
        lg = self.history.last_good(source)
        if lg is None:
            why = error or "offline, and no key set was ever fetched for it"
            return KeySet(source=source, origin="none", jwks=[], issuer=src.issuer, algorithms=src.algorithms,
                          error=f"no keys: {why}")
        return KeySet(source=source, origin="cache", jwks=public_jwks(lg["keys"]),
                      issuer=src.issuer or lg.get("issuer"), algorithms=src.algorithms,
                      fetched_at=lg.get("fetched_at"), jwks_uri=lg.get("jwks_uri"), stale=error is not None,
                      error=f"served from cache: {error}" if error else None)

    def _save_history(self) -> None:
        try:
            self.history.save()
        except OSError as e:
            raise ConfigError(f"cannot write the key history: {e.strerror or e}",
                              str(self.history.path)) from None

    def load(self, sources: Iterable[IssuerSource], accepted_issuers: Iterable[str] = ()) -> KeyRing:
        """A key ring for these issuers, with each source's kid history and the kid-miss refresh hook."""
        ring = KeyRing(sets=[self.fetch(src) for src in sources], accepted_issuers=tuple(accepted_issuers))
        ring.history = {s.source: self.history.kids(s.source) for s in ring.sets if s.refreshable}
        if not self.offline and any(s.refreshable for s in ring.sets):
            ring.refresher = self.refresh
        return ring

    def refresh(self, ring: KeyRing, index: int) -> bool:
        """On a kid miss, fetch set `index` again (at most once per issuer per cooldown); did it change?"""
        old = ring.sets[index]
        src = self._sources.get(old.source)
        if src is None or self.offline:
            return False
        last = self._last_attempt.get(old.source)
        if last is not None and self.clock() - last < self.cooldown:
            return False
        new = self.fetch(src, refresh=True)
        ring.history[old.source] = self.history.kids(old.source)
        if not new.jwks and old.jwks:
            # Nothing better to offer: keep the keys we have, but say that the refresh failed.
            old.error = new.error
            return False
        ring.replace(index, new)
        return set(new.kids) != set(old.kids)


def load_keyring(settings: Settings) -> KeyRing:
    """The key ring of a run: every configured issuer's keys, fetched (or cached) by the key store."""
    timeout = DEFAULT_TIMEOUT if settings.http_timeout is None else settings.http_timeout
    retries = DEFAULT_RETRIES if settings.http_retries is None else settings.http_retries
    store = KeyStore(settings.cache_dir, settings.offline, timeout=timeout, retries=retries,
                     now=lambda: datetime.fromtimestamp(settings.clock(), tz=UTC))
    accepted = [i for api in settings.apis for i in api.issuers]
    return store.load(settings.issuers, accepted)
