"""HTTP/2 (RFC 9113) on the same port as HTTP/1.1: cleartext with prior knowledge (h2c) and
over TLS by ALPN. Peers: curl, nghttp, h2load and Debian's python3-h2 / python3-httpx. The same
static files and proxy routes answer over both protocols."""

import hashlib
import select
import json
import os
import signal
import socket
import subprocess
import threading
import time

import h2.config
import h2.connection
import h2.events
import h2.settings
import h2.errors
import httpx
import pytest

from conftest import RWS_BIN, require_tool, wait_until
from test_gateway import backends, gateway  # noqa: F401  (fixtures)
from test_tls import curl, pki, tls_flags  # noqa: F401  (pki is a fixture)


@pytest.fixture
def site(tmp_path):
    root = tmp_path / "site"
    root.mkdir()
    (root / "index.html").write_text("<h1>h2</h1>\n")
    (root / "big.bin").write_bytes(os.urandom(5 << 20))
    return root


class H2Client:
    """A raw HTTP/2 client on python3-h2, for what curl cannot do (many streams at once,
    resets, oversized headers) — cleartext with prior knowledge."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=20)
        self.conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
        self.conn.initiate_connection()
        self.flush()
        self.responses = {}
        self.informational = []  # (stream id, fields) of 1xx responses
        self.data = {}
        self.trailers = {}
        self.ended = set()
        self.reset = {}
        self.goaway = None

    def flush(self):
        out = self.conn.data_to_send()
        if out:
            self.sock.sendall(out)

    def request(self, path, method="GET", headers=(), body=None, end=True):
        sid = self.conn.get_next_available_stream_id()
        fields = [(":method", method), (":path", path), (":scheme", "http"),
                  (":authority", "localhost"), *headers]
        self.conn.send_headers(sid, fields, end_stream=body is None and end)
        if body is not None:
            self.send_body(sid, body)
        self.flush()
        return sid

    def send_body(self, sid, body):
        view = memoryview(body)
        while view:
            window = min(self.conn.local_flow_control_window(sid), self.conn.max_outbound_frame_size)
            if window <= 0:
                self.pump()
                continue
            piece, view = view[:window], view[window:]
            self.conn.send_data(sid, bytes(piece), end_stream=not view)
            self.flush()

    def pump(self):
        data = self.sock.recv(1 << 16)
        if not data:
            raise EOFError("server closed the connection")
        for event in self.conn.receive_data(data):
            self.handle(event)
        self.flush()

    def handle(self, event):
        if isinstance(event, h2.events.ResponseReceived):
            self.responses[event.stream_id] = dict(
                (k.decode(), v.decode()) for k, v in event.headers)
        elif isinstance(event, h2.events.InformationalResponseReceived):
            self.informational.append((event.stream_id, dict(
                (k.decode(), v.decode()) for k, v in event.headers)))
        elif isinstance(event, h2.events.DataReceived):
            self.data[event.stream_id] = self.data.get(event.stream_id, b"") + event.data
            self.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
        elif isinstance(event, h2.events.TrailersReceived):
            self.trailers[event.stream_id] = dict(
                (k.decode(), v.decode()) for k, v in event.headers)
        elif isinstance(event, h2.events.StreamEnded):
            self.ended.add(event.stream_id)
        elif isinstance(event, h2.events.StreamReset):
            self.reset[event.stream_id] = event.error_code
        elif isinstance(event, h2.events.ConnectionTerminated):
            self.goaway = event

    def wait(self, predicate):
        while not predicate():
            self.pump()

    def close(self):
        self.sock.close()


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(next(line for line in f if line.startswith("VmRSS:")).split()[1])


def h2load(url, *args):
    out = subprocess.run([require_tool("h2load"), *args, url], capture_output=True, timeout=120)
    return out.stdout.decode()


# --- cleartext (prior knowledge) ---------------------------------------------------------------

def test_h2c_prior_knowledge_serves_static_files_like_http11(rws, site):
    server = rws(cwd=site)
    code, out, err = curl("--http2-prior-knowledge", "-D", "-",
                          f"http://127.0.0.1:{server.port}/index.html")
    assert code == 0, err
    head, _, body = out.partition("\r\n\r\n")
    assert head.startswith("HTTP/2 200")
    assert "content-length: 12" in head.lower()
    assert body == "<h1>h2</h1>\n"
    copy = site / "copy.bin"
    code, out, err = curl("--http2-prior-knowledge", "-o", str(copy),
                          f"http://127.0.0.1:{server.port}/big.bin")
    assert code == 0, err
    assert copy.read_bytes() == (site / "big.bin").read_bytes()
    # HTTP/1.1 still works on the same port.
    code, out, err = curl("-D", "-", f"http://127.0.0.1:{server.port}/index.html")
    assert out.startswith("HTTP/1.1 200"), out
    wait_until(lambda: '"GET /index.html HTTP/2.0" 200 12' in server.stdout,
               what="the access log line of the h2 request")


def test_many_concurrent_streams_on_one_connection(rws, site):
    server = rws(cwd=site)
    c = H2Client(server.port)
    ids = [c.request("/index.html") for _ in range(50)] + [c.request("/missing")]
    c.wait(lambda: all(i in c.ended for i in ids))
    for i in ids[:-1]:
        assert c.responses[i][":status"] == "200"
        assert c.data[i] == b"<h1>h2</h1>\n"
    assert c.responses[ids[-1]][":status"] == "404"
    head = c.request("/index.html", method="HEAD")
    c.wait(lambda: head in c.ended)
    assert c.responses[head]["content-length"] == "12" and head not in c.data
    # The open connection counts as an HTTP/2 one; the curl asking is the HTTP/1.1 one.
    code, out, err = curl(f"http://127.0.0.1:{server.port}/metrics")
    assert 'rws_connections_active{protocol="http2"} 1\n' in out, out
    assert 'rws_connections_active{protocol="http1"} 1\n' in out, out
    c.close()


def test_h2load_completes_every_request(rws, site):
    server = rws(cwd=site)
    out = h2load(f"http://127.0.0.1:{server.port}/index.html", "-n", "2000", "-c", "4", "-m",
                 "10")
    assert "2000 succeeded, 0 failed, 0 errored" in out, out


def test_an_oversized_header_block_gets_431_on_its_stream(rws, site):
    server = rws("--max-header-size", "4096", cwd=site)
    c = H2Client(server.port)
    big = c.request("/index.html", headers=[("x-big", "a" * 3000), ("x-big2", "b" * 3000)])
    ok = c.request("/index.html")
    c.wait(lambda: big in c.ended and ok in c.ended)
    assert c.responses[big][":status"] == "431"
    assert c.responses[ok][":status"] == "200"
    c.close()


def test_request_line_and_field_count_limits_as_over_http11(rws, site):
    """The HTTP/1.1 parser's limits apply to HTTP/2 requests too: a :path making a request line
    over 16 KiB → 414, more than 100 fields → 431."""
    server = rws(cwd=site)
    c = H2Client(server.port)
    long_path = c.request("/" + "a" * 17000)
    many = c.request("/index.html", headers=[(f"x-f{i}", "v") for i in range(101)])
    enough = c.request("/index.html", headers=[(f"x-f{i}", "v") for i in range(99)])
    c.wait(lambda: {long_path, many, enough} <= c.ended)
    assert c.responses[long_path][":status"] == "414"
    assert c.responses[many][":status"] == "431"
    assert c.responses[enough][":status"] == "200"
    c.close()


def test_max_body_size_over_h2(gateway, backends):
    """The server's max_body_size over HTTP/2: a declared content-length beyond it is 413
    before the handler runs (the backend never sees it); a body without a declared length is
    413 once past it; one that fits goes through."""
    backend = backends("b")
    server = gateway("max_body_size = 1000\n" + proxy_config(backend))
    c = H2Client(server.port)
    declared = c.request("/upload?tag=declared", method="POST", body=b"x" * 2000,
                         headers=[("content-length", "2000")])
    c.wait(lambda: declared in c.ended or declared in c.reset)
    assert c.responses[declared][":status"] == "413"
    streamed = c.request("/upload?tag=streamed", method="POST", body=b"y" * 5000)
    c.wait(lambda: streamed in c.ended or streamed in c.reset)
    assert c.responses[streamed][":status"] == "413"
    assert b"request body larger than the server accepts" in c.data[streamed]
    fits = c.request("/upload?tag=fits", method="POST", body=b"z" * 1000)
    c.wait(lambda: fits in c.ended)
    assert c.responses[fits][":status"] == "200"
    assert json.loads(c.data[fits])["received"] == 1000
    assert backend.count("declared") == 0
    c.close()


def test_rapid_reset_gets_goaway_enhance_your_calm(rws, site):
    server = rws(cwd=site)
    c = H2Client(server.port)
    try:
        for _ in range(400):
            sid = c.request("/index.html")
            c.conn.reset_stream(sid, h2.errors.ErrorCodes.CANCEL)
            c.flush()
            while c.goaway is None and select.select([c.sock], [], [], 0)[0]:
                c.pump()
            if c.goaway is not None:
                break
        c.wait(lambda: c.goaway is not None)
    except (EOFError, ConnectionResetError, BrokenPipeError):
        pytest.fail("the server closed without GOAWAY")
    assert c.goaway.error_code == h2.errors.ErrorCodes.ENHANCE_YOUR_CALM
    c.close()
    code, out, err = curl("--http2-prior-knowledge", f"http://127.0.0.1:{server.port}/index.html")
    assert code == 0 and "h2" in out, err


def test_sigterm_sends_goaway_and_finishes_open_streams(servers, backends, tmp_path):
    backend = backends("b")
    config = tmp_path / "rws.config.toml"
    config.write_text(proxy_config(backend))
    server = servers([RWS_BIN, "--ip", "127.0.0.1", "--port", "0", "--thread-count", "1",
                      "--config", str(config)])
    # nghttp (not python-h2, which stops reading at GOAWAY) prints every frame it receives.
    client = subprocess.Popen([require_tool("nghttp"), "-v",
                               f"http://127.0.0.1:{server.port}/sse?key=drain&events=2"],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    seen = []
    reader = threading.Thread(target=lambda: seen.extend(iter(client.stdout.readline, b"")),
                              daemon=True)
    reader.start()
    text = lambda: b"".join(seen).decode("latin-1")  # noqa: E731
    try:
        wait_until(lambda: "data: event 1" in text(), what="event 1 over h2")
        server.signal(signal.SIGTERM)
        wait_until(lambda: "recv GOAWAY" in text(), what="the GOAWAY")
        backend.ctl("sse_release", key="drain")
        assert client.wait(30) == 0, text()
        reader.join(10)
        assert "error_code=NO_ERROR" in text()
        assert "data: event 2" in text(), text()
        assert server.wait_exit() == 0
    finally:
        if client.poll() is None:
            client.kill()


# --- through the gateway ------------------------------------------------------------------------

def proxy_config(backend):
    return (f'[[route]]\nname = "r"\n[route.match]\npath = "/*"\n'
            f'[route.action]\ntype = "proxy"\nupstream = "u"\n'
            f'[[upstream]]\nname = "u"\nbackends = ["{backend.addr}"]\n')


def test_proxy_over_h2_streams_uploads_and_downloads_with_trailers(gateway, backends):
    backend = backends("b")
    server = gateway(proxy_config(backend))
    c = H2Client(server.port)
    body = os.urandom(4 << 20)
    up = c.request("/upload", method="POST", body=body,
                   headers=[("content-length", str(len(body)))])
    c.wait(lambda: up in c.ended)
    assert c.responses[up][":status"] == "200"
    seen = json.loads(c.data[up])
    assert seen["received"] == len(body)
    assert seen["sha256"] == hashlib.sha256(body).hexdigest()
    size = 3 << 20
    down = c.request(f"/download?size={size}&chunked=1&trailers=1")
    c.wait(lambda: down in c.ended)
    assert len(c.data[down]) == size
    assert c.trailers[down]["x-pattern-sha256"] == hashlib.sha256(c.data[down]).hexdigest()
    echo = c.request("/echo?x=1", headers=[("cookie", "a=1"), ("cookie", "b=2")])
    c.wait(lambda: echo in c.ended)
    seen = json.loads(c.data[echo])
    headers = {k.lower(): v for k, v in seen["headers"]}
    assert headers["cookie"] == "a=1; b=2"
    assert headers["via"] == "2 rws"
    assert seen["target"] == "/echo?x=1"
    c.close()


# --- TLS + ALPN ---------------------------------------------------------------------------------

def test_alpn_h2_over_tls_with_curl_and_httpx(rws, pki, site):
    server = rws(*tls_flags(pki), cwd=site)
    code, out, err = curl("--http2", "--cacert", pki.path("ca.pem"), "-w", "%{http_version}",
                          "-o", "/dev/null", f"https://127.0.0.1:{server.port}/index.html")
    assert code == 0 and out == "2", (out, err)
    with httpx.Client(http2=True, verify=pki.path("ca.pem")) as client:
        r = client.get(f"https://127.0.0.1:{server.port}/big.bin")
        assert r.http_version == "HTTP/2"
        assert r.content == (site / "big.bin").read_bytes()
        assert r.headers["strict-transport-security"] == "max-age=31536000"
    code, out, err = curl("--http1.1", "--cacert", pki.path("ca.pem"), "-w", "%{http_version}",
                          "-o", "/dev/null", f"https://127.0.0.1:{server.port}/index.html")
    assert out == "1.1", (out, err)
    out = subprocess.run([require_tool("nghttp"), "-n", "-s",
                          f"https://127.0.0.1:{server.port}/index.html"],
                         capture_output=True, timeout=30)
    assert out.returncode == 0, out.stderr.decode()


def test_a_continuation_flood_is_cut_off_with_goaway(rws, site):
    """HEADERS without END_HEADERS followed by endless CONTINUATION frames (CVE-2024-27316 and
    kin): the server must stop reading such a block long before memory grows, say GOAWAY and
    close, and keep serving others."""
    import hpack
    from hyperframe.frame import ContinuationFrame, Frame, GoAwayFrame, HeadersFrame, SettingsFrame
    server = rws(cwd=site)
    rss_before = rss_kib(server.proc.pid)
    s = socket.create_connection(("127.0.0.1", server.port), timeout=20)
    s.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + SettingsFrame(0).serialize())
    encoder = hpack.Encoder()
    first = HeadersFrame(1)
    first.data = encoder.encode([(":method", "GET"), (":path", "/"), (":scheme", "http"),
                                 (":authority", "x")])
    s.sendall(first.serialize())
    # Flood until the server answers; a client that ignored the answer would be cut off by the
    # close that follows it.
    def frames_in(data):
        frames = []
        while len(data) >= 9:
            frame, length = Frame.parse_frame_header(memoryview(data[:9]))
            if len(data) < 9 + length:
                break
            frame.parse_body(memoryview(data[9:9 + length]))
            frames.append(frame)
            data = data[9 + length:]
        return frames

    sent = 0
    received = b""
    goaway = None
    while goaway is None and sent < 20000:
        frame = ContinuationFrame(1)
        frame.data = encoder.encode([(f"x-flood-{sent}", "v" * 100)])
        try:
            s.sendall(frame.serialize())
        except (BrokenPipeError, ConnectionResetError):
            break
        sent += 1
        if select.select([s], [], [], 0)[0]:
            received += s.recv(65536)
        goaway = next((f for f in frames_in(received) if isinstance(f, GoAwayFrame)), None)
    assert goaway is not None, f"no GOAWAY after {sent} CONTINUATION frames"
    assert goaway.error_code == h2.errors.ErrorCodes.ENHANCE_YOUR_CALM
    assert sent < 1000, f"the server read {sent} CONTINUATION frames of one header block"
    assert rss_kib(server.proc.pid) - rss_before < 32 * 1024
    code, out, err = curl("--http2-prior-knowledge", f"http://127.0.0.1:{server.port}/index.html")
    assert code == 0 and "h2" in out, err


def test_a_client_that_never_opens_its_window_is_disconnected(rws, site):
    """Zero-window stall: the client announces a window of 0 and never raises it, so response
    data can never leave; the server must not keep the stream forever."""
    server = rws("--idle-timeout-ms", "500", cwd=site)
    s = socket.create_connection(("127.0.0.1", server.port), timeout=20)
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    conn.initiate_connection()
    conn.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 0})
    conn.send_headers(1, [(":method", "GET"), (":path", "/big.bin"), (":scheme", "http"),
                          (":authority", "localhost")], end_stream=True)
    s.sendall(conn.data_to_send())
    start = time.monotonic()
    closed = False
    while time.monotonic() - start < 15:
        data = s.recv(65536)
        if not data:
            closed = True
            break
        conn.receive_data(data)  # headers and SETTINGS, never DATA: the window is 0
        s.sendall(conn.data_to_send())
    assert closed, "the stalled connection was kept open"


def test_interim_responses_over_h2_100_continue_and_103_from_the_backend(gateway, backends):
    backend = backends("b")
    server = gateway(proxy_config(backend))
    c = H2Client(server.port)
    informational = c.informational
    # Expect: 100-continue: the body waits for the 100, which comes when the proxy reads it.
    sid = c.request("/upload", method="POST", end=False,
                    headers=[("expect", "100-continue"), ("content-length", "5")])
    c.wait(lambda: any(s == sid for s, _ in informational) or sid in c.ended)
    assert informational and informational[0][1][":status"] == "100", informational
    c.conn.send_data(sid, b"hello", end_stream=True)
    c.flush()
    c.wait(lambda: sid in c.ended)
    assert json.loads(c.data[sid])["received"] == 5
    # A 103 Early Hints from the backend reaches the h2 client ahead of the final response.
    hint = c.request("/interim?code=103")
    c.wait(lambda: hint in c.ended)
    hints = [h for s, h in informational if s == hint]
    assert hints and hints[0][":status"] == "103" and hints[0]["link"] == "</style.css>; rel=preload"
    assert c.responses[hint][":status"] == "200"
    c.close()


def test_an_hpack_bomb_gets_431_and_memory_stays_flat(rws, site):
    """One 4000-byte field stored in the HPACK dynamic table and then referenced 300 times: a few
    KiB on the wire, 1.2 MB decoded. The header list limit applies to the decoded size."""
    server = rws(cwd=site)
    rss_before = rss_kib(server.proc.pid)
    c = H2Client(server.port)
    bombs = [c.request("/index.html", headers=[("x-bomb", "a" * 4000)] * 300) for _ in range(20)]
    ok = c.request("/index.html")
    c.wait(lambda: all(s in c.ended or s in c.reset for s in bombs) and ok in c.ended)
    for sid in bombs:
        assert c.responses.get(sid, {}).get(":status") == "431" or sid in c.reset
    assert c.responses[ok][":status"] == "200"
    c.close()
    assert rss_kib(server.proc.pid) - rss_before < 32 * 1024


@pytest.mark.parametrize("kind", ["ping", "settings"])
def test_a_control_frame_flood_from_a_client_that_never_reads_is_cut_off(rws, site, kind):
    """PING or SETTINGS frames each oblige the server to queue an acknowledgement; a client that
    sends them without ever reading would make that queue grow without end. The server must say
    GOAWAY ENHANCE_YOUR_CALM and close, with bounded memory, and go on serving others."""
    from hyperframe.frame import Frame, GoAwayFrame, PingFrame, SettingsFrame
    server = rws(cwd=site)
    rss_before = rss_kib(server.proc.pid)
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # the acks pile up at the server
    s.settimeout(20)
    s.connect(("127.0.0.1", server.port))
    s.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + SettingsFrame(0).serialize())
    if kind == "ping":
        frame = PingFrame(0)
        frame.opaque_data = b"12345678"
    else:
        frame = SettingsFrame(0)
        frame.settings = {SettingsFrame.INITIAL_WINDOW_SIZE: 65535}
    batch = frame.serialize() * 1000
    for _ in range(2000):  # 2 million frames; after the GOAWAY the server reads and drops them
        try:
            s.sendall(batch)
        except (BrokenPipeError, ConnectionResetError):
            break
    received = b""
    while True:  # what the server sent, up to its close
        try:
            data = s.recv(1 << 16)
        except ConnectionResetError:
            break
        if not data:
            break
        received += data
    s.close()
    frames = []
    while len(received) >= 9:
        f, length = Frame.parse_frame_header(memoryview(received[:9]))
        f.parse_body(memoryview(received[9:9 + length]))
        frames.append(f)
        received = received[9 + length:]
    goaway = next((f for f in frames if isinstance(f, GoAwayFrame)), None)
    assert goaway is not None, f"no GOAWAY in {frames[:5]}"
    assert goaway.error_code == h2.errors.ErrorCodes.ENHANCE_YOUR_CALM
    assert rss_kib(server.proc.pid) - rss_before < 64 * 1024
    code, out, err = curl("--http2-prior-knowledge", f"http://127.0.0.1:{server.port}/index.html")
    assert code == 0 and "h2" in out, err
