"""Freeze what the Python space-separated format parsers (`formats/text.py`) answered for tricky lines.

`tests/data/text_cases.jsonl.gz` holds them: nginx/Apache (vhost, X-Forwarded-For lists, the old
ingress-nginx `- [$the_real_ip]`, quoted users, three time layouts, escaped quotes, appended
`rt=`/`host=` fields), Envoy (prefixes, counters, Istio's fields, request ids), HAProxy (timers,
captures, bare and quoted requests), ALB (types, IPv6 clients, request_creation_time), nginx's error
log and Squid, built field by field from right and wrong variants; and the test vectors' lines of
these formats (tokens shortened) with bytes cut or spliced in. For each line it records the eight
`looks_like` tests and the six parsers' fields. `cargo test` replays them against the core
(`formats::text::tests`). Needs the Python parsers, so it runs only on a tree that has them:

    python scripts/text_cases.py                       # writes tests/data/text_cases.jsonl.gz
    python scripts/text_cases.py 20 /tmp/more.jsonl.gz # 20 times as many, for `TEXT_DIFF=... cargo test
                                                       # --lib more_text_cases -- --ignored`
"""

from __future__ import annotations

import base64
import gzip
import json
import random
import re
import sys
from pathlib import Path

from analyzer import timeparse as T
from analyzer.formats import _is_apache_vhost
from analyzer.formats import text as t
from analyzer.formats.common import FileContext, LineFields

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "data" / "text_cases.jsonl.gz"
ZONES = ("UTC", "Europe/Berlin", "+05:30", "-0800")
TOK = b"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0." + b"A" * 40
rng = random.Random(2026)


def pick(xs: list[bytes]) -> bytes:
    """The first (well-formed) variant about half the time, else any."""
    return xs[0] if rng.random() < 0.45 else rng.choice(xs)


def ts_clf() -> bytes:
    return pick(
        [
            b"26/Nov/2026:03:14:15 +0000",
            b"2026-11-26T03:14:15+01:00",
            b"Thu, 26 Nov 2026 03:14:15 GMT",
            b"26/Nov/2026 03:14:17",
            b"1/Nov/2026:03:14:15 +0000",
            b"26/Nov/2026:03",
            b"26/Nov/2026:03:14:15.123 +0000",
            b"2026-11-26T03:14:15",
            b"Thu, 26 Nov",
        ]
    )


def req() -> bytes:
    return pick(
        [
            b"GET /a?b=" + TOK + b" HTTP/1.1",
            b"GET https://h.example.com:443/a?b HTTP/1.1",
            b"-",
            b"\\x16\\x03",
            b'GET /a\\"b HTTP/1.1',
            b"CONNECT h.example.com:443 HTTP/1.1",
            b"get /x",
            b"GET  /x",
            b"GETTTTTTTTTTTTT /x",
            b"GET",
            b"GET ",
            b"POST /x\tHTTP/1.1",
            b"GET http://[::1]:80/p HTTP/1.1",
            b"GET * HTTP/1.1",
            b"GET /\xc3\xa9?x HTTP/1.1",
            b"GET ws://a.b/c HTTP/1.1",
            b"GET //x/y HTTP/1.1",
            b"",
        ]
    )


def ip() -> bytes:
    return pick(
        [
            b"1.2.3.4",
            b"1.2.3.4, 5.6.7.8",
            b"1.2.3.4,5.6.7.8",
            b"::1",
            b"example.com",
            b"host.example.com",
            b"-",
            b"1.2.3.4,",
            b"a,b",
            b"2001:db8::1",
            b"x.example.com:8080",
            b"host.example.com 1.2.3.4",
            b"h.example.com ::1",
            b"h.example.com 1.2.3",
            b"h.example.org1",
        ]
    )


