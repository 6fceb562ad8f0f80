"""Claims as examples show them: personal ones hashed, lists kept as lists, sizes bounded; and the hashing key
itself (created once, readable by the owner only, shared by processes that create it at once)."""

from __future__ import annotations

import hashlib
import hmac
import json
import multiprocessing
import os
import re
import stat
from pathlib import Path
from typing import Any

import pytest

from analyzer import schema as S
from analyzer.errors import ConfigError
from analyzer.tokens import privacy as P
from analyzer.tokens.privacy import keyed_hash, scrub_claims, shallow, writable

KEY = b"k" * 32


@pytest.fixture
def key_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """$ANALYZER_PII_KEY_FILE pointed at a file that does not exist yet, in a directory that does not either."""
    path = tmp_path / "config" / "analyzer" / "pii-hash.key"
    monkeypatch.setenv(P.KEY_ENV, str(path))
    return path


def _nested(levels: int, leaf: Any = 1) -> Any:
    """`leaf` inside `levels` lists, built without recursion (as orjson reads up to 1024 levels)."""
    v = leaf
    for _ in range(levels):
        v = [v]
    return v


# ----------------------------------------------------------------------------- the key


def test_key_path_is_the_env_file_else_the_user_config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(P.KEY_ENV, str(tmp_path / "mine.key"))
    assert P.key_path() == tmp_path / "mine.key"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    for unset in (lambda: monkeypatch.delenv(P.KEY_ENV), lambda: monkeypatch.setenv(P.KEY_ENV, "")):
        unset()
        assert P.key_path() == tmp_path / "xdg" / "analyzer" / "pii-hash.key"


def test_first_use_creates_a_32_byte_key_readable_by_the_owner_only(key_file: Path) -> None:
    key = P.load_key()
    assert len(key) == 32
    assert key_file.read_text() == key.hex()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert os.listdir(key_file.parent) == [key_file.name]  # the file written aside is gone


def test_later_uses_return_the_same_key(key_file: Path) -> None:
    first = P.load_key()
    assert P.load_key() == first == P.load_key()
    assert key_file.read_text() == first.hex()


def test_an_existing_key_file_is_read_not_replaced(key_file: Path) -> None:
    mine = bytes(range(32))
    key_file.parent.mkdir(parents=True)
    key_file.write_text(f"  {mine.hex().upper()}\n")  # edited by hand: case and whitespace do not matter
    assert P.load_key() == mine
    assert key_file.read_text() == f"  {mine.hex().upper()}\n"


@pytest.mark.parametrize("content", ["", "\n", "  \n\n"])
def test_an_empty_key_file_is_replaced_by_one_key_that_then_stays(key_file: Path, content: str) -> None:
    """Before the fix, an empty file keyed every hash with b"" (anyone could hash a known upn)."""
    key_file.parent.mkdir(parents=True)
    key_file.write_text(content)
    key = P.load_key()
    assert len(key) == 32
    assert P.load_key() == key
    assert key_file.read_text() == key.hex()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert os.listdir(key_file.parent) == [key_file.name]


@pytest.mark.parametrize("content", ["not hex at all", "abcd", "00" * 15, "0" * 63, "0x" + "ab" * 16,
                                     '[[api]]\nname = "orders"\n'])
def test_a_key_file_that_is_no_key_is_refused_never_overwritten(key_file: Path, content: str) -> None:
    """Before the fix, any such file (the config named by mistake, a key cut short) was overwritten with a
    new key, silently: its content was lost and every subject_hash changed."""
    key_file.parent.mkdir(parents=True)
    key_file.write_text(content)
    with pytest.raises(ConfigError) as caught:
        P.load_key()
    assert str(key_file) in str(caught.value) and P.KEY_ENV in str(caught.value)
    assert key_file.read_text() == content
    assert os.listdir(key_file.parent) == [key_file.name]


