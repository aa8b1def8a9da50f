"""HTTP/3 backends: `h3://host:port` sends proxied requests over QUIC. Backends: rws itself
serving HTTP/3 on its TLS port (in front of the python test backend, so uploads, downloads and
echoes can be checked) and Debian's caddy; clients are curl (HTTP/1.1 and HTTP/2) and h2load.
Many client requests share one QUIC connection per backend."""

import hashlib
import json
import os
import subprocess

import pytest

from conftest import RWS_BIN, require_tool, wait_until
from test_gateway import backend_support, backends, gateway  # noqa: F401  (fixtures)
from test_http2 import proxy_config
from test_rws_client import start_caddy, udp_port_free, wait_h3
from test_tls import curl, pki, tls_flags  # noqa: F401  (pki is a fixture)


def front_config(backend, extra=""):
    """rws in front: every path proxied to `backend` (an h3:// URL)."""
    return f"""
[[upstream]]
name = "h3"
backends = ["{backend}"]
{extra}

[[route]]
name = "all"
[route.action]
type = "proxy"
upstream = "h3"
"""


def sha256(data):
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def h3_backend(servers, backends, pki, tmp_path):
    """Factory: h3_backend(port=0, *flags) → an rws serving HTTP/3 (TLS on its port, UDP too)
    that proxies to a python backend (`.origin`). Started without the gateway fixture, so that a
    test may stop one; none may report a sanitizer error."""
    started = []

    def start(port=0, *flags):
        origin = backends("origin")
        path = tmp_path / f"backend{len(started)}.toml"
        path.write_text(proxy_config(origin))
        server = servers([RWS_BIN, "--ip", "127.0.0.1", "--port", str(port), "--thread-count",
                          "1", "--config", str(path), *tls_flags(pki), *flags])
        wait_h3(server.port, pki.path("ca.pem"))
        server.origin = origin
        started.append(server)
        return server
    yield start
    for server in started:
        assert "Sanitizer" not in server.stderr, server.stderr


def trusted(pki):
    return f'[upstream.tls]\nca_file = "{pki.path("ca.pem")}"'


def udp_sockets_to(port):
    """The connected UDP sockets towards `port` on this machine."""
    out = subprocess.run(["ss", "-Hun", "state", "established", f"( dport = :{port} )"],
                         capture_output=True, timeout=30).stdout.decode()
    return out.strip().splitlines()


def test_h3_backend_serves_http1_and_http2_clients(gateway, h3_backend, pki, tmp_path):
    backend = h3_backend()
    server = gateway(front_config(f"h3://localhost:{backend.port}", trusted(pki)))
    base = f"http://127.0.0.1:{server.port}"
    code, out, err = curl("-sD", "-", f"{base}/echo?x=1")
    assert code == 0, err
    assert out.startswith("HTTP/1.1 200"), out
    echo = json.loads(out.split("\r\n\r\n", 1)[1])
    assert echo["method"] == "GET" and echo["target"] == "/echo?x=1", echo
    fields = {name.lower(): value for name, value in echo["headers"]}
    # The backend rws received the request over HTTP/3 (its Via names the version it got),
    # carrying the front's forwarding fields.
    assert fields["via"] == "1.1 rws, 3 rws", fields
    assert fields["x-forwarded-for"] == "127.0.0.1, 127.0.0.1", fields
    wait_until(lambda: 'HTTP/3.0" 200' in backend.stdout, what="the backend's access log line")
    size = 5 << 20
    for flags in ([], ["--http2-prior-knowledge"]):
        target = tmp_path / "copy.bin"
        code, _, err = curl(*flags, "-s", "-o", str(target), f"{base}/download?size={size}")
        assert code == 0, err
        assert sha256(target.read_bytes()) == backend_support.pattern_sha256(size)
        body = os.urandom(3 << 20)
        upload = tmp_path / "up.bin"
        upload.write_bytes(body)
        code, out, err = curl(*flags, "-s", "--data-binary", f"@{upload}", f"{base}/upload")
        assert code == 0, err
        seen = json.loads(out)
        assert seen["received"] == len(body) and seen["sha256"] == sha256(body), seen
    code, out, _ = curl("-s", "-o", "/dev/null", "-w", "%{http_code}", f"{base}/status?code=418")
    assert out == "418"


def test_trailers_come_back_through_an_h3_backend(gateway, h3_backend, pki):
    backend = h3_backend()
    server = gateway(front_config(f"h3://localhost:{backend.port}", trusted(pki)))
    size = 300000
    code, out, err = curl("-s", "--http2-prior-knowledge", "-D", "-", "-o", "/dev/null",
                          f"http://127.0.0.1:{server.port}/download?size={size}&trailers=1"
                          "&chunked=1")
    assert code == 0, err
    assert f"x-pattern-sha256: {backend_support.pattern_sha256(size)}" in out.lower(), out


