// Generated from Python's wrappers.unwrap / looks_like_syslog (year 2026, UTC, mtime 1764500000000000)
// over the lines of tests/formats/{syslog_rfc3164,syslog_rfc5424,cri_ingress,envoy_wrapped}.log.
pub(crate) type Case = (
    &'static [u8],
    Option<(&'static str, Option<i64>, usize)>,
    bool,
);
pub(crate) const CASES: &[Case] = &[
    (
        br#"Nov 26 03:14:15 web01 orders-api[123]: auth failed for request GET /api/orders: Authorization: Bearer {TOKEN_OK}"#,
        Some(("syslog", Some(1764126855000000), 39)),
        true,
    ),
    (
        br#"Nov 26 03:14:16 web01 orders-api[123]: worker started"#,
        Some(("syslog", Some(1764126856000000), 39)),
        true,
    ),
    (
        br#"<34>Nov 26 03:14:17 web01 nginx: 10.2.3.4 - - [26/Nov/2026:03:14:17 +0000] "GET /x?access_token={TOKEN_ID} HTTP/1.1" 401 0 "-" "curl/8""#,
        Some(("syslog", Some(1764126857000000), 33)),
        true,
    ),
    (
        br#"Nov  6 03:14:18 web01 orders-api[123]: token={TOKEN_PADDED} rejected"#,
        Some(("syslog", Some(1762398858000000), 39)),
        true,
    ),
    (
        br#"<165>1 2026-11-26T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"] Rejected bearer {TOKEN_OK} for /api"#,
        Some(("syslog", Some(1795731255003000), 139)),
        true,
    ),
    (
        br#"<165>1 2026-11-26T22:14:16.003-08:00 mymachine.example.com evntslog - ID47 - id_token={TOKEN_ID}"#,
        Some(("syslog", Some(1795760056003000), 77)),
        true,
    ),
    (
        br#"<158>1 2026-11-26T03:47:20+00:00 host heroku router - at=info method=GET path="/api/orders?access_token={TOKEN_PADDED}" host=myapp.herokuapp.com request_id=8601b555 fwd="204.204.204.204" dyno=web.1 connect=1ms service=18ms status=200 bytes=13"#,
        Some(("syslog", Some(1795664840000000), 54)),
        true,
    ),
    (
        br#"2026-11-26T09:10:11.123456789Z stdout F 192.168.65.3 - - [26/Nov/2026:09:10:11 +0000] "GET /api/orders HTTP/1.1" 200 615 "-" "curl/8.4.0" 92 0.002 [default-orders-80] [] 10.244.0.12:8080 615 0.002 200 5e3a2c4f "Bearer {TOKEN_OK}""#,
        Some(("cri", Some(1795684211123456), 40)),
        false,
    ),
    (
        br#"2026-11-26T09:10:12.000000000Z stderr F I1126 09:10:12.000000       7 event.go:285] Event occurred"#,
        Some(("cri", Some(1795684212000000), 40)),
        false,
    ),
    (
        br#"{"log":"10.1.1.1 - - [26/Nov/2026:09:10:13 +0000] \"GET /docker?access_token={TOKEN_ID} HTTP/1.1\" 200 1 \"-\" \"curl\"\n","stream":"stdout","time":"2026-11-26T09:10:13.5Z"}"#,
        None,
        false,
    ),
    (
        br#"{"log":"[2026-11-26T03:49:34.451Z] \"GET /api/orders?access_token={TOKEN_OK} HTTP/1.1\" 200 - 0 15 1 1 \"203.0.113.9\" \"curl/8.5.0\" \"2d6ac1a0-8d5c-4d53-9f0e-3b8a1f0c2e11\" \"orders.contoso.com\" \"10.2.2.2:80\"\n","stream":"stdout","time":"2026-11-26T03:49:35.997Z"}"#,
        None,
        false,
    ),
    (
        br#"ACCESS [2026-11-26T03:49:36.000Z] "POST /api/orders?access_token={TOKEN_ID} HTTP/2" 401 UAEX 0 0 3 - "198.51.100.7, 10.0.0.1" "okhttp/4.12" "3d6ac1a0-8d5c-4d53-9f0e-3b8a1f0c2e11" "orders.contoso.com:443" "-""#,
        None,
        false,
    ),
    (
        br#"[2026-11-26T03:49:37.313Z] "GET /productpage?access_token={TOKEN_PADDED} HTTP/1.1" 200 - via_upstream - "-" 0 5183 31 30 "-" "curl/7.64.0" "5c1f0aa3-f6a1-9b6e-b41c-22d0e0c1a2b3" "productpage:9080" "10.44.1.27:9080" inbound|9080|| 127.0.0.6:45658 10.44.1.27:9080 10.44.1.23:37652 outbound_.9080_._.productpage.default.svc.cluster.local default"#,
        None,
        false,
    ),
    (
        br#"[2026-11-26T03:49:38.000Z] "GET /reviews/0?access_token={TOKEN_NONE} HTTP/1.1" 503 UF upstream_reset_before_response_started{connection_failure} - "-" 0 91 2 - "203.0.113.20" "Go-http-client/1.1" "6c1f0aa3-f6a1-9b6e-b41c-22d0e0c1a2b3" "reviews:9080" "10.44.1.28:9080" outbound|9080||reviews.default.svc.cluster.local - 10.0.171.9:9080 [2001:db8::23]:51214 - default"#,
        None,
        false,
    ),
    (
        br#"2026-11-26T03:49:39.451123Z stdout F [2026-11-26T03:49:39.100Z] "GET /api/orders?access_token={TOKEN_OK} HTTP/1.1" 200 - 0 15 1 1 "203.0.113.21" "curl/8.5.0" "7d6ac1a0-8d5c-4d53-9f0e-3b8a1f0c2e11" "orders.contoso.com" "10.2.2.2:80""#,
        Some(("cri", Some(1795664979451123), 37)),
        false,
    ),
];

// Hand-made lines for each backtracking choice of the four patterns, answered by Python.
pub(crate) const TRICKY: &[Case] = &[
    (
        b"Nov 26 03:14:15 2026 host app: msg",
        Some(("syslog", Some(1764126855000000), 31)),
        true,
    ),
    (
        b"Nov 26 03:14:15 2026 app: msg",
        Some(("syslog", Some(1764126855000000), 26)),
        true,
    ),
    (
        b"Nov 26 03:14:15 2026: x",
        Some(("syslog", Some(1764126855000000), 22)),
        true,
    ),
    (
        b"Nov 26 03:14:15 20261 app: x",
        Some(("syslog", Some(1764126855000000), 27)),
        true,
    ),
    (b"Nov  5 03:14:15 host a b c: x", None, false),
    (
        b"Nov  5 03:14:15 host a b: x",
        Some(("syslog", Some(1762312455000000), 26)),
        true,
    ),
    (
        b"Nov 5 03:14:15 host: x",
        Some(("syslog", Some(1762312455000000), 21)),
        true,
    ),
    (b"Nov 5 03:14:15.1234567 host app: x", None, false),
    (
        b"Nov 5 03:14:15.123456 host app: x",
        Some(("syslog", Some(1762312455123456), 32)),
        true,
    ),
    (b"Nov 5 03:14:15. host app: x", None, false),
    (
        b"<13>Nov 26 03:14:15 host app[12]: x",
        Some(("syslog", Some(1764126855000000), 34)),
        true,
    ),
    (
        b"<13>Nov 26 03:14:15 host app[1 2]: x",
        Some(("syslog", Some(1764126855000000), 35)),
        true,
    ),
    (b"<13>Nov 26 03:14:15 host app[12]x: x", None, false),
    (
        b"<13>Nov 26 03:14:15 host app[12]:x",
        Some(("syslog", Some(1764126855000000), 33)),
        true,
    ),
    (
        b"<13>Nov 26 03:14:15 host [12]: x",
        Some(("syslog", Some(1764126855000000), 31)),
        true,
    ),
    (
        b"<13>Nov 26 03:14:15 h[o]st app: x",
        Some(("syslog", Some(1764126855000000), 32)),
        true,
    ),
    (b"<1234>Nov 26 03:14:15 host app: x", None, false),
    (b"<>Nov 26 03:14:15 host app: x", None, false),
    (
        b"Foo 26 03:14:15 host app: x",
        Some(("syslog", None, 26)),
        true,
    ),
    (
        b"Feb 30 03:14:15 host app: x",
        Some(("syslog", None, 26)),
        true,
    ),
    (
        b"Dec 31 23:59:59 host app: x",
        Some(("syslog", Some(1767225599000000), 26)),
        true,
    ),
    (b"Nov 26 03:14:15 host app", None, false),
    (
        b"Nov 26 03:14:15 :x",
        Some(("syslog", Some(1764126855000000), 17)),
        true,
    ),
    (
        b"Nov 26 03:14:15 2026 :x",
        Some(("syslog", Some(1764126855000000), 22)),
        true,
    ),
    (
        b"Nov 26 03:14:15 2026 a b: x",
        Some(("syslog", Some(1764126855000000), 26)),
        true,
    ),
    (
        b"Nov 26 03:14:15 2026 a b c: x",
        Some(("syslog", Some(1764126855000000), 28)),
        true,
    ),
    (
        b"<165>1 - host app - - - msg",
        Some(("syslog", None, 24)),
        true,
    ),
    (
        b"<165>1 2026-11-26T22:14:15Z h a p m [x a=\"b\\]\"][y] msg",
        Some(("syslog", Some(1795731255000000), 51)),
        true,
    ),
    (
        b"<165>1 2026-11-26T22:14:15Z h a p m [x\\",
        Some(("syslog", Some(1795731255000000), 36)),
        true,
    ),
    (
        b"<165>1 2026-11-26T22:14:15Z h a p m [x] [y] z",
        Some(("syslog", Some(1795731255000000), 40)),
        true,
    ),
    (
        b"<165>1 2026-11-26T22:14:15Z h a p m [x][y]z",
        Some(("syslog", Some(1795731255000000), 36)),
        true,
    ),
    (
        b"<165>1 2026-11-26T22:14:15Z h a p m -x",
        Some(("syslog", Some(1795731255000000), 36)),
        true,
    ),
    (
        b"<165>1 2026-11-26T22:14:15Z h a p m",
        Some(("syslog", Some(1795731255000000), 35)),
        true,
    ),
    (
        b"<165>1 2026-11-26T22:14:15Z h a p m -\n",
        Some(("syslog", Some(1795731255000000), 37)),
        true,
    ),
    (
        b"<165>1 2026-11-26T22:14:15Z h a p m [a]\n",
        Some(("syslog", Some(1795731255000000), 39)),
        true,
    ),
    (
        b"<165>1 2026-11-26T22:14:15Z h a p m [a\n]\n",
        Some(("syslog", Some(1795731255000000), 40)),
        true,
    ),
    (
        b"<165>1 2026-11-26T22:14:15Z h a p m [a\\\n] x",
        Some(("syslog", Some(1795731255000000), 36)),
        true,
    ),
    (
        b"<165>1 2026-11-26T22:14:15Z h a p m \xef\xbb\xbfmsg",
        Some(("syslog", Some(1795731255000000), 39)),
        true,
    ),
    (
        b"<165>1 2026-11-26T22:14:15Z h a p m - \xef\xbb\xbfmsg",
        Some(("syslog", Some(1795731255000000), 41)),
        true,
    ),
    (b"<165>1 2026-11-26T22:14:15Z h a p m\tx", None, false),
    (
        b"<165>12 2026-11-26T22:14:15Z h a p m x",
        Some(("syslog", Some(1795731255000000), 37)),
        true,
    ),
    (b"<165>123 2026-11-26T22:14:15Z h a p m x", None, false),
    (
        b"1 2026-11-26T22:14:15.123456+01:00 h a p m x",
        Some(("syslog", Some(1795727655123456), 43)),
        true,
    ),
    (
        b"1 2026-11-26Tjunk h a p m x",
        Some(("syslog", None, 26)),
        true,
    ),
    (b"1 2026-11-26 h a p m x", None, false),
    (
        b"2026-11-26T03:14:15.123+01:00 host app: x",
        Some(("syslog", Some(1795659255123000), 40)),
        true,
    ),
    (
        b"2026-11-26T03:14:15Z elb 10.0.0.1:443 10.0.0.2:80 x",
        None,
        false,
    ),
    (b"2026-11-26T03:14:15Z h 1.2.3:4x: y", None, false),
    (
        b"2026-11-26T03:14:15Z h 1a:2: y",
        Some(("syslog", Some(1795662855000000), 26)),
        true,
    ),
    (
        b"2026-11-26T03:14:15Z h 12: y",
        Some(("syslog", Some(1795662855000000), 27)),
        true,
    ),
    (b"2026-11-26T03:14:15Z h 1.:2 y", None, false),
    (b"<9>2026-11-26T03:14:15.1234567891Z h app: y", None, false),
    (b"2026-11-26T03:14:15+0100 h app: y", None, false),
    (b"2026-11-26T03:14:15Z h app[1]x: y", None, false),
    (b"2026-11-26T09:10:11.1234567890Z stdout F x", None, false),
    (
        b"2026-11-26T09:10:11.123456789Z stdout F x",
        Some(("cri", Some(1795684211123456), 40)),
        false,
    ),
    (
        b"2026-11-26T09:10:11+01:00 stderr P x",
        Some(("cri", Some(1795680611000000), 35)),
        false,
    ),
    (b"2026-11-26T09:10:11Z stdout X x", None, false),
    (b"2026-11-26T09:10:11Z stdout F", None, false),
    (b"2026-11-26T09:10:11Z stdout Fx", None, false),
    (b"2026-11-26T09:10:11Z stdin F x", None, false),
    (b"", None, false),
    (b"<", None, false),
    (b"<1>", None, false),
];
