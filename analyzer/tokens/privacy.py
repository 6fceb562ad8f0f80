"""Personal claims: kept out of outputs, or replaced by a keyed hash that joins across runs."""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import os
import secrets
from pathlib import Path
from typing import Any

from analyzer import schema as S

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
    """The secret for keyed hashes, created (readable by the owner only) on first use."""
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
                else:  # a corrupt file (empty, cut short, edited) would give a new key on every call
                    os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
    except OSError:
        pass  # an unwritable config dir: hashes still work, they just do not join across runs
    return key


def _read_key(path: Path) -> bytes | None:
    """The key in `path`, or None when there is none or it is not hex of at least MIN_KEY_BYTES bytes.

    A longer key someone put there (64 bytes, say) is used as it is, never replaced.
    """
    try:
        key = bytes.fromhex(path.read_text().strip())
    except (OSError, ValueError):
        return None
    # An empty file would key the hashes with b"": anyone could then compute the hash of a known upn.
    return key if len(key) >= MIN_KEY_BYTES else None


def keyed_hash(key: bytes, value: Any) -> str:
    """`h:` and 16 hex digits of HMAC-SHA256: stable per user, meaningless without the key."""
    return "h:" + hmac.new(key, str(value).encode("utf-8", "replace"), hashlib.sha256).hexdigest()[:16]


# How much of a token's header or claims an example shows.
MAX_CLAIMS = 60  # claims per token
MAX_ITEMS = 50  # members of a list or object value
MAX_NAME = 64  # characters of a claim's or member's name
MAX_TEXT = 200  # characters of a value
MAX_DEPTH = 3  # nesting kept as JSON; deeper values become their JSON text


def scrub_claims(claims: dict[str, Any], key: bytes, include_pii: bool = False) -> dict[str, Any]:
    """Claims safe to show: personal ones hashed, long or odd values bounded."""
    out: dict[str, Any] = {}
    for k, v in list(claims.items())[:MAX_CLAIMS]:
        name = writable(str(k)[:MAX_NAME])
        if name in S.PERSONAL_CLAIMS and not include_pii:
            # Bounded first (strings kept whole): str() of a value nested ~1000 deep raises RecursionError.
            out[name] = keyed_hash(key, v if isinstance(v, str) else _bounded(v))
        else:
            out[name] = _bounded(v)
    return out


def _bounded(v: Any, depth: int = 0) -> Any:
    """A claim value as JSON keeps it (lists stay lists, never a Python repr), with its size bounded.

    What strict JSON or UTF-8 cannot hold becomes text: NaN and Infinity (which Python's JSON reader
    accepts), integers beyond 64 bits, and lone surrogates from a `"\\ud800"` escape (as U+FFFD).
    """
    if isinstance(v, str):
        return writable(v[:MAX_TEXT])
    if isinstance(v, bool) or v is None or (isinstance(v, int) and -(1 << 63) <= v < 1 << 63) or (
            isinstance(v, float) and math.isfinite(v)):
        return v
    if isinstance(v, (list, tuple)) and depth < MAX_DEPTH:
        return [_bounded(x, depth + 1) for x in list(v)[:MAX_ITEMS]]
    if isinstance(v, dict) and depth < MAX_DEPTH:
        return {writable(str(k)[:MAX_NAME]): _bounded(x, depth + 1) for k, x in list(v.items())[:MAX_ITEMS]}
    if isinstance(v, (list, tuple, dict)):  # nested too deep to keep: its JSON text, cut short
        return writable(json.dumps(shallow(v), ensure_ascii=False, default=str)[:MAX_TEXT])
    return writable(str(v)[:MAX_TEXT])


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
