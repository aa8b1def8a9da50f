"""rws-client, the command-line client the HTTP/3 tests and users rely on (Debian's curl has no
HTTP/3), checked here over HTTP/1.1 and HTTP/2 against servers nobody here wrote: Debian's
nginx (HTTP/1.1, and HTTP/2 over TLS by ALPN) and nghttpd (HTTP/2 by prior knowledge)."""

import hashlib
import os
import socket
import subprocess

import pytest

from conftest import Process, require_tool, wait_until
from test_h2_upstream import Nghttpd, free_port
from test_tls import pki  # noqa: F401  (fixture)

RWS_CLIENT = os.environ.get("RWS_CLIENT", "")


def client(*args, timeout=60):
    if not RWS_CLIENT:
        pytest.fail("RWS_CLIENT is not set: run the integration tests through ctest")
    out = subprocess.run([RWS_CLIENT, *args], capture_output=True, timeout=timeout)
    return out.returncode, out.stdout, out.stderr.decode()


def split(stdout):
    head, _, body = stdout.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    fields = {}
    for line in lines[1:]:
        name, _, value = line.partition(": ")
        fields[name.lower()] = value
    return lines[0], fields, body


@pytest.fixture
def www(tmp_path):
    root = tmp_path / "www"
    root.mkdir()
    (root / "hello.txt").write_text("hello from nginx\n")
    (root / "big.bin").write_bytes(os.urandom(3 << 20))
    return root


@pytest.fixture
def nginx(tmp_path, www, pki):
    """nginx serving `www` on a cleartext port and a TLS port with HTTP/2."""
    prefix = tmp_path / "nginx"
    for sub in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (prefix / sub).mkdir(parents=True)
    plain, secure = free_port(), free_port()
    cert, key = pki.server
    conf = prefix / "nginx.conf"
    conf.write_text(f"""
daemon off;
master_process off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log stderr error;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    types {{ text/plain txt; application/octet-stream bin; }}
    server {{
        listen 127.0.0.1:{plain};
        listen 127.0.0.1:{secure} ssl http2;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        root {www};
        location /echo-header {{ return 200 "x-test=$http_x_test method=$request_method\\n"; }}
        location /echo-host {{ return 200 "host=$host\\n"; }}
    }}
}}
""")
    proc = Process([require_tool("nginx"), "-c", str(conf), "-e", "stderr"])

    def listening():
        try:
            socket.create_connection(("127.0.0.1", secure), timeout=1).close()
            return True
        except OSError:
            return False
    wait_until(listening, what="nginx")
    yield plain, secure
    proc.stop()


def test_http1_get_with_headers_and_method(nginx):
    plain, _ = nginx
    code, out, err = client(f"http://127.0.0.1:{plain}/hello.txt")
    assert code == 0, err
    status, fields, body = split(out)
    assert status == "HTTP/1.1 200 OK"
    assert fields["server"].startswith("nginx")
    assert body == b"hello from nginx\n"
    code, out, err = client("-X", "DELETE", "-H", "X-Test: abc",
                            f"http://127.0.0.1:{plain}/echo-header")
    assert code == 0, err
    assert split(out)[2] == b"x-test=abc method=DELETE\n"


def test_a_host_field_names_the_host_over_http1_and_h2(nginx, pki):
    """-H "Host: ..." replaces the URL's authority as the request's host: the Host field over
    HTTP/1.1, :authority over HTTP/2 (as curl does); the URL still says where to connect."""
    plain, secure = nginx
    for flags, url, protocol, host in (
            ([], f"http://127.0.0.1:{plain}/echo-host", "HTTP/1.1 200 OK", b"127.0.0.1"),
            (["--http2", "--cacert", pki.path("ca.pem")], f"https://localhost:{secure}/echo-host",
             "HTTP/2 200", b"localhost")):
        code, out, err = client(*flags, url)
        assert code == 0, err
        assert split(out)[2] == b"host=" + host + b"\n", out
        code, out, err = client(*flags, "-H", "Host: other.test", url)
        assert code == 0, err
        status, _, body = split(out)
        assert (status, body) == (protocol, b"host=other.test\n"), (flags, out)


def test_https_negotiates_h2_by_alpn_or_keeps_http11_when_asked(nginx, pki, www, tmp_path):
    _, secure = nginx
    ca = pki.path("ca.pem")
    url = f"https://localhost:{secure}/big.bin"
    want = hashlib.sha256((www / "big.bin").read_bytes()).hexdigest()
    for flags, protocol in (([], "HTTP/2 200"), (["--http1.1"], "HTTP/1.1 200 OK"),
                            (["--http2"], "HTTP/2 200")):
        target = tmp_path / "copy.bin"
        code, out, err = client(*flags, "--cacert", ca, "-o", str(target), url)
        assert code == 0, err
        status, fields, _ = split(out)
        assert status == protocol, flags
        assert int(fields["content-length"]) == 3 << 20
        assert hashlib.sha256(target.read_bytes()).hexdigest() == want


def test_certificate_verification(nginx, pki):
    _, secure = nginx
    code, out, err = client(f"https://localhost:{secure}/hello.txt")
    assert code == 2 and out == b""
    assert "certificate" in err
    code, out, err = client("-k", f"https://localhost:{secure}/hello.txt")
    assert code == 0, err
    assert split(out)[2] == b"hello from nginx\n"


