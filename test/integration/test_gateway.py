"""The gateway mode of `rws` (a config file with [[route]] and [[upstream]] tables), driven through
the real binary: respond/redirect/static actions, route matching, the HTTP/1.1 reverse proxy
(forwarding fields, streaming, backpressure, SSE, trailers, interim responses, upgrades, the
keep-alive pool), failover, health checks, the circuit breaker, retries, failures of backends,
reloads on SIGHUP, nginx as a backend and `check-config`.

Backends are instances of test/support/backend.py; a test steers one through its control port
and learns from it what reached it (requests by tag, connections, bytes sent). Synchronisation
is by observable events with deadlines, never by sleeping."""

import hashlib
import http.client
import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

import pytest

from conftest import RWS_BIN, Process, RawConnection, request, require_tool, wait_until

SUPPORT = Path(__file__).resolve().parent.parent / "support"
BACKEND_PY = SUPPORT / "backend.py"
sys.path.insert(0, str(SUPPORT))
import backend as backend_support  # noqa: E402  (the shared download/upload pattern)

MiB = 1 << 20
RSS_HEADROOM_KB = 64 * 1024  # rws may grow at most this much while streaming


# --- helpers ------------------------------------------------------------------------------------

class BackendProcess:
    """A running test/support/backend.py; `ctl` talks to its control port directly."""

    def __init__(self, ident):
        self.ident = ident
        self.proc = Process([sys.executable, str(BACKEND_PY), "--id", ident])
        info = wait_until(self._ports, what=f"backend {ident} to print its ports")
        self.port = info["port"]
        self.control_port = info["control_port"]
        self.addr = f"127.0.0.1:{self.port}"

    def _ports(self):
        out = self.proc.stdout
        if "\n" in out:
            return json.loads(out.splitlines()[0])
        if not self.proc.alive():
            raise AssertionError(f"backend {self.ident} exited:\n{self.proc.stderr}")
        return None

    def ctl(self, name, **params):
        conn = http.client.HTTPConnection("127.0.0.1", self.control_port, timeout=10)
        try:
            conn.request("GET", f"/_ctl/{name}?{urllib.parse.urlencode(params)}")
            resp = conn.getresponse()
            data = resp.read()
        finally:
            conn.close()
        assert resp.status == 200, (name, params, data)
        return json.loads(data)

    def count(self, tag):
        return self.ctl("count", tag=tag)["count"]

    def state(self):
        return self.ctl("state")

    def requests(self):
        return self.state()["requests"]


@pytest.fixture
def backends():
    """Factory: backends("a") → a running BackendProcess; all are killed at the end."""
    started = []

    def start(ident="backend"):
        b = BackendProcess(ident)
        started.append(b)
        return b

    yield start
    for b in started:
        b.proc.stop()


@pytest.fixture
def gateway(servers, tmp_path):
    """Factory: gateway(config_text, *flags, name=, threads=1, ip="127.0.0.1", env=None) → rws
    running with that config file on `ip`, port 0 (with extra environment `env`);
    `server.config_path` is the file, for reload tests."""
    if not RWS_BIN:
        pytest.fail("RWS_BIN is not set: run the integration tests through ctest")

    started = []

    def start(config, *flags, name="rws.config.toml", threads=1, ip="127.0.0.1", env=None):
        path = tmp_path / name
        path.write_text(config)
        server = servers([RWS_BIN, "--ip", ip, "--port", "0", "--thread-count", str(threads),
                          "--config", str(path), *flags], env=env)
        server.config_path = path
        started.append(server)
        return server

    yield start
    # Whatever the test did, rws must not have crashed or reported a sanitizer error.
    for server in started:
        assert server.alive(), f"rws exited with {server.proc.returncode}:\n{server.stderr}"
        assert "Sanitizer" not in server.stderr, server.stderr


