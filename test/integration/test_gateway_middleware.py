"""Middleware of the gateway and of the static file server, driven through the real binary:
[route.middleware], the top-level [middleware] defaults and [cors] (request_id, headers,
ip_filter, cors, max_body_size, timeout_ms), the refusal of the middleware this version does not
have, and reloads that change middleware.

Backends are test/support/backend.py instances (see test_gateway.py), plus, where a test must
see exactly what reached a backend and when its connection closed, a raw socket "sink" that
records the bytes it receives and never answers. Synchronisation is by observable events with
deadlines, never by sleeping."""

import re
import signal
import socket
import subprocess
import threading
import time

import pytest

from conftest import RWS_BIN, Process, request, wait_until
from test_gateway import call, echo_of, fields, q, reloads, upstream
from test_gateway import backends, gateway  # noqa: F401  (fixtures)

ORIGIN = "https://app.example"
OTHER_ORIGIN = "https://other.example"
HEX32 = re.compile(r"[0-9a-f]{32}")
REFUSED = ["rate_limit"]  # (an unknown store)


# --- helpers ------------------------------------------------------------------------------------

def check_alive(server):
    assert server.alive(), f"rws exited with {server.proc.returncode}:\n{server.stderr}"
    assert "Sanitizer" not in server.stderr, server.stderr


class SinkBackend:
    """A raw TCP backend on 127.0.0.1 that records every connection's bytes and when it closed,
    and never answers: what a stalled upstream looks like, observable from the outside."""

    LIMIT = 60.0  # a connection is dropped after this long whatever happens

    def __init__(self):
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.addr = f"127.0.0.1:{self.listener.getsockname()[1]}"
        self.lock = threading.Lock()
        self.conns = []  # {"data": bytes, "closed_at": float | None}
        self.socks = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return
            entry = {"data": b"", "closed_at": None}
            with self.lock:
                self.conns.append(entry)
                self.socks.append(sock)
            threading.Thread(target=self._read, args=(sock, entry), daemon=True).start()

    def _read(self, sock, entry):
        sock.settimeout(self.LIMIT)
        try:
            while True:
                data = sock.recv(65536)
                if not data:
                    break
                with self.lock:
                    entry["data"] += data
        except OSError:
            pass
        with self.lock:
            entry["closed_at"] = time.monotonic()

    def snapshot(self):
        with self.lock:
            return [dict(c) for c in self.conns]

    def close(self):
        self.listener.close()
        with self.lock:
            for s in self.socks:
                try:
                    s.close()
                except OSError:
                    pass


@pytest.fixture
def sink():
    s = SinkBackend()
    yield s
    s.close()


def chunked_body(data):
    """Decodes a forwarded request (head + body) as far as it goes: (payload, complete)."""
    head, sep, rest = data.partition(b"\r\n\r\n")
    if not sep:
        return b"", False
    head_text = head.decode("latin-1").lower()
    m = re.search(r"^content-length:\s*(\d+)", head_text, re.M)
    if m:
        return rest, len(rest) >= int(m.group(1))
    payload = b""
    while True:
        line, sep, after = rest.partition(b"\r\n")
        if not sep:
            return payload, False
        size = int(line.split(b";")[0].strip() or b"0", 16)
        if size == 0:
            return payload, after.startswith(b"\r\n") or b"\r\n\r\n" in after
        if len(after) < size + 2:
            return payload + after[:size], False
        payload += after[:size]
        rest = after[size + 2:]


def get(server, path, headers=(), method="GET", body=b"", timeout=10.0):
    return call(server, method, path, headers=headers, body=body, timeout=timeout)


def preflight(server, path, origin=ORIGIN, method="PUT", req_headers=None, tag="pre"):
    hdrs = [("Origin", origin), ("Access-Control-Request-Method", method), ("X-Test-Tag", tag)]
    if req_headers:
        hdrs.append(("Access-Control-Request-Headers", req_headers))
    return get(server, path, headers=hdrs, method="OPTIONS")


def tokens(value):
    return [t.strip().lower() for t in (value or "").split(",") if t.strip()]


def vary(resp):
    return [t for v in resp.header_all("vary") for t in tokens(v)]


def respond_route(name, path, body="ok", middleware=""):
    extra = f"middleware = {middleware}\n" if middleware else ""
    return (f"[[route]]\nname = {q(name)}\nmatch = {{ path = {q(path)} }}\n"
            f"action = {{ type = \"respond\", body = {q(body)} }}\n{extra}\n")


def proxy(name, path, upstream_name="app", middleware=""):
    extra = f"middleware = {middleware}\n" if middleware else ""
    return (f"[[route]]\nname = {q(name)}\nmatch = {{ path = {q(path)} }}\n"
            f"action = {{ type = \"proxy\", upstream = {q(upstream_name)} }}\n{extra}\n")


# --- CORS ---------------------------------------------------------------------------------------

CORS_ROUTE = ("{ cors = { allow_origins = [\"https://app.example\"], "
              "allow_methods = [\"GET\", \"PUT\"], allow_headers = [\"X-Custom\"], "
              "allow_credentials = true, expose_headers = [\"X-Backend-Id\"], max_age = 600 } }")


