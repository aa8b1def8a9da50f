"""The rewrite middleware ([[route.middleware.rewrite.request]] / [[….response]]) through the
real binary: the backend (test/support/backend.py, which echoes what it received) sees the
rewritten target and fields, the client sees the rewritten status, fields and body - including
a body replacement on a large chunked download with bounded memory - plus static routes, the
historical rule names (accepted with a warning) and invalid rules (refused with a position).

Synchronisation is by observable events with deadlines, never by sleeping."""

import hashlib
import re
import subprocess

import pytest

from conftest import RWS_BIN, Process, request
from test_gateway import (MiB, RssMonitor, backends, call, echo_of, fields, gateway, q,  # noqa: F401
                          read_chunked_hashed, read_head, upstream)
from test_gateway import backend_support


def route(name, path, action, middleware):
    return (f"[[route]]\nname = {q(name)}\n[route.match]\npath = {q(path)}\n"
            f"[route.action]\n{action}\n{middleware}\n")


def proxy_to(upstream_name, extra=""):
    return f"type = \"proxy\"\nupstream = {q(upstream_name)}\n{extra}"


# --- request rules ------------------------------------------------------------------------------

REQUEST_RULES = """
[[route.middleware.rewrite.request]]
header_set = { name = "X-Env", value = "prod" }
[[route.middleware.rewrite.request]]
header_add = { name = "X-Multi", value = "added" }
[[route.middleware.rewrite.request]]
header_remove = { name = "Cookie" }
[[route.middleware.rewrite.request]]
uri_strip_prefix = { prefix = "/api" }
[[route.middleware.rewrite.request]]
type = "uri_add_prefix"
prefix = "/internal/v2"
"""

REGEX_RULES = """
[[route.middleware.rewrite.request]]
[route.middleware.rewrite.request.uri_regex]
pattern = '^/users/(?P<id>\\d+)/posts/(\\d+)$'
replacement = "/posts/$2?author=${id}"
"""

URI_SET_RULES = """
[[route.middleware.rewrite.request]]
uri_set = { value = "/fixed/target" }
[[route.middleware.rewrite.request]]
uri_regex = { pattern = "^/fixed/(.*)$", replacement = "/echo/$1/$$" }
"""


@pytest.fixture
def rewriting(gateway, backends):
    b = backends("A")
    config = (upstream("app", [b.addr])
              + route("api", "/api/*", proxy_to("app"), REQUEST_RULES)
              + route("regex", "/users/*", proxy_to("app"), REGEX_RULES)
              + route("set", "/set/*", proxy_to("app"), URI_SET_RULES)
              # The action's own prefix handling applies to the rewritten path.
              + route("both", "/both/*", proxy_to("app", 'strip_path_prefix = "/echo"'),
                      '[[route.middleware.rewrite.request]]\n'
                      'uri_set = { value = "/echo/after?x=1" }\n')
              + route("plain", "/*", proxy_to("app"), ""))
    return gateway(config), b


def test_upstream_sees_rewritten_fields_and_path(rewriting):
    server, _ = rewriting
    r = call(server, "GET", "/api/users/7?full=1",
             headers=[("X-Env", "dev"), ("X-Multi", "mine"), ("Cookie", "session=secret")])
    echo = echo_of(r)
    assert echo["target"] == "/internal/v2/users/7?full=1"
    assert fields(echo, "x-env") == ["prod"]
    assert fields(echo, "x-multi") in (["mine", "added"], ["mine, added"])
    assert fields(echo, "cookie") == []
    # The same rules on the bare prefix, and a path the route matched after normalisation.
    assert echo_of(call(server, "GET", "/api"))["target"] == "/internal/v2/"
    assert echo_of(call(server, "GET", "/./api/../api/a%20b"))["target"] == "/internal/v2/a%20b"


def test_unrewritten_route_is_untouched(rewriting):
    server, _ = rewriting
    echo = echo_of(call(server, "GET", "/api-not/x?q=1", headers=[("Cookie", "c=1")]))
    assert echo["target"] == "/api-not/x?q=1"
    assert fields(echo, "cookie") == ["c=1"]


def test_regex_with_named_and_numbered_groups_sets_the_query(rewriting):
    server, _ = rewriting
    echo = echo_of(call(server, "GET", "/users/42/posts/7?old=1"))
    assert echo["target"] == "/posts/7?author=42"
    assert echo["path"] == "/posts/7"
    # No match: the path goes on as it came.
    assert echo_of(call(server, "GET", "/users/abc"))["target"] == "/users/abc"


