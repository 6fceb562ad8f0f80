"""What each cause means and what to do about it, in the product's own words.

Written from the troubleshooting guide in shared/seeds; the report fills in real values.
"""

from __future__ import annotations

from typing import NamedTuple

from analyzer import schema as S
from analyzer.diagnose.learn import default_scope


class Advice(NamedTuple):
    """A cause's title, what it means, and the next steps."""

    title: str
    meaning: str
    steps: tuple[str, ...]


ADVICE: dict[str, Advice] = {
    S.MALFORMED: Advice(
        "Malformed token",
        "The value is not a well-formed signed JWT: a segment is missing, the base64url is broken, or the "
        "header or payload is not a JSON object. Often the log (or a proxy) cut the line short.",
        ("If the detail says 'truncated', raise the log line or header size limit so whole tokens are logged.",
         "Otherwise fix the client that builds or copies the token: it must send the three dot-separated "
         "segments unchanged."),
    ),
    S.ENCRYPTED: Advice(
        "Encrypted token (JWE)",
        "A five-segment encrypted token. Only its recipient can read it, so its claims were not checked.",
        ("Nothing to fix if the API expects encrypted tokens; otherwise the client asked for the wrong token.",),
    ),
    S.UNSUPPORTED_ALG: Advice(
        "Algorithm not allowed",
        "The token is unsigned (alg none), uses a shared-secret (HMAC) algorithm where the identity provider "
        "signs with public keys, or names an algorithm the issuer does not use.",
        ("Reject these tokens. An HMAC or 'none' token at an API protected by Entra ID is a forgery attempt "
         "or a test tool, never a real token.",
         "Make sure the API pins the algorithms it accepts (RS256 for Entra ID)."),
    ),
    S.MISSING_CLAIMS: Advice(
        "Required claims missing",
        "An access token without exp, aud or iss cannot be validated.",
        ("Find the client in the table and check where it gets its tokens: Entra ID always sets these claims, "
         "so the token was minted elsewhere.",),
    ),
    S.WRONG_TOKEN_TYPE: Advice(
        "ID token used as an access token",
        "The client sent its ID token (proof of sign-in, addressed to the client itself) as a bearer token. "
        "APIs need an access token issued for their own scope.",
        ("In the client, call acquireToken / acquire_token_silent with the API's scope (for example "
         "api://<api>/.default) and send that access token, not the ID token.",),
    ),
    S.AUDIENCE_MISMATCH: Advice(
        "Wrong audience",
        "The token's aud is not one the API accepts: it was requested for another resource (often Microsoft "
        "Graph), or carries the other form (GUID vs App ID URI) of the right app.",
        ("Have the client request the token with the API's scope, e.g. api://<api>/.default, not a Graph scope.",
         "Check the Application ID URI in the API's app registration and make the client ask for exactly that.",
         "If the audience is the API's own GUID or URI in the other form, accept both forms in the API."),
    ),
    S.ISSUER_MISMATCH: Advice(
        "Wrong issuer",
        "The token's iss is not accepted: a v1 issuer (sts.windows.net) where v2 (login.microsoftonline.com/"
        "…/v2.0) is expected or the reverse, another tenant, or an unknown issuer.",
        ("Fetch the tenant's metadata (…/v2.0/.well-known/openid-configuration) and compare its issuer with "
         "the token's iss.",
         "For v1 vs v2: set accessTokenAcceptedVersion in the API's app manifest, or let the API accept both "
         "issuers.",
         "For another tenant: the client signed in to the wrong tenant, or the API must be made multi-tenant."),
    ),
    S.UNKNOWN_KID: Advice(
        "Signing key not found",
        "The key id (kid) in the header is not in the issuer's published keys. Keys rotate: a validator with "
        "a stale cache, or hard-coded keys, fails like this.",
        ("Refresh the API's signing-key cache from the issuer's jwks_uri; never hard-code keys.",
         "Use a library that refreshes keys on an unknown kid (Microsoft.IdentityModel, MSAL-based middleware).",
         "If the app uses custom signing keys, load metadata with ?appid=<app id>."),
    ),
    S.BAD_SIGNATURE: Advice(
        "Signature does not verify",
        "The key was found but the signature is wrong: the token was altered, or it is a Microsoft Graph token "
        "(header nonce) that only Graph can verify.",
        ("For Graph tokens: the client must request a token for this API's scope instead.",
         "Otherwise treat the token as tampered with, and find where it was modified."),
    ),
    S.EXPIRED: Advice(
        "Expired",
        "The request came after exp plus the allowed clock skew. Minutes late points at a clock; hours or days "
        "late means the client is not refreshing its tokens.",
        ("Clients: acquire tokens silently before each call (MSAL caches and refreshes them).",
         "Servers: keep clocks in sync (Linux: timedatectl set-ntp true; Windows: w32tm /resync)."),
    ),
    S.NOT_YET_VALID: Advice(
        "Not yet valid",
        "The request came before nbf (or iat) minus the allowed clock skew: a clock is behind or ahead.",
        ("Sync the clock of the machine named in the detail (timedatectl set-ntp true, or w32tm /resync).",),
    ),
    S.MISSING_NONCE: Advice(
        "ID token without nonce",
        "A sign-in response carried an ID token with no nonce claim, so replayed tokens cannot be detected.",
        ("Send a random nonce in the authorization request and check it in the ID token; MSAL does both.",),
    ),
    S.CLIENT_ASSERTION_KEY_MISMATCH: Advice(
        "Client assertion signed with an unregistered certificate",
        "The confidential client signed its client assertion with a certificate whose thumbprint (x5t) is not "
        "registered on its app registration (AADSTS700027).",
        ("Upload the certificate that signs the assertion to the app registration (Certificates & secrets), or "
         "configure the client to use a registered one.",),
    ),
    S.OK: Advice("Valid", "No check failed.", ()),
}


