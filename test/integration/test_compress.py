"""The compress middleware through the real binary: proxied responses from
test/support/backend.py and files of the static action and of the static file server mode,
decoded with python3's zlib, Debian's python3-brotli and python3-zstandard, and with
curl --compressed. Streams are decoded as they arrive, so a test sees when bytes reach the
client; synchronisation is by observable events with deadlines, never by sleeping."""

import functools
import gzip
import hashlib
import json
import os
import subprocess
import zlib

import pytest

from conftest import RWS_BIN, request
from test_gateway import MiB, RssMonitor, backend_support, call, read_head, q, upstream
from test_gateway import backends, gateway  # noqa: F401  (fixtures)

try:
    import brotli
    import zstandard
except ImportError as e:  # a missing peer fails, never skips
    brotli = zstandard = None
    MISSING = str(e)

CODINGS = ["br", "zstd", "gzip"]


@pytest.fixture(autouse=True)
def decoders_installed():
    if brotli is None:
        pytest.fail(f"python3-brotli and python3-zstandard are required ({MISSING}); "
                    "run scripts/setup test")


class StreamDecoder:
    """Decodes one content-coded stream fed in pieces."""

    def __init__(self, coding):
        self.coding = coding
        if coding == "gzip":
            self.d = zlib.decompressobj(16 + zlib.MAX_WBITS)
            self.feed = self.d.decompress
        elif coding == "br":
            self.d = brotli.Decompressor()
            self.feed = self.d.process
        elif coding == "zstd":
            self.d = zstandard.ZstdDecompressor().decompressobj()
            self.feed = self.d.decompress
        else:
            raise AssertionError(f"no decoder for {coding!r}")

    def finished(self):
        if self.coding == "gzip":
            return self.d.eof and not self.d.unused_data
        if self.coding == "br":
            return self.d.is_finished()
        return self.d.eof


def decode(coding, data):
    d = StreamDecoder(coding)
    out = d.feed(data)
    assert d.finished(), f"{coding} stream incomplete ({len(data)} bytes)"
    return out


def compress_route(path, action, middleware="compress = {}", name=None):
    name = name or f"r{abs(hash(path)) % 100000}"
    return (f"[[route]]\nname = {q(name)}\nmatch = {{ path = {q(path)} }}\n"
            f"action = {action}\nmiddleware = {{ {middleware} }}\n\n")


def proxy_config(backend, middleware="compress = {}"):
    return (upstream("app", [backend.addr]) +
            compress_route("/*", '{ type = "proxy", upstream = "app" }', middleware, "app"))


def read_chunked_pieces(conn, trailers):
    """Yields each chunk's data of a chunked body as it arrives; fills `trailers` (lower-case
    names) at the end."""
    while True:
        size = int(conn.read_until(b"\r\n").split(b";")[0], 16)
        if size == 0:
            while True:
                line = conn.read_until(b"\r\n")
                if line == b"\r\n":
                    return
                k, _, v = line[:-2].decode("latin-1").partition(":")
                trailers[k.strip().lower()] = v.strip()
        left = size
        while left:
            if not conn.buf:
                conn._fill()
            piece = conn.buf[:left]
            conn.buf = conn.buf[len(piece):]
            left -= len(piece)
            yield piece
        assert conn.read_exact(2) == b"\r\n"


# --- proxied responses ---------------------------------------------------------------------------

@pytest.mark.parametrize("coding", CODINGS)
def test_proxied_json_is_compressed_with_the_negotiated_coding(gateway, backends, coding):
    backend = backends()
    server = gateway(proxy_config(backend))
    pad = "x" * 3000  # the echo repeats the target: over min_size
    resp = call(server, "GET", f"/echo?pad={pad}", headers=[("Accept-Encoding", coding)])
    assert resp.status == 200, resp
    assert resp.header("content-encoding") == coding
    assert resp.header("vary") == "Accept-Encoding"
    assert resp.header("content-length") is None
    assert resp.header("transfer-encoding") == "chunked"
    assert len(resp.body) < 1500
    echo = json.loads(decode(coding, resp.body))
    assert echo["query"] == f"pad={pad}"
    # The client's Accept-Encoding still reaches the backend.
    assert ["Accept-Encoding", coding] in echo["headers"]


