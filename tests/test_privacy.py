"""Claims as examples show them: personal ones hashed, lists kept as lists, sizes bounded."""

from __future__ import annotations

import json

from analyzer.tokens.privacy import scrub_claims


def test_lists_stay_lists_and_people_are_hashed() -> None:
    claims = {"roles": ["Orders.Admin", "Orders.Read"], "upn": "ada@contoso.com", "n": {"x": [1, True]},
              "long": "x" * 500, "many": list(range(100))}
    out = scrub_claims(claims, b"k" * 32)
    assert out["roles"] == ["Orders.Admin", "Orders.Read"]
    assert out["n"] == {"x": [1, True]}
    assert out["upn"] != "ada@contoso.com" and "ada" not in json.dumps(out)
    assert len(out["long"]) == 200 and len(out["many"]) == 50
    assert "['" not in json.dumps(out)
