"""GET /metrics (Prometheus text format 0.0.4) of the real binary: exact request, byte and
upstream counts after known traffic in gateway mode (a live backend, a dead one, requests no
route matches), backend health and circuit gauges, reload counts, a configured path and
[metrics] enabled = false in static mode.

The exposition is parsed by the small independent parser below (not by rws code), which checks
the line syntax, label escaping and that every sample belongs to a family declared by
# HELP / # TYPE. Synchronisation is by observable events with deadlines, never by sleeping."""

import re
import signal

import pytest

from conftest import wait_until
from test_gateway import BackendProcess, call, proxy_route, reloads, upstream
from test_gateway import dead_port, gateway  # noqa: F401  (fixtures used by these tests)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
SAMPLE = re.compile(rf"^({NAME})(?:\{{(.*)\}})? (\S+)$")
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)')
UNESCAPE = {"\\\\": "\\", '\\"': '"', "\\n": "\n"}


def parse(text):
    """Exposition text → {(name, frozenset(labels.items())): float}, plus {family: type}."""
    samples, types, helps = {}, {}, set()
    assert text.endswith("\n"), "the exposition must end with a newline"
    for line in text.splitlines():
        if line.startswith("# HELP "):
            helps.add(line.split(" ")[2])
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert kind in ("counter", "gauge", "histogram"), line
            assert name in helps, f"TYPE before HELP: {line}"
            types[name] = kind
            continue
        m = SAMPLE.match(line)
        assert m, f"not a sample line: {line!r}"
        name, label_text, value = m.groups()
        labels = {}
        pos = 0
        label_text = label_text or ""
        while pos < len(label_text):
            lm = LABEL.match(label_text, pos)
            assert lm, f"bad labels in {line!r}"
            labels[lm.group(1)] = re.sub(r'\\[\\"n]', lambda e: UNESCAPE[e.group(0)],
                                         lm.group(2))
            pos = lm.end()
        family = re.sub(r"_(bucket|sum|count)$", "", name)
        assert name in types or (family in types and types[family] == "histogram"), \
            f"sample of an undeclared family: {line}"
        key = (name, frozenset(labels.items()))
        assert key not in samples, f"duplicate sample: {line}"
        samples[key] = float(value)
    return samples, types


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())))


def scrape(server, path="/metrics"):
    r = call(server, "GET", path)
    assert r.status == 200, r
    assert r.header("content-type") == CONTENT_TYPE
    return parse(r.body.decode())


def check_histogram(samples, name, count, **labels):
    """Buckets are cumulative, end with le="+Inf" equal to _count, and _count is `count`."""
    buckets = sorted(((float(dict(k[1])["le"]), v) for k, v in samples.items()
                      if k[0] == name + "_bucket"
                      and {a: b for a, b in k[1] if a != "le"} == labels))
    assert [le for le, _ in buckets] == [.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10,
                                         float("inf")]
    counts = [v for _, v in buckets]
    assert counts == sorted(counts), f"{name} buckets are not cumulative: {counts}"
    assert counts[-1] == value(samples, name + "_count", **labels) == count
    assert value(samples, name + "_sum", **labels) >= 0


@pytest.fixture
def live():
    b = BackendProcess("live")
    yield b
    b.proc.stop()


@pytest.fixture
def dead_addr(dead_port):
    return f"127.0.0.1:{dead_port}"


def gateway_config(live_addr, dead_addr, extra=""):
    return (upstream("api", [live_addr]) +
            upstream("down", [dead_addr], "retries = 0\n[upstream.circuit_breaker]\n"
                     "failure_threshold = 1\nrecovery_secs = 3600\n") +
            f"""
[[route]]
name = "live"
[route.match]
path = "/echo"
[route.action]
type = "proxy"
upstream = "api"

[[route]]
name = "dead"
[route.match]
path = "/dead"
[route.action]
type = "proxy"
upstream = "down"
{extra}""")


def test_gateway_counts_requests_bytes_upstreams_and_backend_state(gateway, live, dead_addr):
    server = gateway(gateway_config(live.addr, dead_addr), threads=2)
    body_bytes = 0
    for _ in range(2):
        r = call(server, "GET", "/echo")
        assert r.status == 200
        body_bytes += len(r.body)
    r = call(server, "POST", "/echo", body=b"abc")
    assert r.status == 200
    body_bytes += len(r.body)
    for path in ("/nothing", "/a/b", "/metrics/x"):
        assert call(server, "GET", path).status == 404
    assert call(server, "GET", "/dead").status == 502

    samples, types = scrape(server)
    assert types["rws_http_requests_total"] == "counter"
    assert types["rws_http_request_duration_seconds"] == "histogram"
    assert types["rws_upstream_backend_healthy"] == "gauge"
    requests = {dict(k[1])["route"] + " " + dict(k[1])["method"] + " " + dict(k[1])["code"]: v
                for k, v in samples.items() if k[0] == "rws_http_requests_total"}
    assert requests == {"live GET 2xx": 2, "live POST 2xx": 1, " GET 4xx": 3,
                        "dead GET 5xx": 1}
    check_histogram(samples, "rws_http_request_duration_seconds", 3, route="live")
    check_histogram(samples, "rws_http_request_duration_seconds", 3, route="")
    check_histogram(samples, "rws_http_request_duration_seconds", 1, route="dead")
    assert value(samples, "rws_http_response_bytes_total", route="live") == body_bytes
    assert value(samples, "rws_http_request_bytes_total", route="live") == len(b"abc")

    upstream_requests = {(dict(k[1])["upstream"], dict(k[1])["backend"], dict(k[1])["code"]): v
                         for k, v in samples.items() if k[0] == "rws_upstream_requests_total"}
    assert upstream_requests == {("api", live.addr, "2xx"): 3, ("down", dead_addr, "error"): 1}
    # Sequential requests on two workers: each worker that served one keeps one idle
    # keep-alive connection to the live backend.
    assert value(samples, "rws_upstream_pool_idle_connections", upstream="api",
                 backend=live.addr) in (1, 2)
    assert value(samples, "rws_upstream_pool_idle_connections", upstream="down",
                 backend=dead_addr) == 0
    check_histogram(samples, "rws_upstream_response_seconds", 3, upstream="api")
    check_histogram(samples, "rws_upstream_response_seconds", 1, upstream="down")

    assert value(samples, "rws_upstream_backend_healthy", upstream="api", backend=live.addr) == 1
    assert value(samples, "rws_upstream_backend_healthy", upstream="down",
                 backend=dead_addr) == 1  # no active health checks configured
    assert value(samples, "rws_upstream_circuit_state", upstream="api", backend=live.addr) == 0
    assert value(samples, "rws_upstream_circuit_state", upstream="down", backend=dead_addr) == 2
    assert value(samples, "rws_connections_active", protocol="http1") >= 1
    assert value(samples, "rws_config_reloads_total", result="success") == 0

    # The scrape itself is an exchange like any other: the next scrape counts it (route="").
    samples, _ = scrape(server)
    assert value(samples, "rws_http_requests_total", route="", method="GET", code="2xx") == 1
    # HEAD answers the head only.
    r = call(server, "HEAD", "/metrics")
    assert (r.status, r.body, r.header("content-type")) == (200, b"", CONTENT_TYPE)


