"""HTTP/2 backends: `h2://` (cleartext, prior knowledge) and `h2s://` (TLS, ALPN h2), with
Debian's nghttpd (package nghttp2-server) as the backend and curl / h2load as clients. Requests
from HTTP/1.1 and HTTP/2 clients are multiplexed onto few backend connections."""

import hashlib
import os
import socket
import subprocess

import pytest

from conftest import Process, require_tool, wait_until
from test_gateway import gateway  # noqa: F401  (fixture)
from test_tls import curl, pki  # noqa: F401  (pki is a fixture)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Nghttpd:
    """nghttpd serving `docs` (and echoing uploads) on 127.0.0.1, cleartext or TLS."""

    def __init__(self, docs, port=None, tls=None):
        self.docs = docs
        self.port = port or free_port()
        argv = [require_tool("nghttpd"), "-a", "127.0.0.1", "-d", str(docs), "--echo-upload"]
        if tls:
            argv += [str(self.port), tls[1], tls[0]]
        else:
            argv += ["--no-tls", str(self.port)]
        self.proc = Process(argv)

        def listening():
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return True
            except OSError:
                return False
        wait_until(listening, what=f"nghttpd on port {self.port}")

    def stop(self):
        self.proc.stop()


@pytest.fixture
def docs(tmp_path):
    root = tmp_path / "docs"
    root.mkdir()
    (root / "index.html").write_text("hello over h2\n")
    (root / "health").write_text("ok\n")
    (root / "big.bin").write_bytes(os.urandom(4 << 20))
    return root


@pytest.fixture
def nghttpd(docs):
    started = []

    def start(**kwargs):
        n = Nghttpd(docs, **kwargs)
        started.append(n)
        return n
    yield start
    for n in started:
        n.stop()


def config(backend, extra=""):
    return f"""
[[upstream]]
name = "h2"
backends = ["{backend}"]
{extra}

[[route]]
name = "all"
[route.action]
type = "proxy"
upstream = "h2"
"""


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def test_h2c_backend_serves_http1_and_http2_clients(gateway, nghttpd, docs, tmp_path):
    backend = nghttpd()
    server = gateway(config(f"h2://127.0.0.1:{backend.port}"))
    base = f"http://127.0.0.1:{server.port}"
    code, out, err = curl("-sD", "-", f"{base}/index.html")
    assert code == 0, err
    assert out.startswith("HTTP/1.1 200")
    assert out.endswith("hello over h2\n")
    assert "via: 2 rws" in out.lower()
    want = sha256((docs / "big.bin").read_bytes())
    for flags in ([], ["--http2-prior-knowledge"]):
        target = tmp_path / "copy.bin"
        code, _, err = curl(*flags, "-s", "-o", str(target), f"{base}/big.bin")
        assert code == 0, err
        assert sha256(target.read_bytes()) == want
        upload = tmp_path / "up.bin"
        upload.write_bytes(os.urandom(3 << 20))
        code, _, err = curl(*flags, "-s", "-o", str(target), "--data-binary", f"@{upload}",
                            f"{base}/echo")
        assert code == 0, err
        assert sha256(target.read_bytes()) == sha256(upload.read_bytes())
    code, out, _ = curl("-s", "-o", "/dev/null", "-w", "%{http_code}", f"{base}/missing")
    assert out == "404"


def test_many_client_connections_share_one_backend_connection(gateway, nghttpd):
    backend = nghttpd()
    server = gateway(config(f"h2://127.0.0.1:{backend.port}"))
    out = subprocess.run([require_tool("h2load"), "-n", "2000", "-c", "8", "-m", "10",
                          f"http://127.0.0.1:{server.port}/index.html"],
                         capture_output=True, timeout=120).stdout.decode()
    assert "2000 succeeded" in out, out
    assert "2000 2xx" in out, out
    established = subprocess.run(
        ["ss", "-Htn", "state", "established", f"( dport = :{backend.port} )"],
        capture_output=True, timeout=30).stdout.decode().strip().splitlines()
    assert len(established) == 1, established


def test_h2s_backend_over_tls(gateway, nghttpd, pki):
    backend = nghttpd(tls=pki.server)
    ca = pki.path("ca.pem")
    server = gateway(config(f"h2s://localhost:{backend.port}", f'[upstream.tls]\nca_file = "{ca}"'))
    code, out, err = curl("-s", f"http://127.0.0.1:{server.port}/index.html")
    assert code == 0, err
    assert out == "hello over h2\n"


def test_h2s_backend_with_an_untrusted_certificate_is_a_502(gateway, nghttpd, pki):
    backend = nghttpd(tls=pki.server)
    server = gateway(config(f"h2s://localhost:{backend.port}", "retries = 0"))
    code, out, err = curl("-s", "-w", "\n%{http_code}", f"http://127.0.0.1:{server.port}/")
    assert out.endswith("502"), out
    assert "TLS handshake" in server.stderr


def test_restarted_backend_gets_a_new_connection(gateway, nghttpd):
    backend = nghttpd()
    server = gateway(config(f"h2://127.0.0.1:{backend.port}"))
    url = f"http://127.0.0.1:{server.port}/index.html"
    assert curl("-s", url)[1] == "hello over h2\n"
    backend.stop()
    nghttpd(port=backend.port)
    # The pooled session died with the old process: the next request must not fail with it.
    for _ in range(5):
        code, out, err = curl("-s", "-w", "%{http_code}", "-o", "/dev/null", url)
        assert out == "200", server.stderr


def test_health_checks_of_h2_backends_speak_h2(gateway, nghttpd, docs):
    backend = nghttpd()
    server = gateway(config(f"h2://127.0.0.1:{backend.port}", """
[upstream.health_check]
path = "/health"
interval_secs = 1
timeout_ms = 2000
healthy_threshold = 1
unhealthy_threshold = 1
"""))
    (docs / "health").unlink()  # nghttpd answers 404 from now on
    wait_until(lambda: "failed 1 health checks" in server.stderr, timeout=20,
               what="the h2 backend to be taken out")
    (docs / "health").write_text("ok\n")
    wait_until(lambda: "healthy again" in server.stderr, timeout=20,
               what="the h2 backend to come back")
