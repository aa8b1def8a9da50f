"""TLS on the main listener: certificates and keys (flags, environment, file), SNI virtual hosts,
mutual TLS (and the client certificate passed upstream), ALPN, session resumption, HSTS, the
http_redirect_port listener, handshake deadlines and certificate reload on SIGHUP. The peers are
curl, openssl s_client and Python's ssl module; the certificates are made by the openssl CLI."""

import json
import os
import signal
import socket
import ssl
import subprocess

import pytest

from conftest import RWS_BIN, require_tool, wait_until
from test_gateway import backends, gateway  # noqa: F401  (fixtures)


# --- certificates --------------------------------------------------------------------------------

def openssl(*args, cwd):
    out = subprocess.run([require_tool("openssl"), *args], cwd=cwd, capture_output=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr.decode()


class Pki:
    """A CA, server certificates signed by it and client certificates, made with openssl."""

    def __init__(self, root):
        self.root = root
        self.ca = self._ca("ca", "rws test CA")
        self.client_ca = self._ca("client-ca", "rws client CA")
        self.rogue_ca = self._ca("rogue-ca", "rogue CA")

    def path(self, name):
        return str(self.root / name)

    def _ca(self, name, cn):
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                "-nodes", "-days", "30", "-subj", f"/CN={cn}", "-keyout", f"{name}.key",
                "-out", f"{name}.pem", cwd=self.root)
        return name

    def issue(self, name, cn, sans=(), ca=None, client=False):
        """Writes name.pem (leaf + nothing else) and name.key, signed by `ca`."""
        ca = ca or self.ca
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-subj", f"/CN={cn}/O=rws tests", "-keyout", f"{name}.key", "-out",
                f"{name}.csr", cwd=self.root)
        ext = self.root / f"{name}.ext"
        lines = ["basicConstraints=CA:FALSE"]
        if sans:
            lines.append("subjectAltName=" + ",".join(sans))
        lines.append("extendedKeyUsage=" + ("clientAuth" if client else "serverAuth"))
        ext.write_text("\n".join(lines) + "\n")
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key",
                "-CAcreateserial", "-days", "30", "-extfile", ext.name, "-out", f"{name}.pem",
                cwd=self.root)
        return self.path(f"{name}.pem"), self.path(f"{name}.key")


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    p = Pki(tmp_path_factory.mktemp("pki"))
    p.server = p.issue("server", "localhost", ["DNS:localhost", "IP:127.0.0.1", "IP:::1"])
    p.other = p.issue("other", "localhost", ["DNS:localhost", "IP:127.0.0.1"])
    p.wild = p.issue("wild", "*.example.test", ["DNS:*.example.test"])
    p.api = p.issue("api", "api.other.test", ["DNS:api.other.test"])
    p.alice = p.issue("alice", "alice", ca=p.client_ca, client=True)
    p.mallory = p.issue("mallory", "mallory", ca=p.rogue_ca, client=True)
    return p


def subject_cn(pem_text):
    out = subprocess.run([require_tool("openssl"), "x509", "-noout", "-subject", "-nameopt",
                          "RFC2253"], input=pem_text.encode(), capture_output=True, timeout=30)
    assert out.returncode == 0, out.stderr.decode()
    return out.stdout.decode().strip().split("CN=")[1].split(",")[0]


def s_client(server, *args, stdin=b""):
    """Runs openssl s_client against the server; returns (exit code, stdout + stderr)."""
    out = subprocess.run([require_tool("openssl"), "s_client", "-connect",
                          f"127.0.0.1:{server.port}", "-showcerts", *args], input=stdin,
                         capture_output=True, timeout=30)
    return out.returncode, out.stdout.decode("latin-1") + out.stderr.decode("latin-1")


def served_cn(server, *args):
    code, text = s_client(server, *args)
    assert "-----BEGIN CERTIFICATE-----" in text, text
    start = text.index("-----BEGIN CERTIFICATE-----")
    end = text.index("-----END CERTIFICATE-----") + len("-----END CERTIFICATE-----")
    return subject_cn(text[start:end])


def curl(*args):
    out = subprocess.run([require_tool("curl"), "-sS", "--max-time", "20", *args],
                         capture_output=True, timeout=30)
    return out.returncode, out.stdout.decode("latin-1"), out.stderr.decode("latin-1")


def tls_flags(pki):
    cert, key = pki.server
    return ["--tls-cert-file", cert, "--tls-key-file", key]