def test_a_directory_as_the_key_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Before the fix, each call made a new random key (hashes never joined across runs)."""
    monkeypatch.setenv(P.KEY_ENV, str(tmp_path))
    with pytest.raises(ConfigError, match="directory"):
        P.load_key()
    assert os.listdir(tmp_path) == []


def test_the_loser_of_a_creation_race_uses_the_winners_key(key_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another process links its key into place between our read and our link: ours is dropped."""
    winner = bytes(range(100, 132))
    real_link = os.link

    def link_after_the_other_process(src: Any, dst: Any) -> None:
        Path(dst).write_text(winner.hex())
        real_link(src, dst)

    monkeypatch.setattr(P.os, "link", link_after_the_other_process)
    assert P.load_key() == winner
    assert key_file.read_text() == winner.hex()
    assert os.listdir(key_file.parent) == [key_file.name]


def _create(barrier: Any, out: Any) -> None:
    barrier.wait(10)
    out.put(P.load_key().hex())


def test_processes_creating_the_key_at_once_end_with_one_key(key_file: Path) -> None:
    ctx = multiprocessing.get_context("fork")  # the children inherit $ANALYZER_PII_KEY_FILE and this module
    barrier, out = ctx.Barrier(4), ctx.Queue()
    procs = [ctx.Process(target=_create, args=(barrier, out)) for _ in range(4)]
    for p in procs:
        p.start()
    keys = {out.get(timeout=10) for _ in procs}
    for p in procs:
        p.join(10)
        assert p.exitcode == 0
    assert keys == {key_file.read_text()}
    assert os.listdir(key_file.parent) == [key_file.name]


def test_an_unwritable_place_still_gives_a_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Hashes still work (they just do not join across runs) when the key cannot be saved."""
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv(P.KEY_ENV, str(blocker / "pii-hash.key"))  # its directory is a file
    assert len(P.load_key()) == 32
    assert blocker.read_text() == ""


# ----------------------------------------------------------------------------- keyed hashes


def test_keyed_hash_is_h_and_16_hex_of_hmac_sha256() -> None:
    h = keyed_hash(KEY, "ada@contoso.com")
    assert re.fullmatch(r"h:[0-9a-f]{16}", h)
    # The scheme is part of the output format: hashes written by earlier versions must still join.
    assert h == "h:" + hmac.new(KEY, b"ada@contoso.com", hashlib.sha256).hexdigest()[:16]
    assert keyed_hash(KEY, "ada@contoso.com") == h


def test_keyed_hash_depends_on_key_and_value_and_never_shows_the_value() -> None:
    values = ["ada@contoso.com", "grace@contoso.com", "Ada@contoso.com", ""]
    hashes = {keyed_hash(KEY, v) for v in values}
    assert len(hashes) == len(values)
    assert keyed_hash(b"other" * 7, values[0]) != keyed_hash(KEY, values[0])
    assert all("ada" not in h and "contoso" not in h for h in hashes)


def test_keyed_hash_takes_any_value() -> None:
    """An `oid` may arrive as a number or hold a lone surrogate: hashed, never an error."""
    assert keyed_hash(KEY, 42) == keyed_hash(KEY, "42")
    assert re.fullmatch(r"h:[0-9a-f]{16}", keyed_hash(KEY, "x\ud800y"))


# ----------------------------------------------------------------------------- scrubbed claims


def test_lists_stay_lists_and_people_are_hashed() -> None:
    claims = {"roles": ["Orders.Admin", "Orders.Read"], "upn": "ada@contoso.com", "n": {"x": [1, True]},
              "long": "x" * 500, "many": list(range(100))}
    out = scrub_claims(claims, KEY)
    assert out["roles"] == ["Orders.Admin", "Orders.Read"]
    assert out["n"] == {"x": [1, True]}
    assert out["upn"] != "ada@contoso.com" and "ada" not in json.dumps(out)
    assert len(out["long"]) == 200 and len(out["many"]) == 50
    assert "['" not in json.dumps(out)


def test_every_personal_claim_is_hashed_as_the_events_hash_it() -> None:
    """The same keyed hash as the events' user column (`keyed_hash(key, oid)`), so they join."""
    claims = {name: f"value-of-{name}" for name in S.PERSONAL_CLAIMS}
    claims.update({"aud": "api://orders", "scp": "read", "tid": "t-1", "azp": "c-1"})
    out = scrub_claims(claims, KEY)
    for name in S.PERSONAL_CLAIMS:
        assert out[name] == keyed_hash(KEY, f"value-of-{name}"), name
    assert {k: out[k] for k in ("aud", "scp", "tid", "azp")} == {"aud": "api://orders", "scp": "read",
                                                                "tid": "t-1", "azp": "c-1"}
    assert "value-of" not in json.dumps(out)


