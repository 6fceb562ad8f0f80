"""Personal claims: kept out of outputs, or replaced by a keyed hash that joins across runs; and tokens or key
material a claim carries, removed from what is shown."""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from analyzer import schema as S
from analyzer.errors import ConfigError

KEY_ENV = "ANALYZER_PII_KEY_FILE"
KEY_BYTES = 32  # a key this module creates
MIN_KEY_BYTES = 16  # a key file with less (empty, cut short) is replaced


def key_path() -> Path:
    """Where the hashing secret lives: the user's config directory, or $ANALYZER_PII_KEY_FILE."""
    env = os.environ.get(KEY_ENV)
    if env:
        return Path(env)
    from platformdirs import user_config_dir

    return Path(user_config_dir("analyzer")) / "pii-hash.key"


def load_key() -> bytes:
    """The secret for keyed hashes, created (readable by the owner only) on first use.

    Only a missing or empty file is (re)written: anything else at that path that is not a key (the
    config named by mistake, a key cut short, a directory) is an error, never overwritten, as it may be
    someone's file, and a key replaced would change every hash.
    """
    path = key_path()
    key = _read_key(path)
    if key is not None:
        return key
    key = secrets.token_bytes(KEY_BYTES)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written aside, then linked into place (which fails if it exists): when two processes create
        # the key at once, one wins and both use its key.
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(key.hex())
        try:
            try:
                os.link(tmp, path)
            except FileExistsError:
                theirs = _read_key(path)
                if theirs is not None:
                    key = theirs
                else:  # an empty file would key the hashes with b"": replaced by the new key
                    os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
    except OSError:
        pass  # an unwritable config dir: hashes still work, they just do not join across runs
    return key


def _read_key(path: Path) -> bytes | None:
    """The key in `path`; None when there is no file or it is empty (whitespace only).

    A longer key someone put there (64 bytes, say) is used as it is, never replaced. Anything else
    (not hex, fewer than MIN_KEY_BYTES bytes, a directory, a file that cannot be read) raises ConfigError.
    """
    where = f"${KEY_ENV}" if os.environ.get(KEY_ENV) else "the key file"

    def refused(why: str) -> ConfigError:
        return ConfigError(f"{why}; {where} must name a file holding a hex key of {MIN_KEY_BYTES} bytes or more "
                           "(or none, to create one). It was left as it is", str(path))

    try:
        text = path.read_text(encoding="ascii", errors="replace").strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except IsADirectoryError:
        raise refused("a directory, not a key file") from None
    except OSError as e:
        raise refused(f"cannot be read ({e.strerror or type(e).__name__})") from None
    if not text:
        return None  # an empty file would key the hashes with b"": anyone could hash a known upn
    try:
        key = bytes.fromhex(text)
    except ValueError:
        raise refused("not a hex key") from None
    if len(key) < MIN_KEY_BYTES:
        raise refused(f"a key of {len(key)} bytes, too short")
    return key


def keyed_hash(key: bytes, value: Any) -> str:
    """`h:` and 16 hex digits of HMAC-SHA256: stable per user, meaningless without the key."""
    return "h:" + hmac.new(key, str(value).encode("utf-8", "replace"), hashlib.sha256).hexdigest()[:16]


# How much of a token's header or claims an example shows.
MAX_CLAIMS = 60  # claims per token
MAX_ITEMS = 50  # members of a list or object value
MAX_NAME = 64  # characters of a claim's or member's name
MAX_TEXT = 200  # characters of a value
MAX_DEPTH = 3  # nesting kept as JSON; deeper values become their JSON text
JUDGED = 1024  # characters of a value searched for a token or an e-mail address: more than is shown (MAX_TEXT)

# What a value that holds a token, a signature or key material shows instead, whatever --include-pii says.
TOKEN_REMOVED = "[token or key removed]"
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.")  # a JWS or JWE: a base64url JSON object, then a dot
# 43 characters are 256 bits: an HS256 signature, an EC coordinate. Base64url and standard alphabets apart,
# so that a URL's path (`/`) and a GUID's hyphens do not join into one run.
_RUN = re.compile(r"[A-Za-z0-9_-]{43,}|[A-Za-z0-9+/]{43,}")
_CLASSES = (re.compile(r"[A-Z]"), re.compile(r"[a-z]"), re.compile(r"[0-9]"))
# Identifiers of a key that the report needs (unknown_kid) and that may be 43 characters (RFC 7638
# thumbprints): exempt from the run rule, not from the token rule.
_KEY_IDS = frozenset({"kid", "x5t", "x5t#s256"})
_EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")


def holds_secret(text: str, key_id: bool = False) -> bool:
    """Whether `text` holds a JWS/JWE or a long random-looking base64 run (a signature, a key, a token cut short).

    A run counts when it mixes upper case, lower case and digits: a long hyphenated name does not.
    """
    if _JWT.search(text):
        return True
    return not key_id and any(all(c.search(m.group()) for c in _CLASSES) for m in _RUN.finditer(text))


def _personal_text(text: str) -> bool:
    """A value that holds an e-mail address is personal whatever its claim is called (`mail`, `Email`, ...)."""
    # "@" first: the pattern backtracks over long runs without one.
    return "@" in text and _EMAIL.search(text) is not None


