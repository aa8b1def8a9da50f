"""forward_auth through the real binary: rws asks a small auth service (stdlib http.server on
127.0.0.1, port 0, started by the test) before proxying to a test/support/backend.py backend.
The service decides by the X-Token field: "good" → 200 with X-User, "later" → 302, "close" → 200
with Connection: close, else 401. It keeps connections alive and counts them. The https tests
wrap it in TLS with a certificate from test_tls.Pki's test CA, trusted by rws through
SSL_CERT_FILE."""

import http.server
import socket
import ssl
import threading

import pytest

from test_gateway import (  # noqa: F401 (fixtures)
    backends, call, dead_port, echo_of, fields, gateway, proxy_route, q, upstream)
from test_tls import Pki


class AuthService:
    """Answers auth requests and records the fields of each one it received. With `tls` =
    (cert, key) it speaks https, and `sni` records the server names clients sent."""

    def __init__(self, tls=None):
        self.lock = threading.Lock()
        self.seen = []  # [(path, [(name, value)])]
        self.sockets = []  # every accepted connection
        service = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self):
                super().setup()
                with service.lock:
                    service.sockets.append(self.connection)

            def do_GET(self):
                with service.lock:
                    service.seen.append((self.path, list(self.headers.items())))
                token = self.headers.get("X-Token")
                if token == "good":
                    self._answer(200, b"", [("X-User", "alice"), ("X-Extra", "not copied")])
                elif token == "close":
                    self._answer(200, b"", [("X-User", "bob"), ("Connection", "close")])
                elif token == "later":
                    self._answer(302, b"", [("Location", "http://login.test/?next=1")])
                else:
                    self._answer(401, b"token required\n",
                                 [("WWW-Authenticate", "Bearer"), ("Content-Type", "text/plain")])

            def _answer(self, status, body, headers):
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.sni = []
        if tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            context.sni_callback = lambda _sock, name, _ctx: self.sni.append(name)
            # The handshake happens in accept(); a failed one is dropped by socketserver.
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def connections(self):
        with self.lock:
            return len(self.sockets)

    def drop_connections(self):
        """Closes every connection from the service's side (as an idle timeout would)."""
        with self.lock:
            for s in self.sockets:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def auth_service():
    s = AuthService()
    yield s
    s.close()


def config(backend, auth_port, timeout_ms=5000, base=None):
    route = proxy_route("app", "/*", "app")
    return (upstream("app", [backend.addr]) + route
            + "[route.middleware]\nforward_auth = { address = "
            + q(f"{base or f'http://127.0.0.1:{auth_port}'}/verify?realm=x")
            + f', copy_headers = ["X-User"], timeout_ms = {timeout_ms} }}\n')


def test_allowed_requests_reach_the_backend_with_copied_fields(gateway, backends, auth_service):
    b = backends("A")
    server = gateway(config(b, auth_service.port))
    r = call(server, "GET", "/echo/x?y=1", host="front.test",
             headers=[("X-Token", "good"), ("X-User", "mallory")])
    echo = echo_of(r)
    assert fields(echo, "x-user") == ["alice"], "the service's value, not the client's"
    assert fields(echo, "x-extra") == []
    assert fields(echo, "x-token") == ["good"]

    [(path, seen)] = auth_service.seen
    assert path == "/verify?realm=x"
    got = {k.lower(): v for k, v in seen}
    assert got["x-forwarded-method"] == "GET"
    assert got["x-forwarded-proto"] == "http"
    assert got["x-forwarded-host"] == "front.test"
    assert got["x-forwarded-uri"] == "/echo/x?y=1"
    assert got["x-forwarded-for"] == "127.0.0.1"
    assert got["host"] == f"127.0.0.1:{auth_service.port}"


def test_refused_requests_never_reach_the_backend(gateway, backends, auth_service):
    b = backends("A")
    server = gateway(config(b, auth_service.port))
    before = b.state()["requests"]

    r = call(server, "POST", "/echo/x", headers=[("X-Token", "bad")], body=b"payload")
    assert r.status == 401
    assert r.body == b"token required\n"
    assert r.header("www-authenticate") == "Bearer"

    r = call(server, "GET", "/echo/x", headers=[("X-Token", "later")])
    assert r.status == 302
    assert r.header("location") == "http://login.test/?next=1"

    r = call(server, "GET", "/echo/x")
    assert r.status == 401

    assert len(auth_service.seen) == 3
    assert b.state()["requests"] == before, "a refused request was forwarded"
    # The request's body is not sent to the auth service (it gets a bodiless GET).
    post_fields = {k.lower() for k, _ in auth_service.seen[0][1]}
    assert "content-length" not in post_fields
    assert dict((k.lower(), v) for k, v in auth_service.seen[0][1])["x-forwarded-method"] == "POST"

    # An allowed request after the refusals still goes through.
    assert fields(echo_of(call(server, "GET", "/echo/y", headers=[("X-Token", "good")])),
                  "x-user") == ["alice"]


def test_unreachable_auth_service_is_502(gateway, backends, dead_port):
    b = backends("A")
    server = gateway(config(b, dead_port))
    before = b.state()["requests"]
    r = call(server, "GET", "/echo/x", headers=[("X-Token", "good")])
    assert r.status == 502
    assert b.state()["requests"] == before