@pytest.fixture
def site(tmp_path):
    root = tmp_path / "site"
    root.mkdir()
    (root / "index.html").write_text("<h1>over tls</h1>\n")
    (root / "big.bin").write_bytes(os.urandom(3 << 20))
    return root


# --- serving ---------------------------------------------------------------------------------

def test_static_files_over_https_with_hsts(rws, pki, site):
    server = rws(*tls_flags(pki), cwd=site)
    assert server.scheme == "https"
    code, out, err = curl("--cacert", pki.path("ca.pem"), "-D", "-",
                          f"https://127.0.0.1:{server.port}/index.html")
    assert code == 0, err
    head, _, body = out.partition("\r\n\r\n")
    assert body == "<h1>over tls</h1>\n"
    assert "strict-transport-security: max-age=31536000" in head.lower()
    # A 3 MiB file (TLS has no sendfile: read and encrypted a record at a time) arrives intact.
    big = site / "big.bin"
    code, out, err = curl("--cacert", pki.path("ca.pem"), "-o", str(site / "copy.bin"),
                          f"https://127.0.0.1:{server.port}/big.bin")
    assert code == 0, err
    assert (site / "copy.bin").read_bytes() == big.read_bytes()


def test_certificate_from_short_flags_and_environment_and_hsts_off(rws, pki, site):
    cert, key = pki.server
    server = rws("-s", cert, "-k", key, "--hsts", "", cwd=site)
    code, out, err = curl("--cacert", pki.path("ca.pem"), "-D", "-",
                          f"https://localhost:{server.port}/")
    assert code == 0, err
    assert "strict-transport-security" not in out.lower()
    env_server = rws(cwd=site, env={"RWS_CONFIG_TLS_CERT_FILE": cert,
                                    "RWS_CONFIG_TLS_KEY_FILE": key})
    code, out, err = curl("--cacert", pki.path("ca.pem"), f"https://127.0.0.1:{env_server.port}/")
    assert code == 0 and "over tls" in out, err


def test_plain_http_on_the_tls_port_gets_no_answer_and_the_server_keeps_serving(rws, pki, site):
    server = rws(*tls_flags(pki), cwd=site)
    code, out, err = curl(f"http://127.0.0.1:{server.port}/")
    assert code != 0  # the bytes are not a TLS ClientHello: the handshake fails, no HTTP
    code, out, err = curl("--cacert", pki.path("ca.pem"), f"https://127.0.0.1:{server.port}/")
    assert code == 0, err


def test_alpn_prefers_h2_and_refuses_a_client_without_a_common_protocol(rws, pki, site):
    server = rws(*tls_flags(pki), cwd=site)
    code, text = s_client(server, "-alpn", "http/1.1,h2")
    assert "ALPN protocol: h2" in text, text
    code, text = s_client(server, "-alpn", "http/1.1")
    assert "ALPN protocol: http/1.1" in text, text
    code, text = s_client(server, "-alpn", "spdy/3")
    assert code != 0
    assert "no application protocol" in text, text


def test_tls_versions_and_session_resumption(rws, pki, site):
    server = rws(*tls_flags(pki), cwd=site)
    for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
        ctx = ssl.create_default_context(cafile=pki.path("ca.pem"))
        ctx.minimum_version = ctx.maximum_version = version

        def exchange(session=None):
            with socket.create_connection(("127.0.0.1", server.port), timeout=10) as raw:
                with ctx.wrap_socket(raw, server_hostname="localhost", session=session) as s:
                    s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                    data = b""
                    while chunk := s.recv(65536):
                        data += chunk
                    assert data.startswith(b"HTTP/1.1 200"), data[:100]
                    return s.session, s.session_reused, s.version()

        session, reused, negotiated = exchange()
        assert not reused
        assert negotiated == ("TLSv1.2" if version == ssl.TLSVersion.TLSv1_2 else "TLSv1.3")
        _, reused, _ = exchange(session)
        assert reused, f"{negotiated}: the ticket was not accepted"
    code, text = s_client(server, "-tls1_1")
    assert code != 0, "TLS 1.1 must be refused"


def test_a_silent_client_is_dropped_at_the_handshake_deadline(rws, pki, site):
    server = rws(*tls_flags(pki), "--header-timeout-ms", "300", cwd=site)
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        assert s.recv(1) == b""  # closed by the server, long before the 10 s client timeout
    code, out, err = curl("--cacert", pki.path("ca.pem"), f"https://127.0.0.1:{server.port}/")
    assert code == 0, err


