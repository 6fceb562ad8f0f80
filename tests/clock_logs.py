"""Logs with known clock offsets per host, for the clock estimates (tests/diagnose/test_clocks.py).

The identity provider's clock is true. Each client gets a token, sends its first request after its
habitual delay (most within seconds, some 20-240 s, some minutes), reuses the token from its cache
while it calls every host of a load-balanced API, and gets a new one 5-10 minutes before it expires.
Each host writes its own log with its own clock: the true time plus its offset, and answers as its
clock tells it (401 outside nbf/exp plus the leeway). On top, what must not bias an estimate:

- tokens that really are not yet valid: minted by a kiosk whose token service runs 5-60 minutes ahead;
- WebSocket upgrades (101) logged when the connection closes, minutes to hours later;
- long polls logged when they return (20-90 s after the request);
- a client that keeps sending one token for hours after it expired.

    lines = clock_logs(key, {"a.example": -420.0, "b.example": 0.0})   # host -> lines
"""

from __future__ import annotations

import random
from datetime import UTC, datetime

import jwts as T

TENANT = "11111111-2222-3333-4444-555555555555"
API = "api://clocks"
T0 = 1_795_000_000
LEEWAY = 300


def line(t: float, host: str, path: str, status: int, token: str, ip: str, ua: str = "ua") -> str:
    """One nginx line (the sample logs' format: combined + Authorization, Host, body) at host time t."""
    when = datetime.fromtimestamp(int(t), tz=UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")
    return f'{ip} - - [{when}] "GET {path} HTTP/1.1" {status} 12 "-" "{ua}" "Bearer {token}" "{host}" "-"\n'


def _status(host_time: float, iat: float, exp: float) -> int:
    return 401 if host_time < iat - LEEWAY or host_time > exp + LEEWAY else 200


def _first_delay(rng: random.Random, habit: str) -> float:
    """Seconds between getting a token and the first request with it."""
    if habit == "prompt":  # MSAL: acquire, then call
        return rng.expovariate(1 / 2.0)
    if habit == "batch":  # a job that gets its token, then prepares its work
        return rng.uniform(20, 240)
    return rng.uniform(120, 900)  # a client that sends a token minutes after getting it


def clock_logs(key: T.KeyPair, offsets: dict[str, float], *, hours: float = 8, clients: int = 12,
               seed: int = 0) -> dict[str, list[str]]:
    """Per host, its log lines (sorted by its own clock) for `clients` clients over `hours`."""
    rng = random.Random(seed)
    hosts = sorted(offsets)
    out: dict[str, list[tuple[float, str]]] = {h: [] for h in hosts}
    end = T0 + hours * 3600
    n_tok = 0

    def mint(iat: float, client: str) -> tuple[str, float, float]:
        nonlocal n_tok
        n_tok += 1
        claims = T.access_token_claims(TENANT, API, client, iat=int(iat), exp=int(iat) + 3600, scp="read",
                                       seed=f"{seed}-{n_tok}")
        return T.sign(claims, key), int(iat), int(iat) + 3600

    def send(true_t: float, host: str, path: str, tok: str, iat: float, exp: float, ip: str,
             logged_after: float = 0.0, status: int | None = None) -> None:
        host_t = true_t + offsets[host]
        st = status if status is not None else _status(host_t, iat, exp)
        out[host].append((host_t + logged_after, line(host_t + logged_after, host, path, st, tok, ip)))

    habits = ["prompt"] * 7 + ["batch"] * 3 + ["slow"] * 2
    for c in range(clients):
        habit = habits[c % len(habits)]
        ip = f"10.0.{c // 250}.{c % 250 + 1}"
        t = T0 + rng.uniform(0, 3600)
        while t < end:
            iat = t
            tok, tiat, texp = mint(iat, f"client-{c}")
            t = iat + _first_delay(rng, habit)
            until = texp - rng.uniform(300, 600)
            while t < until and t < end:
                host = rng.choice(hosts)
                kind = rng.random()
                if kind < 0.03:  # a WebSocket upgrade, logged when the connection closes
                    send(t, host, "/ws", tok, tiat, texp, ip, logged_after=rng.uniform(600, 7200), status=101)
                elif kind < 0.08:  # a long poll, logged when it returns
                    send(t, host, "/poll", tok, tiat, texp, ip, logged_after=rng.uniform(20, 90))
                else:
                    send(t, host, "/v1/items", tok, tiat, texp, ip)
                t += rng.expovariate(1 / 40.0)
            t = max(t, until)

    # A kiosk whose token service runs 5-60 minutes ahead: its tokens really are not yet valid.
    for _ in range(6):
        t = T0 + rng.uniform(0, hours * 3600)
        tok, tiat, texp = mint(t + rng.uniform(300, 3600), "kiosk")
        for _ in range(3):
            send(t, rng.choice(hosts), "/v1/items", tok, tiat, texp, "10.40.0.3")
            t += rng.uniform(5, 60)

    # A client that never refreshes: one token, sent for hours after it expired.
    t = T0 + 600
    tok, tiat, texp = mint(t, "lazy")
    for h in range(1, int(hours)):
        send(texp + h * 3600 + rng.uniform(0, 600), rng.choice(hosts), "/v1/items", tok, tiat, texp, "10.9.9.9")

    return {h: [text for _, text in sorted(rows, key=lambda r: r[0])] for h, rows in out.items()}
