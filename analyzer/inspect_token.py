"""Inspect one token, like jwt.ms: header, claims with readable times, and every check's verdict."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pandas as pd

from analyzer import schema as S
from analyzer.check import classify
from analyzer.config import Settings
from analyzer.decode import analyze_token
from analyzer.extract import TOKEN_RE
from analyzer.keystore import load_keyring

TIME_CLAIMS = ("exp", "nbf", "iat", "auth_time", "xms_tcdt", "pwd_exp")


def _human(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        return datetime.fromtimestamp(float(value), tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (OverflowError, OSError, ValueError):
        return None


def inspect(raw: str, settings: Settings, at_us: int | None = None) -> dict[str, Any]:
    """Decode and check one token; the result holds no signature."""
    text = raw.strip()
    if text.lower().startswith("bearer "):
        text = text[7:].strip()
    m = TOKEN_RE.search(text.encode("utf-8", "replace"))
    token = m.group(0) if m else text.encode("utf-8", "replace")
    facts = analyze_token(token, load_keyring(settings), settings.clients)
    now_us = at_us if at_us is not None else int(datetime.now(tz=UTC).timestamp() * 1_000_000)
    occ = pd.DataFrame({
        "ts": pd.array([now_us], dtype="Int64"), "source": ["<inspect>"], "line": [1], "format": [S.FMT_GENERIC],
        "location": [S.LOC_AUTHORIZATION], "param": ["authorization" if facts.kind != S.KIND_ASSERTION
                                                     else "client_assertion"],
        "host": [None], "method": [None], "path": [None], "status": pd.array([None], dtype="Int32"),
        "client_ip": [None], "user_agent": [None], "token_fp": [facts.fp], "mtime_us": [now_us],
    })
    ev = classify(occ, {facts.fp: facts}, settings).iloc[0]
    failed = dict(facts.failures)
    checks = []
    for cause in S.FAILURE_CAUSES:
        if cause in ev["causes"]:
            checks.append({"check": cause, "verdict": "fail", "detail": failed.get(cause) or ev["detail"]})
        else:
            checks.append({"check": cause, "verdict": "pass"})
    times = {k: _human(facts.claims.get(k)) for k in TIME_CLAIMS if k in facts.claims}
    return {
        "token_fp": facts.fp,
        "kind": facts.kind,
        "header": facts.header,
        "claims": facts.claims,
        "times": {k: v for k, v in times.items() if v},
        "judged_at": datetime.fromtimestamp(now_us / 1e6, tz=UTC).isoformat(),
        "cause": ev["cause"],
        "detail": ev["detail"],
        "signature_checked": bool(facts.signature_checked),
        "checks": checks,
    }