@pytest.fixture
def dead_port():
    """A port that refuses connections: bound (so nobody else gets it) but not listening."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    yield s.getsockname()[1]
    s.close()


def q(value):
    """A TOML basic string (JSON's quoting is valid TOML for these values)."""
    return json.dumps(value)


def upstream(name, addrs, extra=""):
    return (f"[[upstream]]\nname = {q(name)}\nbackends = {json.dumps(list(addrs))}\n"
            f"{extra}\n")


def proxy_route(upstream_name, path="/*", name=None, extra=""):
    name = name or f"proxy-{upstream_name}-{len(path)}"
    return (f"[[route]]\nname = {q(name)}\n[route.match]\npath = {q(path)}\n"
            f"[route.action]\ntype = \"proxy\"\nupstream = {q(upstream_name)}\n{extra}\n")


def simple_proxy_config(addrs, upstream_extra="", route_extra=""):
    return upstream("app", addrs, upstream_extra) + proxy_route("app", extra=route_extra)


def call(server, method, path, host="gw.test", headers=(), body=b"", timeout=10.0):
    """One request on a fresh connection; returns the parsed response."""
    conn = server.connect(timeout=timeout)
    try:
        hdrs = list(headers)
        if method in ("POST", "PUT") and not body and not any(
                k.lower() in ("content-length", "transfer-encoding") for k, _ in hdrs):
            hdrs.append(("Content-Length", "0"))
        conn.send(request(method, path, host=host, headers=hdrs, body=body))
        resp = conn.read_response(head_request=method == "HEAD")
        while 100 <= resp.status < 200:
            resp = conn.read_response(head_request=method == "HEAD")
        return resp
    finally:
        conn.close()


def echo_of(resp):
    assert resp.status == 200, resp
    return json.loads(resp.body)


def fields(echo, name):
    """All values of a request field as the backend received it."""
    return [v for k, v in echo["headers"] if k.lower() == name.lower()]


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


class RssMonitor:
    """Samples the resident set size of a process every 20 ms and keeps the peak."""

    def __init__(self, pid):
        self.pid = pid
        self.baseline = rss_kb(pid)
        self.peak = self.baseline
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.wait(0.02):
            try:
                self.peak = max(self.peak, rss_kb(self.pid))
            except (OSError, AssertionError):
                return

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(5)
        self.peak = max(self.peak, rss_kb(self.pid))

    def check(self, what):
        growth = self.peak - self.baseline
        assert growth < RSS_HEADROOM_KB, (
            f"rws grew by {growth // 1024} MiB while {what} (baseline "
            f"{self.baseline // 1024} MiB, peak {self.peak // 1024} MiB): the body is buffered")


def wait_stable(read, quiet=0.5, timeout=30.0, what="value"):
    """Polls `read()` until it returns the same value for `quiet` seconds; returns it."""
    deadline = time.monotonic() + timeout
    last = read()
    since = time.monotonic()
    while True:
        time.sleep(0.05)
        value = read()
        now = time.monotonic()
        if value != last:
            last, since = value, now
        elif now - since >= quiet:
            return value
        if now > deadline:
            raise AssertionError(f"{what} kept changing for {timeout}s (last {value!r})")


def read_head(conn):
    """Reads a response head only; returns (status, {lower name: value})."""
    head = conn.read_until(b"\r\n\r\n").decode("latin-1")
    lines = head.split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        if line:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
    return status, headers


def read_body_hashed(conn, length, chunk=MiB):
    """Reads exactly `length` body bytes; returns their sha256 hex digest."""
    digest = hashlib.sha256()
    take = conn.buf[:length]
    conn.buf = conn.buf[len(take):]
    digest.update(take)
    left = length - len(take)
    view = bytearray(chunk)
    while left > 0:
        n = conn.sock.recv_into(view, min(chunk, left))
        if n == 0:
            raise EOFError(f"connection closed with {left} body bytes missing")
        digest.update(view[:n])
        left -= n
    return digest.hexdigest()


def read_chunked_hashed(conn):
    """Reads a chunked body (and its trailer section) without keeping it; returns (size,
    sha256 hex digest)."""
    digest = hashlib.sha256()
    total = 0
    while True:
        size = int(conn.read_until(b"\r\n").split(b";")[0], 16)
        if size == 0:
            while conn.read_until(b"\r\n") != b"\r\n":
                pass
            return total, digest.hexdigest()
        left = size
        while left:
            if not conn.buf:
                conn._fill()
            piece = conn.buf[:left]
            conn.buf = conn.buf[len(piece):]
            digest.update(piece)
            left -= len(piece)
        total += size
        assert conn.read_exact(2) == b"\r\n"


def assert_aborted(conn, what):
    """The response to the request just sent must be a 502/504, or - when the head had already
    gone out - a body cut short by a closed connection. Never a hang (the socket has a
    timeout), never a complete-looking message."""
    try:
        status, headers = read_head(conn)
    except (EOFError, ConnectionResetError):
        pytest.fail(f"{what}: the connection closed without any response")
    if status in (502, 504):
        return status
    assert status == 200, f"{what}: unexpected status {status}"
    rest = conn.read_to_eof()  # raises socket.timeout if rws neither finishes nor closes
    if "content-length" in headers:
        assert len(rest) < int(headers["content-length"]), (
            f"{what}: the whole declared body arrived although the backend failed")
    else:
        assert headers.get("transfer-encoding", "").lower() == "chunked", headers
        assert not rest.endswith(b"0\r\n\r\n"), (
            f"{what}: the chunked body was terminated cleanly although the backend failed")
    return status


def assert_still_serving(server):
    assert server.alive(), server.stderr
    resp = call(server, "GET", "/echo?after=failure")
    assert resp.status == 200, resp


# --- respond, redirect, static; route matching ---------------------------------------------------

def test_respond_action_sets_status_body_content_type_and_headers(gateway):
    server = gateway("""
[[route]]
name = "created"
match = { path = "/made" }
[route.action]
type = "respond"
status = 201
body = '{"ok":true}'
content_type = "application/json"
headers = { X-One = "1", X-Two = "two" }

[[route]]
name = "nested"
match = { path = "/teapot" }
[route.action.respond]
status = 418
body = "short and stout\\n"

[[route]]
name = "plain"
match = { path = "/plain" }
action = { type = "respond", body = "hi" }
""")
    r = call(server, "GET", "/made")
    assert r.status == 201
    assert r.body == b'{"ok":true}'
    assert r.header("content-type") == "application/json"
    assert (r.header("x-one"), r.header("x-two")) == ("1", "two")
    assert r.header("content-length") == str(len(r.body))

    r = call(server, "GET", "/teapot")
    assert (r.status, r.body) == (418, b"short and stout\n")

    r = call(server, "GET", "/plain")
    assert (r.status, r.body) == (200, b"hi")
    assert r.header("content-type") == "text/plain; charset=utf-8"

    r = call(server, "HEAD", "/plain")
    assert (r.status, r.body, r.header("content-length")) == (200, b"", "2")


def test_redirect_action_expands_variables(gateway):
    server = gateway("""
[[route]]
name = "to-https"
match = { path = "/old/*" }
action = { type = "redirect", location = "https://$host$request_uri" }

[[route]]
name = "moved"
match = { path = "/moved" }
[route.action]
type = "redirect"
location = "$scheme://new.test/p$path?from=$query&h=$host&cost=$5"
status = 308
""")
    r = call(server, "GET", "/old/a/b?x=1&y=2", host="Site.Example:8080")
    assert r.status == 301
    assert r.header("location") == "https://site.example/old/a/b?x=1&y=2"

    r = call(server, "POST", "/moved?k=v", host="h.test", body=b"x")
    assert r.status == 308
    assert r.header("location") == "http://new.test/p/moved?from=k=v&h=h.test&cost=$5"

    for status in (302, 303, 307):
        path = Path(server.config_path)
        path.write_text(path.read_text().replace("status = 308", f"status = {status}"))
        server.signal(signal.SIGHUP)
        wait_until(lambda: call(server, "GET", "/moved").status == status,
                   what=f"the reloaded redirect status {status}")
        path.write_text(path.read_text().replace(f"status = {status}", "status = 308"))


def test_static_action_serves_a_tree_under_the_route_prefix(gateway, tmp_path):
    root = tmp_path / "site"
    (root / "sub").mkdir(parents=True)
    (root / "hello.txt").write_bytes(b"hello from the static route\n")
    (root / "sub" / "index.html").write_bytes(b"<p>sub index</p>\n")
    server = gateway(f"""
[[route]]
name = "files"
match = {{ path = "/static/*" }}
action = {{ type = "static", root = {q(str(root))} }}

[[route]]
name = "rest"
match = {{ path = "/*" }}
action = {{ type = "respond", status = 404, body = "fallback" }}
""")
    r = call(server, "GET", "/static/hello.txt")
    assert (r.status, r.body) == (200, b"hello from the static route\n")
    assert r.header("content-type", "").startswith("text/plain")

    r = call(server, "GET", "/static/sub/")
    assert (r.status, r.body) == (200, b"<p>sub index</p>\n")

    r = call(server, "GET", "/static?x=1")
    assert r.status == 301
    assert r.header("location") == "/static/?x=1"

    assert call(server, "GET", "/static/missing.txt").status == 404
    r = call(server, "POST", "/static/hello.txt", body=b"x")
    assert r.status == 405
    assert "GET" in r.header("allow", "")
    # The prefix is stripped: the file is not reachable under its own name elsewhere.
    r = call(server, "GET", "/hello.txt")
    assert (r.status, r.body) == (404, b"fallback")


def test_route_matching_first_match_wins_hosts_methods_headers_and_404(gateway):
    server = gateway("""
[[route]]
name = "first"
match = { path = "/m/*" }
action = { type = "respond", body = "first" }

[[route]]
name = "shadowed"
match = { path = "/m/x" }
action = { type = "respond", body = "shadowed" }

[[route]]
name = "wildcard-host"
match = { host = "*.example.com", path = "/h" }
action = { type = "respond", body = "wild" }

[[route]]
name = "exact-host"
match = { host = "example.com", path = "/h" }
action = { type = "respond", body = "apex" }

[[route]]
name = "writes"
match = { path = "/meth", method = ["PUT", "DELETE"] }
action = { type = "respond", body = "put-or-delete" }

[[route]]
name = "reads"
match = { path = "/meth", method = "GET" }
action = { type = "respond", body = "get" }

[[route]]
name = "flagged"
match = { path = "/hdr", headers = { X-Flag = "on", X-Any = "*" } }
action = { type = "respond", body = "flag" }
""")

    def body(method, path, host="gw.test", headers=()):
        r = call(server, method, path, host=host, headers=headers,
                 body=b"x" if method in ("PUT", "POST") else b"")
        return r.status, r.body

    assert body("GET", "/m/x") == (200, b"first")
    assert body("GET", "/m") == (200, b"first")
    assert body("GET", "/m/x/y") == (200, b"first")
    assert body("GET", "/mx")[0] == 404
    assert body("GET", "/%6d/x") == (200, b"first"), "matched on the percent-decoded path"

    assert body("GET", "/h", host="a.example.com") == (200, b"wild")
    assert body("GET", "/h", host="A.B.Example.COM:8080") == (200, b"wild")
    assert body("GET", "/h", host="example.com") == (200, b"apex")
    assert body("GET", "/h", host="example.com:81") == (200, b"apex")
    assert body("GET", "/h", host="badexample.com")[0] == 404
    assert body("GET", "/h", host="other.org")[0] == 404

    assert body("PUT", "/meth") == (200, b"put-or-delete")
    assert body("DELETE", "/meth") == (200, b"put-or-delete")
    assert body("GET", "/meth") == (200, b"get")
    assert body("POST", "/meth")[0] == 404

    assert body("GET", "/hdr", headers=[("X-Flag", "on"), ("X-Any", "whatever")]) == (
        200, b"flag")
    assert body("GET", "/hdr", headers=[("X-Flag", "off"), ("X-Any", "1")])[0] == 404
    assert body("GET", "/hdr", headers=[("X-Flag", "on")])[0] == 404

    r = call(server, "GET", "/nothing/here")
    assert r.status == 404
    assert b"no route" in r.body


# --- proxy basics -------------------------------------------------------------------------------

@pytest.fixture
def proxied(gateway, backends):
    """rws proxying everything to one backend, plus preserve_host and prefix routes."""
    b = backends("A")
    config = (upstream("app", [b.addr])
              + proxy_route("app", "/keep/*", "keep", "preserve_host = true")
              + proxy_route("app", "/api/*", "api",
                            'strip_path_prefix = "/api"\nadd_path_prefix = "/v2"')
              + proxy_route("app", "/strip/*", "strip", 'strip_path_prefix = "/strip"')
              + proxy_route("app", "/*", "all"))
    return gateway(config), b


def test_proxy_forwards_method_target_body_and_fields(proxied):
    server, b = proxied
    payload = os.urandom(3000)
    r = call(server, "PUT", "/echo/a%20b?x=1&y=%2F", host="front.test",
             headers=[("X-Custom", "one"), ("X-Custom", "two"), ("Content-Type", "app/x")],
             body=payload)
    echo = echo_of(r)
    assert r.header("x-backend-id") == "A"
    assert echo["method"] == "PUT"
    assert echo["target"] == "/echo/a%20b?x=1&y=%2F"
    assert echo["body"].encode("latin-1") == payload
    assert fields(echo, "content-length") == ["3000"]
    assert fields(echo, "x-custom") in (["one", "two"], ["one, two"])
    assert fields(echo, "content-type") == ["app/x"]
    assert fields(echo, "host") == [b.addr], "Host is the backend's unless preserve_host"


def test_proxy_preserve_host_keeps_the_client_host(proxied):
    server, b = proxied
    echo = echo_of(call(server, "GET", "/keep/x", host="Front.Test:8080"))
    assert fields(echo, "host") == ["Front.Test:8080"]
    assert echo["target"] == "/keep/x"


def test_proxy_strip_and_add_path_prefix(proxied):
    server, _ = proxied
    assert echo_of(call(server, "GET", "/api/users/7?full=1"))["target"] == "/v2/users/7?full=1"
    assert echo_of(call(server, "GET", "/api"))["target"] == "/v2/"
    assert echo_of(call(server, "GET", "/api/"))["target"] == "/v2/"
    assert echo_of(call(server, "GET", "/strip/a/b?q"))["target"] == "/a/b?q"
    assert echo_of(call(server, "GET", "/strip"))["target"] == "/"
    # "/apiary" is not under "/api": the catch-all route passes it unchanged.
    assert echo_of(call(server, "GET", "/apiary"))["target"] == "/apiary"


def test_proxy_removes_request_hop_by_hop_fields(proxied):
    server, _ = proxied
    echo = echo_of(call(server, "POST", "/echo", body=b"abc", headers=[
        ("Connection", "keep-alive, X-Hop-Custom"), ("Connection", "x-hop-second"),
        ("X-Hop-Custom", "secret"), ("X-Hop-Second", "secret2"), ("Keep-Alive", "timeout=5"),
        ("Proxy-Connection", "keep-alive"), ("TE", "trailers"), ("Upgrade", "foo/1"),
        ("Proxy-Authorization", "Basic Zm9vOmJhcg=="), ("X-End-To-End", "kept")]))
    names = {k.lower() for k, _ in echo["headers"]}
    for hop in ("x-hop-custom", "x-hop-second", "keep-alive", "proxy-connection", "te",
                "upgrade"):
        assert hop not in names, f"{hop} was forwarded: {echo['headers']}"
    for value in fields(echo, "connection"):
        assert "x-hop" not in value.lower()
    assert fields(echo, "x-end-to-end") == ["kept"]
    assert echo["body"] == "abc"


def test_proxy_adds_forwarding_fields(proxied):
    server, _ = proxied
    echo = echo_of(call(server, "GET", "/echo", host="front.test:8080", headers=[
        ("X-Forwarded-For", "203.0.113.7"), ("X-Forwarded-For", "198.51.100.1"),
        ("X-Forwarded-Proto", "https"), ("Forwarded", "for=192.0.2.60;proto=https"),
        ("Via", "1.0 fred")]))
    assert fields(echo, "x-forwarded-for") == ["203.0.113.7, 198.51.100.1, 127.0.0.1"], (
        "X-Forwarded-For: the existing value kept, the client appended, one field")
    assert fields(echo, "x-forwarded-proto") == ["http"], "the proto rws saw, not the client's"
    assert fields(echo, "x-forwarded-host") == ["front.test:8080"]
    assert fields(echo, "forwarded") == [
        'for=192.0.2.60;proto=https, for=127.0.0.1;proto=http;host="front.test:8080"']
    assert fields(echo, "via") == ["1.0 fred, 1.1 rws"]

    echo = echo_of(call(server, "GET", "/echo", host="plain.test"))
    assert fields(echo, "x-forwarded-for") == ["127.0.0.1"]
    assert fields(echo, "forwarded") == ["for=127.0.0.1;proto=http;host=plain.test"]
    assert fields(echo, "via") == ["1.1 rws"]


def test_proxy_removes_response_hop_by_hop_fields(proxied):
    server, _ = proxied
    r = call(server, "GET", "/hop")
    assert (r.status, r.body) == (200, b"hop\n")
    for hop in ("x-resp-hop", "keep-alive", "proxy-connection", "upgrade"):
        assert r.header(hop) is None, f"{hop} reached the client: {r.headers}"
    assert r.header("connection") in (None, "keep-alive")
    assert r.header("x-end-to-end") == "kept"
    assert r.header("via") == "1.0 origin, 1.1 rws"
    assert r.header("x-backend-id") == "A"


def test_proxy_relays_a_chunked_request_body_with_trailers(proxied):
    server, _ = proxied
    conn = server.connect()
    conn.send(request("POST", "/echo", host="gw.test", headers=[
        ("Transfer-Encoding", "chunked"), ("Trailer", "X-Digest")]))
    conn.send(b"5\r\nhello\r\n6\r\n world\r\n0\r\nX-Digest: abc123\r\n\r\n")
    echo = echo_of(conn.read_response())
    conn.close()
    assert echo["body"] == "hello world"
    assert echo["chunked"], "a body of unknown length goes on chunked"
    assert echo["trailers"] == [["X-Digest", "abc123"]]


def test_proxy_framing_no_content_and_close_delimited_responses(proxied):
    server, _ = proxied
    conn = server.connect()
    # 204 and 304 have no body; the connection stays usable for the next request.
    for code in (204, 304):
        conn.send(request("GET", f"/status?code={code}", host="gw.test"))
        resp = conn.read_response()
        assert (resp.status, resp.body) == (code, b"")
    # A backend body delimited by its close reaches the client complete, with framing.
    conn.send(request("GET", "/until-close?size=300000", host="gw.test"))
    resp = conn.read_response()
    assert resp.status == 200
    assert hashlib.sha256(resp.body).hexdigest() == backend_support.pattern_sha256(300000)
    assert resp.header("connection", "").lower() != "close" or conn.read_to_eof() == b""
    conn.close()


def test_proxy_answers_pipelined_requests_in_order(proxied):
    server, _ = proxied
    conn = server.connect()
    conn.send(b"".join(request("POST" if i % 2 else "GET", f"/echo?n={i}", host="gw.test",
                               body=b"b%d" % i if i % 2 else b"") for i in range(6)))
    for i in range(6):
        echo = echo_of(conn.read_response())
        assert echo["query"] == f"n={i}"
        assert echo["body"] == (f"b{i}" if i % 2 else "")
    conn.close()


# --- streaming ----------------------------------------------------------------------------------

@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_large_upload_streams_through_with_bounded_memory(gateway, backends, framing):
    size = 200 * MiB
    b = backends("A")
    server = gateway(simple_proxy_config([b.addr]))
    # Warm up the path (pool, buffers) before the baseline.
    warm = echo_of(call(server, "POST", "/upload", body=os.urandom(MiB)))
    assert warm["received"] == MiB
    expected = backend_support.pattern_sha256(size)

    conn = server.connect(timeout=60)
    with RssMonitor(server.proc.pid) as rss:
        if framing == "chunked":
            conn.send(request("POST", "/upload", host="gw.test",
                              headers=[("Transfer-Encoding", "chunked")]))
            for piece in backend_support.pattern(size, MiB):
                conn.sock.sendall(b"%x\r\n" % len(piece))
                conn.sock.sendall(piece)
                conn.sock.sendall(b"\r\n")
            conn.send(b"0\r\n\r\n")
        else:
            conn.send(request("POST", "/upload", host="gw.test",
                              headers=[("Content-Length", str(size))]))
            for piece in backend_support.pattern(size, MiB):
                conn.sock.sendall(piece)
        resp = conn.read_response()
    conn.close()
    result = echo_of(resp)
    assert result["received"] == size
    assert result["sha256"] == expected
    assert result["chunked"] == (framing == "chunked")
    rss.check(f"uploading {size // MiB} MiB ({framing})")


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_large_download_streams_through_with_bounded_memory(gateway, backends, chunked):
    size = 500 * MiB
    b = backends("A")
    server = gateway(simple_proxy_config([b.addr]))
    assert call(server, "GET", "/download?size=1048576").status == 200
    expected = backend_support.pattern_sha256(size)

    conn = server.connect(timeout=60)
    flag = "1" if chunked else "0"
    with RssMonitor(server.proc.pid) as rss:
        conn.send(request("GET", f"/download?size={size}&chunked={flag}&block=1048576",
                          host="gw.test"))
        if chunked:
            status, headers = read_head(conn)
            assert status == 200
            assert headers.get("transfer-encoding") == "chunked", headers
            got_size, got_hash = read_chunked_hashed(conn)
        else:
            status, headers = read_head(conn)
            assert status == 200
            assert int(headers["content-length"]) == size
            got_size, got_hash = size, read_body_hashed(conn, size)
    conn.close()
    assert got_size == size
    assert got_hash == expected
    rss.check(f"downloading {size // MiB} MiB")


def test_slow_client_download_applies_backpressure(gateway, backends):
    size = 256 * MiB
    b = backends("A")
    server = gateway(simple_proxy_config([b.addr]))
    assert call(server, "GET", "/download?size=1048576").status == 200

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    sock.settimeout(60)
    sock.connect((server.host, server.port))
    conn = RawConnection(sock)
    with RssMonitor(server.proc.pid) as rss:
        conn.send(request("GET", f"/download?size={size}&tag=slow", host="gw.test"))
        status, headers = read_head(conn)
        assert status == 200
        assert int(headers["content-length"]) == size
        # The client reads nothing: the backend must soon be held back by rws, far from done.
        sent = wait_stable(lambda: b.ctl("progress", tag="slow")["sent"], quiet=1.0,
                           what="the backend's progress while the client does not read")
        assert sent < size // 4, (
            f"the backend could write {sent // MiB} MiB to a client that reads nothing: rws "
            f"does not apply backpressure")
        assert not b.ctl("progress", tag="slow")["done"]
        # Now a slow reader: small reads with pauses, then the rest.
        digest = hashlib.sha256()
        received = 0
        take, conn.buf = conn.buf, b""
        digest.update(take)
        received += len(take)
        view = bytearray(64 * 1024)
        for _ in range(200):
            n = sock.recv_into(view)
            assert n > 0
            digest.update(view[:n])
            received += n
            time.sleep(0.005)  # the load shape (a slow reader), not synchronisation
        while received < size:
            n = sock.recv_into(view, min(len(view), size - received))
            assert n > 0, f"closed after {received} of {size} bytes"
            digest.update(view[:n])
            received += n
    sock.close()
    assert digest.hexdigest() == backend_support.pattern_sha256(size)
    rss.check("serving a slow client")


