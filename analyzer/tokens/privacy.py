"""Personal claims: kept out of outputs, or replaced by a keyed hash that joins across runs."""

from __future__ import annotations

import hashlib
import hmac
import math
import os
import secrets
from pathlib import Path
from typing import Any

from analyzer import schema as S

KEY_ENV = "ANALYZER_PII_KEY_FILE"


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
    try:
        return bytes.fromhex(path.read_text().strip())
    except (OSError, ValueError):
        pass
    key = secrets.token_bytes(32)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written aside, then linked into place (which fails if it exists): when two processes create
        # the key at once, one wins and both use its key.
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(key.hex())
        try:
            os.link(tmp, path)
        except FileExistsError:
            key = bytes.fromhex(path.read_text().strip())
        finally:
            tmp.unlink()
    except (OSError, ValueError):
        pass  # an unwritable config dir: hashes still work, they just do not join across runs
    return key


def keyed_hash(key: bytes, value: Any) -> str:
    """`h:` and 16 hex digits of HMAC-SHA256: stable per user, meaningless without the key."""
    return "h:" + hmac.new(key, str(value).encode("utf-8", "replace"), hashlib.sha256).hexdigest()[:16]


def scrub_claims(claims: dict[str, Any], key: bytes, include_pii: bool = False) -> dict[str, Any]:
    """Claims safe to show: personal ones hashed, long or odd values bounded."""
    out: dict[str, Any] = {}
    for k, v in list(claims.items())[:60]:
        name = writable(str(k)[:64])
        if name in S.PERSONAL_CLAIMS and not include_pii:
            out[name] = keyed_hash(key, v)
        else:
            out[name] = _bounded(v)
    return out


def _bounded(v: Any, depth: int = 0) -> Any:
    """A claim value as JSON keeps it (lists stay lists, never a Python repr), with its size bounded.

    What strict JSON or UTF-8 cannot hold becomes text: NaN and Infinity (which Python's JSON reader
    accepts), integers beyond 64 bits, and lone surrogates from a `"\\ud800"` escape (as U+FFFD).
    """
    if isinstance(v, str):
        return writable(v[:200])
    if isinstance(v, bool) or v is None or (isinstance(v, int) and -(1 << 63) <= v < 1 << 63) or (
            isinstance(v, float) and math.isfinite(v)):
        return v
    if isinstance(v, (list, tuple)) and depth < 3:
        return [_bounded(x, depth + 1) for x in list(v)[:50]]
    if isinstance(v, dict) and depth < 3:
        return {writable(str(k)[:64]): _bounded(x, depth + 1) for k, x in list(v.items())[:50]}
    return writable(str(v)[:200])


def writable(text: str) -> str:
    """Text that UTF-8 can hold: a lone surrogate from a JSON escape (`"\\ud800"`) becomes U+FFFD."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text