def test_cors_preflight_answered_by_rws(gateway, backends, curl):
    b = backends("app")
    server = gateway(upstream("app", [b.addr]) + proxy("api", "/api/*", middleware=CORS_ROUTE))
    status, h, body = curl.run("-X", "OPTIONS", "-H", f"Origin: {ORIGIN}",
                               "-H", "Access-Control-Request-Method: PUT",
                               "-H", "Access-Control-Request-Headers: x-custom",
                               "-H", "X-Test-Tag: preflight", server.url("/api/items"),
                               timeout=10)
    assert status == 204, (h, body)
    assert body == b""
    assert h.get("access-control-allow-origin") == ORIGIN
    assert h.get("access-control-allow-credentials") == "true"
    assert "put" in tokens(h.get("access-control-allow-methods"))
    assert "x-custom" in tokens(h.get("access-control-allow-headers"))
    assert h.get("access-control-max-age") == "600"
    assert "origin" in tokens(h.get("vary"))
    # The preflight is answered by rws: the backend never sees it.
    assert b.count("preflight") == 0


@pytest.mark.parametrize("origin,method,req_headers,why", [
    (OTHER_ORIGIN, "PUT", None, "origin"),
    ("https://app.example.evil", "PUT", None, "origin"),  # exact compare, never a prefix
    ("https://app.example:8443", "PUT", None, "origin"),
    ("http://app.example", "PUT", None, "origin"),
    (ORIGIN, "DELETE", None, "method"),
    (ORIGIN, "PUT", "X-Custom, X-Secret", "header"),
])
def test_cors_preflight_refused(gateway, backends, origin, method, req_headers, why):
    b = backends("app")
    server = gateway(upstream("app", [b.addr]) + proxy("api", "/api/*", middleware=CORS_ROUTE))
    resp = preflight(server, "/api/items", origin=origin, method=method,
                     req_headers=req_headers, tag="refused")
    assert resp.status == 403, resp
    assert why in resp.body.decode(), resp.body
    assert resp.header("access-control-allow-origin") is None
    assert resp.header("access-control-allow-credentials") is None
    assert b.count("refused") == 0


def test_cors_actual_request_gets_allow_origin_and_vary(gateway, backends):
    b = backends("app")
    server = gateway(upstream("app", [b.addr]) + proxy("api", "/api/*", middleware=CORS_ROUTE))
    resp = get(server, "/api/x", headers=[("Origin", ORIGIN)])
    assert echo_of(resp)["path"] == "/api/x"
    assert resp.header_all("access-control-allow-origin") == [ORIGIN]
    assert resp.header("access-control-allow-credentials") == "true"
    assert "x-backend-id" in tokens(resp.header("access-control-expose-headers"))
    assert "origin" in vary(resp)

    # Another origin is served (CORS is enforced by browsers) but not allowed; the response
    # still varies by Origin so that a cache does not hand it to the allowed origin.
    other = get(server, "/api/x", headers=[("Origin", OTHER_ORIGIN)])
    assert other.status == 200
    assert other.header("access-control-allow-origin") is None
    assert other.header("access-control-allow-credentials") is None
    assert "origin" in vary(other)

    plain = get(server, "/api/x")
    assert plain.status == 200
    assert plain.header("access-control-allow-origin") is None
    assert "origin" in vary(plain)

    # A non-preflight OPTIONS (no Access-Control-Request-Method) goes to the backend.
    opts = get(server, "/api/x", method="OPTIONS", headers=[("Origin", ORIGIN)])
    assert echo_of(opts)["method"] == "OPTIONS"
    assert opts.header("access-control-allow-origin") == ORIGIN


def test_cors_global_applies_to_every_route_and_a_route_cors_replaces_it(gateway, backends,
                                                                          tmp_path):
    b = backends("app")
    files = tmp_path / "files"
    files.mkdir()
    (files / "a.txt").write_text("static a\n")
    own = "{ cors = { allow_origins = [\"https://other.example\"] } }"
    config = (f"[cors]\nallow_origins = [{q(ORIGIN)}]\nallow_methods = [\"GET\", \"PUT\"]\n\n"
              + upstream("app", [b.addr])
              + proxy("own", "/own/*", middleware=own)
              + proxy("api", "/api/*")
              + respond_route("hello", "/hello", body="hello")
              + "[[route]]\nname = \"files\"\nmatch = { path = \"/files/*\" }\n"
              f"action = {{ type = \"static\", root = {q(str(files))} }}\n\n")
    server = gateway(config)
    for path in ("/api/x", "/hello", "/files/a.txt"):
        pre = preflight(server, path)
        assert pre.status == 204, (path, pre)
        assert pre.header("access-control-allow-origin") == ORIGIN, path
        assert "put" in tokens(pre.header("access-control-allow-methods")), path
        assert preflight(server, path, origin=OTHER_ORIGIN).status == 403, path
        resp = get(server, path, headers=[("Origin", ORIGIN)])
        assert resp.status == 200, (path, resp)
        assert resp.header("access-control-allow-origin") == ORIGIN, path
        assert "origin" in vary(resp), path
    assert get(server, "/hello", headers=[("Origin", ORIGIN)]).body == b"hello"
    assert get(server, "/files/a.txt", headers=[("Origin", ORIGIN)]).body == b"static a\n"
    assert b.count("pre") == 0

    # The route's own cors replaces [cors] as a whole: its origin only, its (default) methods.
    assert preflight(server, "/own/x", tag="own-pre").status == 403
    pre = preflight(server, "/own/x", origin=OTHER_ORIGIN, method="GET", tag="own-pre")
    assert pre.status == 204, pre
    assert pre.header("access-control-allow-origin") == OTHER_ORIGIN
    resp = get(server, "/own/x", headers=[("Origin", ORIGIN)])
    assert resp.status == 200 and resp.header("access-control-allow-origin") is None
    resp = get(server, "/own/x", headers=[("Origin", OTHER_ORIGIN)])
    assert resp.header("access-control-allow-origin") == OTHER_ORIGIN
    assert b.count("own-pre") == 0