class Facts(NamedTuple):
    """Real values that fill in a cause's next steps: the client, API and claims most affected."""

    client: str
    host: str
    audience: str
    issuer: str
    tenant: str
    detail: str
    occurrences: int
    expected_audiences: tuple[str, ...] = ()
    expected_issuers: tuple[str, ...] = ()


def next_steps(cause: str, f: Facts) -> list[str]:
    """Steps written for the data at hand: who to contact and which values to compare (plain text)."""
    who = f"Client {f.client} sent {f.occurrences:,} of these to {f.host}"
    steps = [f"{who}. Example: {f.detail}" if f.detail else f"{who}."]
    expected_aud = ", ".join(f.expected_audiences) or "(not configured: inferred from accepted tokens)"
    if cause == S.AUDIENCE_MISMATCH:
        steps.append(f"Audience sent: {f.audience}. Audiences the API accepts: {expected_aud}. "
                     f"Have the client request its token with scope {default_scope(f.expected_audiences)}.")
    elif cause == S.WRONG_TOKEN_TYPE:
        steps.append(f"The token's aud is {f.audience} (the client itself). "
                     f"Request an access token with scope {default_scope(f.expected_audiences)} "
                     "and send that instead.")
    elif cause == S.ISSUER_MISMATCH:
        expected = ", ".join(f.expected_issuers) or "(not configured: inferred from accepted tokens)"
        tenant = f.tenant or "<tenant>"
        steps.append(f"Issuer sent: {f.issuer}. Issuers accepted: {expected}. Compare with the issuer in "
                     f"login.microsoftonline.com/{tenant}/v2.0/.well-known/openid-configuration.")
    elif cause in (S.UNKNOWN_KID, S.BAD_SIGNATURE):
        tenant = f.tenant or "<tenant>"
        steps.append(f"Compare the token's kid with the keys at login.microsoftonline.com/{tenant}/discovery/"
                     f"v2.0/keys (issuer {f.issuer}).")
    elif cause == S.EXPIRED:
        steps.append(f"Ask the owner of client {f.client} whether it caches tokens past exp; "
                     "it should acquire them silently before each call.")
    return steps


# A few words per cause, for table cells, chart legends and the client x API matrix.
SHORT: dict[str, str] = {
    S.MALFORMED: "Malformed",
    S.ENCRYPTED: "Encrypted (JWE)",
    S.UNSUPPORTED_ALG: "Algorithm not allowed",
    S.MISSING_CLAIMS: "Claims missing",
    S.WRONG_TOKEN_TYPE: "ID token as access token",
    S.AUDIENCE_MISMATCH: "Wrong audience",
    S.ISSUER_MISMATCH: "Wrong issuer",
    S.UNKNOWN_KID: "Signing key not found",
    S.BAD_SIGNATURE: "Bad signature",
    S.EXPIRED: "Expired",
    S.NOT_YET_VALID: "Not yet valid",
    S.MISSING_NONCE: "ID token without nonce",
    S.CLIENT_ASSERTION_KEY_MISMATCH: "Unregistered certificate",
    S.OK: "Valid",
}

# The one-line fix shown beside each cause on the first screen.
FIX: dict[str, str] = {
    S.MALFORMED: "If cut short, raise the log or header size limit; otherwise fix the client that builds the token.",
    S.ENCRYPTED: "Nothing to fix if the API expects encrypted tokens; otherwise the client asked for the wrong one.",
    S.UNSUPPORTED_ALG: "Reject them: unsigned or shared-secret tokens are forgeries or test tools. Pin RS256.",
    S.MISSING_CLAIMS: "Find where the client gets these tokens: Entra ID always sets exp, aud and iss.",
    S.WRONG_TOKEN_TYPE: "The client must send an access token for the API's scope, not its ID token.",
    S.AUDIENCE_MISMATCH: "The client must request its token with the API's scope (api://<api>/.default).",
    S.ISSUER_MISMATCH: "Align the token version (accessTokenAcceptedVersion) or let the API accept both issuers.",
    S.UNKNOWN_KID: "Let the API refresh its signing keys from the issuer's jwks_uri; never hard-code keys.",
    S.BAD_SIGNATURE: "Graph tokens: request this API's scope instead. Otherwise the token was altered.",
    S.EXPIRED: "Clients must get a fresh token silently before each call (MSAL does); keep clocks in sync.",
    S.NOT_YET_VALID: "Sync the clock of the machine that judged or minted the token (NTP).",
    S.MISSING_NONCE: "Send a nonce in the sign-in request and check it in the ID token (MSAL does both).",
    S.CLIENT_ASSERTION_KEY_MISMATCH: "Upload the certificate that signs the assertion to the app registration.",
    S.OK: "",
}