def test_qvalues_and_server_order_choose_the_coding(gateway, backends):
    backend = backends()
    server = gateway(proxy_config(backend, 'compress = { algorithms = ["zstd", "gzip", "br"] }'))
    path = "/echo?pad=" + "y" * 3000
    cases = {
        "gzip, br, zstd": "zstd",  # a tie: the configured order
        "gzip;q=0.9, br;q=0.5": "gzip",
        "br;q=1, zstd;q=0": "br",
        "*;q=0.5, zstd;q=0.1": "gzip",
        "gzip;q=0.5, identity": None,
        "identity": None,
        "*;q=0": None,
        "deflate": None,
    }
    for accept, expected in cases.items():
        resp = call(server, "GET", path, headers=[("Accept-Encoding", accept)])
        assert resp.status == 200
        assert resp.header("content-encoding") == expected, accept
        assert resp.header("vary") == "Accept-Encoding", accept
        body = decode(expected, resp.body) if expected else resp.body
        assert json.loads(body)["query"] == path[len("/echo?"):], accept
    resp = call(server, "GET", path)  # no Accept-Encoding at all
    assert resp.header("content-encoding") is None
    assert int(resp.header("content-length")) == len(resp.body)


def test_curl_compressed_decodes_the_response(gateway, backends, curl):
    backend = backends()
    server = gateway(proxy_config(backend))
    status, headers, body = curl.run("--compressed", server.url("/echo?pad=" + "z" * 2000))
    assert status == 200
    assert headers["content-encoding"] == "br"  # curl offers deflate, gzip, br, zstd
    assert json.loads(body)["query"] == "pad=" + "z" * 2000


def test_responses_that_are_not_compressed(gateway, backends):
    backend = backends()
    server = gateway(proxy_config(backend, "compress = { min_size = 0 }"))
    ae = [("Accept-Encoding", "gzip")]
    # Small text/plain answers with statuses that are never compressed.
    for code in (204, 304, 404, 500):
        resp = call(server, "GET", f"/status?code={code}", headers=ae)
        assert resp.status == code
        assert resp.header("content-encoding") is None, code
    ok = call(server, "GET", "/status?code=200", headers=ae)
    assert ok.header("content-encoding") == "gzip"
    assert decode("gzip", ok.body) == b"status 200\n"
    # application/octet-stream is not in the default types.
    resp = call(server, "GET", "/download?size=5000", headers=ae)
    assert resp.header("content-encoding") is None
    assert resp.header("vary") is None
    assert len(resp.body) == 5000

    server = gateway(proxy_config(backend), name="default-min.toml")
    small = call(server, "GET", "/status?code=200", headers=ae)  # 11 bytes < 1024
    assert small.header("content-encoding") is None
    assert small.header("vary") is None
    assert small.body == b"status 200\n"


def test_head_carries_the_fields_of_get(gateway, backends):
    backend = backends()
    server = gateway(proxy_config(backend, "compress = { min_size = 0 }"))
    ae = [("Accept-Encoding", "zstd")]
    head = call(server, "HEAD", "/status?code=200", headers=ae)
    get = call(server, "GET", "/status?code=200", headers=ae)
    assert head.status == get.status == 200
    for name in ("content-encoding", "vary", "content-length", "transfer-encoding"):
        assert head.header(name) == get.header(name), name
    assert head.header("content-encoding") == "zstd"
    assert head.header("content-length") is None
    assert head.body == b""
    assert decode("zstd", get.body) == b"status 200\n"


@pytest.fixture
def lean_gateway(servers, tmp_path):
    """Like `gateway`, with AddressSanitizer's quarantine of freed memory kept small: the brotli
    encoder allocates and frees buffers on every flush, and a sanitized build would otherwise
    hold up to 256 MiB of them, which RssMonitor cannot tell from a buffered body."""
    if not RWS_BIN:
        pytest.fail("RWS_BIN is not set: run the integration tests through ctest")

    def start(config):
        path = tmp_path / "lean.toml"
        path.write_text(config)
        asan = ":".join(filter(None, [os.environ.get("ASAN_OPTIONS", ""), "quarantine_size_mb=16"]))
        return servers([RWS_BIN, "--ip", "127.0.0.1", "--port", "0", "--thread-count", "1",
                        "--config", str(path)], env={"ASAN_OPTIONS": asan})

    return start