def test_client_abort_mid_download_releases_the_backend(gateway, backends):
    b = backends("A")
    server = gateway(simple_proxy_config([b.addr]))
    conn = server.connect(timeout=10)
    conn.send(request("GET", f"/download?size={1 << 30}&tag=abort", host="gw.test"))
    status, _ = read_head(conn)
    assert status == 200
    conn.read_exact(MiB)
    conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()  # a reset: the client is gone
    wait_until(lambda: b.ctl("progress", tag="abort").get("aborted"), timeout=10,
               what="rws to close the backend connection of the abandoned download")
    assert b.ctl("progress", tag="abort")["sent"] < 1 << 30
    assert_still_serving(server)


def test_sse_events_pass_through_without_buffering(gateway, backends):
    b = backends("A")
    server = gateway(simple_proxy_config([b.addr]))
    conn = server.connect(timeout=10)
    conn.send(request("GET", "/sse?key=k1&events=3", host="gw.test",
                      headers=[("Accept", "text/event-stream")]))
    status, headers = read_head(conn)
    assert status == 200
    assert headers["content-type"] == "text/event-stream"
    for i in (1, 2, 3):
        got = conn.read_until(f"data: event {i}\n\n".encode())
        assert f"id: {i}\n".encode() in got
        state = b.ctl("sse", key="k1")
        assert state["sent"] == i, (
            f"event {i} reached the client only after the backend had sent {state['sent']}")
        b.ctl("sse_release", key="k1")
    assert conn.read_until(b"0\r\n\r\n").endswith(b"0\r\n\r\n")
    conn.close()


