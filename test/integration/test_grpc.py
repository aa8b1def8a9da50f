"""gRPC through `type = "grpc"` routes: Debian's python3-grpcio as client and as backend, over
HTTP/2 end to end (h2c prior knowledge and TLS on both sides). Messages are raw bytes (generic
handlers, no protobuf), which is all a proxy sees anyway."""

import concurrent.futures
import queue
import signal
import socket
import subprocess
import threading
import time

import grpc
import h2.config
import h2.connection
import h2.events
import pytest

from conftest import RWS_BIN, accept_in_threads, wait_until
from test_gateway import gateway  # noqa: F401  (fixture)
from test_http2 import H2Client
from test_tls import pki  # noqa: F401  (fixture)

SERVICE = "test.Echo"


class EchoService:
    """The backend's methods; records what it saw for the tests to check."""

    def __init__(self):
        self.peers = set()
        self.metadata = []
        self.release = threading.Event()  # lets /Hold calls return
        self.holding = 0
        self.lock = threading.Lock()
        self.cancelled = threading.Event()

    def _seen(self, context):
        with self.lock:
            self.peers.add(context.peer())
            self.metadata.append(dict(context.invocation_metadata()))

    def unary(self, request, context):
        self._seen(context)
        tag = dict(context.invocation_metadata()).get("x-tag", "")
        context.set_trailing_metadata((("x-tag-echo", tag),))
        return request[::-1]

    def server_stream(self, request, context):
        self._seen(context)
        for i in range(int(request)):
            yield b"%d" % i

    def client_stream(self, request_iterator, context):
        self._seen(context)
        count = total = 0
        for message in request_iterator:
            count += 1
            total += len(message)
        return b"%d %d" % (count, total)

    def bidi(self, request_iterator, context):
        self._seen(context)
        for message in request_iterator:
            yield b"echo:" + message

    def fail(self, request, context):
        self._seen(context)
        context.abort(grpc.StatusCode.NOT_FOUND, "no such thing")

    def hold(self, request, context):
        """Answers once the test releases it (or the call is cancelled)."""
        self._seen(context)
        context.add_callback(self.cancelled.set)
        with self.lock:
            self.holding += 1
        self.release.wait(30)
        return request


def start_backend(service, credentials=None):
    handlers = {
        "Unary": grpc.unary_unary_rpc_method_handler(service.unary),
        "ServerStream": grpc.unary_stream_rpc_method_handler(service.server_stream),
        "ClientStream": grpc.stream_unary_rpc_method_handler(service.client_stream),
        "Bidi": grpc.stream_stream_rpc_method_handler(service.bidi),
        "Fail": grpc.unary_unary_rpc_method_handler(service.fail),
        "Hold": grpc.unary_unary_rpc_method_handler(service.hold),
    }
    server = grpc.server(concurrent.futures.ThreadPoolExecutor(max_workers=64))
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))
    if credentials is None:
        port = server.add_insecure_port("127.0.0.1:0")
    else:
        port = server.add_secure_port("127.0.0.1:0", credentials)
    server.start()
    return server, port


@pytest.fixture
def backend():
    service = EchoService()
    server, port = start_backend(service)
    service.port = port
    yield service
    service.release.set()
    server.stop(None)


def grpc_config(backend_urls, extra_upstream=""):
    backends = ", ".join(f'"{u}"' for u in backend_urls)
    return f"""
[[upstream]]
name = "grpc-backends"
backends = [{backends}]
retries = 0
{extra_upstream}

[[route]]
name = "grpc"
[route.match]
content_type = "application/grpc*"
[route.action]
type = "grpc"
upstream = "grpc-backends"

[[route]]
name = "other"
[route.action]
type = "respond"
status = 404
"""


def stub(channel, method, kind="unary_unary"):
    return getattr(channel, kind)(f"/{SERVICE}/{method}")


@pytest.fixture
def proxied(gateway, backend):
    server = gateway(grpc_config([f"grpc://127.0.0.1:{backend.port}"]))
    channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
    yield server, channel
    channel.close()


