"""Freeze what the Python `formats.parse_line` answered for lines made of app-log fragments.

`tests/data/generic_cases.jsonl.gz` holds them: request lines, `key=value` pairs, urllib3's origin
before a request, app servers' markers (uWSGI, Apache's error log, Rails), Go frameworks' `|` cells,
embedded JSON, wrappers, tokens, and junk between them, each parsed as a random file format. The
generic best effort (`parse_generic`) answers most of them; `cargo test` replays them against the
core (`formats::generic::tests`). Needs the Python parsers, so it runs only on a tree that has them:

    python scripts/generic_cases.py   # writes tests/data/generic_cases.jsonl.gz
"""

from __future__ import annotations

import gzip
import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import format_vectors as FV

from analyzer import formats
from analyzer import timeparse as T
from analyzer.formats.common import FileContext

TOKEN = b"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig"
FRAGS = [
    b'GET /x?access_token=' + TOKEN + b' HTTP/1.1" 200', b"status=401", b"ip=1.2.3.4:5", b"[client 1.2.3.4:80]",
    b" | 200 | ", b" | 10.0.0.1 | ", b'https://h:443 "GET /p HTTP/1.1" 200 1', b"(HTTP/1.1 404)",
    b'Started GET "/p" for 1.2.3.4 at ', b'{"a":1}', b'{"status":"401","path":"/j"}', b"host=Example.COM:80",
    b"method=post", b'path="/a b"', b'ua="x\\"y"', "status=١٢٣".encode(), b"POST https://api.example.com/v1/x -> 403",
    b"GET /m 200 5.1 ms", b"returned 500", b"url=http://[::1]:8/p", b"remote_addr=[2001:db8::1]:443",
    b"x_forwarded_for=1.1.1.1, 2.2.2.2", b" HTTP/1.1", b" HTTP/", b"GET ", b'"', b"=", b"\n", b"\t", b" ",
    b"2026-11-26T03:14:15Z ", b"Nov 26 03:14:15 h app[1]: ", b"<13>1 2026-11-26T03:14:15Z h app 1 - - ",
    b"2026-11-26T09:10:12.000Z stdout F ", TOKEN, b"user_agent=curl/8", b"verb=delete", b"uri=/u?q=1",
    b"GET http://h/p?x HTTP/1.0", b"\xff", b"\xc3", b"responded with 201", b"status: 204", b"OPTIONS * HTTP/1.1",
    b"CONNECT h:443 HTTP/1.1", b"GET h:443/x HTTP/1.1", b"target=https://U@H.example:9/z#f",
]
SEPS = [b" ", b"", b"  ", b", ", b";", b"\t", b" - ", b'"']


def main(n: int = 8000, seed: int = 12) -> None:
    rng = random.Random(seed)
    names = [f.name for f in formats.FORMATS] + ["generic"]
    out_path = FV.ROOT / "tests" / "data" / "generic_cases.jsonl.gz"
    with gzip.open(out_path, "wt") as out:
        for _ in range(n):
            line = b"".join(rng.choice(SEPS) + rng.choice(FRAGS) for _ in range(rng.randint(1, 8)))
            if rng.random() < 0.3:
                at = rng.randrange(0, len(line) + 1)
                line = line[:at] + FV.mutate(line, rng)[:20] + line[at:]
            zone = rng.choice(FV.ZONES)
            ctx = FileContext(year=2026, tz=T.zone_from_text(zone), mtime_us=1_764_500_000_000_000)
            fmt = rng.choice(names)
            name, got = formats.parse_line(line, fmt, ctx)
            out.write(json.dumps({
                "line": FV.b64(line), "fmt": fmt, "year": 2026, "tz": zone, "mtime_us": ctx.mtime_us,
                "iis_fields": [], "name": name, "fields": FV.fields_json(got), "source": "generic_cases",
            }) + "\n")


if __name__ == "__main__":
    main()
