"""The access log's gateway fields, through the real binary with a real backend: the request id,
the matched route, the backend's address and time (json and combined formats), credential query
values redacted, and the request id in the proxy's warning about a failed backend.
Synchronisation is by observable events with deadlines, never by sleeping."""

import json
import re

from conftest import wait_until
from test_gateway import call, dead_port, upstream  # noqa: F401 (dead_port: fixture)
from test_gateway import backends, gateway  # noqa: F401 (fixtures)
from test_gateway_middleware import proxy


def log_lines(server, marker):
    """The access log lines containing `marker`, once at least one is there."""
    return wait_until(lambda: [l for l in server.stdout.splitlines() if marker in l],
                      what=f"an access log line with {marker!r}")


def test_json_access_log_has_request_id_route_and_upstream(gateway, backends):
    b = backends("app")
    server = gateway("log_format = \"json\"\n" + upstream("app", [b.addr])
                     + proxy("api", "/api/*", middleware="{ request_id = {} }")
                     + "[[route]]\nname = \"hello\"\nmatch = { path = \"/hello\" }\n"
                       "action = { type = \"respond\", body = \"hi\" }\n")
    resp = call(server, "GET", "/api/one?q=1&access_token=s3cret&Sig=abc",
                headers=[("X-Request-Id", "trace-77")])
    assert resp.status == 200
    [line] = log_lines(server, "/api/one")
    entry = json.loads(line)
    assert entry["target"] == "/api/one?q=1&access_token=REDACTED&Sig=REDACTED"
    assert "s3cret" not in line
    assert entry["request_id"] == "trace-77"
    assert entry["route"] == "api"
    assert entry["upstream_addr"] == b.addr
    assert entry["upstream_status"] == 200
    assert 0 <= entry["upstream_time_ms"] <= entry["duration_ms"]
    assert entry["status"] == 200

    # A route without a backend: the route is known, upstream fields are absent.
    assert call(server, "GET", "/hello").status == 200
    [line] = log_lines(server, "/hello")
    entry = json.loads(line)
    assert entry["route"] == "hello"
    assert "upstream_addr" not in entry and "upstream_time_ms" not in entry
    assert "request_id" not in entry

    # Unmatched: no route.
    assert call(server, "GET", "/nowhere").status == 404
    [line] = log_lines(server, "/nowhere")
    assert "route" not in json.loads(line)


def test_combined_access_log_appends_gateway_fields(gateway, backends, dead_port):
    b = backends("app")
    server = gateway(upstream("app", [b.addr])
                     + upstream("gone", [f"127.0.0.1:{dead_port}"], "retries = 0\n")
                     + proxy("dead", "/dead/*", upstream_name="gone",
                             middleware="{ request_id = {} }")
                     + proxy("api", "/api/*", middleware="{ request_id = {} }"))
    resp = call(server, "GET", "/api/two?password=hunter2",
                headers=[("X-Request-Id", "combined-1")])
    assert resp.status == 200
    [line] = log_lines(server, "/api/two")
    assert "hunter2" not in line
    m = re.fullmatch(r'127\.0\.0\.1 - - \[[^\]]+\] "GET /api/two\?password=REDACTED HTTP/1\.1" '
                     r'200 \d+ "-" "-" request_id=combined-1 upstream=(\S+) '
                     r'upstream_time=(\d+\.\d{3}) request_time=(\d+\.\d{3})', line)
    assert m, line
    assert m.group(1) == b.addr
    assert float(m.group(2)) <= float(m.group(3))

    # A dead backend: 502, and the proxy's warning names the request id.
    resp = call(server, "GET", "/dead/x", headers=[("X-Request-Id", "dead-1")])
    assert resp.status == 502
    [line] = log_lines(server, "/dead/x")
    assert " 502 " in line and "request_id=dead-1" in line
    assert f"upstream=127.0.0.1:{dead_port}" in line
    wait_until(lambda: re.search(r"request dead-1: upstream 'gone' backend", server.stderr),
               what="the proxy's warning with the request id")