def test_many_client_connections_share_one_quic_connection(gateway, h3_backend, pki):
    backend = h3_backend()
    server = gateway(front_config(f"h3://localhost:{backend.port}", trusted(pki)))
    out = subprocess.run([require_tool("h2load"), "-n", "2000", "-c", "8", "-m", "10",
                          f"http://127.0.0.1:{server.port}/status?code=204"],
                         capture_output=True, timeout=120).stdout.decode()
    assert "2000 succeeded" in out, out
    assert "2000 2xx" in out, out
    sockets = udp_sockets_to(backend.port)
    assert len(sockets) == 1, sockets


def test_h3_backend_caddy(gateway, pki, tmp_path):
    """Debian's caddy as the HTTP/3 backend; its access log says which protocol it served."""
    root = tmp_path / "www"
    root.mkdir()
    (root / "hello.txt").write_text("hello from caddy\n")
    (root / "big.bin").write_bytes(os.urandom(4 << 20))
    log = tmp_path / "caddy-access.log"
    caddy = start_caddy(pki, root, tmp_path, log=log)
    port = caddy.port
    try:
        server = gateway(front_config(f"h3://localhost:{port}", trusted(pki)))
        base = f"http://127.0.0.1:{server.port}"
        code, out, err = curl("-s", f"{base}/hello.txt")
        assert code == 0, err
        assert out == "hello from caddy\n"
        target = tmp_path / "copy.bin"
        code, _, err = curl("-s", "--http2-prior-knowledge", "-o", str(target), f"{base}/big.bin")
        assert code == 0, err
        assert target.read_bytes() == (root / "big.bin").read_bytes()
        served = [json.loads(line) for line in log.read_text().splitlines()]
        protocols = {entry["request"]["proto"] for entry in served
                     if entry["request"]["uri"] in ("/hello.txt", "/big.bin")}
        assert protocols == {"HTTP/3.0"}, served
    finally:
        caddy.stop()


def test_a_backend_that_validates_addresses_with_retry(gateway, h3_backend, pki):
    """The backend answers the first Initial with a Retry (http3_retry): the client session
    starts over with the token, and the requests go through."""
    backend = h3_backend(0, "--http3-retry", "true")
    server = gateway(front_config(f"h3://localhost:{backend.port}", trusted(pki)))
    code, out, err = curl("-s", "-w", "\n%{http_code}",
                          f"http://127.0.0.1:{server.port}/status?code=200")
    assert code == 0 and out.endswith("200"), (out, err, server.stderr)


def test_an_untrusted_certificate_is_a_502(gateway, h3_backend):
    backend = h3_backend()
    server = gateway(front_config(f"h3://localhost:{backend.port}", "retries = 0"))
    code, out, err = curl("-s", "-w", "\n%{http_code}", f"http://127.0.0.1:{server.port}/echo")
    assert out.endswith("502"), out
    assert "certificate verification failed" in server.stderr, server.stderr


def test_nothing_listening_on_udp_is_a_prompt_502(gateway):
    port = udp_port_free()
    server = gateway(front_config(f"h3://127.0.0.1:{port}", "retries = 0\nconnect_timeout_ms = "
                                                            "20000"))
    code, out, err = curl("-s", "-w", "\n%{http_code}", f"http://127.0.0.1:{server.port}/")
    # The ICMP port-unreachable ends the attempt long before the 20 s connect timeout (curl
    # gives up after 20 s itself).
    assert code == 0, err
    assert out.endswith("502"), out


def test_restarted_backend_gets_a_new_quic_connection(gateway, h3_backend, pki):
    backend = h3_backend()
    port = backend.port
    server = gateway(front_config(f"h3://localhost:{port}", trusted(pki)))
    url = f"http://127.0.0.1:{server.port}/status?code=200"
    assert curl("-s", "-o", "/dev/null", "-w", "%{http_code}", url)[1] == "200"
    backend.stop()
    h3_backend(port)
    # The pooled session belonged to the old process: the new one answers its packets with a
    # stateless reset; the idempotent request is retried on a new connection.
    for _ in range(5):
        code, out, err = curl("-s", "-o", "/dev/null", "-w", "%{http_code}", url)
        assert out == "200", server.stderr


def test_health_checks_of_h3_backends_speak_h3(gateway, h3_backend, pki):
    backend = h3_backend()
    server = gateway(front_config(f"h3://localhost:{backend.port}", trusted(pki) + """
[upstream.health_check]
path = "/health"
interval_secs = 1
timeout_ms = 2000
healthy_threshold = 1
unhealthy_threshold = 1
"""))
    wait_until(lambda: '"GET /health HTTP/3.0" 200' in backend.stdout, timeout=20,
               what="a health probe over HTTP/3")
    backend.origin.ctl("health", status=503)
    wait_until(lambda: "failed 1 health checks" in server.stderr, timeout=20,
               what="the h3 backend to be taken out")
    backend.origin.ctl("health", status=200)
    wait_until(lambda: "healthy again" in server.stderr, timeout=20,
               what="the h3 backend to come back")