@pytest.mark.parametrize("coding", CODINGS)
@pytest.mark.parametrize("framing", ["chunked", "length"])
def test_large_stream_is_compressed_with_bounded_memory(lean_gateway, backends, coding, framing):
    backend = backends()
    server = lean_gateway(proxy_config(backend,
                                       'compress = { types = ["application/octet-stream"] }'))
    size = 96 * MiB  # more than RssMonitor's headroom: buffering the body would show
    chunked = "&chunked=1&trailers=1" if framing == "chunked" else ""
    assert call(server, "GET", "/download?size=1048576",
                headers=[("Accept-Encoding", coding)]).status == 200  # warm-up before the baseline
    conn = server.connect(timeout=60)
    digest = hashlib.sha256()
    decoder = StreamDecoder(coding)
    trailers = {}
    decoded = 0
    with RssMonitor(server.proc.pid) as rss:
        conn.send(request("GET", f"/download?size={size}{chunked}",
                          headers=[("Accept-Encoding", coding)]))
        status, headers = read_head(conn)
        assert status == 200
        assert headers["content-encoding"] == coding
        assert "content-length" not in headers
        assert headers["transfer-encoding"] == "chunked"
        for piece in read_chunked_pieces(conn, trailers):
            out = decoder.feed(bytes(piece))
            decoded += len(out)
            digest.update(out)
    conn.close()
    rss.check(f"compressing {size // MiB} MiB with {coding} ({framing})")
    assert server.alive() and "Sanitizer" not in server.stderr, server.stderr
    assert decoder.finished()
    assert decoded == size
    assert digest.hexdigest() == pattern_sha256(size)
    if framing == "chunked":  # the backend's trailers come through after the compressed data
        assert trailers["x-pattern-sha256"] == digest.hexdigest()
        assert trailers["x-pattern-size"] == str(size)


@functools.lru_cache
def pattern_sha256(size):
    return backend_support.pattern_sha256(size)


@pytest.mark.parametrize("coding", CODINGS)
def test_server_sent_events_are_flushed_event_by_event(gateway, backends, coding):
    backend = backends()
    server = gateway(proxy_config(backend))  # text/event-stream is text/*
    key = f"sse-{coding}"
    conn = server.connect(timeout=20)
    conn.send(request("GET", f"/sse?key={key}&events=3", headers=[("Accept-Encoding", coding)]))
    status, headers = read_head(conn)
    assert status == 200
    assert headers["content-encoding"] == coding
    decoder = StreamDecoder(coding)
    pieces = read_chunked_pieces(conn, {})
    text = b""
    for i in range(1, 4):
        # Event i decodes before event i+1 exists: nothing is held back by the compressor.
        while f"data: event {i}\n\n".encode() not in text:
            text += decoder.feed(bytes(next(pieces)))
        assert backend.ctl("sse", key=key)["sent"] == i
        assert f"event {i + 1}".encode() not in text
        backend.ctl("sse_release", key=key)
    for piece in pieces:
        text += decoder.feed(bytes(piece))
    assert decoder.finished()
    assert text == b"".join(f"id: {i}\ndata: event {i}\n\n".encode() for i in range(1, 4))


def test_a_backend_failure_mid_body_cuts_the_compressed_response(gateway, backends):
    backend = backends()
    server = gateway(proxy_config(backend, 'compress = { types = ["application/octet-stream"] }'))
    conn = server.connect(timeout=20)
    conn.send(request("GET", "/close-mid-body?size=200000&sent=100000",
                      headers=[("Accept-Encoding", "gzip")]))
    status, headers = read_head(conn)
    assert status == 200
    assert headers["content-encoding"] == "gzip"
    rest = conn.read_to_eof()
    assert not rest.endswith(b"0\r\n\r\n"), "the chunked body ended cleanly"
    assert call(server, "GET", "/status?code=200").status == 200  # still serving


# --- static files --------------------------------------------------------------------------------

@pytest.fixture
def site(tmp_path):
    root = tmp_path / "site"
    root.mkdir()
    (root / "index.html").write_text("<p>" + "hello compressed world " * 800 + "</p>\n")
    (root / "app.js").write_text("function f(){return 1}\n" * 500)
    (root / "tiny.txt").write_text("tiny\n")
    (root / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40)
    return root


