"""What the report says about each cause: a title, meaning and steps for every cause code, short names, the
one-line fix, and next steps filled in with the real client, host, counts, claims and expected scope."""

from __future__ import annotations

import re

import pytest

from analyzer import schema as S
from analyzer.diagnose.learn import default_scope
from analyzer.report.advice import ADVICE, FIX, SHORT, Advice, Facts, next_steps

GUID = "6e74172b-be56-4843-9ff4-e66a39bb12e3"
TENANT = "11111111-2222-3333-4444-555555555555"
# Markup, not the placeholders the texts use on purpose (`api://<api>/.default`, `<tenant>`): the templates
# escape every text, so HTML written here would show as tags, and an entity as `&amp;amp;`.
HTML = re.compile(r"</?(a|b|i|em|strong|code|pre|br|p|span|div|ul|ol|li|script)\b[^>]*>|&(#\d+|[a-z]+);", re.I)


def facts(**changes: object) -> Facts:
    base = Facts(client="orders-web (c-1)", host="orders.contoso.com", audience="https://graph.microsoft.com",
                 issuer=f"https://sts.windows.net/{TENANT}/", tenant=TENANT, detail="", occurrences=12345,
                 expected_audiences=(GUID, "api://orders"),
                 expected_issuers=(f"https://login.microsoftonline.com/{TENANT}/v2.0",))
    return base._replace(**changes)  # type: ignore[arg-type]


def _texts() -> list[tuple[str, str]]:
    out = []
    for cause in S.CAUSES:
        a = ADVICE[cause]
        out += [(cause, a.title), (cause, a.meaning), *((cause, s) for s in a.steps), (cause, SHORT[cause]),
                (cause, FIX[cause]), *((cause, s) for s in next_steps(cause, facts(detail="aud is x")))]
    return out


# ----------------------------------------------------------------------------- the tables


@pytest.mark.parametrize("table", [ADVICE, SHORT, FIX], ids=["ADVICE", "SHORT", "FIX"])
def test_every_cause_code_and_nothing_else_has_an_entry(table: dict[str, object]) -> None:
    """A new cause in schema.CAUSES without advice would fail the report (`ADVICE[cause]`) on its first run."""
    assert set(table) == set(S.CAUSES)


@pytest.mark.parametrize("cause", S.FAILURE_CAUSES)
def test_each_failure_has_a_title_a_meaning_and_steps(cause: str) -> None:
    a = ADVICE[cause]
    assert isinstance(a, Advice) and isinstance(a.steps, tuple)
    assert a.title.strip() and a.title[0].isupper() and not a.title.endswith(".")
    assert len(a.meaning) > 30 and a.meaning.endswith(".")
    assert a.steps and all(len(s) > 20 and s.endswith((".", ")")) for s in a.steps)
    assert FIX[cause].endswith(".") and len(FIX[cause]) <= 110  # one line beside the cause on the first screen


def test_a_valid_token_needs_no_steps_and_no_fix() -> None:
    assert ADVICE[S.OK].steps == () and FIX[S.OK] == "" and SHORT[S.OK] == "Valid"


def test_titles_and_short_names_tell_causes_apart() -> None:
    """Legends and table cells show only these: two causes with one name could not be told apart."""
    assert len({a.title for a in ADVICE.values()}) == len(S.CAUSES)
    assert len(set(SHORT.values())) == len(S.CAUSES)
    assert all(len(s) <= 25 for s in SHORT.values())  # fits a chart legend


def test_texts_are_plain_text_without_html() -> None:
    found = [(cause, text) for cause, text in _texts() if HTML.search(text)]
    assert not found
    assert all("\n" not in text and text == text.strip() for _, text in _texts())


# ----------------------------------------------------------------------------- next steps


@pytest.mark.parametrize("cause", S.CAUSES)
def test_the_first_step_names_the_client_host_and_occurrences(cause: str) -> None:
    steps = next_steps(cause, facts())
    assert steps[0] == "Client orders-web (c-1) sent 12,345 of these to orders.contoso.com."
    with_detail = next_steps(cause, facts(detail="expired 2 h 5 min before the request", occurrences=1))
    assert with_detail[0] == ("Client orders-web (c-1) sent 1 of these to orders.contoso.com. "
                              "Example: expired 2 h 5 min before the request")
    assert all(isinstance(s, str) and s for s in steps)