def clf() -> bytes:
    vh = pick([b"", b"", b"example.com ", b"example.com:443 ", b"a_b.c ", b"1.2.3.4 ", b"a.b:999999 "])
    ident = pick([b"-", b"-", b"- [1.2.3.4] -", b"- [1.2.3.4 x] -", b"x"])
    user = pick([b"-", b"frank", b'"-"', b'"a b"', b'"'])
    status = pick([b"200", b"-", b"2000", b"20", b"401"])
    size = pick([b"123", b"-", b""])
    rest = b"".join(
        pick(
            [
                b' "ref" "ua"',
                b' "-" "ua/1" "host.example.com"',
                b' "-" "ua" 178 0.120 [up] [] 10.0.0.1:80 1 2.5 200 abc',
                b' "-" "ua" 178 3.5 [up]',
                b' rt=1.5 uct="0.0"',
                b" host=a.example.com",
                b' "ua with \\"esc\\" [x] rt=5"',
                b' request_time="2.5"',
                b" xrt=5",
                b' "-" "x" 12 3.5 [a]',
                b' "Bearer ' + TOK + b'"',
                b" vhost=x.example.com",
                b' "Host: h.example.com"',
                b" Host: y.example.com",
                b' rt="7"',
                b" -rt=9",
                b" [x]",
                b' "-" "a\\"b" 12 4.5 [u] [v]',
                b' "',
                b"",
                b' "a" b "c"',
                b" hHost=z.example.com",
                b" rt=1.5.5",
            ]
        )
        for _ in range(rng.randint(0, 3))
    )
    return (
        vh + ip() + b" " + ident + b" " + user + b" [" + ts_clf() + b'] "' + req() + b'" ' + status + b" " + size + rest
    )


def envoy() -> bytes:
    prefix = pick(
        [b"", b"", b"ACCESS ", b"A ", b"Access_log-x ", b"ABCDEFGHIJKLMNOPQRSTU ", b"ABCDEFGHIJKLMNOPQRST ", b"a "]
    )
    ts = pick([b"2026-11-26T03:14:15.123Z", b"2026-11-26 03:14:15", b"2026-11-26T", b"2026-11-26x"])
    code = pick([b"200", b"0", b"1000", b"-", b"20"])
    fields = [
        pick([b"0 15 1 1", b"0 15 1 -", b"x 15 1 1", b"0 15 1", b"7 0 15 1 1"]),
        pick([b'"203.0.113.9"', b'"-"', b'"1.2.3.4, 5.6.7.8"', b'" 9.9.9.9 ,x"', b'"\x1c1.1.1.1"']),
        pick([b'"curl/8"', b'"-"', b'"a \\"b\\" c"']),
        pick([b'"00000000-0000-0000-0000-000000000000"', b'"rid"', b'"0000000G-0000-0000-0000-000000000000"']),
        pick([b'"h.example.com"', b'"h.example.com:443"', b'"-"']),
        pick([b'"10.0.0.1:80"', b'"-"']),
    ]
    if rng.random() < 0.2:
        rng.shuffle(fields)
    if rng.random() < 0.2:
        fields.insert(rng.randrange(len(fields)), pick([b'"extra"', b'"00000000-0000-0000-0000-000000000000"', b"x"]))
    istio = pick([b"", b"", b'via_upstream - "-" '])
    tail = pick(
        [
            b"",
            b" outbound|80||svc 10.0.0.1:1 10.0.0.2:80 1.2.3.4:5555 - default",
            b" c u d [::1]:80 s r",
            b" c u d 1.2.3:80 s",
            b' "x" "y"',
            b" a b c 1.2.3.4:80",
        ]
    )
    flags = pick([b"-", b"UF,URX", b""])
    return prefix + b"[" + ts + b'] "' + req() + b'" ' + code + b" " + flags + b" " + istio + b" ".join(fields) + tail