def test_cors_allow_all_sends_a_wildcard_without_credentials(gateway, backends):
    b = backends("app")
    server = gateway("[cors]\nallow_all = true\n\n" + upstream("app", [b.addr])
                     + proxy("api", "/*"))
    pre = preflight(server, "/x", origin="https://anyone.example", method="GET")
    assert pre.status == 204, pre
    assert pre.header("access-control-allow-origin") == "*"
    assert pre.header("access-control-allow-credentials") is None
    resp = get(server, "/x", headers=[("Origin", "https://anyone.example")])
    assert resp.status == 200
    assert resp.header("access-control-allow-origin") == "*"
    assert resp.header("access-control-allow-credentials") is None


# --- [middleware] defaults ----------------------------------------------------------------------

def test_defaults_inherited_and_a_route_key_replaces_only_that_key(gateway, backends):
    b = backends("app")
    config = ("[middleware]\nrequest_id = { header = \"X-Request-Id\" }\n"
              "headers = { set = { \"X-Default\" = \"d\" }, add = { \"X-Default-Add\" = \"a\" } }\n"
              "\n" + upstream("app", [b.addr])
              + proxy("own-headers", "/own-headers/*",
                      middleware="{ headers = { set = { \"X-Route\" = \"r\" } } }")
              + proxy("own-id", "/own-id/*",
                      middleware="{ request_id = { header = \"X-Trace-Id\" } }")
              + respond_route("hello", "/hello")
              + proxy("plain", "/*"))
    server = gateway(config)

    # A route without middleware of its own gets every default.
    for path in ("/plain", "/hello"):
        resp = get(server, path)
        assert resp.status == 200, resp
        assert HEX32.fullmatch(resp.header("x-request-id") or ""), (path, resp)
        assert resp.header_all("x-default") == ["d"], path
        assert resp.header_all("x-default-add") == ["a"], path
    resp = get(server, "/plain")
    echo = echo_of(resp)
    assert fields(echo, "x-request-id") == [resp.header("x-request-id")]

    # Its own headers replace the default headers; the default request_id stays.
    resp = get(server, "/own-headers/x")
    echo = echo_of(resp)
    assert resp.header_all("x-route") == ["r"]
    assert resp.header("x-default") is None and resp.header("x-default-add") is None
    assert HEX32.fullmatch(resp.header("x-request-id") or ""), resp
    assert fields(echo, "x-request-id") == [resp.header("x-request-id")]

    # Its own request_id replaces the default one (another field); the default headers stay.
    resp = get(server, "/own-id/x")
    echo = echo_of(resp)
    assert HEX32.fullmatch(resp.header("x-trace-id") or ""), resp
    assert resp.header("x-request-id") is None
    assert fields(echo, "x-trace-id") == [resp.header("x-trace-id")]
    assert fields(echo, "x-request-id") == []
    assert resp.header_all("x-default") == ["d"]


# --- request_id ---------------------------------------------------------------------------------

def test_request_id_generated_forwarded_and_kept(gateway, backends):
    b = backends("app")
    server = gateway(upstream("app", [b.addr])
                     + proxy("api", "/*", middleware="{ request_id = {} }"))
    ids = set()
    for _ in range(3):
        resp = get(server, "/gen")
        rid = resp.header("x-request-id") or ""
        assert HEX32.fullmatch(rid), resp
        assert resp.header_all("x-request-id") == [rid]
        # The backend received the same id, once.
        assert fields(echo_of(resp), "x-request-id") == [rid]
        ids.add(rid)
    assert len(ids) == 3, "generated ids must differ"

    # A valid incoming id is kept end to end.
    for incoming in ("client-id-42", "a" * 128, "Z:9/+=_~!"):
        resp = get(server, "/keep", headers=[("X-Request-Id", incoming)])
        assert resp.header_all("x-request-id") == [incoming]
        assert fields(echo_of(resp), "x-request-id") == [incoming]

    # Invalid ones are replaced by a generated id, on both sides: too long, inner space,
    # not a single field.
    for bad in ([("X-Request-Id", "a" * 129)], [("X-Request-Id", "two words")],
                [("X-Request-Id", "one"), ("X-Request-Id", "two")]):
        resp = get(server, "/bad", headers=bad)
        rid = resp.header("x-request-id") or ""
        assert HEX32.fullmatch(rid), (bad, resp)
        assert fields(echo_of(resp), "x-request-id") == [rid], bad


def test_request_id_custom_header_on_rws_answers(gateway):
    """The id is also on answers rws makes itself (respond action, 403 of ip_filter: request_id
    is the outermost middleware)."""
    config = (respond_route("hello", "/hello",
                            middleware="{ request_id = { header = \"X-Corr\" } }")
              + respond_route("denied", "/denied",
                              middleware="{ request_id = { header = \"X-Corr\" }, "
                                         "ip_filter = { deny = [\"127.0.0.0/8\"] } }"))
    server = gateway(config)
    resp = get(server, "/hello", headers=[("X-Corr", "mine")])
    assert resp.status == 200 and resp.header("x-corr") == "mine"
    resp = get(server, "/denied")
    assert resp.status == 403 and HEX32.fullmatch(resp.header("x-corr") or ""), resp