def test_include_pii_keeps_personal_claims_clear() -> None:
    claims = {"upn": "ada@contoso.com", "oid": "0000-1", "name": "Ada Lovelace"}
    assert scrub_claims(claims, KEY, include_pii=True) == claims


def test_personal_claims_of_any_shape_are_hashed() -> None:
    """A list-valued or nested personal claim is hashed too: no part of it shows."""
    out = scrub_claims({"email": ["ada@contoso.com", "a@b.c"], "sub": {"id": "ada"}, "oid": None}, KEY)
    assert all(re.fullmatch(r"h:[0-9a-f]{16}", out[k]) for k in ("email", "sub", "oid"))
    assert "ada" not in json.dumps(out)


def test_claim_count_and_name_length_are_bounded() -> None:
    claims = {f"c{i:03}": i for i in range(200)} | {"n" * 1000: "long name"}
    out = scrub_claims(claims, KEY)
    assert len(out) == 60 and list(out) == [f"c{i:03}" for i in range(60)]
    out = scrub_claims({"n" * 1000: "long name", "upn" + "x" * 100: "not a personal claim name"}, KEY)
    assert list(out.values()) == ["long name", "not a personal claim name"]
    assert {len(k) for k in out} == {64}


def test_odd_names_and_values_become_text_json_and_utf8_can_hold() -> None:
    claims: dict[Any, Any] = {
        1: "int name", ("t", 2): "tuple name", "ctl\x00\n\x1b": "a\x00b\r\nc\u202e",
        "x\ud800": "\udfff", "upn": "ada\ud800@contoso.com", "obj": object(),
        "pair": "\ud83d\ude00",  # a surrogate pair written as two escapes: one character
        "t": ("a", 1),
    }
    out = scrub_claims(claims, KEY)
    assert out["1"] == "int name" and out["('t', 2)"] == "tuple name"
    assert out["ctl\x00\n\x1b"] == "a\x00b\r\nc\u202e"  # control characters are data: JSON and HTML escape them
    assert out["x\ufffd"] == "\ufffd" and out["pair"] == "\U0001F600"
    assert re.fullmatch(r"h:[0-9a-f]{16}", out["upn"])
    assert out["obj"].startswith("<object object at") and out["t"] == ["a", 1]
    text = json.dumps(out, ensure_ascii=False)
    text.encode("utf-8")
    assert json.loads(text) == out
    assert not re.search(r"[\x00-\x1f]", text)


def test_values_nested_too_deep_become_json_text_not_a_python_repr() -> None:
    out = scrub_claims({"a": [[["x", {"k": [None, "y"]}]]], "d": {"b": {"c": {"d": ("e",)}}}}, KEY)
    assert out["a"] == [[["x", '{"k": [null, "y"]}']]]  # three levels kept, the fourth as text
    assert out["d"] == {"b": {"c": {"d": '["e"]'}}}


@pytest.mark.parametrize("levels", [10, 1000, 1023])
def test_claims_nested_as_deep_as_a_json_reader_takes_do_not_raise(levels: int) -> None:
    """orjson reads 1024 levels; str() and json.dumps() recurse deeper than Python allows. Before the fix one
    such claim in an example ended the whole scan (RecursionError, exit 70)."""
    deep = _nested(levels, "ada@contoso.com")
    out = scrub_claims({"d": deep, "upn": deep, "x": {"y": deep}}, KEY)
    assert re.fullmatch(r"h:[0-9a-f]{16}", out["upn"])
    assert len(json.dumps(out)) < 1000
    assert "ada" not in json.dumps(out["upn"])


# ----------------------------------------------------------------------------- text and depth helpers