def test_chunked_upstream_trailers_reach_the_client(gateway, backends):
    b = backends("A")
    server = gateway(simple_proxy_config([b.addr]))
    size = 300000
    resp = call(server, "GET", f"/download?size={size}&chunked=1&trailers=1",
                headers=[("TE", "trailers")])
    assert resp.status == 200
    assert resp.header("transfer-encoding") == "chunked"
    assert hashlib.sha256(resp.body).hexdigest() == backend_support.pattern_sha256(size)
    trailers = {k.lower(): v for k, v in resp.trailers}
    assert trailers.get("x-pattern-sha256") == backend_support.pattern_sha256(size), (
        f"trailers were dropped or changed: {resp.trailers}")
    assert trailers.get("x-pattern-size") == str(size)


# --- failover, health checks, circuit breaker ---------------------------------------------------

def test_failover_skips_a_dead_backend(gateway, backends, dead_port):
    live = backends("live")
    dead = f"127.0.0.1:{dead_port}"
    server = gateway(simple_proxy_config([dead, live.addr]))
    for i in range(20):
        r = call(server, "GET", f"/echo?i={i}")
        assert r.status == 200, f"request {i}: {r}"
        assert r.header("x-backend-id") == "live"
    assert live.requests() == 20


def test_all_backends_dead_is_502(gateway, dead_port):
    other = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    other.bind(("127.0.0.1", 0))
    try:
        server = gateway(simple_proxy_config(
            [f"127.0.0.1:{dead_port}", f"127.0.0.1:{other.getsockname()[1]}"]))
        for _ in range(8):
            assert call(server, "GET", "/echo").status == 502
        assert call(server, "POST", "/echo", body=b"data").status == 502
        assert server.alive()
    finally:
        other.close()