# --- ip_filter ----------------------------------------------------------------------------------

def test_ip_filter_ipv4(gateway, backends):
    b = backends("app")
    config = ("[middleware]\nheaders = { set = { \"X-Guard\" = \"on\" } }\n\n"
              + upstream("app", [b.addr])
              + proxy("deny-loop", "/deny-loop/*",
                      middleware="{ ip_filter = { deny = [\"127.0.0.0/8\"] } }")
              + proxy("allow-one", "/allow-one/*",
                      middleware="{ ip_filter = { allow = [\"127.0.0.1\"] } }")
              + proxy("allow-other", "/allow-other/*",
                      middleware="{ ip_filter = { allow = [\"10.0.0.0/8\", \"::1\"] } }")
              + proxy("deny-wins", "/deny-wins/*",
                      middleware="{ ip_filter = { allow = [\"127.0.0.0/8\"], "
                                 "deny = [\"127.0.0.1/32\"] } }")
              + proxy("deny-other", "/deny-other/*",
                      middleware="{ ip_filter = { deny = [\"10.0.0.0/8\", \"::1\"] } }"))
    server = gateway(config)
    for path in ("/deny-loop/x", "/allow-other/x", "/deny-wins/x"):
        resp = get(server, path, headers=[("X-Test-Tag", "blocked")])
        assert resp.status == 403, (path, resp)
        assert "127.0.0.1" in resp.body.decode(), resp.body
        # The response-header middleware sits outside ip_filter: the 403 carries its fields.
        assert resp.header("x-guard") == "on", resp
    assert b.count("blocked") == 0
    for path in ("/allow-one/x", "/deny-other/x"):
        resp = get(server, path, headers=[("X-Test-Tag", "passed")])
        assert echo_of(resp)["path"] == path
    assert b.count("passed") == 2


def test_trusted_proxies_give_the_client_address(gateway, backends):
    """Behind a trusted proxy (the test client, 127.0.0.1) the client is the rightmost untrusted
    X-Forwarded-For hop: ip_filter and the access log use it; an untrusted peer's field is not
    believed."""
    b = backends("app")
    routes = (upstream("app", [b.addr])
              + proxy("guarded", "/guarded/*",
                      middleware="{ ip_filter = { deny = [\"203.0.113.0/24\"] } }"))
    trusting = gateway("trusted_proxies = [\"127.0.0.0/8\"]\n" + routes, name="trusting.toml")
    spoof = [("X-Forwarded-For", "203.0.113.5, 198.51.100.7")]
    # The hop the trusted proxy appended is 198.51.100.7: allowed, whatever the client wrote left.
    assert echo_of(get(trusting, "/guarded/a", headers=spoof))["path"] == "/guarded/a"
    resp = get(trusting, "/guarded/b", headers=[("X-Forwarded-For", "198.51.100.7, 203.0.113.5")])
    assert resp.status == 403, resp
    assert "203.0.113.5" in resp.body.decode(), resp.body
    wait_until(lambda: re.search(r"^203\.0\.113\.5 .*\"GET /guarded/b ", trusting.stdout, re.M),
               what="the access log line naming the forwarded client")

    untrusting = gateway(routes, name="untrusting.toml")
    resp = get(untrusting, "/guarded/c", headers=[("X-Forwarded-For", "203.0.113.5")])
    assert echo_of(resp)["path"] == "/guarded/c"
    # The proxy appends the peer it got the request from, never the resolved client.
    assert fields(echo_of(resp), "x-forwarded-for") == ["203.0.113.5, 127.0.0.1"]
    wait_until(lambda: re.search(r"^127\.0\.0\.1 .*\"GET /guarded/c ", untrusting.stdout, re.M),
               what="the access log line naming the peer")


def test_security_headers_and_maintenance_switch(gateway, backends):
    """[middleware] security_headers reach every response (a backend's own value wins, HSTS
    never over plain HTTP); maintenance answers 503 + Retry-After without touching the backend,
    except where a route switches it off; /healthz still answers; a reload ends maintenance."""
    b = backends("app")
    routes = (upstream("app", [b.addr])
              + proxy("api", "/api/*")
              + proxy("status", "/status/*", middleware="{ maintenance = { enabled = false } }")
              + "[[route]]\nname = \"own\"\nmatch = { path = \"/own\" }\n"
                "action = { type = \"respond\", headers = { \"X-Frame-Options\" = \"DENY\" } }\n"
                "middleware = { maintenance = { enabled = false } }\n\n")
    defaults = ("[middleware]\nsecurity_headers = { frame_options = \"SAMEORIGIN\" }\n"
                "maintenance = { retry_after_secs = 90, message = \"Back soon.\" }\n\n")
    server = gateway(defaults + routes)
    resp = get(server, "/api/x", headers=[("X-Test-Tag", "blocked")])
    assert resp.status == 503, resp
    assert resp.body == b"Back soon.\n"
    assert resp.header("retry-after") == "90"
    assert resp.header("x-frame-options") == "SAMEORIGIN"
    assert resp.header("x-content-type-options") == "nosniff"
    assert b.count("blocked") == 0
    resp = get(server, "/status/x", headers=[("X-Test-Tag", "status")])
    assert echo_of(resp)["path"] == "/status/x"
    assert resp.header("referrer-policy") == "strict-origin-when-cross-origin"
    assert "strict-transport-security" not in {k.lower() for k, _ in resp.headers}
    assert get(server, "/healthz").status == 200
    # A route's own value is kept rather than replaced.
    resp = get(server, "/own")
    assert resp.status == 200, resp
    assert [v for k, v in resp.headers if k.lower() == "x-frame-options"] == ["DENY"], resp

    server.config_path.write_text(defaults.replace("maintenance = ", "# ") + routes)
    before = reloads(server)
    server.signal(signal.SIGHUP)
    wait_until(lambda: reloads(server) > before, what="the reload")
    assert echo_of(get(server, "/api/x"))["path"] == "/api/x"


