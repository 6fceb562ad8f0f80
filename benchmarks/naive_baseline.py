#!/usr/bin/env python3
"""The straightforward baseline: what someone would write first to check the tokens in their logs.

    python benchmarks/naive_baseline.py CORPUS/logs --jwks CORPUS/jwks.json --config CORPUS/analyzer.toml

A `for line in file` loop (gzip and bz2 via the stdlib, zstd via `zstandard`), a regex per line, and
`jwt.decode(token, key, algorithms=..., audience=..., options=...)` with PyJWT for every
occurrence: no dedupe, no batching. Causes are counted from PyJWT's exceptions. Expiry is judged
against `--now` (the corpus's timeline end by default would mark most tokens valid; PyJWT cannot
judge at the log line's time), which does not change the cost: PyJWT verifies the signature first.

`--fraction F` reads only the first F of every file (by uncompressed bytes) so a large corpus can
be sampled; run.py extrapolates the time by bytes and says so. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import bz2
import gzip
import io
import json
import re
import struct
import sys
import time
import tomllib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import jwt

TOKEN = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]*)?")


def uncompressed_size(path: Path) -> int:
    """Uncompressed size: gzip ISIZE trailer (mod 2**32), the zstd frame header, bz2 counted, else the
    file size."""
    if path.suffix == ".gz":
        with path.open("rb") as f:
            f.seek(-4, io.SEEK_END)
            return int(struct.unpack("<I", f.read(4))[0])
    if path.suffix == ".zst":
        import zstandard

        with path.open("rb") as f:
            size = zstandard.get_frame_parameters(f.read(18)).content_size
        if 0 < size != zstandard.CONTENTSIZE_UNKNOWN:
            return int(size)
        total = 0
        with path.open("rb") as f, zstandard.ZstdDecompressor().stream_reader(f) as r:  # no size: count
            while chunk := r.read(1 << 20):
                total += len(chunk)
        return total
    if path.suffix == ".bz2":  # bz2 records no size: count
        total = 0
        with bz2.open(path, "rb") as r:
            while chunk := r.read(1 << 20):
                total += len(chunk)
        return total
    return path.stat().st_size


def open_text(path: Path) -> IO[str]:
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8", errors="replace")
    if path.suffix == ".zst":
        import zstandard

        raw = zstandard.ZstdDecompressor().stream_reader(path.open("rb"), closefd=True)
        return io.TextIOWrapper(raw, encoding="utf-8", errors="replace")
    if path.suffix == ".bz2":
        return bz2.open(path, "rt", encoding="utf-8", errors="replace")
    return path.open("r", encoding="utf-8", errors="replace")


def files_under(paths: list[Path]) -> Iterator[Path]:
    for p in paths:
        if p.is_dir():
            yield from sorted(q for q in p.rglob("*") if q.is_file())
        else:
            yield p


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("paths", nargs="+", type=Path)
    ap.add_argument("--jwks", type=Path, required=True)
    ap.add_argument("--config", type=Path, help="analyzer.toml: the accepted audiences and issuers")
    ap.add_argument(
        "--now", type=float, default=None, help="epoch seconds to judge expiry at (default: exp unchecked)"
    )
    ap.add_argument("--leeway", type=int, default=300)
    ap.add_argument("--fraction", type=float, default=1.0, help="read only this share of each file")
    args = ap.parse_args(argv)

    started = time.perf_counter()
    keys = {k["kid"]: jwt.PyJWK(k).key for k in json.loads(args.jwks.read_text())["keys"]}
    audiences: list[str] = []
    issuers: list[str] = []
    if args.config:
        cfg: dict[str, Any] = tomllib.loads(args.config.read_text())
        for api in cfg.get("api", []):
            audiences += api.get("audiences", [])
            issuers += api.get("issuers", [])
    options: Any = {"verify_exp": False, "verify_aud": bool(audiences), "verify_iss": bool(issuers)}

    causes: Counter[str] = Counter()
    lines = tokens = nbytes = 0
    for path in files_under(args.paths):
        budget = uncompressed_size(path) * args.fraction if args.fraction < 1 else float("inf")
        read = 0
        with open_text(path) as f:
            for line in f:
                lines += 1
                read += len(line)
                for token in TOKEN.findall(line):
                    tokens += 1
                    try:
                        kid = jwt.get_unverified_header(token).get("kid")
                        key = keys.get(kid)
                        if key is None:
                            causes["unknown_kid"] += 1
                            continue
                        claims = jwt.decode(
                            token,
                            key,
                            algorithms=["RS256"],
                            audience=audiences or None,
                            issuer=issuers or None,
                            options=options,
                            leeway=args.leeway,
                        )
                        if args.now is not None and claims["exp"] + args.leeway < args.now:
                            causes["expired"] += 1
                        else:
                            causes["ok"] += 1
                    except jwt.InvalidAudienceError:
                        causes["audience_mismatch"] += 1
                    except jwt.InvalidIssuerError:
                        causes["issuer_mismatch"] += 1
                    except jwt.InvalidSignatureError:
                        causes["bad_signature"] += 1
                    except jwt.ImmatureSignatureError:
                        causes["not_yet_valid"] += 1
                    except jwt.DecodeError:
                        causes["malformed"] += 1
                    except jwt.InvalidTokenError:
                        causes["other"] += 1
                if read >= budget:
                    break
        nbytes += read
    print(
        json.dumps(
            {
                "lines": lines,
                "tokens": tokens,
                "bytes": nbytes,
                "causes": dict(causes),
                "seconds": round(time.perf_counter() - started, 3),
                "fraction": args.fraction,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