def test_writable_replaces_lone_surrogates_only() -> None:
    text = "plain, accented é, emoji \U0001F600, tab\t"
    assert writable(text) is text
    assert writable("a\ud800b\udfff") == "a\ufffdb\ufffd"
    assert writable("\ud83d\ude00") == "\U0001F600"
    assert writable("") == ""


def test_shallow_cuts_deep_values_and_keeps_the_rest() -> None:
    shape = {"a": [1, {"b": (2, "c")}], "n": None, 3: "three"}
    assert shallow(shape) == {"a": [1, {"b": [2, "c"]}], "n": None, "3": "three"}
    assert shallow(_nested(3), levels=2) == [["[…]"]]
    assert shallow({"a": {"b": {}}}, levels=1) == {"a": "{…}"}
    cut = shallow(_nested(1020))
    assert json.loads(json.dumps(cut)) == cut  # the JSON writer no longer recurses too deep
    assert json.dumps(cut).count("[") == 33


# ----------------------------------------------------------------------------- personal by name, place or look

SIG = "Nh1VbXYkVtDr-3dgqWxRIYXnQalTSDWGEVbp-9_srIs"  # 43 characters: an HS256 signature's length
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0." + SIG


def _hashed(value: Any) -> bool:
    return isinstance(value, str) and re.fullmatch(r"h:[0-9a-f]{16}", value) is not None


@pytest.mark.parametrize("name", ["Email", "EMAIL", "Upn", "mail", "emails", "phone_number", "address", "birthdate",
                                  "nickname", "middle_name", "home_oid", "puid", "altsecid", "picture", "website",
                                  "gender", "profile", "signInNames.emailAddress", "displayName", "surname"])
def test_personal_names_the_old_list_missed_are_hashed_in_any_case(name: str) -> None:
    """Before the fix only 15 lower-case top-level names were hashed: B2C `emails`, `mail`, OIDC `phone_number`..."""
    out = scrub_claims({name: "Ada Value", "aud": "api://orders"}, KEY)
    assert out[name] == keyed_hash(KEY, "Ada Value") and out["aud"] == "api://orders"
    assert scrub_claims({name: "Ada Value"}, KEY, include_pii=True) == {name: "Ada Value"}


def test_personal_names_are_hashed_at_any_depth_and_in_lists_of_objects() -> None:
    claims = {"ctx": {"email": "ada@contoso.com", "user": {"Name": "Ada L"}},
              "act": {"sub": "svc-subject", "roles": ["Orders.Read"]}, "people": [{"upn": "x"}, {"oid": "y"}]}
    out = scrub_claims(claims, KEY)
    assert out["ctx"] == {"email": keyed_hash(KEY, "ada@contoso.com"), "user": {"Name": keyed_hash(KEY, "Ada L")}}
    assert out["act"] == {"sub": keyed_hash(KEY, "svc-subject"), "roles": ["Orders.Read"]}
    assert all(_hashed(v) for p in out["people"] for v in p.values())
    assert scrub_claims(claims, KEY, include_pii=True) == claims


def test_personal_names_deeper_than_kept_are_hashed_before_they_become_text() -> None:
    out = scrub_claims({"a": {"b": {"c": {"d": {"email": "deep.ada@contoso.com", "t": JWT}}}}}, KEY)
    text = out["a"]["b"]["c"]["d"]
    assert isinstance(text, str) and "deep.ada" not in text and SIG[:20] not in text
    assert keyed_hash(KEY, "deep.ada@contoso.com") in text and P.TOKEN_REMOVED in text


def test_a_header_is_scrubbed_by_the_same_rules() -> None:
    header = {"alg": "RS256", "kid": "nOo3ZDrODXEK1jKWhXslHR_KXEg", "typ": "JWT", "upn": "ada@contoso.com",
              "x5c": ["MIIC" + "qA1bC2dE3" * 40]}
    out = scrub_claims(header, KEY)
    assert out == {"alg": "RS256", "kid": header["kid"], "typ": "JWT", "upn": keyed_hash(KEY, "ada@contoso.com"),
                   "x5c": [P.TOKEN_REMOVED]}