def test_uri_set_keeps_the_query_and_rules_chain(rewriting):
    server, _ = rewriting
    echo = echo_of(call(server, "GET", "/set/anything?keep=me"))
    assert echo["target"] == "/echo/target/$?keep=me"
    # uri_set with a query replaces the query; then the action strips its own prefix.
    echo = echo_of(call(server, "GET", "/both/x?dropped=1"))
    assert echo["target"] == "/after?x=1"


# --- response rules -----------------------------------------------------------------------------

RESPONSE_RULES = """
[[route.middleware.rewrite.response]]
header_remove = { name = "X-Backend-Id" }
[[route.middleware.rewrite.response]]
header_set = { name = "X-Served-By", value = "rws" }
[[route.middleware.rewrite.response]]
status_set = { code = 299, reason = "Rewritten" }
[[route.middleware.rewrite.response]]
body_replace = { from = '"id": "A"', to = '"id": "hidden-backend"' }
"""


def test_client_sees_rewritten_status_fields_and_body(gateway, backends):
    b = backends("A")
    server = gateway(upstream("app", [b.addr])
                     + route("resp", "/*", proxy_to("app"), RESPONSE_RULES))
    r = call(server, "GET", "/echo?x=1")
    assert r.status == 299
    assert r.reason == "Rewritten"
    assert r.header("x-backend-id") is None
    assert r.header("x-served-by") == "rws"
    assert b'"id": "hidden-backend"' in r.body
    assert b'"id": "A"' not in r.body
    assert_framed_as_rewritten(r)


def assert_framed_as_rewritten(r):
    """The backend's Content-Length was for the original body: the rewritten one goes chunked
    (streamed) or with its own length (a small body that came whole with its head is handed on,
    and rewritten, in memory); the old length never goes on."""
    if r.header("content-length") is None:
        assert r.header("transfer-encoding") == "chunked"
    else:
        assert r.header("transfer-encoding") is None
        assert int(r.header("content-length")) == len(r.body)


def stream_replace(pieces, frm, to):
    """Reference: replaces `frm` by `to` in a stream of pieces; yields the output pieces."""
    carry = b""
    for piece in pieces:
        buf = carry + bytes(piece)
        cut = len(buf) - (len(frm) - 1)  # matches starting before `cut` lie wholly in buf
        out, i = [], 0
        while True:
            j = buf.find(frm, i)
            if j == -1 or j >= cut:
                break
            out += [buf[i:j], to]
            i = j + len(frm)
        keep = max(i, cut)
        out.append(buf[i:keep])
        carry = buf[keep:]
        yield b"".join(out)
    yield carry


def test_body_replace_on_a_large_chunked_download_streams_with_bounded_memory(gateway, backends):
    size = 128 * MiB
    frm, to = b"ab", b"[AB]"  # occurs about every 64 KiB in the random pattern
    b = backends("A")
    server = gateway(upstream("app", [b.addr]) + route(
        "dl", "/*", proxy_to("app"),
        '[[route.middleware.rewrite.response]]\nbody_replace = { from = "ab", to = "[AB]" }\n'))
    warm = call(server, "GET", "/download?size=1048576&chunked=1")
    assert warm.status == 200

    digest, expected_size, occurrences = hashlib.sha256(), 0, 0
    for out in stream_replace(backend_support.pattern(size), frm, to):
        digest.update(out)
        expected_size += len(out)
    for piece in backend_support.pattern(size):
        occurrences += bytes(piece).count(frm)
    assert occurrences > 1000, "the pattern must contain the string to replace"

    conn = server.connect(timeout=120)
    with RssMonitor(server.proc.pid) as rss:
        conn.send(request("GET", f"/download?size={size}&chunked=1&block=65536", host="gw.test"))
        status, headers = read_head(conn)
        assert status == 200
        assert headers.get("transfer-encoding") == "chunked", headers
        got_size, got_hash = read_chunked_hashed(conn)
    conn.close()
    assert got_size == expected_size
    assert got_hash == digest.hexdigest()
    rss.check(f"replacing in a {size // MiB} MiB download")


def test_body_replace_in_a_content_length_download(gateway, backends):
    """A Content-Length body from the backend: the client gets the replaced bytes, chunked."""
    size = 4 * MiB
    b = backends("A")
    server = gateway(upstream("app", [b.addr]) + route(
        "dl", "/*", proxy_to("app"),
        '[[route.middleware.rewrite.response]]\nbody_replace = { from = "ab", to = "" }\n'))
    expected = b"".join(stream_replace(backend_support.pattern(size), b"ab", b""))
    r = call(server, "GET", f"/download?size={size}", timeout=60)
    assert r.status == 200
    assert r.header("content-length") is None
    assert len(r.body) == len(expected) and r.body == expected