# --- SNI -----------------------------------------------------------------------------------------

def vhost_config(pki):
    cert, key = pki.server
    wild_cert, wild_key = pki.wild
    api_cert, api_key = pki.api
    return (f'tls_cert_file = "{cert}"\ntls_key_file = "{key}"\n'
            f'[[virtual_host]]\ndomain = "*.example.test"\n'
            f'cert_file = "{wild_cert}"\nkey_file = "{wild_key}"\n'
            f'[[virtual_host]]\ndomain = "API.other.test"\n'
            f'cert_file = "{api_cert}"\nkey_file = "{api_key}"\n')


def test_sni_picks_the_virtual_host_certificate(rws, pki, site, tmp_path):
    config = tmp_path / "rws.config.toml"
    config.write_text(vhost_config(pki))
    server = rws("--config", str(config), cwd=site)
    assert served_cn(server, "-servername", "a.example.test") == "*.example.test"
    assert served_cn(server, "-servername", "api.OTHER.test") == "api.other.test"
    # Unknown names, two-label-deep names under the wildcard and no SNI get the default.
    assert served_cn(server, "-servername", "unknown.test") == "localhost"
    assert served_cn(server, "-servername", "a.b.example.test") == "localhost"
    assert served_cn(server, "-noservername") == "localhost"
    # curl verifies the virtual host's certificate for its name.
    code, out, err = curl("--cacert", pki.path("ca.pem"), "--resolve",
                          f"www.example.test:{server.port}:127.0.0.1",
                          f"https://www.example.test:{server.port}/")
    assert code == 0 and "over tls" in out, err


# --- mutual TLS ----------------------------------------------------------------------------------

def test_mutual_tls_requires_a_certificate_from_the_client_ca(rws, pki, site):
    server = rws(*tls_flags(pki), "--tls-client-ca-file", pki.path("client-ca.pem"), cwd=site)
    url = f"https://127.0.0.1:{server.port}/"
    code, out, err = curl("--cacert", pki.path("ca.pem"), url)
    assert code != 0, "no client certificate must be refused"
    alice_cert, alice_key = pki.alice
    code, out, err = curl("--cacert", pki.path("ca.pem"), "--cert", alice_cert, "--key",
                          alice_key, url)
    assert code == 0 and "over tls" in out, err
    mallory_cert, mallory_key = pki.mallory
    code, out, err = curl("--cacert", pki.path("ca.pem"), "--cert", mallory_cert, "--key",
                          mallory_key, url)
    assert code != 0, "a certificate from another CA must be refused"


def test_the_verified_client_certificate_is_passed_upstream(gateway, backends, pki):
    backend = backends("b")
    cert, key = pki.server
    server = gateway(f'tls_cert_file = "{cert}"\ntls_key_file = "{key}"\n'
                     f'tls_client_ca_file = "{pki.path("client-ca.pem")}"\n'
                     f'[[route]]\nname = "r"\n[route.match]\npath = "/*"\n'
                     f'[route.action]\ntype = "proxy"\nupstream = "u"\n'
                     f'[[upstream]]\nname = "u"\nbackends = ["http://{backend.addr}"]\n')
    alice_cert, alice_key = pki.alice
    code, out, err = curl("--cacert", pki.path("ca.pem"), "--cert", alice_cert, "--key",
                          alice_key, "-H", "X-Forwarded-Client-Cert: Subject=\"CN=admin\"",
                          f"https://127.0.0.1:{server.port}/echo")
    assert code == 0, err
    seen = json.loads(out)
    headers = {k.lower(): v for k, v in seen["headers"]}
    fingerprint = subprocess.run(
        [require_tool("openssl"), "x509", "-in", alice_cert, "-noout", "-fingerprint",
         "-sha256"], capture_output=True, timeout=30).stdout.decode().split("=", 1)[1]
    fingerprint = fingerprint.strip().replace(":", "").lower()
    assert headers["x-forwarded-client-cert"] == (
        f'Hash={fingerprint};Subject="O=rws tests,CN=alice"'), headers
    assert headers["x-forwarded-proto"] == "https"