def test_static_action_files_are_compressed(gateway, site):
    server = gateway(compress_route("/files/*", f'{{ type = "static", root = {q(str(site))} }}'))
    html = (site / "index.html").read_bytes()
    for coding in CODINGS:
        resp = call(server, "GET", "/files/index.html", headers=[("Accept-Encoding", coding)])
        assert resp.status == 200
        assert resp.header("content-encoding") == coding
        assert resp.header("accept-ranges") is None
        assert resp.header("etag").startswith('W/"')
        assert decode(coding, resp.body) == html
    js = call(server, "GET", "/files/app.js", headers=[("Accept-Encoding", "gzip")])
    assert js.header("content-encoding") == "gzip"
    assert gzip.decompress(js.body) == (site / "app.js").read_bytes()

    for path in ("/files/tiny.txt", "/files/image.png"):
        resp = call(server, "GET", path, headers=[("Accept-Encoding", "gzip")])
        assert resp.header("content-encoding") is None, path
        assert resp.header("etag").startswith('"'), path
        assert resp.body == (site / path.split("/")[-1]).read_bytes()


def test_static_validators_ranges_and_head(gateway, site):
    server = gateway(compress_route("/files/*", f'{{ type = "static", root = {q(str(site))} }}'))
    ae = ("Accept-Encoding", "br")
    full = call(server, "GET", "/files/index.html", headers=[ae])
    plain = call(server, "GET", "/files/index.html")
    assert plain.header("content-encoding") is None
    assert plain.header("vary") == "Accept-Encoding"
    assert full.header("etag") == "W/" + plain.header("etag")

    # The weak tag revalidates: 304 with the fields of the compressed 200.
    nm = call(server, "GET", "/files/index.html", headers=[ae, ("If-None-Match", full.header("etag"))])
    assert nm.status == 304
    assert nm.header("vary") == "Accept-Encoding"
    assert nm.header("etag") == full.header("etag")
    assert nm.header("content-encoding") is None

    # A range is answered from the identity representation, uncompressed.
    part = call(server, "GET", "/files/index.html", headers=[ae, ("Range", "bytes=0-99")])
    assert part.status == 206
    assert part.header("content-encoding") is None
    assert part.body == (site / "index.html").read_bytes()[:100]

    head = call(server, "HEAD", "/files/index.html", headers=[ae])
    assert head.status == 200
    assert head.body == b""
    for name in ("content-encoding", "vary", "etag", "content-length", "accept-ranges"):
        assert head.header(name) == full.header(name), name


def test_static_file_server_mode_with_middleware_defaults(rws, site, tmp_path):
    config = tmp_path / "static.toml"
    config.write_text(f"root = {q(str(site))}\n\n[middleware]\n"
                      "compress = { algorithms = [\"gzip\"] }\n")
    server = rws("--config", str(config))
    resp = call(server, "GET", "/index.html", headers=[("Accept-Encoding", "br, gzip")])
    assert resp.status == 200
    assert resp.header("content-encoding") == "gzip"
    assert gzip.decompress(resp.body) == (site / "index.html").read_bytes()


def test_route_can_turn_a_default_off(gateway, site):
    action = f'{{ type = "static", root = {q(str(site))} }}'
    server = gateway("[middleware]\ncompress = {}\n\n" +
                     compress_route("/off/*", action, "compress = false", "off") +
                     f"[[route]]\nname = \"on\"\nmatch = {{ path = \"/on/*\" }}\naction = {action}\n")
    ae = [("Accept-Encoding", "gzip")]
    assert call(server, "GET", "/on/index.html", headers=ae).header("content-encoding") == "gzip"
    off = call(server, "GET", "/off/index.html", headers=ae)
    assert off.header("content-encoding") is None
    assert off.header("etag").startswith('"')
    assert off.body == (site / "index.html").read_bytes()


# --- configuration errors ------------------------------------------------------------------------

def test_unknown_algorithm_is_a_positioned_config_error(tmp_path):
    if not RWS_BIN:
        pytest.fail("RWS_BIN is not set: run the integration tests through ctest")
    path = tmp_path / "bad.toml"
    path.write_text("[[route]]\nname = \"r\"\naction = { type = \"respond\" }\n"
                    "middleware = { compress = { algorithms = [\"gzip\", \"lz4\"] } }\n")
    out = subprocess.run([RWS_BIN, "--check-config", "--config", str(path)],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 1, out
    assert f"{path}:4:" in out.stderr + out.stdout
    assert "unknown algorithm 'lz4'" in out.stderr + out.stdout