# --- static routes ------------------------------------------------------------------------------

def test_static_route_serves_the_rewritten_path(gateway, tmp_path):
    root = tmp_path / "site"
    (root / "new").mkdir(parents=True)
    (root / "new" / "page.txt").write_text("new page\n")
    (root / "top.txt").write_text("top file\n")
    server = gateway(route("docs", "/docs/*", f"type = \"static\"\nroot = {q(str(root))}",
                           '[[route.middleware.rewrite.request]]\n'
                           'uri_regex = { pattern = "^/docs/old/(.*)$", '
                           'replacement = "/docs/new/$1" }\n'
                           '[[route.middleware.rewrite.request]]\n'
                           'uri_regex = { pattern = "^/docs/top$", replacement = "/top.txt" }\n'))
    r = call(server, "GET", "/docs/old/page.txt")
    assert r.status == 200 and r.body == b"new page\n", r
    # Rewritten out of the route's prefix: there is no prefix left to strip.
    r = call(server, "GET", "/docs/top")
    assert r.status == 200 and r.body == b"top file\n", r


# --- configuration ------------------------------------------------------------------------------

def test_historical_rule_names_are_accepted_with_a_warning(gateway, backends):
    b = backends("A")
    server = gateway(upstream("app", [b.addr]) + route(
        "old", "/*", proxy_to("app"),
        '[[route.middleware.rewrite.request]]\nset_uri = { value = "/echo/renamed" }\n'
        '[[route.middleware.rewrite.request]]\nset_header = { name = "X-Old", value = "1" }\n'
        '[[route.middleware.rewrite.response]]\nset_status = { code = 202 }\n'))
    r = call(server, "GET", "/anything")
    assert r.status == 202
    echo = r.body.decode()
    assert '"target": "/echo/renamed"' in echo
    assert '"X-Old", "1"' in echo
    for old, new in (("set_uri", "uri_set"), ("set_header", "header_set"),
                     ("set_status", "status_set")):
        assert re.search(rf"warning: .*:\d+:\d+: .*'{old}' is deprecated; use '{new}'",
                         server.stderr), server.stderr


@pytest.mark.parametrize("rule, line, message", [
    ('uri_regex = { pattern = "^/(a", replacement = "/" }', 6, "invalid pattern"),
    ('uri_regex = { pattern = "^/(a)$", replacement = "/$2" }', 6,
     "replacement refers to group 2 but the pattern has 1"),
    ('uri_regex = { pattern = "^/(a)$", replacement = "/${missing}" }', 6,
     "no group of that name"),
    ('header_set = { name = "Content-Length", value = "1" }', 6, "cannot be edited"),
    ('header_set = { name = "Host", value = "x" }', 6, "cannot be edited"),
    ('hedaer_set = { name = "X", value = "1" }', 6, r"did you mean 'header_set'\?"),
    ('header_set = { name = "X", valeu = "1" }', 6, r"did you mean 'value'\?"),
    ('uri_set = { value = "no-slash" }', 6, "must start with '/'"),
])
def test_invalid_rules_are_refused_with_their_position(tmp_path, rule, line, message):
    if not RWS_BIN:
        pytest.fail("RWS_BIN is not set: run the integration tests through ctest")
    path = tmp_path / "bad.toml"
    path.write_text("[[route]]\nname = \"r\"\nmatch = { path = \"/*\" }\n"
                    "action = { type = \"respond\", body = \"ok\" }\n"
                    f"[[route.middleware.rewrite.request]]\n{rule}\n")
    where = re.compile(re.escape(str(path)) + rf":{line}:\d+: .*rewrite\.request\[1\].*{message}")
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


def test_static_file_mode_applies_default_rewrite_before_routing(rws, tmp_path):
    (tmp_path / "real.txt").write_text("real\n")
    (tmp_path / "rws.config.toml").write_text(
        f"root = {q(str(tmp_path))}\n"
        "[[middleware.rewrite.request]]\n"
        "uri_set = { value = \"/real.txt\" }\n"
        "[[middleware.rewrite.response]]\n"
        "header_set = { name = \"X-Rewritten\", value = \"yes\" }\n")
    server = rws("--config", str(tmp_path / "rws.config.toml"))
    r = call(server, "GET", "/whatever")
    assert r.status == 200 and r.body == b"real\n", r
    assert r.header("x-rewritten") == "yes"