def test_active_health_check_takes_a_backend_out_and_back(gateway, backends):
    a, b = backends("A"), backends("B")
    server = gateway(simple_proxy_config([a.addr, b.addr], upstream_extra="""
[upstream.health_check]
path = "/health"
interval_secs = 1
timeout_ms = 500
healthy_threshold = 1
unhealthy_threshold = 1
"""))
    wait_until(lambda: a.state()["health_hits"] >= 1 and b.state()["health_hits"] >= 1,
               what="the first health probes")
    seen = {call(server, "GET", "/echo").header("x-backend-id") for _ in range(6)}
    assert seen == {"A", "B"}

    a.ctl("health", status=500)

    def only_b():
        return all(call(server, "GET", "/echo").header("x-backend-id") == "B"
                   for _ in range(4))

    wait_until(only_b, timeout=10, interval=0.05, what="A to be taken out after /health 500")
    before = a.requests()
    for _ in range(10):
        r = call(server, "GET", "/echo")
        assert (r.status, r.header("x-backend-id")) == (200, "B")
    assert a.requests() == before, "requests still reached the unhealthy backend"
    assert "taken out" in server.stderr

    a.ctl("health", status=200)
    wait_until(lambda: call(server, "GET", "/echo").header("x-backend-id") == "A", timeout=10,
               interval=0.05, what="A to come back after /health recovered")
    assert "healthy again" in server.stderr


def test_circuit_breaker_opens_then_half_opens(gateway, backends):
    a = backends("A")
    server = gateway(simple_proxy_config([a.addr], upstream_extra="""
retries = 0
[upstream.passive]
max_fails = 10000
[upstream.circuit_breaker]
failure_threshold = 3
recovery_secs = 3
max_half_open_probes = 1
"""))
    # (No request before: a GET reset on a pooled connection would be retried on a fresh one,
    # which is right for a GET but would blur the counts.)
    a.ctl("mode", mode="reset")
    for i in range(3):
        assert call(server, "GET", "/echo?tag=cb").status == 502
        assert a.count("cb") == i + 1
    opened = time.monotonic()

    # Open: requests fail at once without reaching the backend.
    for _ in range(5):
        assert call(server, "GET", "/echo?tag=cb").status == 502
    assert time.monotonic() - opened < 3, "too slow to observe the open circuit"
    assert a.count("cb") == 3, "requests reached a backend whose circuit is open"

    # After recovery_secs one probe gets through; it fails, so the circuit opens again.
    def probed():
        assert call(server, "GET", "/echo?tag=cb").status == 502
        return a.count("cb") > 3

    wait_until(probed, timeout=10, interval=0.1, what="the half-open probe")
    assert time.monotonic() - opened >= 2.9
    assert a.count("cb") == 4, "more than max_half_open_probes probes went through"
    for _ in range(5):
        assert call(server, "GET", "/echo?tag=cb").status == 502
    assert a.count("cb") == 4, "the failed probe did not reopen the circuit"

    # The backend recovers: the next probe succeeds and closes the circuit.
    a.ctl("mode", mode="normal")
    wait_until(lambda: call(server, "GET", "/echo?tag=cb").status == 200, timeout=10,
               interval=0.1, what="the circuit to close after recovery")
    assert a.count("cb") == 5
    for _ in range(5):
        assert call(server, "GET", "/echo?tag=cb").status == 200
    assert a.count("cb") == 10


# --- backend failures, timeouts, retries --------------------------------------------------------

@pytest.mark.parametrize("target", [
    "/close-mid-body?size=100000&sent=30000",
    "/close-mid-body?size=100000&sent=30000&chunked=1",
    "/reset?when=mid",
], ids=["close-content-length", "close-chunked", "reset-mid-body"])
def test_backend_failing_mid_body_aborts_the_client_response(gateway, backends, target):
    b = backends("A")
    server = gateway(simple_proxy_config([b.addr], upstream_extra="retries = 0"))
    conn = server.connect(timeout=10)
    conn.send(request("GET", target, host="gw.test"))
    assert_aborted(conn, target)
    conn.close()
    assert_still_serving(server)


