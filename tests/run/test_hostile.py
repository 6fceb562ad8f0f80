"""Hostile input: the real pipeline on what strangers can put in a log, with no crash, hang or blow-up.

Cases that could hang or grow memory run in a subprocess with a generous timeout and report their
peak RSS; the rest run in-process through `run.run`. Each case is a regression test: the
1 MB token took 90 s before the HAProxy line pattern got its lookbehind.
"""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import os
import random
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any

import jwts as T
import pytest
import zstandard
from conftest import ROOT
from hostile_logs import CLIENT, TENANT, nginx_line, raw_token, scan, token

from analyzer import schema as S
from analyzer.config import build_settings, parse_size
from analyzer.scan.readers import decompressed_limit

# The analyzer with pandas and pyarrow loaded sits near 200 MB; a case that buffered its input
# (10 MB line, 200 MB decompressed bomb) or built a quadratic structure would pass this.
RSS_LIMIT_KB = 450_000

# Run the CLI in a child and print its peak RSS (KB) on stderr as it exits. VmHWM, not ru_maxrss: on
# Linux a child's ru_maxrss starts from the RSS of the process that forked it (pytest, hundreds of MB
# with coverage on), while VmHWM belongs to the child's own address space.
_CHILD = (
    "import atexit, re, sys\n"
    "atexit.register(lambda: sys.stderr.write('MAXRSS %s\\n' % re.search(r'VmHWM:\\s+(\\d+)', "
    "open('/proc/self/status').read()).group(1)))\n"
    "from analyzer.__main__ import main\n"
    "sys.argv = ['analyzer', *sys.argv[1:]]\n"
    "main()\n"
)