# --- redirect listener -----------------------------------------------------------------------

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_http_redirect_port_answers_301_to_https(rws, pki, site):
    plain = free_port()
    server = rws(*tls_flags(pki), "--http-redirect-port", str(plain), cwd=site)
    wait_until(lambda: "redirecting http://" in server.stderr, what="the redirect listener")
    code, out, err = curl("-D", "-", "-o", "/dev/null", f"http://127.0.0.1:{plain}/a/b?x=1&y=2")
    assert code == 0, err
    assert out.startswith("HTTP/1.1 301")
    assert f"location: https://127.0.0.1:{server.port}/a/b?x=1&y=2" in out.lower()
    # The Host's port is replaced; IPv6 literals keep their brackets.
    code, out, err = curl("-D", "-", "-o", "/dev/null", "-H", "Host: [::1]:8080",
                          f"http://127.0.0.1:{plain}/v6")
    assert f"location: https://[::1]:{server.port}/v6" in out.lower(), out
    # A Host that is not a host name cannot steer the redirect.
    code, out, err = curl("-D", "-", "-o", "/dev/null", "-H", "Host: evil.test/x",
                          f"http://127.0.0.1:{plain}/")
    assert out.startswith("HTTP/1.1 400"), out
    # Following the redirect reaches the file over TLS.
    code, out, err = curl("-L", "--cacert", pki.path("ca.pem"), f"http://localhost:{plain}/")
    assert code == 0 and "over tls" in out, err


# --- configuration errors --------------------------------------------------------------------

def run_rws(*args, cwd):
    out = subprocess.run([RWS_BIN, *args], cwd=cwd, capture_output=True, timeout=30,
                         stdin=subprocess.DEVNULL)
    return out.returncode, out.stderr.decode()


def test_unusable_certificates_are_refused_with_the_file_named(pki, tmp_path):
    cert, key = pki.server
    _, other_key = pki.other
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate\n")
    code, err = run_rws("--check-config", "--tls-cert-file", cert, "--tls-key-file", other_key,
                        cwd=tmp_path)
    assert code == 1 and f"key file '{other_key}' does not match certificate" in err, err
    code, err = run_rws("--check-config", "--tls-cert-file", str(garbage), "--tls-key-file", key,
                        cwd=tmp_path)
    assert code == 1 and f"certificate file '{garbage}' cannot be used" in err, err
    code, err = run_rws("--port", "0", "--tls-cert-file", cert, cwd=tmp_path)
    assert code == 2 and "tls_cert_file is set without tls_key_file" in err, err
    code, err = run_rws("--check-config", "--tls-cert-file", cert, "--tls-key-file",
                        str(tmp_path / "missing.key"), cwd=tmp_path)
    assert code == 1 and "missing.key' cannot be read" in err, err
    config = tmp_path / "rws.config.toml"
    config.write_text('[[virtual_host]]\ndomain = "*.bad*.test"\ncert_file = "x"\n')
    code, err = run_rws("--check-config", "--config", str(config), cwd=tmp_path)
    assert code == 1, err
    assert (f"{config}:2:10: [[virtual_host]]: '*.bad*.test' is not a host name or a "
            "'*.example.com' wildcard") in err, err
    assert f"{config}:1:1: [[virtual_host]]: 'key_file' is required" in err, err
    assert f"{config}:3:13: [[virtual_host]]: 'x' cannot be read" in err, err
    code, err = run_rws("--check-config", "--http-redirect-port", "8080", cwd=tmp_path)
    assert code == 1 and "http_redirect_port needs TLS" in err, err


# --- reload --------------------------------------------------------------------------------------

def test_sighup_reloads_certificates_and_keeps_the_old_ones_on_error(rws, pki, site, tmp_path):
    live_cert = tmp_path / "live.pem"
    live_key = tmp_path / "live.key"
    cert, key = pki.server
    live_cert.write_bytes(open(cert, "rb").read())
    live_key.write_bytes(open(key, "rb").read())
    config = tmp_path / "rws.config.toml"
    config.write_text(f'tls_cert_file = "{live_cert}"\ntls_key_file = "{live_key}"\n')
    server = rws("--config", str(config), cwd=site)
    first = ssl.create_default_context(cafile=pki.path("ca.pem"))
    kept = first.wrap_socket(socket.create_connection(("127.0.0.1", server.port), timeout=10),
                             server_hostname="localhost")
    try:
        old_fp = kept.getpeercert(binary_form=True)
        # New files: new connections get the new certificate, the open one keeps working.
        other_cert, other_key = pki.other
        live_cert.write_bytes(open(other_cert, "rb").read())
        live_key.write_bytes(open(other_key, "rb").read())
        server.signal(signal.SIGHUP)
        wait_until(lambda: "certificates reloaded" in server.stderr, what="the reload")

        def peer_cert():
            with socket.create_connection(("127.0.0.1", server.port), timeout=10) as raw:
                with first.wrap_socket(raw, server_hostname="localhost") as s:
                    return s.getpeercert(binary_form=True)
        assert peer_cert() != old_fp
        assert peer_cert() == ssl.PEM_cert_to_DER_cert(open(other_cert).read())
        kept.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        assert kept.recv(65536).startswith(b"HTTP/1.1 200")
        # A broken certificate: the reload fails, naming the file; the last good one stays.
        live_cert.write_text("broken\n")
        server.signal(signal.SIGHUP)
        wait_until(lambda: "reload failed" in server.stderr, what="the failed reload")
        assert f"certificate file '{live_cert}' cannot be used" in server.stderr
        assert peer_cert() == ssl.PEM_cert_to_DER_cert(open(other_cert).read())
    finally:
        kept.close()


