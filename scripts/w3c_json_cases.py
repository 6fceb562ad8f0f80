"""Freeze what Python's `formats/jsonlog.py` and `formats/w3c.py` answered for hand-made lines.

`tests/data/jsonlog_cases.json` and `tests/data/w3c_cases.json` hold them: the corners of reading a
JSON object as orjson did (numbers as Python prints them, repeated keys, depth, surrogates, lists,
header lists, case variants) and of W3C lines (directive plans, layouts inferred from a line's
shape, time-taken, query spans). `cargo test` replays them against the core (`formats::jsonlog`,
`formats::w3c`). Needs the Python parsers, so it runs only on a tree that has them:

    python scripts/w3c_json_cases.py   # writes tests/data/{jsonlog,w3c}_cases.json
"""

# The cases are data, one per line.
# ruff: noqa: E501
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analyzer.formats import jsonlog, w3c  # noqa: E402
from analyzer.formats.common import FileContext, LineFields  # noqa: E402


def fields(f: LineFields | None) -> dict[str, Any] | None:
    return None if f is None else {k: (list(v) if isinstance(v, tuple) else v) for k, v in f._asdict().items()}


def json_cases() -> list[dict[str, Any]]:
    def deep(d: int, inner: str) -> str:
        return '{"host":"deep.example","x":' + "[" * d + inner + "]" * d + "}"

    cases = [
     '{"method":0,"request":"post /a?b HTTP/1.1","host":1.5}',
     '{"method":"0","request":"post /a?b HTTP/1.1"}',
     '{"verb":-0.0,"request":"GET https://h.example:8443/p?q HTTP/1.1"}',
     '{"host":18446744073709551616,"ip":"  ,10.0.0.1","ua":1}',
     '{"user_agent":["ua1","ua2"],"clientip":[],"remote_addr":"10.1.2.3:5555, 10.0.0.9"}',
     '{"status":"404","path":"/x","Path":"/y","PATH":"/z"}',
     '{"status":404.0,"statuscode":201}',
     '{"status":true,"statuscode":"20x","httpstatus":1e2}',
     '{"headers":[{"name":"Host","value":"h1.example"},{"name":"host","value":"h2.example"},{"name":"Host","value":"h3.example"}]}',
     '{"request":{"headers":{"User-Agent":["curl/8"],"Host":["c.example"]},"uri":"/caddy?x=1","method":"GET","remote_ip":"1.2.3.4","client_ip":"5.6.7.8","host":"h.example"},"status":401}',
     '{"http":{"request":{"method":"PUT"},"response":{"status_code":503}},"url":{"path":"/ecs","domain":"ecs.example"},"client":{"ip":"2001:db8::1"},"user_agent":{"original":"ecs-ua"}}',
     '{"a":{"b":{"c":{"d":{"e":{"f":{"g":{"h":{"host":"d8.example"}}}}}}}}}',
     '{"a":{"b":{"c":{"d":{"e":{"f":{"g":{"host":"d7.example"}}}}}}}}',
     '{"host":"","hostname":"second.example"}',
     '{"host":"-","hostname":"x.example","properties":{"host":"nested.example"}}',
     '{"host":null,"x":{"host":"n.example"}}',
     '{"clientIP_s":"9.9.9.9","httpStatus_d":401,"host_s":"s.example","requestUri_s":"/az?x"}',
     '{"RequestHost":"t.example:443","RequestMethod":"GET","RequestPath":"/tr?x","DownstreamStatus":401,"ClientHost":"7.7.7.7","request_User-Agent":"trua"}',
     '{"category":"ApplicationGatewayAccessLog","properties":{"clientIP":"1.1.1.1","httpMethod":"GET","requestUri":"/ag","requestQuery":"a=b","httpStatus":200,"host":"ag.example","originalHost":"orig.example:8080","userAgent":"agua"}}',
     '{"host":"[2001:DB8::1]:443","ip":"[2001:db8::2]:1234"}',
     '{"ip":"2001:db8::3"}',
     '{"ip":12345}',
     '{"url":"https://u.example/p/q?r"}',
     '{"url":"/rel/p?r","uri":"nope"}',
     '{"target":"*"}',
     '{"request":"GET"}',
     '{"request":"GE /x HTTP/1.1"}',
     '{"request":"GET  /x HTTP/1.1"}',
     '{"request":"GETTINGLONGVERB /x"}',
     '{"request":"G3T /x"}',
     '{"Host":"UPPER.Example.","host":"lower.example"}',
     'prefix junk {"host":"p.example"}  \r\n',
     '{"host":"a"}{"host":"b"}',
     '{"a":NaN,"host":"nan.example"}',
     '{"a":1e400,"host":"inf.example"}',
     '{"a":[1,2,{"b":1e400}],"host":"inf2.example"}',
     '{"a":1e-400,"host":"tiny.example"}',
     '{"a":"\\ud800","host":"sur.example"}',
     '{"a":"\\ud83d\\ude00","host":"emoji.example"}',
     '{"host":"tab.example"}\t',
     '{"İHost":"x","ıp":"1"}',
     deep(200, '1'),
     deep(1022, '1'),
     deep(1023, '1'),
     deep(300, '1e400'),
     deep(300, '"\\udc00"'),
     deep(300, '1,'),
     deep(300, '"\x01"'),
     '{"host":"m.example","method":["GET"],"path":[["/x"]]}',
     '{"method":[true],"verb":"PATCH"}',
     '{"path":[null],"uri":"/second"}',
     '{"ts":1795669567.5,"host":"num.example","msec":"1795669567.123"}',
     '{"logger":"http.log.access.log0","ts":1795669567.5,"duration":2.5,"request":{"host":"cd.example"}}',
     '{"a":{"headers":[{"name":null,"value":{"host":"none.example"}}]}}',
     '{"headers":[{"name":"X","value":1},"str",{"name":"Host"}],"hostname":"hn.example"}',
     '{"Host":"first.example","HOST":"second.example"}',
     '{"host":"dup1.example","host":"dup2.example"}',
     '{"method":1e16,"host":1e-5,"ua":0.0001,"path":123456789.0}',
     '{"user-agent":12345678901234567890123}',
     '{"ip":" 10.0.0.1 ,x"}',
     '{"ip":"\u00a010.0.0.1\u2003,x"}',
     '{"x_forwarded_for":"\\u001f10.0.0.2,x"}',
     '{"log":"  {not json","host":"log.example"}',
     '{"category":"FrontDoorAccessLog","time":"2026-11-26T05:06:07Z","properties":{"timeTaken":"3.5","requestUri":"https://fd.example:443/p?x","httpMethod":"GET","httpStatusCode":"401","clientIp":"1.2.3.4:555","userAgent":"fdua"}}',
     '{"category":"FrontdoorAccessLog","time":1795669567,"properties":{"timeTaken":true}}',
     '{"category":"FrontdoorAccessLog","time":1795669567,"properties":{"timeTaken":"1_000"}}',
     '{"category":"FrontdoorAccessLog","time":1795669567,"properties":{"timeTaken":" 2.0 "}}',
     '{"logger":"other","category":"FrontDoorAccessLog","time":1795669567,"properties":{"timeTaken":2}}',
     '{"@t":"2026-11-26T05:06:07.1234567Z","@mt":"HTTP {RequestMethod} {RequestPath} responded {StatusCode}","RequestMethod":"GET","RequestPath":"/serilog","StatusCode":401,"RequestHost":"sl.example"}',
     '{"time_local":"26/Nov/2026:05:06:07 +0100","request":"GET /ngx?x HTTP/1.1","status":"401","remote_addr":"1.2.3.4","http_user_agent":"ngxua","http_host":"ngx.example"}',
     '{"start_time":"2026-11-26T05:06:07.123Z","method":"GET","path":"/istio","response_code":401,":authority":"istio.example","downstream_remote_address":"10.0.0.5:4444","user_agent":"envoy"}',
     '{"timestamp":1795669567123,"host":"ms.example"}',
     '{"timestamp":1795669567123456,"host":"us.example"}',
     '{"timestamp":1795669567123456789,"host":"ns.example"}',
     '{"timestamp":5,"time":"2026-11-26T05:06:07Z"}',
     '{"timestamp":"","time":"2026-11-26T05:06:07Z"}',
     '{"date":"Wed, 26 Nov 2026 05:06:07 GMT"}',
     '{"ts":true,"time":"2026-11-26 05:06:07"}',
     '{"status":"\u0662\u0660\u0660"}',
     '{"status":"2\u0660\uff10"}',
     '{"status":"000"}',
     '{"status":"\u0662\u0660"}',
     '{"status":"\u0e52\u0e50\u0e50\u0e50"}',
     '{"status":"\u0e52\u0e50\u0e51","statuscode":200}',
    ]
    return [{"line": c, "fields": fields(jsonlog.parse_json_line(c.encode(), FileContext()))} for c in cases]