def scan_child(tmp_path: Path, *args: str, timeout: float = 120, out: str = "out") -> tuple[int, dict[str, Any], int]:
    """Run `analyzer scan` in a subprocess: (exit code, run summary, peak RSS in KB)."""
    r = subprocess.run([sys.executable, "-c", _CHILD, "scan", *args, "--out", str(tmp_path / out), "--quiet", "--json",
                        "--offline", "--workers", "1"], capture_output=True, text=True, timeout=timeout,
                       cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert "Traceback" not in r.stderr, r.stderr[-3000:]
    rss = int(r.stderr.rsplit("MAXRSS ", 1)[1].split()[0])
    summary = json.loads(r.stdout) if r.stdout.strip() else {}
    return r.returncode, summary, rss


def causes(summary: dict[str, Any]) -> dict[str, int]:
    return {k: v for k, v in summary["tokens"]["by_cause"].items() if v}


# --- bytes that are not text ----------------------------------------------------------------------

@pytest.mark.whole_run
def test_random_bytes(tmp_path: Path) -> None:
    rng = random.Random(7)
    f = tmp_path / "random.log"
    f.write_bytes(rng.randbytes(2 << 20))
    s = scan(tmp_path / "out", f)
    assert s["exit_code"] == 0
    assert s["files"]["bytes"] == 2 << 20
    assert set(s["tokens"]["by_cause"]) <= set(S.CAUSES)


@pytest.mark.whole_run
def test_invalid_utf8_and_nul_bytes_around_a_token(tmp_path: Path) -> None:
    tok = token()
    lines = [nginx_line(tok).encode().replace(b"GET", b"G\x00T"), b"\xff\xfe\x80\xc3(\x00\x00\n",
             b"\x00" * 5000 + b"\n", nginx_line(tok).encode().replace(b"curl/8", b"\xed\xa0\x80\xf8")]
    f = tmp_path / "binary.log"
    f.write_bytes(b"".join(lines))
    s = scan(tmp_path / "out", f)
    assert s["exit_code"] == 0
    assert s["tokens"]["occurrences"] == 2
    assert s["files"]["lines_undecodable"] >= 2


# --- sizes that break naive code ------------------------------------------------------------------

@pytest.mark.whole_run
def test_ten_megabyte_line_without_newline(tmp_path: Path) -> None:
    f = tmp_path / "long.log"
    tok = token()
    f.write_bytes(b"x" * (10 << 20) + b" Authorization: Bearer " + tok.encode())
    code, s, rss = scan_child(tmp_path, str(f))
    assert code == 0
    assert s["tokens"]["occurrences"] == 1
    assert s["files"]["long_lines"] >= 1
    assert rss < RSS_LIMIT_KB


@pytest.mark.whole_run
def test_millions_of_eyj_prefixes_scan_in_linear_time(tmp_path: Path) -> None:
    # The pitfall of design-notes: a pattern that may start at every `eyJ` of a run is quadratic
    # (hours for a few MB). Linear scanning does this in well under a second.
    f = tmp_path / "eyj.log"
    f.write_bytes(b"eyJ" * 2_000_000 + b"\n" + b"Authorization: Bearer eyJ\n" * 200_000
                  + b"eyJhbGciOi." * 300_000 + b"\n")
    code, s, rss = scan_child(tmp_path, str(f), timeout=90)
    assert code == 0
    assert s["files"]["lines"] == 200_002
    assert rss < RSS_LIMIT_KB


@pytest.mark.whole_run
def test_one_megabyte_tokens(tmp_path: Path) -> None:
    # One token of 1 MB (longer than a read chunk) and one of 200 KB, in a header and in a
    # JSON field; the HAProxy pattern used to spend 90 s on the long run of `A`.
    big = "eyJ" + "A" * (1 << 20) + "." + "B" * 100 + "." + "C" * 100
    mid = T.b64url_json({"alg": "RS256", "pad": "A" * 150_000}) + "." + T.b64url_json({"x": 1}) + ".c2ln"
    f = tmp_path / "big.log"
    f.write_text(f"Authorization: Bearer {big}\n{nginx_line(mid)}" + json.dumps({"access_token": mid}) + "\n")
    code, s, rss = scan_child(tmp_path, str(f), timeout=90)
    assert code == 0
    assert causes(s).get(S.MALFORMED, 0) >= 2  # the 200 KB token: "far beyond any real token"
    assert rss < RSS_LIMIT_KB


@pytest.mark.whole_run
def test_long_runs_of_every_character_class_parse_in_linear_time(tmp_path: Path) -> None:
    # Every log format's line parser on long runs of what its patterns repeat. Linear work takes
    # milliseconds per line; a quadratic pattern (as the HAProxy one was) takes many seconds.
    script = (
        "import time\n"
        "import analyzer._core\nfrom analyzer.scan import formats, extract\n"
        "from analyzer import schema as S\n"
        "ctx = formats.FileContext(year=2024, mtime_us=0)\n"
        "units = [b'A', b'0', b'a', b':', b'.', b'1.1.1.1:1 [', b'eyJ', b'{\"', b'\"a\":', b'a=\"', b'\\\\\"',\n"
        "         b'[', b'%20', b'Bearer ', b'GET ', b'a=', b' ', b'-', b'%3D', b'Cookie: a=', b'?a=', b'&a=',\n"
        "         b'2024-10-10T10:00:00Z ', b'10/Oct/2024:13:55:36 ', b'AADSTS', b'IDX1', b'\\t', b'|', b'<']\n"
        "worst = (0.0, '')\n"
        "for u in units:\n"
        "    for size, fmts in ((300_000, [S.FMT_GENERIC]), (40_000, S.FORMATS)):\n"
        "        line = u * (size // len(u)) + b' Authorization: Bearer eyJhbGciOiJub25lIn0.eyJ4IjoxfQ.'\n"
        "        t = time.perf_counter()\n"
        "        list(extract.find_tokens(line, 1)); extract.locate(line[-160:]); extract.count_masked(line)\n"
        "        analyzer._core.logged_error(line, 0, len(line), None); formats.detect([line])\n"
        "        for f in fmts:\n"
        "            formats.parse_line(line, f, ctx)\n"
        "        worst = max(worst, (time.perf_counter() - t, f'{u!r} x {size}'))\n"
        "print('worst', worst)\n"
    )
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert r.returncode == 0, r.stderr[-3000:]
    seconds = float(r.stdout.split("worst (")[1].split(",")[0])
    # Generous: linear is ~0.05 s; the quadratic HAProxy pattern took 80 s on the 40 KB run of `A`.
    assert seconds < 10, r.stdout


# --- JSON and claims of the wrong shape -------------------------------------------------------------

@pytest.mark.whole_run
def test_json_nested_100000_levels(tmp_path: Path) -> None:
    deep_list = b"[" * 100_000 + b"]" * 100_000
    deep_obj = b'{"a":' * 100_000 + b"1" + b"}" * 100_000
    toks = [
        T.b64url(b'{"alg":"RS256"}') + "." + T.b64url(deep_list) + ".c2lnbmF0dXJl",
        T.b64url(b'{"alg":"RS256","x":' + deep_list + b"}") + "." + T.b64url_json({}) + ".c2lnbmF0dXJl",
        T.b64url(b'{"alg":"RS256"}') + "." + T.b64url(b'{"a":' + deep_obj + b"}") + ".c2lnbmF0dXJl",
    ]
    f = tmp_path / "nested.log"
    body = "".join(f"Authorization: Bearer {t}\n" for t in toks)
    # JSON log lines nested just as deep, one with a token inside.
    body += '{"a":' * 100_000 + json.dumps({"authorization": "Bearer " + token()}) + "}" * 100_000 + "\n"
    body += "[" * 100_000 + "\n"
    f.write_text(body)
    s = scan(tmp_path / "out", f)
    assert s["exit_code"] == 0
    assert s["tokens"]["occurrences"] == 4
    assert causes(s).get(S.MALFORMED, 0) == 3


@pytest.mark.whole_run
@pytest.mark.parametrize("claim,values", [
    ("aud", [5, 1e308, None, True, [], {}, [1, {"a": 1}, None], "x" * 100_000]),
    ("exp", ["tomorrow", 1e308, -1e308, -5, True, None, [], {"x": 1}, 2**70, 0, 1.5]),
    ("nbf", [-1, -1e308, "yesterday", [1], 2**64]),
    ("iss", [7, None, ["a"], {"u": "http://127.0.0.1:9/"}]),
    ("tid", [[1], 3.5, {"a": None}]),
])
def test_claims_of_every_json_type(tmp_path: Path, claim: str, values: list[Any]) -> None:
    base = T.access_token_claims(TENANT, "api://orders", CLIENT, scp="read", seed=2)
    odd = [raw_token({**base, claim: v}) for v in values]
    odd += [raw_token({**base, "scp": {"a": 2}, "roles": 5, "appid": [1], "azp": {}, "ver": 2.0, "oid": [1],
                       "sub": None, "upn": 5}),
            raw_token(base, {"kid": 5, "typ": [], "x5t": 3}), raw_token(base, {"kid": {"a": 1}, "alg": 5}),
            raw_token(base, {"alg": None}), raw_token([1, 2]), raw_token("a string"), raw_token(None)]
    f = tmp_path / "odd.log"
    f.write_text("".join(nginx_line(t) for t in odd))
    s = scan(tmp_path / "out", f)
    assert s["exit_code"] == 0
    assert s["tokens"]["occurrences"] == len(odd)
    assert set(causes(s)) <= set(S.CAUSES)
    if claim == "exp":  # a date that is not a number of seconds is malformed, not a crash or `ok`
        assert causes(s)[S.MALFORMED] >= 7


@pytest.mark.whole_run
def test_base64_with_padding_in_odd_places(tmp_path: Path) -> None:
    h, p, sig = token().split(".")
    variants = [f"{h}=.{p}.{sig}", f"{h}.{p}==.{sig}", f"{h}.{p}.{sig}===", f"{h}=a.{p}.{sig}",
                f"{h}.{p}.{sig[:5]}={sig[5:]}", f"{h}%3D.{p}.{sig}", f"{h}====.{p}====.{sig}====",
                f"{h}.{p}%3d%3D.{sig}", f"{h[:-1]}.{p}.{sig}", f"{h}.{p[:-1]}.{sig}", f"{h}.{p}.{sig[:-1]}",
                f"{h}..{sig}", f"{h}.{p}..", f"{h}.{p}.{sig}.{sig}", f"{h}.{p}.{sig}.x.y.z"]
    f = tmp_path / "padding.log"
    f.write_text("".join(nginx_line(v) for v in variants))
    s = scan(tmp_path / "out", f)
    assert s["exit_code"] == 0
    assert s["tokens"]["occurrences"] >= len(variants) - 2  # `=a` and `.x.y.z` may split differently
    assert set(causes(s)) <= set(S.CAUSES)


# --- archives -------------------------------------------------------------------------------------

def _gzip_run(n_mib: int, unit: bytes) -> tuple[bytes, int]:
    """(gzip of `unit` repeated to about n_mib MiB, compressed piece by piece, its decompressed size)."""
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    piece = unit * ((1 << 20) // len(unit))
    out = [c.compress(piece) for _ in range(n_mib)]
    return b"".join(out) + c.flush(), len(piece) * n_mib


@pytest.mark.whole_run
def test_gzip_bomb_is_cut_at_the_limit(tmp_path: Path) -> None:
    f = tmp_path / "bomb.log.gz"
    data, size = _gzip_run(64, b"A" * 1000 + b"\n")
    f.write_bytes(data)
    code, s, _ = scan_child(tmp_path, str(f), "--max-decompressed", "1MiB")
    assert code == 0
    assert s["files"]["bytes"] <= 1 << 20
    assert any("--max-decompressed" in e for e in s["files"]["errors"])
    # The option lifts the limit: the whole file is read.
    code, s, _ = scan_child(tmp_path, str(f), "--max-decompressed", "1GiB", out="out2")
    assert code == 0
    assert s["files"]["bytes"] == size and not s["files"]["errors"]


@pytest.mark.whole_run
def test_gzip_bomb_of_one_line_keeps_memory_bounded(tmp_path: Path) -> None:
    small = tmp_path / "small.log"
    small.write_text(nginx_line(token()))
    _, _, base_rss = scan_child(tmp_path, str(small), out="base")
    f = tmp_path / "oneline.gz"
    data, size = _gzip_run(96, b"eyJ" * 1000)  # 96 MB, no newline, every byte could be part of a token
    f.write_bytes(data)
    code, s, rss = scan_child(tmp_path, str(f))
    assert code == 0
    assert s["files"]["bytes"] == size
    assert s["files"]["long_lines"] == 1
    # Reading it whole (or one copy of it) would add 96 MB or more.
    assert rss - base_rss < 64_000, (rss, base_rss)


def test_default_decompression_limit_and_size_option() -> None:
    assert decompressed_limit(0) == 10 << 30
    assert decompressed_limit(100 << 20) == 1000 * (100 << 20)
    assert parse_size("10GiB") == 10 << 30 and parse_size("500MB") == 500_000_000 and parse_size(4096) == 4096
    for bad in ("", "ten", "-1", "0", 0, True, "1XB"):
        with pytest.raises(ValueError):
            parse_size(bad)


def test_max_decompressed_from_config_and_bad_values(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from analyzer.cli import app

    cfg = tmp_path / "analyzer.toml"
    cfg.write_text('max_decompressed = "2MiB"\n')
    settings = build_settings(cfg, [])
    assert settings.max_decompressed == 2 << 20
    r = CliRunner().invoke(app, ["scan", str(tmp_path), "--max-decompressed", "lots", "--out", str(tmp_path / "o")])
    assert r.exit_code == 2


def _lines(n: int) -> bytes:
    rng = random.Random(3)  # random text compresses poorly: a cut archive still holds whole lines
    return b"".join(f"{rng.getrandbits(256):064x} {nginx_line(token())}".encode() for _ in range(n))


@pytest.mark.whole_run
@pytest.mark.parametrize("ext,compress", [("gz", gzip.compress), ("bz2", bz2.compress), ("xz", lzma.compress),
                                          ("zst", zstandard.compress)])
def test_truncated_archives(tmp_path: Path, ext: str, compress: Any) -> None:
    data = compress(_lines(3000))
    cut = tmp_path / f"app.log.{ext}"
    cut.write_bytes(data[: len(data) * 2 // 3])
    s = scan(tmp_path / "out", cut)
    assert s["exit_code"] == 0
    assert s["files"]["errors"], "the damage is counted"
    assert 0 < s["tokens"]["occurrences"] < 3000
    # An archive cut so early that nothing at all can be read: exit 3.
    tiny = tmp_path / "tiny" / f"x.log.{ext}"
    tiny.parent.mkdir()
    tiny.write_bytes(data[:12])
    s = scan(tmp_path / "out2", tiny)
    assert s["exit_code"] == 3
    assert s["files"]["errors"]


# --- the file system ------------------------------------------------------------------------------

@pytest.mark.whole_run
def test_directory_symlink_loop(tmp_path: Path) -> None:
    d = tmp_path / "logs" / "a" / "b"
    d.mkdir(parents=True)
    (d / "loop").symlink_to(tmp_path / "logs")
    (d / "self").symlink_to(".")
    (tmp_path / "logs" / "dangling").symlink_to(tmp_path / "nowhere")
    (d / "x.log").write_text(nginx_line(token()))
    s = scan(tmp_path / "out", tmp_path / "logs")
    assert s["exit_code"] == 0
    assert s["tokens"]["occurrences"] == 1
    assert any("loop" in e for e in s["files"]["errors"])


@pytest.mark.whole_run
def test_file_that_vanishes_or_grows_while_being_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from analyzer.scan import inputs

    logs = tmp_path / "logs"
    logs.mkdir()
    gone, grows, stays = logs / "gone.log", logs / "grows.log", logs / "stays.log"
    for f in (gone, grows, stays):
        f.write_text(nginx_line(token()) * 10)
    real = inputs.expand_inputs

    def expand_then_change(paths: list[str], skip: frozenset[Path] = frozenset()) -> inputs.Expansion:
        got = real(paths, skip)
        gone.unlink()  # listed, then deleted before it is opened
        with grows.open("a") as fh:  # listed at one size, read at another
            fh.write(nginx_line(token(uti="more")) * 50_000)
        return got

    import analyzer.run

    monkeypatch.setattr(analyzer.run, "expand_inputs", expand_then_change)
    s = scan(tmp_path / "out", logs)
    assert s["exit_code"] == 0
    assert s["tokens"]["occurrences"] == 50_020
    assert any("gone.log" in e for e in s["files"]["errors"])


@pytest.mark.whole_run
def test_nothing_readable_exits_3(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.log")  # exists, but is no log file
    s = scan(tmp_path / "out", tmp_path / "pipe.log")
    assert s["exit_code"] == 3


def test_a_missing_input_is_refused_before_the_output_directory_exists(tmp_path: Path) -> None:
    from analyzer.errors import ExitCode, InputNotFoundError

    with pytest.raises(InputNotFoundError) as e:
        scan(tmp_path / "out", tmp_path / "missing.log")
    assert e.value.exit_code == ExitCode.USAGE and str(tmp_path / "missing.log") in str(e.value)
    assert not (tmp_path / "out").exists()