@pytest.mark.parametrize("cause", [S.MALFORMED, S.ENCRYPTED, S.UNSUPPORTED_ALG, S.MISSING_CLAIMS, S.NOT_YET_VALID,
                                   S.MISSING_NONCE, S.CLIENT_ASSERTION_KEY_MISMATCH, S.OK])
def test_causes_without_values_to_compare_get_only_the_client_step(cause: str) -> None:
    assert len(next_steps(cause, facts())) == 1


def test_audience_mismatch_compares_sent_and_accepted_and_names_the_scope() -> None:
    steps = next_steps(S.AUDIENCE_MISMATCH, facts())
    assert steps[1] == (f"Audience sent: https://graph.microsoft.com. Audiences the API accepts: {GUID}, "
                        "api://orders. Have the client request its token with scope api://orders/.default.")


def test_wrong_token_type_names_the_client_audience_and_the_scope_to_request() -> None:
    steps = next_steps(S.WRONG_TOKEN_TYPE, facts(audience="c-1"))
    assert steps[1] == ("The token's aud is c-1 (the client itself). Request an access token with scope "
                        "api://orders/.default and send that instead.")


@pytest.mark.parametrize("cause", [S.AUDIENCE_MISMATCH, S.WRONG_TOKEN_TYPE])
def test_without_expected_audiences_the_scope_is_a_placeholder(cause: str) -> None:
    step = next_steps(cause, facts(expected_audiences=()))[1]
    assert "scope api://<your-api>/.default" in step
    if cause == S.AUDIENCE_MISMATCH:
        assert "Audiences the API accepts: (not configured: inferred from accepted tokens)." in step


@pytest.mark.parametrize(("audiences", "scope"), [
    ((GUID, "api://orders"), "api://orders/.default"),  # the app ID URI, wherever it is listed
    (("api://orders", GUID), "api://orders/.default"),
    ((GUID,), f"{GUID}/.default"),  # a GUID alone is a valid scope resource too
    (("https://orders.contoso.com/",), "https://orders.contoso.com/.default"),  # one slash, not two
    (("api://orders/.default",), "api://orders/.default"),  # configured as a scope: appended once
    (("api://orders//",), "api://orders/.default"),
    ((), "api://<your-api>/.default"),
])
def test_default_scope(audiences: tuple[str, ...], scope: str) -> None:
    assert default_scope(audiences) == scope
    assert default_scope(list(audiences)) == scope


def test_issuer_mismatch_compares_issuers_against_the_tenants_metadata() -> None:
    steps = next_steps(S.ISSUER_MISMATCH, facts())
    assert steps[1] == (f"Issuer sent: https://sts.windows.net/{TENANT}/. Issuers accepted: "
                        f"https://login.microsoftonline.com/{TENANT}/v2.0. Compare with the issuer in "
                        f"login.microsoftonline.com/{TENANT}/v2.0/.well-known/openid-configuration.")
    bare = next_steps(S.ISSUER_MISMATCH, facts(tenant="", expected_issuers=()))[1]
    assert "Issuers accepted: (not configured: inferred from accepted tokens)." in bare
    assert "login.microsoftonline.com/<tenant>/v2.0/.well-known" in bare


@pytest.mark.parametrize("cause", [S.UNKNOWN_KID, S.BAD_SIGNATURE])
def test_key_causes_point_at_the_tenants_keys(cause: str) -> None:
    assert next_steps(cause, facts())[1] == (f"Compare the token's kid with the keys at login.microsoftonline.com/"
                                             f"{TENANT}/discovery/v2.0/keys (issuer https://sts.windows.net/{TENANT}/).")
    assert "login.microsoftonline.com/<tenant>/discovery" in next_steps(cause, facts(tenant=""))[1]


def test_expired_asks_the_clients_owner_about_caching() -> None:
    assert next_steps(S.EXPIRED, facts())[1].startswith("Ask the owner of client orders-web (c-1) whether it caches")


def test_values_are_left_as_they_are_for_the_template_to_escape() -> None:
    """Plain text in, plain text out: escaping here as well would show `&lt;` in the report."""
    hostile = "<script>alert(1)</script> & \"q\""
    steps = next_steps(S.AUDIENCE_MISMATCH, facts(client=hostile, audience=hostile, detail=hostile))
    assert steps[0].count(hostile) == 2 and hostile in steps[1]
    assert "&lt;" not in "".join(steps) and "&amp;" not in "".join(steps)
