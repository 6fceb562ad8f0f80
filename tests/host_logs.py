"""nginx lines with signed access tokens at chosen times, hosts and statuses: logs whose hosts accept some tokens.

Used by the tests of inferred expectations and of the diagnoser.
"""

from __future__ import annotations

from datetime import UTC, datetime

import jwts as T

TENANT = "11111111-2222-3333-4444-555555555555"
T0 = 1_795_000_000


def nginx(t: int, host: str, path: str, status: int, token: str, ip: str = "10.0.0.1") -> str:
    """One line in the sample logs' nginx format (combined + Authorization, Host, body)."""
    when = datetime.fromtimestamp(t, tz=UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")
    return f'{ip} - - [{when}] "GET {path} HTTP/1.1" {status} 12 "-" "ua" "Bearer {token}" "{host}" "-"\n'


def token(key: T.KeyPair, aud: str, client: str, iat: int, version: str = "2.0", seed: int = 0) -> str:
    return T.sign(
        T.access_token_claims(
            TENANT, aud, client, version=version, iat=iat, exp=iat + 3600, scp="read", seed=seed
        ),
        key,
    )