def test_ip_filter_ipv6_loopback(gateway, backends):
    try:
        probe = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        probe.bind(("::1", 0))
        probe.close()
    except OSError as e:  # the IPv4 tests still run
        pytest.skip(f"this machine cannot bind the IPv6 loopback ::1: {e}")
    b = backends("app")
    config = (upstream("app", [b.addr])
              + proxy("allow6", "/allow6/*", middleware="{ ip_filter = { allow = [\"::1\"] } }")
              + proxy("deny6", "/deny6/*",
                      middleware="{ ip_filter = { deny = [\"::1/128\"] } }")
              + proxy("deny-net6", "/deny-net6/*",
                      middleware="{ ip_filter = { deny = [\"::/1\"] } }")
              + proxy("allow4", "/allow4/*",
                      middleware="{ ip_filter = { allow = [\"127.0.0.0/8\"] } }"))
    server = gateway(config, ip="::1")
    assert server.host == "::1"
    assert echo_of(get(server, "/allow6/x"))["path"] == "/allow6/x"
    for path in ("/deny6/x", "/deny-net6/x", "/allow4/x"):
        resp = get(server, path, headers=[("X-Test-Tag", "v6-blocked")])
        assert resp.status == 403, (path, resp)
    assert b.count("v6-blocked") == 0


def test_ip_filter_ipv4_client_of_a_dual_stack_listener(gateway, backends):
    """On `::` an IPv4 client's peer is ::ffff:127.0.0.1: IPv4 blocks must still match it."""
    try:
        with open("/proc/sys/net/ipv6/bindv6only") as f:
            v6only = f.read().strip() != "0"
    except OSError:
        v6only = True  # no IPv6 at all
    if v6only:
        pytest.skip("no dual-stack '::' listener on this machine (IPv6 off or bindv6only set)")
    b = backends("app")
    config = (upstream("app", [b.addr])
              + proxy("deny4", "/deny4/*",
                      middleware="{ ip_filter = { deny = [\"127.0.0.0/8\"] } }")
              + proxy("allow4", "/allow4/*",
                      middleware="{ ip_filter = { allow = [\"127.0.0.1\"] } }"))
    server = gateway(config, ip="::")
    server.host = "127.0.0.1"  # connect over IPv4
    resp = get(server, "/deny4/x", headers=[("X-Test-Tag", "mapped")])
    assert resp.status == 403, resp
    assert b.count("mapped") == 0
    assert echo_of(get(server, "/allow4/x"))["path"] == "/allow4/x"


# --- timeout_ms ---------------------------------------------------------------------------------

def test_timeout_answers_504_and_cancels_the_upstream_exchange(gateway, backends, sink):
    b = backends("app")
    config = (upstream("stalled", [sink.addr], "read_timeout_ms = 20000\nretries = 0")
              + upstream("app", [b.addr])
              + proxy("slow", "/slow/*", "stalled",
                      middleware="{ timeout_ms = 300, headers = { set = { \"X-T\" = \"1\" } } }")
              + proxy("fast", "/*", "app", middleware="{ timeout_ms = 2000 }"))
    server = gateway(config)
    for attempt in range(2):
        start = time.monotonic()
        resp = get(server, "/slow/x", timeout=15)
        elapsed = time.monotonic() - start
        assert resp.status == 504, resp
        assert resp.header("x-t") == "1", resp
        assert 0.25 <= elapsed < 5.0, f"504 after {elapsed:.2f}s (timeout_ms = 300)"
        # The request had reached the stalled backend; its connection is closed, not left to
        # the 20 s read timeout nor parked in the pool.
        def used():
            return [c for c in sink.snapshot() if c["data"]]

        conns = wait_until(lambda: used()[attempt:], timeout=5,
                           what="the request to reach the stalled backend")
        assert len(used()) == attempt + 1, "one upstream connection per request"
        assert conns[0]["data"].startswith(b"GET /slow/x ")
        closed = wait_until(lambda: used()[attempt]["closed_at"], timeout=5,
                            what="rws to close the stalled upstream connection")
        assert closed - start < 5.0
    # rws keeps serving, on the same worker.
    assert echo_of(get(server, "/after"))["path"] == "/after"


