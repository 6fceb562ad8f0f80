"""config: TOML parsing, validation errors, precedence of flags."""

from __future__ import annotations

from pathlib import Path

import pytest

from analyzer.config import build_settings, load_config, normalize_thumbprint
from analyzer.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "analyzer.toml"
    p.write_text(text)
    return p


def test_full_config(tmp_path: Path) -> None:
    (tmp_path / "keys.json").write_text('{"keys": []}')
    p = write(tmp_path, """
leeway_seconds = 60
[[issuer]]
jwks_file = "keys.json"
[[api]]
name = "orders"
hosts = ["Orders.Contoso.com"]
audiences = ["api://orders"]
[[client]]
client_id = "c1"
name = "billing"
certificate_thumbprints = ["84E05C1D98BCE3A5421D225B140B36E86A3D5534", "hOBcHZi846VCHSJbFAs26Go9VTQ"]
""")
    s = build_settings(p, [])
    assert s.leeway_seconds == 60
    assert s.apis[0].hosts == ("orders.contoso.com",)
    assert s.issuers[0].jwks_file == (tmp_path / "keys.json").resolve()
    # Microsoft's worked example: the hex and x5t forms are the same thumbprint.
    assert s.clients[0].thumbprints == {"84e05c1d98bce3a5421d225b140b36e86a3d5534"}
    assert (tmp_path / "keys.json").resolve() in s.skip_paths


def test_flags_win_over_config(tmp_path: Path) -> None:
    p = write(tmp_path, "leeway_seconds = 60\n")
    assert build_settings(p, [], leeway_seconds=5).leeway_seconds == 5
    assert build_settings(p, [], leeway_seconds=None).leeway_seconds == 60


@pytest.mark.parametrize(("text", "words"), [
    ("leeway = 3", "unknown setting 'leeway'"),
    ("leeway_seconds = -1", "leeway_seconds"),
    ("leeway_seconds = 'x'", "leeway_seconds"),
    ("[[api]]\nname='a'\n", "needs hosts or sources"),
    ("[[api]]\nhosts='h'\npath_prefix='x'\n", "path_prefix"),
    ("[[issuer]]\n", "exactly one"),
    ("[[client]]\nclient_id='c'\ncertificate_thumbprints=['zz']\n", "thumbprint"),
    ("this is = not toml [", "invalid TOML"),
])
def test_bad_config_is_one_clear_error(tmp_path: Path, text: str, words: str) -> None:
    p = write(tmp_path, text)
    with pytest.raises(ConfigError) as e:
        load_config(p)
    assert words in str(e.value)
    assert str(p) in str(e.value)
    assert "\n" not in str(e.value)


def test_missing_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        build_settings(tmp_path / "nope.toml", [])
    with pytest.raises(ConfigError, match="key set file not found"):
        build_settings(None, [], jwks=[str(tmp_path / "nope.json")])


def test_thumbprint_forms() -> None:
    assert normalize_thumbprint("84:E0:5C:1D:98:BC:E3:A5:42:1D:22:5B:14:0B:36:E8:6A:3D:55:34") == \
        "84e05c1d98bce3a5421d225b140b36e86a3d5534"


@pytest.mark.parametrize(("text", "words"), [
    ("[[api]]\nname='a'\nhosts=['h']\naudiance=['x']\n", "api[0]: unknown key 'audiance' (did you mean 'audiences'?)"),
    ("[[api]]\nname='a'\nhosts=['h']\n[[api]]\nname='b'\nhosts=['h']\npath_prefx='/v1/'\n",
     "api[1]: unknown key 'path_prefx' (did you mean 'path_prefix'?)"),
    ("[[client]]\nclient_id='c'\nnmae='billing'\n", "client[0]: unknown key 'nmae' (did you mean 'name'?)"),
    ("[[issuer]]\njwks_file='k.json'\nalgoritms=['RS256']\n",
     "issuer[0]: unknown key 'algoritms' (did you mean 'algorithms'?)"),
    ("leway_seconds = 3\n", "unknown setting 'leway_seconds' (did you mean 'leeway_seconds'?)"),
    ("[[api]]\nname='a'\nhosts=['h']\nzzz=1\n", "api[0]: unknown key 'zzz' (known: audiences, hosts,"),
])
def test_typos_in_tables_are_refused_with_a_suggestion(tmp_path: Path, text: str, words: str) -> None:
    """A misspelt key in [[api]], [[client]] or [[issuer]] would silently switch a check off."""
    p = write(tmp_path, text)
    with pytest.raises(ConfigError) as e:
        load_config(p)
    assert words in str(e.value)
    assert "\n" not in str(e.value)