def test_backend_reset_before_the_response_is_502(gateway, backends):
    b = backends("A")
    server = gateway(simple_proxy_config([b.addr], upstream_extra="retries = 0"))
    r = call(server, "GET", "/reset?when=head")
    assert r.status == 502
    assert_still_serving(server)


def test_backend_stalling_mid_body_is_cut_after_read_timeout(gateway, backends):
    b = backends("A")
    server = gateway(simple_proxy_config([b.addr], upstream_extra="read_timeout_ms = 500"))
    conn = server.connect(timeout=10)
    start = time.monotonic()
    conn.send(request("GET", "/stall?when=body", host="gw.test"))
    status = assert_aborted(conn, "stall mid-body")
    assert status == 200
    elapsed = time.monotonic() - start
    assert 0.4 <= elapsed < 5, f"aborted after {elapsed:.2f}s with read_timeout_ms = 500"
    conn.close()
    assert_still_serving(server)


def test_read_timeout_without_a_response_head_is_504(gateway, backends):
    b = backends("A")
    server = gateway(simple_proxy_config([b.addr], upstream_extra="read_timeout_ms = 500"))
    start = time.monotonic()
    r = call(server, "GET", "/stall?when=head")
    elapsed = time.monotonic() - start
    assert r.status == 504
    assert 0.4 <= elapsed < 5, f"504 after {elapsed:.2f}s with read_timeout_ms = 500"
    assert_still_serving(server)


def test_route_read_timeout_overrides_the_upstream_one(gateway, backends):
    b = backends("A")
    server = gateway(simple_proxy_config([b.addr], upstream_extra="read_timeout_ms = 30000",
                                         route_extra="read_timeout_ms = 300"))
    start = time.monotonic()
    assert call(server, "GET", "/stall?when=head").status == 504
    assert time.monotonic() - start < 5


def test_get_reset_before_the_response_is_retried_on_another_backend(gateway, backends):
    a, b = backends("A"), backends("B")
    server = gateway(simple_proxy_config([a.addr, b.addr], upstream_extra="retries = 1"))
    a.ctl("mode", mode="reset")
    for i in range(6):
        r = call(server, "GET", f"/echo?i={i}")
        assert r.status == 200, f"request {i} was not retried: {r}"
        assert r.header("x-backend-id") == "B"
    assert a.requests() >= 1, "the resetting backend was never tried: no retry was exercised"
    assert b.requests() == 6


def test_post_whose_body_was_sent_is_not_replayed(gateway, backends):
    a, b = backends("A"), backends("B")
    server = gateway(simple_proxy_config([a.addr, b.addr], upstream_extra="retries = 3"))
    for i in range(4):  # round robin: both backends get to be the first pick
        tag = f"post-{i}"
        r = call(server, "POST", f"/reset?when=body&tag={tag}", body=os.urandom(20000))
        assert r.status == 502, r
        receipts = a.count(tag) + b.count(tag)
        assert receipts == 1, f"POST {tag} reached the backends {receipts} times"
    assert_still_serving(server)


def test_bodyless_post_on_a_pooled_connection_is_not_replayed(gateway, backends):
    a = backends("A")
    server = gateway(simple_proxy_config([a.addr], upstream_extra="retries = 3"))
    first = echo_of(call(server, "GET", "/echo"))
    wait_until(lambda: a.state()["idle"] == 1, what="the pooled connection to be idle")
    r = call(server, "POST", "/reset?when=head&tag=bodyless",
             headers=[("Content-Length", "0")])
    log = a.ctl("log", tag="bodyless")
    assert log and log[0]["conn_id"] == first["conn_id"], "the POST did not use the pool"
    assert len(log) == 1, (
        f"a POST that reached the backend was sent {len(log)} times (the reset after the "
        f"request was taken for a stale pooled connection)")
    assert r.status == 502


# --- Expect, early answers, interim responses, upgrades ----------------------------------------

def test_expect_100_continue_is_relayed(gateway, backends):
    b = backends("A")
    server = gateway(simple_proxy_config([b.addr]))
    body = os.urandom(50000)
    conn = server.connect(timeout=10)
    conn.send(request("POST", "/upload?tag=expect", host="gw.test", headers=[
        ("Content-Length", str(len(body))), ("Expect", "100-continue")]))
    interim = conn.read_response()
    assert interim.status == 100, interim
    conn.send(body)
    result = echo_of(conn.read_response())
    conn.close()
    assert result["received"] == len(body)
    assert result["sha256"] == hashlib.sha256(body).hexdigest()
    assert result["continue_sent"], "the backend never sent 100 Continue"
    log = b.ctl("log", tag="expect")
    assert log[0]["expect"] == "100-continue", "Expect was not relayed to the backend"


def test_early_413_with_expect_is_forwarded_without_the_body(gateway, backends):
    b = backends("A")
    server = gateway(simple_proxy_config([b.addr]))
    conn = server.connect(timeout=10)
    conn.send(request("POST", "/reject413?tag=big", host="gw.test", headers=[
        ("Content-Length", str(50 * MiB)), ("Expect", "100-continue")]))
    resp = conn.read_response()
    assert resp.status == 413, f"expected the backend's 413 before any body, got {resp}"
    assert resp.body == b"too large!!!\n"
    assert resp.header("connection", "").lower() == "close"
    conn.close()
    assert b.count("big") == 1
    assert_still_serving(server)


def test_early_413_without_expect_is_forwarded(gateway, backends):
    b = backends("A")
    server = gateway(simple_proxy_config([b.addr]))
    body = os.urandom(2 * MiB)
    conn = server.connect(timeout=20)
    conn.send(request("POST", "/reject413", host="gw.test",
                      headers=[("Content-Length", str(len(body)))]))

    def send_body():
        try:
            conn.sock.sendall(body)
        except OSError:
            pass  # rws may close once the answer is out

    sender = threading.Thread(target=send_body, daemon=True)
    sender.start()
    resp = conn.read_response()
    assert resp.status == 413, resp
    assert resp.body == b"too large!!!\n"
    sender.join(20)
    conn.close()
    assert_still_serving(server)


def test_interim_103_is_forwarded_before_the_final_response(gateway, backends):
    b = backends("A")
    server = gateway(simple_proxy_config([b.addr]))
    conn = server.connect(timeout=10)
    conn.send(request("GET", "/interim?code=103", host="gw.test"))
    first = conn.read_response()
    assert first.status == 103, first
    assert first.header("link") == "</style.css>; rel=preload"
    final = conn.read_response()
    assert final.status == 200
    assert json.loads(final.body)["path"] == "/interim"
    conn.close()