def test_h2c_prior_knowledge_get_and_post(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "index.html").write_text("nghttpd here\n")
    server = Nghttpd(docs)
    try:
        code, out, err = client("--http2", f"http://127.0.0.1:{server.port}/index.html")
        assert code == 0, err
        status, fields, body = split(out)
        assert status == "HTTP/2 200"
        assert fields["server"].startswith("nghttpd")
        assert body == b"nghttpd here\n"
        upload = tmp_path / "up.bin"
        upload.write_bytes(os.urandom(1 << 20))
        echoed = tmp_path / "echo.bin"
        code, out, err = client("--http2", "-d", f"@{upload}", "-o", str(echoed),
                                f"http://127.0.0.1:{server.port}/echo")
        assert code == 0, err
        assert echoed.read_bytes() == upload.read_bytes()
    finally:
        server.stop()


def test_failures_are_reported_with_exit_status_2():
    code, out, err = client(f"http://127.0.0.1:{free_port()}/")
    assert code == 2 and out == b""
    assert "Connection refused" in err
    code, _, err = client("ftp://example.com/")
    assert code == 1
    assert "not an http:// or https:// URL" in err


# --- HTTP/3 ------------------------------------------------------------------------------------

def udp_port_free():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def tcp_and_udp_port_free():
    """A port number free for TCP and UDP alike (caddy serves both on it)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            tcp.bind(("127.0.0.1", 0))
            port = tcp.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                try:
                    udp.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
    raise AssertionError("no port free for both TCP and UDP")


def wait_h3(port, ca, server=None):
    """Until an HTTP/3 server answers on `port` (UDP gives no connect to wait for); fails at once
    when `server` (a Process) exited."""
    def answers():
        if server is not None and not server.alive():
            raise AssertionError(f"{server.argv[0]} exited:\n{server.stderr}")
        code, _, _ = client("--http3", "--cacert", ca, "--max-time", "2",
                            f"https://localhost:{port}/hello.txt")
        return code == 0
    wait_until(answers, timeout=30, what=f"an HTTP/3 server on port {port}")


def test_http3_against_gtlsserver(www, pki, tmp_path):
    """ngtcp2's own example server (Debian package ngtcp2-server)."""
    cert, key = pki.server
    ca = pki.path("ca.pem")
    port = udp_port_free()
    server = Process([require_tool("gtlsserver"), "-q", "-d", str(www), "127.0.0.1", str(port),
                      key, cert])
    try:
        wait_h3(port, ca)
        code, out, err = client("--http3", "--cacert", ca, f"https://localhost:{port}/hello.txt")
        assert code == 0, err
        status, fields, body = split(out)
        assert status == "HTTP/3 200"
        assert "ngtcp2" in fields["server"]
        assert body == b"hello from nginx\n"
        target = tmp_path / "copy.bin"
        code, out, err = client("--http3", "--cacert", ca, "-o", str(target),
                                f"https://localhost:{port}/big.bin")
        assert code == 0, err
        assert target.read_bytes() == (www / "big.bin").read_bytes()
    finally:
        server.stop()


def start_caddy(pki, root, tmp_path, log=None):
    """Debian's caddy serving `root` over HTTP/1.1, HTTP/2 and HTTP/3 at https://localhost:PORT
    with the test server certificate (and a JSON access log at `log` when given); returns the
    Process (with `.port`) once HTTP/3 answers."""
    cert, key = pki.server
    port = tcp_and_udp_port_free()
    logging = f"\tlog {{\n\t\toutput file {log}\n\t\tformat json\n\t}}\n" if log else ""
    caddyfile = tmp_path / "Caddyfile"
    caddyfile.write_text(f"""{{
	admin off
	auto_https disable_redirects
	storage file_system {tmp_path}/caddy-data
	servers {{
		protocols h1 h2 h3
	}}
}}
https://localhost:{port} {{
	tls {cert} {key}
	root * {root}
	file_server
{logging}}}
""")
    env = dict(os.environ, HOME=str(tmp_path), XDG_DATA_HOME=str(tmp_path / "xdg"),
               XDG_CONFIG_HOME=str(tmp_path / "xdg"))
    server = Process([require_tool("caddy"), "run", "--config", str(caddyfile), "--adapter",
                      "caddyfile"], env=env)
    server.port = port
    try:
        wait_h3(port, pki.path("ca.pem"), server)
    except BaseException:
        server.stop()
        raise
    return server


def test_http3_against_caddy(www, pki, tmp_path):
    ca = pki.path("ca.pem")
    server = start_caddy(pki, www, tmp_path)
    port = server.port
    try:
        code, out, err = client("--http3", "--cacert", ca, f"https://localhost:{port}/hello.txt")
        assert code == 0, err
        status, fields, body = split(out)
        assert status == "HTTP/3 200"
        assert fields["server"] == "Caddy"
        assert body == b"hello from nginx\n"
        code, out, err = client("--http3", f"https://localhost:{port}/hello.txt")
        assert code == 2 and "certificate" in err
    finally:
        server.stop()


def test_http3_needs_https():
    code, _, err = client("--http3", "http://127.0.0.1:1/")
    assert code == 2
    assert "HTTP/3 needs an https:// URL" in err