@pytest.mark.parametrize("value", ["ada@contoso.com", "live.com#ada@contoso.com", "Ada <ada.l@mail.contoso.co.uk>",
                                   "mailto:ada+x@contoso.com"])
def test_a_value_holding_an_email_address_is_hashed_whatever_its_name(value: str) -> None:
    out = scrub_claims({"contact": value, "list": ["x", value], "obj": {"who": value}, value: 1}, KEY)
    h = keyed_hash(KEY, value)
    assert out == {"contact": h, "list": ["x", h], "obj": {"who": h}, h: 1}
    assert scrub_claims({"contact": value}, KEY, include_pii=True) == {"contact": value}


@pytest.mark.parametrize("value", ["api://orders@v2", "user@localhost", "@", "a@b", "Orders@Read"])
def test_an_at_sign_alone_is_not_an_address(value: str) -> None:
    assert scrub_claims({"x": value}, KEY) == {"x": value}


@pytest.mark.parametrize("include_pii", [False, True])
@pytest.mark.parametrize("value", [JWT, f"Bearer {JWT} was refused", "eyJhbGciOiJSUzI1NiJ9.cut", SIG,
                                   SIG.replace("-", "+").replace("_", "/"), "x" * 190 + SIG, "MIIC" + "qA1/bC+2" * 10],
                         ids=["jwt", "jwt in text", "jws cut", "signature", "standard alphabet", "across the cut",
                              "certificate"])
def test_a_token_signature_or_key_in_any_value_is_removed_whatever_include_pii_says(value: str,
                                                                                  include_pii: bool) -> None:
    """Before the fix a JWT in a claim (B2C idp_access_token) was shown whole, signature included."""
    claims = {"t": value, "l": [value], "o": {"k": value}, "upn": value}
    out = scrub_claims(claims, KEY, include_pii)
    assert out["t"] == P.TOKEN_REMOVED and out["l"] == [P.TOKEN_REMOVED] and out["o"] == {"k": P.TOKEN_REMOVED}
    assert out["upn"] == (P.TOKEN_REMOVED if include_pii else keyed_hash(KEY, value))
    assert SIG[:20] not in json.dumps(out)


@pytest.mark.parametrize("value", [
    "https://contoso.b2clogin.com/tfp/11111111-1111-1111-1111-111111111111/B2C_1_SignUpSignIn/v2.0/",
    "11111111-1111-1111-1111-111111111111", "fzqGokS50CaENzjetI0D7Q", "Orders-Read-Write-All-For-The-Production-Tenant",
    "x" * 500, "User.Read Mail.Send offline_access", "api://orders-service-production-westeurope-primary-2024",
])
def test_identifiers_urls_and_names_are_kept(value: str) -> None:
    assert scrub_claims({"v": value}, KEY) == {"v": value[:P.MAX_TEXT]}


def test_key_ids_of_thumbprint_length_are_kept_but_not_a_token_in_them() -> None:
    thumb = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"  # an RFC 7638 thumbprint: 43 characters
    assert scrub_claims({"kid": thumb, "x5t#S256": thumb, "cnf": {"jkt": thumb}}, KEY) == {
        "kid": thumb, "x5t#S256": thumb, "cnf": {"jkt": P.TOKEN_REMOVED}}
    assert scrub_claims({"kid": JWT}, KEY) == {"kid": P.TOKEN_REMOVED}


def test_without_secrets_removes_tokens_only_and_keeps_everything_else_whole() -> None:
    claims = {"upn": "ada@contoso.com", "long": "y" * 5000, "t": JWT, "n": [1, {"sig": SIG, "kid": SIG}], "b": True}
    assert P.without_secrets(claims) == {"upn": "ada@contoso.com", "long": "y" * 5000, "t": P.TOKEN_REMOVED,
                                         "n": [1, {"sig": P.TOKEN_REMOVED, "kid": SIG}], "b": True}


def test_deep_text_is_one_json_text_not_text_of_text() -> None:
    out = scrub_claims({"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": 1}}}}}}}}, KEY)
    assert out["a"]["b"]["c"]["d"] == '{"e": {"f": {"g": {"h": 1}}}}'