# --- https:// upstreams ------------------------------------------------------------------------

class TlsBackend:
    """An HTTPS backend (Python's http.server behind ssl): answers every GET with JSON naming
    the path, the client certificate's subject and the connection it arrived on."""

    def __init__(self, cert, key, client_ca=None):
        import http.server
        import threading
        backend = self
        self.connections = 0
        self.lock = threading.Lock()

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self):
                super().setup()
                with backend.lock:
                    backend.connections += 1
                    self.conn_no = backend.connections

            def do_GET(self):
                peer = self.connection.getpeercert() or {}
                subject = dict(x[0] for x in peer.get("subject", ()))
                body = json.dumps({"path": self.path, "client_cn": subject.get("commonName"),
                                   "conn": self.conn_no, "host": self.headers["Host"]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        if client_ca:
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(client_ca)
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def tls_backends():
    started = []

    def start(*args, **kwargs):
        b = TlsBackend(*args, **kwargs)
        started.append(b)
        return b

    yield start
    for b in started:
        b.stop()


def proxy_config(backend_url, tls_table=""):
    return (f'[[route]]\nname = "r"\n[route.match]\npath = "/*"\n'
            f'[route.action]\ntype = "proxy"\nupstream = "u"\n'
            f'[[upstream]]\nname = "u"\nbackends = ["{backend_url}"]\n{tls_table}')


def get_json(server, path="/x"):
    code, out, err = curl("-s", "-w", "\n%{http_code}", f"http://127.0.0.1:{server.port}{path}")
    body, _, status = out.rpartition("\n")
    return int(status), body


def test_https_upstream_verified_against_a_ca_file_and_kept_alive(gateway, pki, tls_backends):
    backend = tls_backends(*pki.issue("be", "backend.test", ["DNS:backend.test"]))
    server = gateway(proxy_config(f"https://127.0.0.1:{backend.port}",
                                  f'[upstream.tls]\nca_file = "{pki.path("ca.pem")}"\n'
                                  f'sni = "backend.test"\n'))
    for i in range(5):
        status, body = get_json(server, f"/item/{i}")
        assert status == 200, body
        seen = json.loads(body)
        assert seen["path"] == f"/item/{i}"
    assert backend.connections == 1, "the TLS connection to the backend was not reused"


def test_many_new_tls_upstream_connections_at_once_and_a_clean_exit(servers, pki, tls_backends,
                                                                    tmp_path):
    """16 clients at once make the pool open many TLS connections to the backend: each holds
    the upstream's TLS context. (A GCC 12 coroutine bug released that context once too often
    per connection, freeing it under load: a crash in SSL_new, or at exit.)"""
    backend = tls_backends(*pki.issue("be", "backend.test", ["DNS:backend.test"]))
    path = tmp_path / "rws.config.toml"
    path.write_text(proxy_config(f"https://127.0.0.1:{backend.port}",
                                 f'[upstream.tls]\nca_file = "{pki.path("ca.pem")}"\n'
                                 f'sni = "backend.test"\n'))
    server = servers([RWS_BIN, "--ip", "127.0.0.1", "--port", "0", "--thread-count", "1",
                      "--config", str(path)])
    out = subprocess.run([require_tool("h2load"), "--h1", "-n", "800", "-c", "16",
                          f"http://127.0.0.1:{server.port}/x"],
                         capture_output=True, timeout=120).stdout.decode()
    assert "800 succeeded" in out and "800 2xx" in out, out
    assert backend.connections >= 8, backend.connections
    server.signal(signal.SIGTERM)
    assert server.wait_exit() == 0, server.stderr
    assert "Sanitizer" not in server.stderr, server.stderr


def test_https_upstream_certificate_problems_are_502_naming_the_cause(gateway, pki, tls_backends):
    backend = tls_backends(*pki.issue("be2", "backend.test", ["DNS:backend.test"]))
    # The system's trust store does not know the test CA.
    untrusted = gateway(proxy_config(f"https://127.0.0.1:{backend.port}",
                                     '[upstream.tls]\nsni = "backend.test"\n'), name="a.toml")
    status, body = get_json(untrusted)
    assert status == 502, body
    wait_until(lambda: "certificate verification" in untrusted.stderr, what="the warning")
    # Trusted CA, but the name checked (the backend's IP) is not in the certificate.
    wrong_name = gateway(proxy_config(f"https://127.0.0.1:{backend.port}",
                                      f'[upstream.tls]\nca_file = "{pki.path("ca.pem")}"\n'),
                         name="b.toml")
    status, body = get_json(wrong_name)
    assert status == 502, body
    wait_until(lambda: "certificate verification" in wrong_name.stderr, what="the warning")
    # verify = false accepts it (only because the operator asked).
    unverified = gateway(proxy_config(f"https://127.0.0.1:{backend.port}",
                                      '[upstream.tls]\nverify = false\n'), name="c.toml")
    status, body = get_json(unverified)
    assert status == 200, body


def test_https_upstream_with_a_client_certificate(gateway, pki, tls_backends):
    backend = tls_backends(*pki.issue("be3", "backend.test", ["DNS:backend.test"]),
                           client_ca=pki.path("client-ca.pem"))
    base = f'[upstream.tls]\nca_file = "{pki.path("ca.pem")}"\nsni = "backend.test"\n'
    without = gateway(proxy_config(f"https://127.0.0.1:{backend.port}", base), name="a.toml")
    status, body = get_json(without)
    assert status == 502, body
    alice_cert, alice_key = pki.alice
    with_cert = gateway(proxy_config(f"https://127.0.0.1:{backend.port}",
                                     base + f'client_cert = "{alice_cert}"\n'
                                            f'client_key = "{alice_key}"\n'), name="b.toml")
    status, body = get_json(with_cert)
    assert status == 200, body
    assert json.loads(body)["client_cn"] == "alice"


def test_upstream_tls_configuration_errors(pki, tmp_path):
    alice_cert, _ = pki.alice
    config = tmp_path / "rws.config.toml"
    config.write_text(proxy_config("http://127.0.0.1:9", f'[upstream.tls]\nverify = false\n') +
                      '[[upstream]]\nname = "v"\nbackends = ["https://127.0.0.1:9"]\n'
                      f'[upstream.tls]\nclient_cert = "{alice_cert}"\ncolor = 1\n')
    code, err = run_rws("--check-config", "--config", str(config), cwd=tmp_path)
    assert code == 1
    assert "[upstream.tls] applies to https://, wss://, h2s:// and grpcs:// backends" in err, err
    assert "client_cert and client_key must be set together" in err, err
    assert "unknown key 'color'" in err, err
    garbage = tmp_path / "ca.pem"
    garbage.write_text("nothing\n")
    config.write_text(proxy_config("https://127.0.0.1:9", f'[upstream.tls]\nca_file = "{garbage}"\n'))
    code, err = run_rws("--check-config", "--config", str(config), cwd=tmp_path)
    assert code == 1 and f"[[upstream]] 'u' tls: CA file '{garbage}' cannot be used" in err, err


def test_security_headers_send_their_hsts_over_tls_only(gateway, backends, pki):
    backend = backends("b")
    cert, key = pki.server
    server = gateway(f'tls_cert_file = "{cert}"\ntls_key_file = "{key}"\nhsts = ""\n'
                     f'[middleware]\nsecurity_headers = {{ strict_transport_security = '
                     f'"max-age=60; includeSubDomains" }}\n'
                     + proxy_config(f"http://{backend.addr}"))
    code, out, err = curl("--cacert", pki.path("ca.pem"), "-D", "-", "-o", "/dev/null",
                          f"https://127.0.0.1:{server.port}/echo")
    assert code == 0, err
    assert "strict-transport-security: max-age=60; includesubdomains" in out.lower(), out