def w3c_cases() -> list[dict[str, Any]]:
    D = "date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken"
    L = "2026-11-26 05:06:07 10.0.0.1 GET /api/orders access_token=eyJx.y.z 443 - 203.0.113.9 Mozilla/5.0+(Windows) - 401 0 0 1500"
    cases = [
     (D, L), (D, L + "\r"), (D, L.replace(" ", "\t")), ("", L), ("", L + " 1.2.3.4"), ("", L + " 1.2.3.4,5.6.7.8"),
     (D, L.replace("1500", "999")), (D, L.replace("1500", "2.5")), (D, L.replace("1500", "-")), (D, L.replace("access_token=eyJx.y.z", "-")),
     ("", L.replace(" - 401", " 401")),  # IIS 7 layout (no referer)
     ("", "2026-11-26 05:06:07 W3SVC1 10.0.0.1 GET /x a=b 443 - 203.0.113.9 UA - 200 0 0 15"),
     ("", "2026-11-26 05:06:07 W3SVC1 SRV 10.0.0.1 GET /x a=b 443 - 203.0.113.9 HTTP/1.1 UA cookie ref host.example:443 200 0 0 100 200 15"),
     ("", "2026-11-26 05:06:07 site GET /x a=b 443 - 203.0.113.9 UA cookie ref app.example 401 0 0 100 200 15"),
     ("", "2026-11-26\t05:06:07\tLAX1\t123\t203.0.113.9\tGET\td111.cloudfront.net\t/cf\t401\t-\tUA%20x\ttoken=eyJ\t-\tError\tid==\tapi.example\thttps\t100\t0.250\t-\tTLSv1.3\tcipher\tError\tHTTP/2.0\t-\t-\t5555\t0.2\tError\ttext/html\t10\t-\t-"),
     ("", "2026-11-26\t05:06:07\tLAX1\t123\t203.0.113.9\tGET\td111.cloudfront.net\t/cf\t401\t-\tUA%20x\ttoken=eyJ\t-\tError\tid==\tapi.example\thttps\t100\t2.250"),
     ("", "2026-11-26 05:06:07 odd fields GET /fallback q=1 443 - 198.51.100.7 ua - 302 0 64 7"),
     ("", "2026-11-26 05:06:07 odd GET /fallback"),
     ("", "2026-11-26 05:06:07 odd GET /fallback nope"),
     ("", "2026-11-26 05:06:07 odd GET /fallback - 80 - 10.1.1.1 x 404 0 2"),
     ("", "2026-11-26 05:06:07 a b c d e f g"),
     ("", "#Fields: date time"), (D, "#comment"),
     ("date time cs-method cs-uri-stem", "not dated GET /x"),
     ("s-ip cs-method cs-uri-stem sc-status", "10.0.0.1 GET /nodate 401"),
     ("date time cs-method cs-uri-stem c-ip c-ip", "2026-11-26 05:06:07 GET /dup 1.1.1.1 2.2.2.2"),
     ("date time cs-method cs-uri-stem cs-host x-host-header cs(host)", "2026-11-26 05:06:07 GET /h - X.Example:8080 c.example"),
     ("date time cs-method cs-uri-stem c-user-agent cs(user-agent)", "2026-11-26 05:06:07 GET /ua a+b c+d"),
     ("date time cs-method cs-uri-stem cs-uri-query", "2026-11-26 05:06:07 GET /q"),
     ("date time cs-method cs-uri-stem cs-uri-query", "2026-11-26 05:06:07 GET /q  extra"),
     ("date time cs-method cs-uri-stem sc-status", "2026-11-26 05:06:07 GET https://abs.example/p?x 2000"),
     ("date time time-taken", "2026-11-26 05:06:07 1_500"),
     ("date time time-taken", "2026-11-26 05:06:07.5 3000"),
     ("date time time-taken", "2026-11-26 25:06:07 3000"),
     ("", "2026-11-26 05:06:07 10.0.0.1 GET /api/orders a=b 443 - 2001:db8::1 UA - 401 0 0 15"),
     ("", "2026-11-26 05:06:07 10.0.0.1 GET /api/orders a=b 443 - ::ffff:1.2.3.4 UA - 401 0 0 15"),
     ("", "2026-11-26 05:06:07 10.0.0.1 GET /api/orders a=b 443 - 1.2.3.4 UA - 401 0 0 15\n"),
     ("", "2026-11-26 05:06:07 10.0.0.1 GET /api/orders a=b 443 - 1.2.3.4 UA - 401 0 0 15 1.2.3.4%2C+5.6.7.8"),
     ("", "2026-11-26 05:06:07 10.0.0.1 GET /api/orders a=b 443 - 1.2.3.4 UA - 401 0 0 15 1.2.3.4,,5.6.7.8"),
    ]
    out: list[dict[str, Any]] = []
    for names, line in cases:
        ctx = FileContext(iis_fields=w3c.field_names(names.encode()))
        out.append({"fields_directive": names, "line": line, "looks": w3c.looks_like_w3c(line.encode()),
                    "fields": fields(w3c.parse_w3c(line.encode(), ctx))})
    chunk = b"x\n#Fields: date time\r\n#Fields:  a  B\tc\r\r\nno#Fields: x\n#Fields:"
    out.append({"directives": [[o, n] for o, n in w3c.field_directives(chunk)]})
    out.append({"names": w3c.field_names("A\x1cB\x85C\xa0D\xc0E".encode("latin-1"))})
    return out


def main() -> None:
    data = ROOT / "tests" / "data"
    (data / "jsonlog_cases.json").write_text(json.dumps(json_cases(), indent=0))
    (data / "w3c_cases.json").write_text(json.dumps(w3c_cases(), indent=0))


if __name__ == "__main__":
    main()