def test_passively_ejected_backend_is_not_healthy(gateway, live, dead_addr):
    # One failure ejects the dead backend for an hour; no active health checks.
    server = gateway(upstream("api", [live.addr])
                     + upstream("down", [dead_addr],
                                "retries = 0\n[upstream.passive]\nmax_fails = 1\n"
                                "eject_secs = 3600\n")
                     + proxy_route("api", "/echo", "live") + proxy_route("down", "/dead", "dead"))
    samples, types = scrape(server)
    assert types["rws_upstream_backend_ejected"] == "gauge"
    assert value(samples, "rws_upstream_backend_healthy", upstream="down", backend=dead_addr) == 1
    assert value(samples, "rws_upstream_backend_ejected", upstream="down", backend=dead_addr) == 0

    assert call(server, "GET", "/dead").status == 502  # the failure that ejects it
    assert call(server, "GET", "/dead").status == 502  # no backend left
    samples, _ = scrape(server)
    assert value(samples, "rws_upstream_backend_healthy", upstream="down", backend=dead_addr) == 0
    assert value(samples, "rws_upstream_backend_ejected", upstream="down", backend=dead_addr) == 1
    assert value(samples, "rws_upstream_backend_healthy", upstream="api", backend=live.addr) == 1
    assert value(samples, "rws_upstream_backend_ejected", upstream="api", backend=live.addr) == 0
    upstream_requests = {(dict(k[1])["upstream"], dict(k[1])["backend"], dict(k[1])["code"]): v
                         for k, v in samples.items() if k[0] == "rws_upstream_requests_total"}
    assert upstream_requests == {("down", dead_addr, "error"): 1}, "the second never reached it"


def test_reloads_are_counted_by_result(gateway, live, dead_addr):
    config = gateway_config(live.addr, dead_addr)
    server = gateway(config)
    server.signal(signal.SIGHUP)
    wait_until(lambda: reloads(server) == 1, what="the reload to be logged")
    samples, _ = scrape(server)
    assert value(samples, "rws_config_reloads_total", result="success") == 1
    assert value(samples, "rws_config_reloads_total", result="failure") == 0

    server.config_path.write_text(config + "\n[[route]]\nname = \"bad\"\ncolour = 1\n")
    server.signal(signal.SIGHUP)
    wait_until(lambda: "reload failed" in server.stderr, what="the failed reload to be logged")
    samples, _ = scrape(server)
    assert value(samples, "rws_config_reloads_total", result="success") == 1
    assert value(samples, "rws_config_reloads_total", result="failure") == 1


def test_configured_path_replaces_the_default(gateway, live, dead_addr):
    server = gateway(gateway_config(live.addr, dead_addr) +
                     '\n[metrics]\npath = "/internal/metrics"\n')
    assert call(server, "GET", "/metrics").status == 404  # now an ordinary path: no route
    samples, _ = scrape(server, "/internal/metrics")
    assert value(samples, "rws_http_requests_total", route="", method="GET", code="4xx") == 1


def test_disabled_metrics_path_is_an_ordinary_path_in_static_mode(rws, tmp_path):
    (tmp_path / "index.html").write_text("hello\n")
    (tmp_path / "rws.config.toml").write_text("[metrics]\nenabled = false\n")
    server = rws("--root", str(tmp_path), cwd=tmp_path)
    assert call(server, "GET", "/index.html").status == 200
    assert call(server, "GET", "/metrics").status == 404


def test_static_mode_serves_metrics_by_default(rws, tmp_path):
    (tmp_path / "index.html").write_text("hello\n")
    server = rws("--root", str(tmp_path), cwd=tmp_path)
    assert call(server, "GET", "/index.html").status == 200
    assert call(server, "GET", "/missing").status == 404
    samples, _ = scrape(server)
    assert value(samples, "rws_http_requests_total", route="", method="GET", code="2xx") == 1
    assert value(samples, "rws_http_requests_total", route="", method="GET", code="4xx") == 1
    assert value(samples, "rws_http_response_bytes_total", route="") >= len("hello\n")