def test_upgrade_tunnels_bytes_both_ways(gateway, backends):
    b = backends("A")
    server = gateway(simple_proxy_config([b.addr]))
    conn = server.connect(timeout=10)
    conn.send(request("GET", "/upgrade", host="gw.test", headers=[
        ("Connection", "Upgrade"), ("Upgrade", "websocket"),
        ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="), ("Sec-WebSocket-Version", "13")]))
    resp = conn.read_response()
    assert resp.status == 101, resp
    assert resp.header("upgrade") == "websocket"
    assert "upgrade" in resp.header("connection", "").lower()
    assert conn.read_until(b"\n") == b"hello from A\n"
    conn.send(b"ping-1")
    assert conn.read_exact(6) == b"ping-1"
    blob = os.urandom(300000)
    sender = threading.Thread(target=conn.sock.sendall, args=(blob,), daemon=True)
    sender.start()
    assert conn.read_exact(len(blob)) == blob
    sender.join(10)
    conn.sock.shutdown(socket.SHUT_WR)
    assert conn.read_to_eof() == b"", "the tunnel must close when both sides are done"
    conn.close()
    assert_still_serving(server)


def test_websocket_route_refuses_plain_requests(gateway, backends):
    b = backends("A")
    server = gateway(upstream("ws", [b.addr]) + """
[[route]]
name = "ws"
match = { path = "/upgrade" }
action = { type = "websocket", upstream = "ws" }
""")
    assert call(server, "GET", "/upgrade").status == 426
    conn = server.connect(timeout=10)
    conn.send(request("GET", "/upgrade", host="gw.test", headers=[
        ("Connection", "Upgrade"), ("Upgrade", "websocket")]))
    assert conn.read_response().status == 101
    assert conn.read_until(b"\n") == b"hello from A\n"
    conn.send(b"abc")
    assert conn.read_exact(3) == b"abc"
    conn.close()


# --- keep-alive pool ----------------------------------------------------------------------------

def test_sequential_requests_reuse_one_upstream_connection(gateway, backends):
    b = backends("A")
    server = gateway(simple_proxy_config([b.addr]))
    ids = set()
    for i in range(6):
        echo = echo_of(call(server, "GET", f"/echo?i={i}"))
        ids.add(echo["conn_id"])
    assert len(ids) == 1, f"{len(ids)} upstream connections for 6 sequential requests"
    assert b.state()["connections"] == 1
    # Also with a body, and over one client connection.
    conn = server.connect()
    for i in range(3):
        conn.send(request("POST", "/echo", host="gw.test", body=b"x" * (i + 1)))
        assert json.loads(conn.read_response().body)["conn_id"] in ids
    conn.close()
    assert b.state()["connections"] == 1


@pytest.mark.parametrize("method,body", [("GET", b""), ("POST", b""), ("POST", b"payload"),
                                         ("PUT", os.urandom(200000))],
                         ids=["GET", "POST-empty", "POST-small-body", "PUT-200k-body"])
def test_pooled_connection_closed_by_the_backend_is_not_a_failure(gateway, backends, method,
                                                                  body):
    b = backends("A")
    server = gateway(simple_proxy_config([b.addr], upstream_extra="retries = 0"))
    previous = echo_of(call(server, "GET", "/echo"))["conn_id"]
    for i in range(3):
        wait_until(lambda: b.state()["idle"] == 1, what="the pooled connection to be idle")
        assert b.ctl("close_idle")["closed"] == 1
        r = call(server, method, f"/echo?i={i}", body=body)
        assert r.status == 200, (
            f"{method} #{i} after the backend closed the idle pooled connection: {r}")
        echo = echo_of(r)
        assert echo["body_len"] == len(body)
        assert echo["conn_id"] != previous
        previous = echo["conn_id"]


def test_pooled_connection_the_backend_half_closed_is_not_a_failure(gateway, backends):
    """A backend may half-close an idle keep-alive connection and linger, discarding what comes,
    before it closes (a lingering close): nothing answers the next request sent on it, not even
    a reset. The proxy reads a reply without first trying a read that cannot succeed yet, so it
    would not see that end of stream by itself; it must still resend the request on a fresh
    connection instead of waiting for its 30 s read timeout (the client gives up after 10 s)."""
    b = backends("A")
    server = gateway(simple_proxy_config([b.addr], upstream_extra="retries = 0"))
    previous = echo_of(call(server, "GET", "/echo"))["conn_id"]
    for i in range(3):
        wait_until(lambda: b.state()["idle"] == 1, what="the pooled connection to be idle")
        assert b.ctl("linger_idle")["lingering"] == 1
        # A request that does not reach the backend: rws takes in the end of stream of the idle
        # connection with it, so that the proxied request below cannot be the one to notice it.
        assert call(server, "GET", "/healthz").status == 200
        r = call(server, "GET", f"/echo?tag=linger-{i}")
        assert r.status == 200, f"GET #{i} after the backend half-closed the pooled connection: {r}"
        echo = echo_of(r)
        assert echo["conn_id"] != previous
        assert b.count(f"linger-{i}") == 1
        previous = echo["conn_id"]


# --- reload -------------------------------------------------------------------------------------

RELOAD_CONFIG = """
[[route]]
name = "version"
match = {{ path = "/version" }}
action = {{ type = "respond", body = "{version}" }}
{extra}
"""


def reloads(server):
    return server.stderr.count("configuration reloaded")


def test_sighup_swaps_the_route_table(gateway, backends):
    b = backends("A")
    server = gateway(RELOAD_CONFIG.format(version="one", extra=""))
    assert call(server, "GET", "/version").body == b"one"
    assert call(server, "GET", "/echo").status == 404

    server.config_path.write_text(RELOAD_CONFIG.format(
        version="two", extra=simple_proxy_config([b.addr])))
    server.signal(signal.SIGHUP)
    wait_until(lambda: reloads(server) == 1, what="the reload to be logged")
    assert call(server, "GET", "/version").body == b"two"
    r = call(server, "GET", "/echo")
    assert (r.status, r.header("x-backend-id")) == (200, "A")


def test_sighup_with_a_broken_config_keeps_the_old_one(gateway):
    server = gateway(RELOAD_CONFIG.format(version="good", extra=""))
    assert call(server, "GET", "/version").body == b"good"
    server.config_path.write_text(RELOAD_CONFIG.format(version="bad", extra="""
[[route]]
name = "broken"
match = { path = "/x", colour = "red" }
action = { type = "proxy", upstream = "nowhere" }
"""))
    server.signal(signal.SIGHUP)
    wait_until(lambda: "reload failed" in server.stderr, what="the failed reload to be logged")
    err = server.stderr
    name = re.escape(server.config_path.name)
    assert re.search(name + r":\d+:\d+: .*colour", err), err
    assert re.search(name + r":\d+:\d+: .*nowhere", err), err
    assert server.alive()
    assert call(server, "GET", "/version").body == b"good"
    assert call(server, "GET", "/x").status == 404

    # A later valid file is taken again.
    server.config_path.write_text(RELOAD_CONFIG.format(version="fixed", extra=""))
    server.signal(signal.SIGHUP)
    wait_until(lambda: reloads(server) == 1, what="the next reload")
    assert call(server, "GET", "/version").body == b"fixed"


def test_reload_under_load_fails_no_request(gateway, backends):
    a, b = backends("A"), backends("B")
    variants = [RELOAD_CONFIG.format(version=f"v{i}", extra=simple_proxy_config(
        [a.addr, b.addr] if i % 2 else [b.addr, a.addr],
        upstream_extra=f'strategy = "{"least_conn" if i % 2 else "round_robin"}"'))
        for i in range(6)]
    server = gateway(variants[0], threads=2)
    threads_n, per_thread = 4, 500
    done = [0]
    failures = []
    lock = threading.Lock()

    def worker(index):
        conn = None
        for i in range(per_thread):
            path = "/version" if i % 2 else f"/echo?t={index}&i={i}"
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(server.host, server.port, timeout=10)
                conn.request("GET", path, headers={"Host": "gw.test"})
                resp = conn.getresponse()
                body = resp.read()
                ok = resp.status == 200 and (i % 2 == 0 or re.fullmatch(rb"v\d", body))
                if not ok:
                    failures.append((path, resp.status, body[:100]))
                if resp.will_close:
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException) as e:
                failures.append((path, repr(e)))
                if conn is not None:
                    conn.close()
                conn = None
            with lock:
                done[0] += 1
        if conn is not None:
            conn.close()

    workers = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(threads_n)]
    for t in workers:
        t.start()
    for k in range(1, 6):
        wait_until(lambda: done[0] >= k * 250, timeout=60, what=f"{k * 250} requests")
        server.config_path.write_text(variants[k])
        server.signal(signal.SIGHUP)
        wait_until(lambda: reloads(server) == k, timeout=20, what=f"reload {k}")
    in_flight_after_last_reload = threads_n * per_thread - done[0]
    for t in workers:
        t.join(120)
        assert not t.is_alive(), "a client thread is stuck"
    assert done[0] == threads_n * per_thread
    assert in_flight_after_last_reload > 0, "the load was over before the last reload"
    assert failures == [], f"{len(failures)} failed requests, e.g. {failures[:5]}"
    assert "reload failed" not in server.stderr
    assert call(server, "GET", "/version").body == b"v5"


# --- nginx as a backend -------------------------------------------------------------------------

def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.fixture
def nginx(tmp_path):
    """Debian's nginx in the foreground, one process, everything under a temp prefix."""
    binary = require_tool("nginx")
    prefix = tmp_path / "nginx"
    www = prefix / "www"
    www.mkdir(parents=True)
    for sub in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi", "logs"):
        (prefix / sub).mkdir()
    port = free_port()
    conf = prefix / "nginx.conf"
    conf.write_text(f"""
daemon off;
master_process off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/logs/error.log info;
events {{ worker_connections 64; }}
http {{
    access_log {prefix}/logs/access.log;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    types {{ application/octet-stream bin; text/plain txt; }}
    server {{
        listen 127.0.0.1:{port};
        root {www};
    }}
}}
""")
    proc = Process([binary, "-p", str(prefix), "-e", str(prefix / "logs" / "error.log"),
                    "-c", str(conf)])

    def up():
        if not proc.alive():
            raise AssertionError(f"nginx exited: {proc.stderr}\n"
                                 f"{(prefix / 'logs' / 'error.log').read_text()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            return False

    wait_until(up, what="nginx to listen")
    yield www, f"127.0.0.1:{port}"
    proc.stop()


def test_nginx_backend_bytes_arrive_unchanged(gateway, nginx):
    www, addr = nginx
    data = os.urandom(5 * MiB + 123)
    (www / "data.bin").write_bytes(data)
    (www / "note.txt").write_bytes(b"served by nginx\n")
    server = gateway(simple_proxy_config([addr]))

    r = call(server, "GET", "/data.bin", timeout=30)
    assert r.status == 200
    servers = r.header_all("server")
    assert len(servers) == 1 and servers[0].startswith("nginx/"), r.headers
    assert r.header("via") == "1.1 rws"
    assert int(r.header("content-length")) == len(data)
    assert hashlib.sha256(r.body).digest() == hashlib.sha256(data).digest()

    r = call(server, "GET", "/data.bin", headers=[("Range", "bytes=1000-1999")])
    assert r.status == 206
    assert r.body == data[1000:2000]

    r = call(server, "HEAD", "/data.bin")
    assert (r.status, r.header("content-length"), r.body) == (200, str(len(data)), b"")

    r = call(server, "GET", "/note.txt")
    assert (r.status, r.body) == (200, b"served by nginx\n")
    assert call(server, "GET", "/missing").status == 404

    curl = require_tool("curl")
    out = subprocess.run([curl, "-sS", "--max-time", "30", "-o", "-", server.url("/data.bin")],
                         capture_output=True, timeout=40)
    assert out.returncode == 0, out.stderr
    assert out.stdout == data


# --- check-config -------------------------------------------------------------------------------

def run_check(*args, cwd):
    env = {k: v for k, v in os.environ.items() if not k.startswith("RWS_CONFIG_")}
    if not RWS_BIN:
        pytest.fail("RWS_BIN is not set: run the integration tests through ctest")
    try:
        out = subprocess.run([RWS_BIN, *args], cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                             capture_output=True, timeout=20)
    except subprocess.TimeoutExpired:
        pytest.fail(f"rws {' '.join(args)} did not exit: it must validate, not serve")
    return out.returncode, out.stdout.decode(), out.stderr.decode()


def test_check_config_validates_without_binding(tmp_path):
    held = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    held.bind(("127.0.0.1", 0))
    held.listen(1)
    port = held.getsockname()[1]
    try:
        good = tmp_path / "good.toml"
        good.write_text(f'ip = "127.0.0.1"\nport = {port}\n'
                        + simple_proxy_config(["127.0.0.1:9"]))
        bad = tmp_path / "bad.toml"
        bad.write_text(f"""ip = "127.0.0.1"
port = {port}
{upstream("app", ["127.0.0.1:9"], 'strategy = "round_robbin"')}
[[route]]
name = "r"
match = {{ path = "/*" }}
action = {{ type = "proxy", upstream = "ap" }}
""")
        for args in (["check-config", str(good)], ["--check-config", "--config", str(good)]):
            code, out, err = run_check(*args, cwd=tmp_path)
            assert code == 0, (args, out, err)
            assert "configuration OK" in out + err
        for args in (["check-config", str(bad)], ["--check-config", "--config", str(bad)]):
            code, out, err = run_check(*args, cwd=tmp_path)
            assert code == 1, f"{args}: exit {code} (expected 1), stderr:\n{err}"
            located = re.findall(r"bad\.toml:(\d+):(\d+): (.*)", err)
            assert len(located) >= 2, f"all errors at once, each file:line:col:\n{err}"
            text = " ".join(m for _, _, m in located)
            assert "round_robin" in text, "a 'did you mean' for the strategy"
            assert "'ap'" in text and "app" in text, "the dangling upstream, with a suggestion"
            assert "listening" not in err
    finally:
        held.close()
