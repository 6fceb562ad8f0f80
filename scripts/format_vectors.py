"""Freeze what the Python format parsers and time parsers answer, as test vectors for the Rust core.

The compiled core takes over per-line parsing; these vectors (`tests/data/vectors/*.jsonl.gz`) are
the oracle its `cargo test` checks against, written once from the Python implementation before it
was deleted. Lines come from every sample in `tests/formats/`, `sample_logs/`, the ground-truth
corpus, a small benchmark corpus, and mutations of them (cut short, junk spliced in).

    python scripts/format_vectors.py            # writes tests/data/vectors/
    python scripts/format_vectors.py --only logged   # writes logged.jsonl.gz alone
"""

from __future__ import annotations

import base64
import bz2
import gzip
import json
import random
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from analyzer import diagnose, formats  # noqa: E402
from analyzer import timeparse as T  # noqa: E402
from analyzer.formats.common import FileContext  # noqa: E402

OUT = ROOT / "tests" / "data" / "vectors"
ZONES = ("UTC", "Europe/Berlin", "+05:30", "America/New_York", "-0800")
FIELDS = ("ts", "host", "method", "path", "status", "client_ip", "user_agent", "query_span")


def b64(b: bytes) -> str:
    return base64.b64encode(b).decode()


def read(path: Path) -> bytes:
    data = path.read_bytes()
    if path.name.endswith(".gz"):
        return gzip.decompress(data)
    if path.name.endswith(".bz2"):
        return bz2.decompress(data)
    if path.name.endswith(".zst"):
        import zstandard

        return zstandard.ZstdDecompressor().decompressobj().decompress(data)
    return data


def log_files(root: Path) -> list[Path]:
    skip = (".csv", ".toml", ".json", ".pem", ".md", ".key", ".crt", ".cer")
    return sorted(p for p in root.rglob("*") if p.is_file() and not p.name.endswith(skip))


def mutate(line: bytes, rng: random.Random) -> bytes:
    r = rng.random()
    if r < 0.35 and len(line) > 4:
        return line[: rng.randrange(1, len(line))]
    if r < 0.6:
        at = rng.randrange(0, len(line) + 1)
        junk = rng.choice([b"\xff\xfe", b"\x00", b'"', b" ", b"\\\"", b"{", b"}", b"[", b"|", b"\t", b"=", b"?",
                           b"%3D", b"\xe2\x86\x92", b"eyJ", b"\xc3"])
        return line[:at] + junk + line[at:]
    if r < 0.8:
        # swap two spaces' neighbourhoods
        parts = line.split(b" ")
        if len(parts) > 3:
            i, j = rng.randrange(len(parts)), rng.randrange(len(parts))
            parts[i], parts[j] = parts[j], parts[i]
        return b" ".join(parts)
    return line.replace(b" ", b"  ", 1)


def fields_json(f: Any) -> dict[str, Any]:
    out = {}
    for name in FIELDS:
        v = getattr(f, name)
        out[name] = list(v) if isinstance(v, tuple) else v
    return out