def test_timeout_bounds_the_head_only_not_a_streamed_body(gateway, backends):
    b = backends("app")
    server = gateway(upstream("app", [b.addr])
                     + proxy("sse", "/*", middleware="{ timeout_ms = 300 }"))
    conn = server.connect(timeout=10)
    try:
        conn.send(request("GET", "/sse?key=tmo&events=2", host="gw.test"))
        head = conn.read_until(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200"), head
        first = conn.read_until(b"data: event 1\n\n")
        assert b"event 1" in first
        start = time.monotonic()
        # The subject of this test is the passage of time: the stream outlives timeout_ms.
        wait_until(lambda: time.monotonic() - start > 0.6, what="the route timeout to pass")
        b.ctl("sse_release", key="tmo")
        rest = conn.read_until(b"0\r\n\r\n")
        assert b"data: event 2" in rest
    finally:
        conn.close()


# --- max_body_size ------------------------------------------------------------------------------

def test_max_body_size_content_length(gateway, backends):
    b = backends("app")
    server = gateway(upstream("app", [b.addr])
                     + proxy("api", "/*", middleware="{ max_body_size = 1000 }"))
    # Over the limit: 413 from the head alone (the body is never sent), nothing forwarded.
    for extra in ([], [("Expect", "100-continue")]):
        conn = server.connect(timeout=10)
        try:
            conn.send(request("POST", "/upload", host="gw.test",
                              headers=[("Content-Length", "1001"), ("X-Test-Tag", "big"),
                                       *extra]))
            resp = conn.read_response()
            assert resp.status == 413, (extra, resp)
        finally:
            conn.close()
    assert b.count("big") == 0

    # At the limit: forwarded whole.
    body = b"x" * 1000
    resp = get(server, "/echo", method="POST", body=body, headers=[("X-Test-Tag", "ok")])
    assert echo_of(resp)["body_len"] == 1000
    assert b.count("ok") == 1


def test_max_body_size_chunked(gateway, backends, sink):
    b = backends("app")
    config = (upstream("sink", [sink.addr], "retries = 0") + upstream("app", [b.addr])
              + proxy("to-sink", "/sink/*", "sink", middleware="{ max_body_size = 1000 }")
              + proxy("api", "/*", "app", middleware="{ max_body_size = 1000 }"))
    server = gateway(config)

    def chunked(sizes):
        return b"".join(b"%x\r\n" % n + b"c" * n + b"\r\n" for n in sizes) + b"0\r\n\r\n"

    # Under the limit: passes.
    resp = get(server, "/echo", method="POST", body=chunked([400, 400]),
               headers=[("Transfer-Encoding", "chunked")])
    echo = echo_of(resp)
    assert echo["body_len"] == 800

    # Over the limit, to a backend that records what it got: 413, incomplete body upstream.
    conn = server.connect(timeout=15)
    try:
        conn.send(request("POST", "/sink/up", host="gw.test",
                          headers=[("Transfer-Encoding", "chunked")]) + chunked([300] * 8))
        resp = conn.read_response()
        assert resp.status == 413, resp
    finally:
        conn.close()
    for c in sink.snapshot():
        payload, complete = chunked_body(c["data"])
        assert not complete, "the backend received the whole over-limit body"
        assert len(payload) <= 1000, f"{len(payload)} body bytes forwarded past the limit"
    # A connection that carried a cut body is closed, not reused.
    wait_until(lambda: all(c["closed_at"] for c in sink.snapshot()), timeout=10,
               what="rws to close the upstream connection of the refused body")

    # Over the limit to the echo backend: 413 too (not the backend's 200), and rws serves on.
    resp = get(server, "/echo", method="POST", body=chunked([600, 600]),
               headers=[("Transfer-Encoding", "chunked")])
    assert resp.status == 413, resp
    assert echo_of(get(server, "/after"))["path"] == "/after"


def test_max_body_size_413_keeps_the_connection_in_step(gateway, backends):
    """After a 413 the client connection is either closed or still framed correctly: the
    refused body (here holding something that looks like a request) is skipped, never parsed
    as the next request."""
    b = backends("app")
    server = gateway(upstream("app", [b.addr])
                     + proxy("api", "/*", middleware="{ max_body_size = 1000 }"))
    smuggled = b"GET /smuggled HTTP/1.1\r\nHost: gw.test\r\n\r\n"
    chunk = b"%x\r\n" % len(smuggled) + smuggled + b"\r\n"
    refused = [
        request("POST", "/cl", host="gw.test", headers=[("Content-Length", "3000")])
        + smuggled.ljust(3000, b"z"),
        request("POST", "/chunked", host="gw.test", headers=[("Transfer-Encoding", "chunked")])
        + b"400\r\n" + b"z" * 0x400 + b"\r\n" + chunk + b"0\r\n\r\n",
    ]
    for i, data in enumerate(refused):
        conn = server.connect(timeout=10)
        try:
            conn.send(data)
            assert conn.read_response().status == 413
            try:
                conn.send(request("GET", f"/next-{i}", host="gw.test"))
                resp = conn.read_response()
            except (EOFError, ConnectionResetError, BrokenPipeError):
                continue  # closed after the 413: fine
            assert echo_of(resp)["path"] == f"/next-{i}"
        finally:
            conn.close()
    paths = [e["path"] for e in b.ctl("log")]
    assert "/smuggled" not in paths and "/cl" not in paths, paths


# --- headers ------------------------------------------------------------------------------------

def test_headers_edit_proxied_responses(gateway, backends):
    b = backends("app")
    mw = ("{ headers = { set = { \"X-Backend-Id\" = \"hidden\", \"X-New\" = \"n\" }, "
          "add = { \"X-End-To-End\" = \"more\", \"Via\" = \"1.1 edge\" }, "
          "remove = [\"X-Conn-Id\", \"Via\"] } }")
    server = gateway(upstream("app", [b.addr]) + proxy("api", "/*", middleware=mw))
    resp = get(server, "/hop")
    assert resp.status == 200 and resp.body == b"hop\n"
    assert resp.header_all("x-backend-id") == ["hidden"]
    assert resp.header_all("x-new") == ["n"]
    assert resp.header("x-conn-id") is None
    assert resp.header_all("x-end-to-end") == ["kept", "more"]
    # remove comes first, then add: only the configured Via is left.
    assert resp.header_all("via") == ["1.1 edge"]


@pytest.mark.parametrize("edit", [
    "{ headers = { remove = [\"Content-Length\"] } }",
    "{ headers = { set = { \"Content-Length\" = \"2\" } } }",
    "{ headers = { set = { \"Transfer-Encoding\" = \"chunked\" } } }",
    "{ headers = { add = { \"Date\" = \"yesterday\" } } }",
])
def test_headers_editing_message_framing_is_refused(tmp_path, edit):
    """Fields rws writes to frame the message cannot be edited: the configuration is refused
    (nothing configured is silently ignored)."""
    path = tmp_path / "framing.toml"
    path.write_text(respond_route("r", "/r", body="hello", middleware=edit))
    out = subprocess.run([RWS_BIN, "check-config", str(path)], capture_output=True, text=True,
                         timeout=30)
    assert out.returncode == 1, out
    assert re.search(re.escape(str(path)) + r":5:\d+: .*written by rws itself", out.stderr), out


def test_defaults_wrap_the_no_route_404(gateway):
    """A request no route matches still gets the [middleware] / [cors] defaults."""
    server = gateway("[cors]\nallow_origins = [\"https://app.example\"]\n\n"
                     "[middleware]\nrequest_id = {}\n"
                     "headers = { set = { \"X-Content-Type-Options\" = \"nosniff\" } }\n\n"
                     + respond_route("only", "/only"))
    resp = get(server, "/nothing", headers=[("Origin", ORIGIN)])
    assert resp.status == 404, resp
    assert HEX32.fullmatch(resp.header("x-request-id") or ""), resp
    assert resp.header("x-content-type-options") == "nosniff", resp
    assert resp.header("access-control-allow-origin") == ORIGIN, resp
    pre = preflight(server, "/nothing", method="GET")
    assert pre.status == 204, pre


def test_route_max_body_size_zero_lifts_the_default(gateway, backends):
    b = backends("app")
    server = gateway("[middleware]\nmax_body_size = 10\n\n" + upstream("app", [b.addr])
                     + proxy("open", "/open/*", middleware="{ max_body_size = 0 }")
                     + proxy("limited", "/*"))
    assert get(server, "/limited", method="POST", body=b"x" * 11).status == 413
    resp = get(server, "/open/x", method="POST", body=b"x" * 11)
    assert resp.status == 200, resp
    assert echo_of(resp)["body_len"] == 11


def test_default_headers_on_answers_rws_makes(gateway, backends, sink, tmp_path):
    files = tmp_path / "files"
    files.mkdir()
    config = ("[middleware]\n"
              "headers = { set = { \"X-Content-Type-Options\" = \"nosniff\" }, "
              "add = { \"X-Added\" = \"1\" }, remove = [\"Content-Type\"] }\n\n"
              + upstream("stalled", [sink.addr], "retries = 0")
              + "[[route]]\nname = \"files\"\nmatch = { path = \"/files/*\" }\n"
              f"action = {{ type = \"static\", root = {q(str(files))} }}\n\n"
              + respond_route("missing", "/gone", body="gone",
                              middleware="{ ip_filter = { deny = [\"127.0.0.1\"] } }")
              + proxy("limited", "/limited/*", "stalled", middleware="{ max_body_size = 1 }")
              + proxy("slow", "/slow/*", "stalled", middleware="{ timeout_ms = 200 }"))
    server = gateway(config)
    answers = [("/files/nothing-here", "GET", b"", 404),
               ("/gone", "GET", b"", 403),
               ("/limited/x", "POST", b"too big", 413),
               ("/slow/x", "GET", b"", 504)]
    for path, method, body, status in answers:
        resp = get(server, path, method=method, body=body)
        assert resp.status == status, (path, resp)
        assert resp.header_all("x-content-type-options") == ["nosniff"], (path, resp)
        assert resp.header_all("x-added") == ["1"], (path, resp)
        assert resp.header("content-type") is None, (path, resp)


# --- static file mode ---------------------------------------------------------------------------

def test_static_mode_applies_cors_and_middleware(rws, tmp_path):
    root = tmp_path / "site"
    root.mkdir()
    (root / "index.html").write_text("<h1>home</h1>\n")
    (root / "data.json").write_text('{"a": 1}\n')
    config = tmp_path / "static.toml"
    config.write_text(f"root = {q(str(root))}\n\n"
                      f"[cors]\nallow_origins = [{q(ORIGIN)}]\n\n"
                      "[middleware]\nrequest_id = {}\n"
                      "headers = { set = { \"X-Frame-Options\" = \"DENY\" }, "
                      "add = { \"X-Static\" = \"yes\" } }\n")
    server = rws("--config", str(config))
    try:
        assert "gateway" not in server.stderr
        resp = get(server, "/data.json", headers=[("Origin", ORIGIN)])
        assert resp.status == 200 and resp.body == b'{"a": 1}\n', resp
        assert resp.header("access-control-allow-origin") == ORIGIN
        assert "origin" in vary(resp)
        assert resp.header("x-frame-options") == "DENY"
        assert resp.header("x-static") == "yes"
        assert HEX32.fullmatch(resp.header("x-request-id") or ""), resp

        resp = get(server, "/", headers=[("Origin", OTHER_ORIGIN)])
        assert resp.status == 200 and b"home" in resp.body
        assert resp.header("access-control-allow-origin") is None
        assert resp.header("x-frame-options") == "DENY"

        resp = get(server, "/missing.txt", headers=[("Origin", ORIGIN)])
        assert resp.status == 404, resp
        assert resp.header("x-frame-options") == "DENY"
        assert resp.header("access-control-allow-origin") == ORIGIN

        pre = preflight(server, "/data.json", method="GET")
        assert pre.status == 204, pre
        assert pre.header("access-control-allow-origin") == ORIGIN
        assert preflight(server, "/data.json", origin=OTHER_ORIGIN, method="GET").status == 403
    finally:
        check_alive(server)


# --- refused middleware: a value that cannot be set up fails in every placement -----------------

REFUSED_TOML = {
    "rate_limit": ("rate_limit = { max_requests = 5, window_secs = 1, store = \"memcached\" }",
                   r"store must be \"memory\" or \"redis\", not 'memcached'"),
}


def refused_config(key, placement):
    line = REFUSED_TOML[key][0]
    route = ("[[route]]\nname = \"r\"\nmatch = { path = \"/*\" }\n"
             "action = { type = \"respond\", body = \"ok\" }\n")
    if placement == "route":
        return f"{route}[route.middleware]\ntimeout_ms = 1000\n{line}\n", 7
    if placement == "defaults":
        return f"[middleware]\ntimeout_ms = 1000\n{line}\n\n{route}", 3
    return f"root = \"/tmp\"\n\n[middleware]\n{line}\n", 4  # static file mode


@pytest.mark.parametrize("placement", ["route", "defaults", "static"])
@pytest.mark.parametrize("key", REFUSED)
def test_refused_middleware(tmp_path, key, placement):
    if not RWS_BIN:
        pytest.fail("RWS_BIN is not set: run the integration tests through ctest")
    text, line = refused_config(key, placement)
    path = tmp_path / f"{key}.toml"
    path.write_text(text)
    where = re.compile(re.escape(str(path)) + rf":{line}:\d+: .*{key}: " + REFUSED_TOML[key][1])

    proc = Process([RWS_BIN, "--ip", "127.0.0.1", "--port", "0", "--thread-count", "1",
                    "--config", str(path)])
    try:
        code = proc.wait_exit(timeout=30)
    finally:
        proc.stop()
    assert code != 0, proc.stderr
    assert where.search(proc.stderr), proc.stderr
    assert "listening on" not in proc.stderr

    out = subprocess.run([RWS_BIN, "check-config", str(path)], capture_output=True, text=True,
                         timeout=30)
    assert out.returncode == 1, out
    assert where.search(out.stderr), out.stderr
    assert "configuration OK" not in out.stdout


# --- reload -------------------------------------------------------------------------------------

def test_reload_adds_and_keeps_middleware(gateway, backends):
    b = backends("app")
    base = upstream("app", [b.addr]) + proxy("api", "/*")
    server = gateway(base)
    resp = get(server, "/before", headers=[("Origin", ORIGIN)])
    assert echo_of(resp)["path"] == "/before"
    assert resp.header("x-request-id") is None
    assert resp.header("access-control-allow-origin") is None

    with_mw = ("[middleware]\nrequest_id = {}\nheaders = { set = { \"X-Reloaded\" = \"1\" } }\n"
               f"\n[cors]\nallow_origins = [{q(ORIGIN)}]\n\n"
               + upstream("app", [b.addr])
               + proxy("blocked", "/blocked/*",
                       middleware="{ ip_filter = { deny = [\"127.0.0.0/8\"] } }")
               + proxy("api", "/*"))
    server.config_path.write_text(with_mw)
    server.signal(signal.SIGHUP)
    wait_until(lambda: reloads(server) == 1, what="the reload to be logged")

    resp = get(server, "/after", headers=[("Origin", ORIGIN)])
    echo = echo_of(resp)
    rid = resp.header("x-request-id") or ""
    assert HEX32.fullmatch(rid), resp
    assert fields(echo, "x-request-id") == [rid]
    assert resp.header("x-reloaded") == "1"
    assert resp.header("access-control-allow-origin") == ORIGIN
    resp = get(server, "/blocked/x", headers=[("X-Test-Tag", "blocked")])
    assert resp.status == 403 and resp.header("x-reloaded") == "1", resp
    assert b.count("blocked") == 0

    # A reload with refused middleware fails and keeps the running middleware.
    server.config_path.write_text(
        with_mw.replace("request_id = {}", "rate_limit = { max_requests = 1, window_secs = 1, "
                                           "store = \"memcached\" }"))
    server.signal(signal.SIGHUP)
    wait_until(lambda: "reload failed" in server.stderr, what="the failed reload to be logged")
    assert "store must be \"memory\" or \"redis\", not 'memcached'" in server.stderr
    resp = get(server, "/still")
    assert HEX32.fullmatch(resp.header("x-request-id") or ""), resp
    assert resp.header("x-reloaded") == "1"