def test_unary_call_with_metadata_both_ways(proxied, backend):
    server, channel = proxied
    reply, call = stub(channel, "Unary").with_call(b"hello", metadata=(("x-tag", "t1"),),
                                                  timeout=20)
    assert reply == b"olleh"
    assert call.code() == grpc.StatusCode.OK
    assert ("x-tag-echo", "t1") in call.trailing_metadata()
    seen = backend.metadata[-1]
    assert seen["x-tag"] == "t1"
    assert seen["x-forwarded-for"] == "127.0.0.1"
    assert "2 rws" in seen["via"]


def test_server_streaming_delivers_every_message(proxied):
    _, channel = proxied
    replies = list(stub(channel, "ServerStream", "unary_stream")(b"500", timeout=20))
    assert replies == [b"%d" % i for i in range(500)]


def test_client_streaming_sends_every_message(proxied):
    _, channel = proxied
    messages = [bytes([i % 256]) * (i * 97) for i in range(200)]
    reply = stub(channel, "ClientStream", "stream_unary")(iter(messages), timeout=20)
    assert reply == b"%d %d" % (len(messages), sum(map(len, messages)))


def test_bidirectional_streaming_in_lockstep(proxied):
    """Each message is sent only after the echo of the previous one arrived: this completes
    only if rws forwards every message in both directions as it comes, buffering nothing."""
    _, channel = proxied
    outgoing = queue.Queue()
    call = stub(channel, "Bidi", "stream_stream")(iter(outgoing.get, None), timeout=30)
    for i in range(30):
        outgoing.put(b"m%d" % i)
        assert next(call) == b"echo:m%d" % i
    outgoing.put(None)
    assert list(call) == []
    assert call.code() == grpc.StatusCode.OK


def test_large_messages_both_ways(proxied):
    _, channel = proxied
    payload = bytes(range(256)) * 12000  # ~3 MB, far beyond any window
    reply = stub(channel, "Unary")(payload, timeout=30)
    assert reply == payload[::-1]


def test_backend_status_and_message_reach_the_client(proxied):
    _, channel = proxied
    with pytest.raises(grpc.RpcError) as info:
        stub(channel, "Fail")(b"x", timeout=20)
    assert info.value.code() == grpc.StatusCode.NOT_FOUND
    assert info.value.details() == "no such thing"


def test_no_live_backend_is_unavailable(gateway):
    closed = socket_port_that_refuses()
    server = gateway(grpc_config([f"grpc://127.0.0.1:{closed}"]))
    with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        with pytest.raises(grpc.RpcError) as info:
            stub(channel, "Unary")(b"x", timeout=20)
    assert info.value.code() == grpc.StatusCode.UNAVAILABLE
    assert f"127.0.0.1:{closed}" in info.value.details()


class SilentH2Backend:
    """An h2c backend that takes calls and never answers them. Unlike a grpcio server, which
    enforces grpc-timeout itself (and then races the proxy to answer DEADLINE_EXCEEDED), it
    ignores the deadline: only the proxy can end such a call. Records the streams its peer
    resets."""

    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.received = threading.Event()
        self.reset = threading.Event()
        accept_in_threads(self.listener, self._serve)

    def _serve(self, sock):
        conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False))
        conn.initiate_connection()
        with sock:
            sock.sendall(conn.data_to_send())
            while data := sock.recv(65536):
                for event in conn.receive_data(data):
                    if isinstance(event, h2.events.RequestReceived):
                        self.received.set()
                    elif isinstance(event, h2.events.StreamReset):
                        self.reset.set()
                sock.sendall(conn.data_to_send())

    def close(self):
        self.listener.close()


@pytest.fixture
def silent_backend():
    backend = SilentH2Backend()
    yield backend
    backend.close()