def test_sequential_checks_share_one_connection(gateway, backends, auth_service):
    b = backends("A")
    server = gateway(config(b, auth_service.port))  # one worker thread
    for i in range(10):
        assert fields(echo_of(call(server, "GET", f"/echo/{i}", headers=[("X-Token", "good")])),
                      "x-user") == ["alice"]
    assert len(auth_service.seen) == 10
    assert auth_service.connections() == 1, "a connection per check instead of keep-alive"
    # A refusal keeps the connection too.
    assert call(server, "GET", "/echo/x", headers=[("X-Token", "bad")]).status == 401
    assert auth_service.connections() == 1


def test_connection_closed_by_the_service_is_retried_on_a_new_one(gateway, backends,
                                                                  auth_service):
    b = backends("A")
    server = gateway(config(b, auth_service.port))
    for round_ in range(1, 4):
        assert call(server, "GET", "/echo/x", headers=[("X-Token", "good")]).status == 200
        assert auth_service.connections() == round_
        auth_service.drop_connections()  # the pooled connection is now closed
    assert call(server, "GET", "/echo/x", headers=[("X-Token", "good")]).status == 200
    assert auth_service.connections() == 4
    assert len(auth_service.seen) == 4


def test_connection_close_from_the_service_means_a_new_connection(gateway, backends,
                                                                  auth_service):
    b = backends("A")
    server = gateway(config(b, auth_service.port))
    for i in range(3):
        assert fields(echo_of(call(server, "GET", "/echo/x", headers=[("X-Token", "close")])),
                      "x-user") == ["bob"]
        assert auth_service.connections() == i + 1
    assert len(auth_service.seen) == 3


def test_auth_service_by_name(gateway, backends, auth_service):
    b = backends("A")
    route = proxy_route("app", "/*", "app")
    server = gateway(upstream("app", [b.addr]) + route
                     + "[route.middleware]\nforward_auth = { address = "
                     + q(f"http://localhost:{auth_service.port}/verify") + " }\n")
    for _ in range(3):
        assert call(server, "GET", "/echo/x", headers=[("X-Token", "good")]).status == 200
    assert call(server, "GET", "/echo/x", headers=[("X-Token", "bad")]).status == 401
    assert auth_service.connections() == 1


# --- https ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """The test CA, the auth service's certificate for localhost and 127.0.0.1, and one for
    another name."""
    p = Pki(tmp_path_factory.mktemp("pki"))
    p.server = p.issue("auth", "localhost", ["DNS:localhost", "IP:127.0.0.1"])
    p.elsewhere = p.issue("elsewhere", "elsewhere.test", ["DNS:elsewhere.test"])
    return p


@pytest.fixture
def tls_auth_service(pki):
    s = AuthService(tls=pki.server)
    yield s
    s.close()


def trusting(ca_pem):
    return {"SSL_CERT_FILE": ca_pem, "SSL_CERT_DIR": "/nonexistent"}


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1"])
def test_https_auth_service(gateway, backends, pki, tls_auth_service, host):
    b = backends("A")
    server = gateway(config(b, None, base=f"https://{host}:{tls_auth_service.port}"),
                     env=trusting(pki.path("ca.pem")))
    for i in range(3):
        r = call(server, "GET", f"/echo/{i}", headers=[("X-Token", "good"), ("X-User", "eve")])
        assert fields(echo_of(r), "x-user") == ["alice"]
    r = call(server, "GET", "/echo/x", headers=[("X-Token", "bad")])
    assert r.status == 401 and r.body == b"token required\n"
    assert len(tls_auth_service.seen) == 4
    assert tls_auth_service.seen[0][0] == "/verify?realm=x"
    got = {k.lower(): v for k, v in tls_auth_service.seen[0][1]}
    assert got["host"] == f"{host}:{tls_auth_service.port}"
    assert tls_auth_service.connections() == 1, "TLS connections are kept alive and reused"
    assert tls_auth_service.sni == (["localhost"] if host == "localhost" else [None]), \
        "SNI for a name, none for an IP literal"


def test_https_auth_service_with_an_untrusted_certificate_is_502(gateway, backends, pki,
                                                                 tls_auth_service):
    b = backends("A")
    # Only the rogue CA is trusted: the auth service's certificate is not.
    server = gateway(config(b, None, base=f"https://localhost:{tls_auth_service.port}"),
                     env=trusting(pki.path("rogue-ca.pem")))
    before = b.state()["requests"]
    for _ in range(2):
        r = call(server, "GET", "/echo/x", headers=[("X-Token", "good")])
        assert r.status == 502
        assert b"TLS handshake failed" in r.body
    assert tls_auth_service.seen == [], "a request went out over an unverified connection"
    assert b.state()["requests"] == before


def test_https_auth_service_with_a_certificate_for_another_name_is_502(gateway, backends, pki):
    b = backends("A")
    service = AuthService(tls=pki.elsewhere)  # trusted CA, but not valid for 127.0.0.1
    try:
        server = gateway(config(b, None, base=f"https://127.0.0.1:{service.port}"),
                         env=trusting(pki.path("ca.pem")))
        r = call(server, "GET", "/echo/x", headers=[("X-Token", "good")])
        assert r.status == 502
        assert service.seen == []
    finally:
        service.close()