def scrub_claims(claims: dict[str, Any], key: bytes, include_pii: bool = False) -> dict[str, Any]:
    """Claims (or a header) safe to show: personal values hashed, tokens removed, long or odd values bounded.

    Personal means a name in `schema.PERSONAL_CLAIMS` (any case, at any depth) or a value that holds an
    e-mail address; `include_pii` shows them in clear. Tokens and key material are removed always.
    """
    scrub = _Scrub(key, include_pii)
    out: dict[str, Any] = {}
    for k, v in list(claims.items())[:MAX_CLAIMS]:
        out[scrub.name(k)] = scrub.member(str(k), v, 0)
    return out


def without_secrets(value: Any, key_id: bool = False) -> Any:
    """`value` (a decoded header or claim set, as JSON gives it) with every string that holds a token or key
    material replaced by TOKEN_REMOVED; nothing else changed. For `inspect`, which shows claims whole."""
    if isinstance(value, str):
        return TOKEN_REMOVED if holds_secret(value, key_id) else value
    if isinstance(value, list):
        return [without_secrets(x) for x in value]
    if isinstance(value, dict):
        return {(TOKEN_REMOVED if holds_secret(k) else k): without_secrets(x, k.casefold() in _KEY_IDS)
                for k, x in value.items()}
    return value


@dataclass(frozen=True)
class _Scrub:
    """The rules of one scrub: the hashing key and whether personal values show in clear."""

    key: bytes
    include_pii: bool

    def name(self, k: Any) -> str:
        """A member's name as shown: bounded; removed or hashed when it is itself a secret or an address."""
        text = str(k)
        if holds_secret(text[:JUDGED]):
            return TOKEN_REMOVED
        if not self.include_pii and _personal_text(text[:JUDGED]):
            return keyed_hash(self.key, text)
        return writable(text[:MAX_NAME])

    def member(self, name: str, v: Any, depth: int, keep: int = MAX_DEPTH) -> Any:
        """The value of member `name` (`depth` levels down): hashed whole when the name is personal, else
        scrubbed, as JSON down to `keep` levels."""
        if not self.include_pii and name[:MAX_NAME].casefold() in S.PERSONAL_CLAIMS:
            # Bounded first (strings kept whole): str() of a value nested ~1000 deep raises RecursionError.
            return keyed_hash(self.key, v if isinstance(v, str) else _bounded(v))
        if isinstance(v, str):
            return self.text(v, name.casefold() in _KEY_IDS)
        return _bounded(v, depth, self, keep)

    def text(self, v: str, key_id: bool = False) -> Any:
        """A string as shown: removed when it holds a token, hashed when it holds an address, else cut short."""
        judged = v[:JUDGED]
        if holds_secret(judged, key_id):
            return TOKEN_REMOVED
        if not self.include_pii and _personal_text(judged):
            return keyed_hash(self.key, v)
        return writable(v[:MAX_TEXT])


def _bounded(v: Any, depth: int = 0, scrub: _Scrub | None = None, keep: int = MAX_DEPTH) -> Any:
    """A claim value as JSON keeps it (lists stay lists, never a Python repr), with its size bounded.

    What strict JSON or UTF-8 cannot hold becomes text: NaN and Infinity (which Python's JSON reader
    accepts), integers beyond 64 bits, and lone surrogates from a `"\\ud800"` escape (as U+FFFD).
    With `scrub`, members and strings go through its rules at every depth, the JSON text of values nested
    deeper than `keep` levels included; without it (the text a personal value is hashed from) they do not.
    """
    if isinstance(v, str):
        return scrub.text(v) if scrub else writable(v[:MAX_TEXT])
    if isinstance(v, bool) or v is None or (isinstance(v, int) and -(1 << 63) <= v < 1 << 63) or (
            isinstance(v, float) and math.isfinite(v)):
        return v
    if isinstance(v, (list, tuple)) and depth < keep:
        return [_bounded(x, depth + 1, scrub, keep) for x in list(v)[:MAX_ITEMS]]
    if isinstance(v, dict) and depth < keep:
        if scrub:
            return {scrub.name(k): scrub.member(str(k), x, depth + 1, keep) for k, x in list(v.items())[:MAX_ITEMS]}
        return {writable(str(k)[:MAX_NAME]): _bounded(x, depth + 1) for k, x in list(v.items())[:MAX_ITEMS]}
    if isinstance(v, (list, tuple, dict)):  # nested too deep to keep: its JSON text, cut short
        # Scrubbed as a structure before it becomes text: a personal name or a token deep inside is found.
        inner = _bounded(shallow(v), 0, scrub, 1 << 30) if scrub else shallow(v)
        return writable(json.dumps(inner, ensure_ascii=False, default=str)[:MAX_TEXT])
    return scrub.text(str(v)) if scrub else writable(str(v)[:MAX_TEXT])


def shallow(v: Any, levels: int = 32) -> Any:
    """`v` with lists and objects nested more than `levels` deep cut to `[…]` / `{…}`, object keys as text.

    JSON readers take deeper values (orjson 1024 levels) than Python's JSON writer and repr() can
    recurse through (about 1000 frames, fewer when called deep in a stack): RecursionError otherwise.
    """
    if isinstance(v, (list, tuple)):
        return [shallow(x, levels - 1) for x in v] if levels > 0 else "[…]"
    if isinstance(v, dict):
        return {str(k): shallow(x, levels - 1) for k, x in v.items()} if levels > 0 else "{…}"
    return v


def writable(text: str) -> str:
    """Text that UTF-8 can hold: a lone surrogate from a JSON escape (`"\\ud800"`) becomes U+FFFD."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text