def test_proxy_enforces_grpc_timeout(gateway, silent_backend):
    """A client that does not enforce its own deadline still gets DEADLINE_EXCEEDED from rws
    once grpc-timeout has passed, and the backend's call is cancelled."""
    server = gateway(grpc_config([f"grpc://127.0.0.1:{silent_backend.port}"]))
    client = H2Client(server.port)
    started = time.monotonic()
    sid = client.request(f"/{SERVICE}/Hold", method="POST",
                         headers=[("content-type", "application/grpc"), ("te", "trailers"),
                                  ("grpc-timeout", "300m")],
                         body=b"\x00\x00\x00\x00\x01x")
    client.wait(lambda: sid in client.ended or sid in client.reset)
    elapsed = time.monotonic() - started
    client.close()
    fields = {**client.responses.get(sid, {}), **client.trailers.get(sid, {})}
    assert fields.get("grpc-status") == "4", (client.responses, client.trailers, client.reset)
    assert "deadline exceeded at the proxy" in fields.get("grpc-message", "")
    assert elapsed < 10
    assert silent_backend.received.is_set(), "the call never reached the backend"
    assert silent_backend.reset.wait(10), "the backend's call was not cancelled"


def test_concurrent_calls_share_one_backend_connection(gateway, backend):
    server = gateway(grpc_config([f"grpc://127.0.0.1:{backend.port}"]))
    calls = 40
    with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        hold = stub(channel, "Hold")
        with concurrent.futures.ThreadPoolExecutor(max_workers=calls) as pool:
            futures = [pool.submit(hold, b"%d" % i, timeout=30) for i in range(calls)]
            # All of them are at the backend at once: rws multiplexes, it does not queue.
            wait_until(lambda: backend.holding == calls, what=f"{calls} calls at the backend")
            backend.release.set()
            assert sorted(f.result() for f in futures) == sorted(b"%d" % i for i in range(calls))
    assert len(backend.peers) == 1, backend.peers


def test_grpcs_backend_and_tls_client(gateway, pki):
    cert, key = pki.server
    ca = pki.path("ca.pem")
    with open(cert, "rb") as c, open(key, "rb") as k:
        credentials = grpc.ssl_server_credentials(((k.read(), c.read()),))
    service = EchoService()
    server_b, port = start_backend(service, credentials)
    try:
        server = gateway(grpc_config([f"grpcs://localhost:{port}"],
                                     f'[upstream.tls]\nca_file = "{ca}"\n'),
                         "--tls-cert-file", cert, "--tls-key-file", key)
        with open(ca, "rb") as f:
            client_credentials = grpc.ssl_channel_credentials(root_certificates=f.read())
        with grpc.secure_channel(f"localhost:{server.port}", client_credentials) as channel:
            assert stub(channel, "Unary")(b"abc", timeout=20) == b"cba"
            replies = list(stub(channel, "ServerStream", "unary_stream")(b"20", timeout=20))
            assert len(replies) == 20
    finally:
        server_b.stop(None)


def test_grpc_route_refuses_http1_backends_at_load(tmp_path):
    path = tmp_path / "rws.config.toml"
    path.write_text(grpc_config(["http://127.0.0.1:1"]))
    out = subprocess.run([RWS_BIN, "--check-config", "--config", str(path)],
                         capture_output=True, timeout=30)
    assert out.returncode == 1
    assert "needs backends that speak HTTP/2" in out.stderr.decode() + out.stdout.decode()


def socket_port_that_refuses():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_sigterm_lets_an_open_call_finish_then_exits(servers, backend, tmp_path):
    """Drain: the call in flight completes through the backend session; afterwards nothing
    (no idle backend session) keeps rws from exiting long before shutdown_timeout_ms."""
    path = tmp_path / "rws.config.toml"
    path.write_text(grpc_config([f"grpc://127.0.0.1:{backend.port}"]))
    server = servers([RWS_BIN, "--ip", "127.0.0.1", "--port", "0", "--thread-count", "1",
                      "--config", str(path)])
    with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        future = stub(channel, "Hold").future(b"in flight", timeout=30)
        wait_until(lambda: backend.holding == 1, what="the call at the backend")
        server.signal(signal.SIGTERM)
        wait_until(lambda: "SIGTERM" in server.stderr, what="rws to start draining")
        backend.release.set()
        assert future.result() == b"in flight"
    started = time.monotonic()
    server.wait_exit(timeout=20)
    assert time.monotonic() - started < 10, "rws waited for an idle backend session"
    assert server.proc.returncode == 0, server.stderr
    assert "Sanitizer" not in server.stderr, server.stderr