def line_vectors(files: list[Path], rng: random.Random, per_file: int, out: Any, stats: dict[str, int]) -> None:
    for path in files:
        try:
            data = read(path)
        except Exception:  # noqa: BLE001 - a broken sample file is skipped, not frozen
            continue
        lines = data.split(b"\n")
        fmt = formats.detect(lines[:50])
        zone = rng.choice(ZONES) if rng.random() < 0.3 else "UTC"
        ctx = FileContext(year=2026, tz=T.zone_from_text(zone), mtime_us=1_764_500_000_000_000)
        picked = 0
        token_lines = [i for i, ln in enumerate(lines) if b"eyJ" in ln]
        other = [i for i, ln in enumerate(lines) if b"eyJ" not in ln and ln.strip()]
        chosen = set(rng.sample(token_lines, min(per_file, len(token_lines))))
        chosen |= set(rng.sample(other, min(per_file // 8 + 1, len(other))))
        for i, raw in enumerate(lines):
            line = raw[:-1] if raw.endswith(b"\r") else raw
            if line.startswith(b"#Fields:"):
                ctx.iis_fields = formats.field_names(line[8:])
            if i not in chosen:
                continue
            variants = [line]
            if rng.random() < 0.5:
                variants.append(mutate(line, rng))
            for v in variants:
                for f in (fmt, rng.choice(formats.FORMATS).name if rng.random() < 0.15 else None):
                    if f is None:
                        continue
                    name, got = formats.parse_line(v, f, ctx)
                    out.write(json.dumps({
                        "line": b64(v), "fmt": f, "year": ctx.year, "tz": zone, "mtime_us": ctx.mtime_us,
                        "iis_fields": ctx.iis_fields, "name": name, "fields": fields_json(got),
                        "source": path.name,
                    }) + "\n")
                    picked += 1
        stats[path.name] = picked


def detect_vectors(files: list[Path], rng: random.Random, out: Any) -> None:
    for path in files:
        try:
            lines = read(path).split(b"\n")
        except Exception:  # noqa: BLE001
            continue
        for sample in (lines[:50], rng.sample(lines, min(10, len(lines))), [mutate(ln, rng) for ln in lines[:8]]):
            out.write(json.dumps({"lines": [b64(x) for x in sample], "expect": formats.detect(sample)}) + "\n")


_TIME_RES = (T.ISO_RE, T.CLF_RE, T.SLASHED_RE, T.ASCTIME_RE, T.SYSLOG_RE, T.EPOCH_RE, T._RFC1123_RE)


def _random_times(rng: random.Random) -> list[bytes]:
    mons = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec", "Foo", "jan"]
    out = []
    for _ in range(4000):
        y = rng.choice([1969, 1970, 2000, 2024, 2025, 2026, 2027, 9999, 1, 2026, 2026])
        mo, d = rng.randint(0, 13), rng.choice([0, 1, 9, 15, 28, 29, 30, 31, 32])
        hh, mi, ss = rng.choice([0, 1, 2, 3, 12, 23, 24]), rng.choice([0, 30, 59, 60]), rng.choice([0, 5, 59, 60, 61])
        if rng.random() < 0.3:  # DST edges in Europe and the US
            y, mo, d = 2026, rng.choice([3, 10, 11]), rng.choice([1, 8, 25, 29])
            hh = rng.choice([1, 2, 3])
        frac = rng.choice(["", ".1", ".123", ",123456", ".123456789", ".1234567891", "."])
        zone = rng.choice(["", "Z", "z", "+01:00", "-0800", "+0530", " UTC", "GMT", "+24:00", "+01", "+013"])
        mon = mons[mo] if 0 <= mo < len(mons) else "Nov"
        shapes = [
            f"{y:04d}-{mo:02d}-{d:02d}T{hh:02d}:{mi:02d}:{ss:02d}{frac}{zone}",
            f"{y:04d}-{mo:02d}-{d:02d} {hh:02d}:{mi:02d}:{ss:02d}{frac}{zone}",
            f"{d:02d}/{mon}/{y:04d}:{hh:02d}:{mi:02d}:{ss:02d}{frac} {zone.strip() or '+0000'}",
            f"{d}/{mon}/{y:04d}:{hh:02d}:{mi:02d}:{ss:02d}{frac}",
            f"{y:04d}/{mo:02d}/{d:02d} {hh:02d}:{mi:02d}:{ss:02d}{frac}",
            f"{y:04d}/{mo:02d}/{d:02d} - {hh:02d}:{mi:02d}:{ss:02d}",
            f"Thu {mon} {d:2d} {hh:02d}:{mi:02d}:{ss:02d}{frac[:7]} {y:04d}",
            f"{mon} {d:2d} {hh:02d}:{mi:02d}:{ss:02d}{frac[:7]}",
            f"{mon} {d} {hh:02d}:{mi:02d}:{ss:02d}",
            f"Wed, {d:02d} {mon} {y:04d} {hh:02d}:{mi:02d}:{ss:02d}{frac[:7]} {zone.strip() or 'GMT'}",
            f"{rng.randint(1_500_000_000, 2_999_999_999)}{rng.choice(['', '.5', '123', '.123456789', 'x', '1234'])}",
        ]
        out.append(rng.choice(shapes).encode())
    return out


def time_vectors(files: list[Path], rng: random.Random, out: Any) -> None:
    texts: set[bytes] = set()
    for path in files:
        try:
            data = read(path)
        except Exception:  # noqa: BLE001
            continue
        for rx in _TIME_RES:
            for m in rx.finditer(data[:400_000]):
                texts.add(m.group(0))
                if len(texts) > 20000:
                    break
    all_texts = sorted(texts) + _random_times(rng)
    rng.shuffle(all_texts)
    fns = {
        "parse_iso": lambda t, z, y, b: T.parse_iso(t, z),
        "parse_clf": lambda t, z, y, b: T.parse_clf(t, z),
        "parse_slashed": lambda t, z, y, b: T.parse_slashed(t, z),
        "parse_asctime": lambda t, z, y, b: T.parse_asctime(t, z),
        "parse_syslog": lambda t, z, y, b: T.parse_syslog(t, y, z, b),
        "parse_epoch": lambda t, z, y, b: T.parse_epoch(t),
        "parse_rfc1123": lambda t, z, y, b: T.parse_rfc1123(t, z),
        "parse_any": lambda t, z, y, b: T.parse_any(t, z),
        "search_any": lambda t, z, y, b: T.search_any(t, y, z, b),
    }
    for text in all_texts[:12000]:
        zone = rng.choice(ZONES)
        tz = T.zone_from_text(zone)
        year = rng.choice([2025, 2026])
        before = rng.choice([None, 1_764_500_000_000_000, 1_767_300_000_000_000])
        variants = [text, b"  " + text + b" trailing", text[: max(1, len(text) - 2)]]
        for v in variants:
            for name, fn in fns.items():
                if name in ("search_any", "parse_any") or v is text:
                    try:
                        got = fn(v, tz, year, before)
                    except Exception as e:  # noqa: BLE001 - record that Python raised
                        got = f"raised {type(e).__name__}"
                    out.write(json.dumps({"fn": name, "text": b64(v), "tz": zone, "year": year,
                                          "before_us": before, "expect": got}) + "\n")
    for v in (1.5e9, 1_764_126_855, 1_764_126_855_123, 1.764126855123456e15, 1.7e18, 5, 1e10, -1e9, 9.99e9):
        out.write(json.dumps({"fn": "from_number", "value": v, "expect": T.from_number(v)}) + "\n")


# ---- diagnose.logged_error: the code a server logged next to a token's line ----------------------

_RIDS = ("r-1", "r-2", "abc:12.x_y-z", "0HMV1", "R-1")
_RID_SHAPES = ('"RequestId":"{}"', "request_id={}", "X-Request-ID: {}", 'traceId = "{}"', "correlation_id:{}",
               "requestid={}", "Request-Id: {}", "myrequest_id={}", 'request_id = "', "TRACE_ID\t:\t{}",
               '"trace_id"  =  "{}"', "x-request-id={}{}")
_CODE_LINES = (
    "Microsoft.IdentityModel.Tokens.SecurityTokenSignatureKeyNotFoundException: IDX10503: Signature "
    "validation failed. Number of keys in TokenValidationParameters: '0'. Number of keys in Configuration: '{}'.",
    "IDX10501: Signature validation failed. Unable to match key: kid. Number of keys in Configuration: '0'",
    "IDX10516: Signature validation failed. Number of keys in Configuration: '{}'.",
    "IDX10214: Audience validation failed. Audiences: 'api://x'.",
    "AADSTS50027: JWT token is invalid or malformed.",
    "AADSTS5002712: six digits then more",
    "AADSTS500131: Assertion audience does not match",
    "IDX99999 unknown then IDX10223: Lifetime validation failed.",
    "IDX99999 only an unknown code",
    "IDX1021 too short, idx10214 lower case, XIDX10214 glued",
    "AADSTS1234 short AADSTS700027: Client assertion failed",
    "SecurityTokenExpiredException: IDX10223: Lifetime validation failed. The token is expired.",
    "IDX10503 keys are fine: Number of keys in Configuration: '2'",
    "IDX10214 Bearer eyJhbGciOiJIUzI1NiJ9.e30.x (a token's own line)",
)
_TOKEN_LINES = (
    '{{"RequestId":"{rid}","h":"Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig"}}',
    "GET /api?access_token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig HTTP/1.1 {rshape}",
    "10.0.0.1 - - [26/Nov/2026:03:14:15 +0000] \"GET /x HTTP/1.1\" 401 0 \"Bearer eyJhbGciOi.x.y\"",
    "POST /token client_assertion=eyJhbGciOiJSUzI1NiJ9.e30.s {rshape}",
    "Authorization: Bearer eyJ0eXAiOiJKV1QifQ.e30.s IDX10214 on the line itself",
)


def _logged_chunks(files: list[Path], rng: random.Random) -> list[bytes]:
    """Chunks: windows of the sample and corpus logs with error lines spliced in, and made-up requests."""
    def rid_text() -> str:
        return rng.choice(_RID_SHAPES).format(rng.choice(_RIDS), rng.choice(["", " ", ",", "x"]))

    def code_line() -> str:
        line = rng.choice(_CODE_LINES).format(rng.choice(["0", "2"]))
        return line + (" " + rid_text() if rng.random() < 0.6 else "")

    def token_line() -> str:
        rshape = rid_text() if rng.random() < 0.6 else ""
        return rng.choice(_TOKEN_LINES).format(rid=rng.choice(_RIDS), rshape=rshape)

    chunks = []
    for path in files:
        try:
            lines = [ln for ln in read(path).split(b"\n") if ln.strip()]
        except Exception:  # a broken sample file is skipped
            continue
        token_idx = [i for i, ln in enumerate(lines) if b"eyJ" in ln]
        for i in rng.sample(token_idx, min(6, len(token_idx))):
            window = lines[max(0, i - rng.randint(0, 7)): i + rng.randint(1, 7)]
            for _ in range(rng.randint(0, 3)):
                window.insert(rng.randint(0, len(window)), code_line().encode())
            chunks.append(b"\n".join(window) + rng.choice([b"\n", b""]))
    noise = ["GET /healthz 200", "", "worker started", "request_id=r-9 done", "IDX", "AADSTS"]
    for _ in range(1500):
        lines = [rng.choice([code_line, token_line, lambda: rng.choice(noise)])() for _ in range(rng.randint(1, 12))]
        sep = b"\r\n" if rng.random() < 0.1 else b"\n"
        chunks.append(sep.join(x.encode() for x in lines) + rng.choice([b"\n", b""]))
    return chunks


def logged_vectors(files: list[Path], rng: random.Random, out: Any) -> int:
    """One row per token line of each chunk: what `diagnose.logged_error` answered."""
    rows = 0
    for chunk in _logged_chunks(files, rng):
        start = 0
        while start <= len(chunk):
            end = chunk.find(b"\n", start)
            end = len(chunk) if end < 0 else end
            if b"eyJ" in chunk[start:end]:
                status = rng.choice([None, 200, 204, 302, 399, 400, 401, 403, 500, 199])
                nearby = rng.random() < 0.85
                ls, le = start, end
                if rng.random() < 0.03:  # offsets off the line's bounds: Python's slices clamp
                    ls, le = rng.choice([(start + 1, end), (start, len(chunk) + 5), (end, start), (len(chunk) + 2,
                                                                                                  len(chunk) + 9)])
                out.write(json.dumps({"chunk": b64(chunk), "line_start": ls, "line_end": le, "status": status,
                                      "nearby": nearby,
                                      "expect": diagnose.logged_error(chunk, ls, le, status, nearby)}) + "\n")
                rows += 1
            start = end + 1
    return rows


def _files(tmpdir: Path) -> list[Path]:
    import realistic_corpus

    realistic_corpus.build(tmpdir / "real", per_format=60)
    return log_files(ROOT / "tests" / "formats") + log_files(ROOT / "sample_logs") + log_files(tmpdir / "real" / "logs")


def main_logged() -> None:
    """Only `logged.jsonl.gz` (the other vector files froze parsers that are gone from Python)."""
    rng = random.Random(2027)
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        files = _files(Path(tmp))
        with gzip.open(OUT / "logged.jsonl.gz", "wt", encoding="utf-8", compresslevel=9) as out:
            rows = logged_vectors(files, rng, out)
    print(f"{rows} logged_error vectors written to {OUT / 'logged.jsonl.gz'}")


def main() -> None:
    rng = random.Random(2026)
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        import realistic_corpus

        realistic_corpus.build(tmpdir / "real", per_format=60)
        subprocess.run([sys.executable, str(ROOT / "benchmarks" / "make_corpus.py"), "--size", "4MB",
                        "--out", str(tmpdir / "bench")], check=True, capture_output=True)
        files = (log_files(ROOT / "tests" / "formats") + log_files(ROOT / "sample_logs")
                 + log_files(tmpdir / "real" / "logs") + log_files(tmpdir / "bench" / "logs"))
        stats: dict[str, int] = {}
        with gzip.open(OUT / "lines.jsonl.gz", "wt", encoding="utf-8", compresslevel=9) as out:
            line_vectors(files, rng, 40, out, stats)
        with gzip.open(OUT / "detect.jsonl.gz", "wt", encoding="utf-8", compresslevel=9) as out:
            detect_vectors(files, rng, out)
        with gzip.open(OUT / "times.jsonl.gz", "wt", encoding="utf-8", compresslevel=9) as out:
            time_vectors(files, rng, out)
    print(f"{sum(stats.values())} line vectors from {len(stats)} files; written to {OUT}")


if __name__ == "__main__":
    if sys.argv[1:] == ["--only", "logged"]:
        main_logged()
    elif sys.argv[1:]:
        sys.exit("usage: format_vectors.py [--only logged]")
    else:
        main()