def haproxy() -> bytes:
    prefix = pick([b"", b"<134>Nov 26 03:14:15 lb haproxy[123]: ", b"x", b"a", b"1", b"::"])
    addr = pick(
        [b"1.2.3.4:5555", b"::1:80", b"1.2.3.4:555555", b"1.2.3.4", b"abc:1", b":1", b"[::1]:80", b"1.2.3.4:80:90"]
    )
    ts = pick(
        [
            b"26/Nov/2026:03:14:15.123",
            b"26/Nov/2026:03:14:15",
            b"26/Nov/2026:03:14:15.123 +0100",
            b"26/Nov/2026:03:14:15 +0100",
            b"26/Nov/2026:03:14:15.",
            b"26/Nov/2026:03:14",
        ]
    )
    frontend = pick([b"fe", b"fe~", b""])
    backend = pick([b"be/srv", b"be/", b"/srv", b"be/s/t", b"b/s"])
    timers = pick([b"0/0/1/2/3 ", b"0/0/1/2/3/4/5 ", b"", b"-1/-1/+2 ", b"0//1 ", b"1 "])
    status = pick([b"200", b"-1", b"2000", b"20", b"-"])
    after = b" ".join(
        pick(
            [
                b"123",
                b"-",
                b"--",
                b"----",
                b"{h.example.com|ua}",
                b"{a|b",
                b"{}",
                b"h.example.com",
                b"{x}{y.example.com}",
                b'"GET /p?x=' + TOK + b' HTTP/1.1"',
                b"GET /p HTTP/1.1",
                b"POST https://q.example.com/x",
                b"GET /p HTTP/1.1x",
                b'"get /x"',
                b'"GET"',
                b"z.example.com",
                b'"w.example.com"',
                b"GET /p",
                b"GETT",
                b'"',
                b"1/2/3",
            ]
        )
        for _ in range(rng.randint(0, 8))
    )
    return prefix + addr + b" [" + ts + b"] " + frontend + b" " + backend + b" " + timers + status + b" " + after


def alb() -> bytes:
    kind = pick([b"", b"https ", b"h2 ", b"grpcs ", b"ws ", b"wss ", b"http2 ", b"HTTP "])
    ts = pick(
        [b"2026-11-26T22:23:00.186641Z", b"2026-11-26T22:23:00Z", b"2026-11-26T22:23:00.Z", b"2026-11-26 22:23:00Z"]
    )
    client = pick([b"192.168.131.39:2817", b"2601:646::1:50599", b"[::1]:80", b"-", b"1.2.3.4"])
    codes = pick([b"200 200", b"- -", b"200 -", b"2000 200", b"- 200"])
    request = b'"' + req() + b'" "' + pick([b"curl/7", b"-", b'a \\"b\\" c', b"a\\"]) + b'"'
    rest = pick(
        [
            b' ECDHE TLSv1.2 arn:tg "Root=1" "www.example.com" "arn:cert" 0 2026-11-26T22:22:48.364000Z'
            b' "forward" "-" "-" "10.0.0.1:80" "200" "-" "-"',
            b' - - - "Root=1" "-" "-" 0 2026-11-26T22:23:01.000000Z "forward"',
            b" - -",
            b"",
            b' "a" "b.example.com"',
            b' x "y" "d.example.com" "c" 0 bad 2026-11-26T22:22:48Z x',
            b' "a\\"" "e.example.com" 2026-11-26T01:02:03Z ',
        ]
    )
    elb = pick([b"app/lb/1", b"lb"])
    return (
        kind + ts + b" " + elb + b" " + client + b" 10.0.0.1:80 0.086 0.048 0.037 " + codes + b" 0 57 " + request + rest
    )


def nginx_error() -> bytes:
    ts = pick([b"2026/11/26 03:14:15", b"2026/11/26 03:14", b"2026-11-26 03:14:15"])
    level = pick([b"[error]", b"[warn]", b"[]", b"[Error]"])
    pid = pick([b"1234#0: ", b"1234#: ", b"#0: ", b"12#3:"])
    kvs = b"".join(
        pick(
            [
                b", client: 1.2.3.4",
                b", server: x",
                b', request: "GET /a?t=' + TOK + b' HTTP/1.1"',
                b', host: "h.example.com"',
                b", host: h2.example.com",
                b', referrer: "r"',
                b', upstream: "http://u"',
                b', request: "GET /a\\"b HTTP/1.1"',
                b', request: "GET /unterminated',
                b", client: ",
                b', host: "',
                b",client: 5.6.7.8",
                b", client: 9.9.9.9",
                b", request: GET /bare HTTP/1.1",
            ]
        )
        for _ in range(rng.randint(0, 6))
    )
    return ts + b" " + level + b" " + pid + b"*1 upstream timed out" + kvs


