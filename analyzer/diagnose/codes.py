"""The codes a validator logs (IDX/AADSTS): what each means and which of our causes agree with it.

The scan core (`src/logged.rs`) finds the code logged for a request; `LOGGED_CODES` explains it.
"""

from __future__ import annotations

from analyzer import schema as S

# ----------------------------------------------------------------------------- the server's own errors

# The scan core (`src/logged.rs`) finds the code a server logged for a token's request, on its line
# or a nearby one of the same request, and qualifies a kid miss by a server without keys:
NO_KEYS = " keys=0"  # qualifier added in the scan; counted, then removed by `Diagnoser._bare` before writing

# Pseudo-causes for what the server logged that is about the server, not the token.
SERVER_CONFIG = "server_config"
SERVER_METADATA = "server_metadata"
_INVALID_JWT = (
    S.MALFORMED,
    S.AUDIENCE_MISMATCH,
    S.ISSUER_MISMATCH,
    S.EXPIRED,
    S.NOT_YET_VALID,
    S.MISSING_NONCE,
    S.MISSING_CLAIMS,
    S.BAD_SIGNATURE,
    S.UNKNOWN_KID,
    S.UNSUPPORTED_ALG,
)


def _codes(causes: tuple[str, ...], meaning: str, *codes: str) -> dict[str, tuple[tuple[str, ...], str]]:
    return {c: (causes, meaning) for c in codes}


# Each logged code -> (the causes it agrees with, the first being what it means; what it says).
# From shared/domain.md (Microsoft.IdentityModel and Entra token-endpoint errors).
LOGGED_CODES: dict[str, tuple[tuple[str, ...], str]] = {
    **_codes((S.AUDIENCE_MISMATCH,), "audience validation failed", "IDX10214", "IDX10215"),
    **_codes(
        (SERVER_CONFIG,),
        "the API has no valid audiences configured",
        "IDX10206",
        "IDX10207",
        "IDX10208",
        "IDX10268",
    ),
    **_codes(
        (S.ISSUER_MISMATCH,),
        "issuer validation failed",
        "IDX10205",
        "IDX10212",
        "IDX40001",
        "IDX40002",
        "IDX40003",
        "IDX40004",
        "IDX40005",
        "IDX40012",
    ),
    **_codes((SERVER_CONFIG,), "the API has no valid issuers configured", "IDX10204", "IDX10211"),
    **_codes((S.NOT_YET_VALID,), "token not yet valid", "IDX10222"),
    **_codes((S.EXPIRED,), "token expired", "IDX10223"),
    **_codes((S.MALFORMED, S.EXPIRED, S.NOT_YET_VALID), "nbf is after exp", "IDX10224"),
    **_codes((S.MISSING_CLAIMS,), "token has no exp", "IDX10225"),
    **_codes((S.UNKNOWN_KID,), "signing key (kid) not found", "IDX10503", "IDX10501", "IDX10516", "IDX10517"),
    **_codes((SERVER_METADATA, S.UNKNOWN_KID), "the server has no signing keys at all", "IDX10500"),
    **_codes((S.BAD_SIGNATURE,), "key found but the signature is invalid", "IDX10511"),
    **_codes((S.UNSUPPORTED_ALG,), "the token is unsigned", "IDX10504"),
    **_codes((S.MALFORMED, S.BAD_SIGNATURE), "the signature is improperly formatted", "IDX10508"),
    **_codes(
        (S.MALFORMED, S.ENCRYPTED),
        "the token is not a well-formed JWT",
        "IDX14100",
        "IDX14120",
        "IDX14107",
        "IDX14101",
        "IDX14102",
        "IDX12741",
        "IDX12709",
    ),
    **_codes(_INVALID_JWT, "invalid JWT (format, nonce, issuer, audience or time window)", "AADSTS50027"),
    **_codes(
        (S.CLIENT_ASSERTION_KEY_MISMATCH,),
        "client assertion signature failed: certificate not uploaded",
        "AADSTS700027",
    ),
    **_codes((S.EXPIRED, S.NOT_YET_VALID), "client assertion outside its valid time", "AADSTS700024"),
    **_codes(_INVALID_JWT, "invalid on-behalf-of assertion", "AADSTS50013"),
    **_codes((S.AUDIENCE_MISMATCH,), "on-behalf-of assertion audience mismatch", "AADSTS500131"),
    **_codes(
        (S.AUDIENCE_MISMATCH,), "resource principal not found (wrong resource or App ID URI)", "AADSTS500011"
    ),
    **_codes((S.MALFORMED,), "subject does not match issuer in a client assertion", "AADSTS50048"),
    **_codes((S.MISSING_CLAIMS,), "a required claim is missing", "AADSTS90016"),
    **_codes((S.UNKNOWN_KID,), "the app-specific signing key is missing", "AADSTS50146"),
}


def code_of(logged: str) -> str:
    """The bare code of a `logged_error` value."""
    return logged.split(" ", 1)[0]