def squid() -> bytes:
    ts = pick(
        [
            b"1795662855.123",
            b"179566285.123",
            b"17956628551.123",
            b"179566285512.123",
            b"1795662855.12",
            b"1795662855.1234",
        ]
    )
    gap = pick([b" ", b"    ", b""])
    elapsed = pick([b"150", b"-1", b"5000", b"", b"-"])
    rest = pick(
        [
            b" 1.2.3.4 TCP_MISS/200 1234 GET http://x.example.com/y?t=1 - HIER/1.2.3.4 text/html",
            b" 1.2.3.4 TCP_MISS/200 1234 CONNECT x.example.com:443 -",
            b" 1.2.3.4 TCP_MISS/20 1234 GET /x",
            b" 1.2.3.4 tcp/200 1 GET /x",
            b" 1.2.3.4 TCP_MISS/200 1234 GE /x",
            b" 1.2.3.4 TCP_MISS/200 1234 GET",
            b" 1.2.3.4 TCP_MISS/200 1234 GET ",
            b" 1.2.3.4 TCP_MISS/200 1234 GETXXXXXXXXXXX /x",
            b" 1.2.3.4 NONE/000 0 POST https://a.b/c",
        ]
    )
    return ts + gap + elapsed + rest


BUILDERS = [clf, envoy, haproxy, alb, nginx_error, squid]
JUNK = [
    b'"',
    b"\\",
    b"\n",
    b" ",
    b"[",
    b"]",
    b",",
    b"{",
    b"}",
    b"|",
    b"\t",
    b"-",
    b":",
    b"/",
    b".",
    b"0",
    b"\xff",
    b"rt=",
    b"host=",
    b"://",
    b", client: ",
    b'\\"',
]


def mutate(b: bytes) -> bytes:
    r = rng.random()
    if r < 0.3 and len(b) > 2:
        return b[: rng.randrange(1, len(b))]
    at = rng.randrange(0, len(b) + 1)
    if r < 0.7:
        return b[:at] + rng.choice(JUNK) + b[at:]
    return b[:at] + b[at + 1 :]


def vector_lines() -> list[bytes]:
    """The line vectors given or answered in these formats, tokens shortened."""
    mine = {"nginx", "apache", "ingress-nginx", "envoy", "haproxy", "aws-alb", "nginx-error", "squid"}
    out = []
    with gzip.open(ROOT / "tests" / "data" / "vectors" / "lines.jsonl.gz", "rt") as f:
        for raw in f:
            v = json.loads(raw)
            if v["fmt"] in mine or v["name"] in mine:
                out.append(re.sub(rb"eyJ[A-Za-z0-9_.-]{20,}", TOK, base64.b64decode(v["line"])))
    return sorted(set(out))


def fields(f: LineFields | None) -> list[object] | None:
    return None if f is None else [f.host, f.method, f.path, f.status, f.client_ip, f.user_agent, f.ts]


def main() -> None:
    times = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    out_path = Path(sys.argv[2]) if len(sys.argv) > 2 else OUT
    lines = [b() for b in rng.choices(BUILDERS, k=7000 * times)]
    lines += [mutate(ln) if rng.random() < 0.7 else ln for ln in rng.choices(vector_lines(), k=1500 * times)]
    lines = [mutate(ln) if rng.random() < 0.25 else ln for ln in lines]
    lines = [ln + b"\n" if rng.random() < 0.03 else ln for ln in lines]
    parsers = (t.parse_clf, t.parse_envoy, t.parse_alb, t.parse_nginx_error, t.parse_squid, t.parse_haproxy)
    rows = []
    for line in lines:
        zone = rng.choice(ZONES)
        ctx = FileContext(year=2026, tz=T.zone_from_text(zone))
        looks = [
            t.CLF.match(line) is not None,
            _is_apache_vhost(line),
            t.looks_like_ingress(line),
            t.looks_like_envoy(line),
            t.ALB.match(line) is not None,
            t.NGINX_ERROR.match(line) is not None,
            t.SQUID.match(line) is not None,
            t.HAPROXY.search(line) is not None,
        ]
        rows.append(
            json.dumps(
                {
                    "line": base64.b64encode(line).decode(),
                    "tz": zone,
                    "looks": looks,
                    "parsed": [fields(p(line, ctx)) for p in parsers],
                }
            )
            + "\n"
        )
    # mtime=0: the same lines give the same file.
    out_path.write_bytes(gzip.compress("".join(rows).encode(), compresslevel=9, mtime=0))
    print(f"{len(lines)} lines written to {out_path}")


if __name__ == "__main__":
    main()
