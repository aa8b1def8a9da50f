"""HTTP/3 (RFC 9114) over QUIC on the TLS port (UDP), and the Alt-Svc field that advertises it
on HTTP/1.1 and HTTP/2 responses. The client is Debian's `gtlsclient` (ngtcp2's example client
on GnuTLS; package ngtcp2-client), which nobody here wrote: it saves each response body under
--download, named after the last path segment."""

import base64
import hashlib
import json
import os
import signal
import socket
import subprocess
import time

import pytest

from conftest import RWS_BIN, require_tool, wait_until
from test_gateway import backends, gateway  # noqa: F401  (fixtures)
from test_http2 import proxy_config
from test_tls import curl, pki, tls_flags, vhost_config  # noqa: F401  (pki is a fixture)


@pytest.fixture
def site(tmp_path):
    root = tmp_path / "site"
    root.mkdir()
    (root / "index.html").write_text("<h1>h3</h1>\n")
    (root / "big.bin").write_bytes(os.urandom(6 << 20))
    for i in range(20):
        (root / f"f{i}.txt").write_text(f"file {i}\n" * (i + 1))
    return root


def h3get(port, *paths, download, extra=(), timeout=60):
    """Fetches `paths` on one QUIC connection; returns 0 when every stream closed (gtlsclient
    exits 0 after giving up at its idle timeout too: that counts as a failure here, 1) and
    gtlsclient's stderr."""
    uris = [f"https://127.0.0.1:{port}{p}" for p in paths]
    out = subprocess.run([require_tool("gtlsclient"), "-q", "--exit-on-all-streams-close",
                          "--timeout=20s", "--download", str(download), *extra, "127.0.0.1",
                          str(port), *uris], capture_output=True, timeout=timeout)
    err = out.stderr.decode("latin-1")
    if out.returncode == 0 and "IDLE_CLOSE" in err:
        return 1, err
    return out.returncode, err


def test_small_and_large_static_files_over_h3(rws, pki, site, tmp_path):
    server = rws(*tls_flags(pki), cwd=site)
    down = tmp_path / "down"
    down.mkdir()
    code, err = h3get(server.port, "/index.html", "/big.bin", download=down)
    assert code == 0, err
    assert (down / "index.html").read_bytes() == (site / "index.html").read_bytes()
    # Several MB: flow control, congestion control and the body pump over many round trips.
    assert (down / "big.bin").read_bytes() == (site / "big.bin").read_bytes()
    # Again with 5% of the datagrams lost each way (gtlsclient drops them): loss recovery.
    lossy = tmp_path / "lossy"
    lossy.mkdir()
    code, err = h3get(server.port, "/big.bin", download=lossy, extra=["-r", "0.05", "-t", "0.05"])
    assert code == 0, err
    assert (lossy / "big.bin").read_bytes() == (site / "big.bin").read_bytes()
    assert server.alive() and "Sanitizer" not in server.stderr, server.stderr


def test_many_requests_on_one_connection_beyond_the_stream_limit(rws, pki, site, tmp_path):
    """150 requests on one connection: more than the 100 concurrent request streams the
    server allows at once, so the limit must be raised again as streams finish."""
    server = rws(*tls_flags(pki), cwd=site)
    down = tmp_path / "down"
    down.mkdir()
    paths = [f"/f{i}.txt" for i in range(20)]
    code, err = h3get(server.port, *paths, download=down, extra=["-n", "150"])
    assert code == 0, err
    for i in range(20):
        assert (down / f"f{i}.txt").read_bytes() == (site / f"f{i}.txt").read_bytes(), i
    # gtlsclient exits 0 even when it gives up at its idle timeout: count what was answered.
    answered = lambda: [l for l in server.stdout.splitlines()  # noqa: E731
                        if '"GET /f' in l and 'HTTP/3.0" 200' in l]
    wait_until(lambda: len(answered()) == 150, what="150 answered requests in the access log")
    assert server.alive() and "Sanitizer" not in server.stderr, server.stderr


def test_post_body_through_the_gateway_proxy_over_h3(gateway, backends, pki, tmp_path):
    backend = backends("b")
    server = gateway(proxy_config(backend), *tls_flags(pki))
    body = os.urandom(3 << 20)
    upload = tmp_path / "body.bin"
    upload.write_bytes(body)
    down = tmp_path / "down"
    down.mkdir()
    code, err = h3get(server.port, "/upload", download=down,
                      extra=["-m", "POST", "-d", str(upload)])
    assert code == 0, err
    # The request body went through rws (read as the proxy pulled it) to the backend intact.
    seen = json.loads((down / "upload").read_bytes())
    assert seen["received"] == len(body)
    assert seen["sha256"] == hashlib.sha256(body).hexdigest()
    code, err = h3get(server.port, "/echo", download=down)
    assert code == 0, err
    echo = json.loads((down / "echo").read_bytes())
    assert echo["method"] == "GET" and echo["target"] == "/echo", echo
    fields = {name.lower(): value for name, value in echo["headers"]}
    assert fields["via"] == "3 rws" and fields["x-forwarded-proto"] == "https", fields


def test_a_request_body_the_handler_does_not_read_does_not_stall_the_connection(
        rws, pki, site, tmp_path):
    """The static files answer POST with 405 without reading the body: the server must tell
    the client to stop sending it (STOP_SENDING) and give its bytes back to the connection's
    flow-control window, or the streams never close and the connection stalls."""
    server = rws(*tls_flags(pki), cwd=site)
    upload = tmp_path / "body.bin"
    upload.write_bytes(os.urandom(2 << 20))
    down = tmp_path / "down"
    down.mkdir()
    code, err = h3get(server.port, "/index.html", download=down,
                      extra=["-m", "POST", "-d", str(upload), "-n", "4"])
    assert code == 0, err
    assert (down / "index.html").read_text().startswith("Method Not Allowed")


def test_alt_svc_is_advertised_over_tls_only(rws, pki, site):
    server = rws(*tls_flags(pki), cwd=site)
    expected = f'h3=":{server.port}"; ma=86400'
    for flag in ("--http1.1", "--http2"):
        code, out, err = curl(flag, "--cacert", pki.path("ca.pem"), "-D", "-", "-o", "/dev/null",
                              f"https://127.0.0.1:{server.port}/index.html")
        assert code == 0, err
        fields = [line.split(":", 1) for line in out.splitlines() if ":" in line]
        alt = [v.strip() for k, v in fields if k.lower() == "alt-svc"]
        assert alt == [expected], (flag, out)
    plain = rws(cwd=site)
    code, out, err = curl("-D", "-", "-o", "/dev/null", f"http://127.0.0.1:{plain.port}/")
    assert code == 0, err
    assert "alt-svc" not in out.lower(), out


def test_mutual_tls_over_h3_requires_a_certificate_from_the_client_ca(rws, pki, site, tmp_path):
    """With tls_client_ca_file the QUIC handshake checks the client certificate as the TCP
    listener does: none, or one from another CA, and the handshake fails."""
    cert, key = pki.server
    server = rws("--tls-cert-file", cert, "--tls-key-file", key, "--tls-client-ca-file",
                 pki.path("client-ca.pem"), cwd=site)
    alice_cert, alice_key = pki.alice
    mallory_cert, mallory_key = pki.mallory
    for name, extra in (("none", []), ("mallory", ["--cert", mallory_cert, "--key", mallory_key])):
        down = tmp_path / name
        down.mkdir()
        code, err = h3get(server.port, "/index.html", download=down,
                          extra=["--timeout=2s", *extra])
        got = down / "index.html"
        assert not got.exists() or got.read_bytes() == b"", (name, err)
    down = tmp_path / "alice"
    down.mkdir()
    code, err = h3get(server.port, "/index.html", download=down,
                      extra=["--cert", alice_cert, "--key", alice_key])
    assert code == 0, err
    assert (down / "index.html").read_bytes() == (site / "index.html").read_bytes()
    # HTTP/3 is on, so TCP responses advertise it.
    code, out, err = curl("--cacert", pki.path("ca.pem"), "--cert", alice_cert, "--key",
                          alice_key, "-D", "-", "-o", "/dev/null",
                          f"https://127.0.0.1:{server.port}/index.html")
    assert code == 0, err
    assert f'alt-svc: h3=":{server.port}"' in out.lower(), out
    assert server.alive() and "Sanitizer" not in server.stderr, server.stderr


def test_the_verified_client_certificate_is_passed_upstream_over_h3(gateway, backends, pki,
                                                                    tmp_path):
    """The same X-Forwarded-Client-Cert as over TCP (test_tls.py): fingerprint and subject as
    OpenSSL describes them, from GnuTLS's view of the certificate."""
    backend = backends("b")
    cert, key = pki.server
    server = gateway(f'tls_cert_file = "{cert}"\ntls_key_file = "{key}"\n'
                     f'tls_client_ca_file = "{pki.path("client-ca.pem")}"\n' + proxy_config(backend))
    alice_cert, alice_key = pki.alice
    down = tmp_path / "down"
    down.mkdir()
    code, err = h3get(server.port, "/echo", download=down,
                      extra=["--cert", alice_cert, "--key", alice_key])
    assert code == 0, err
    seen = json.loads((down / "echo").read_bytes())
    headers = {k.lower(): v for k, v in seen["headers"]}
    fingerprint = subprocess.run(
        [require_tool("openssl"), "x509", "-in", alice_cert, "-noout", "-fingerprint",
         "-sha256"], capture_output=True, timeout=30).stdout.decode().split("=", 1)[1]
    fingerprint = fingerprint.strip().replace(":", "").lower()
    assert headers["x-forwarded-client-cert"] == (
        f'Hash={fingerprint};Subject="O=rws tests,CN=alice"'), headers


def test_sigterm_closes_h3_and_the_server_exits(rws, pki, site, tmp_path):
    server = rws(*tls_flags(pki), cwd=site)
    down = tmp_path / "down"
    down.mkdir()
    code, err = h3get(server.port, "/index.html", download=down)
    assert code == 0, err
    server.signal(signal.SIGTERM)
    # The UDP endpoint takes part in the drain: the process must end on its own, promptly.
    assert server.wait_exit() == 0, server.stderr
    assert "Sanitizer" not in server.stderr, server.stderr


def test_sigterm_lets_an_open_h3_request_finish(servers, backends, pki, tmp_path):
    """Drain: GOAWAY, the request in progress still gets its whole response, then the
    connection closes and the process exits."""
    backend = backends("b")
    config = tmp_path / "rws.config.toml"
    config.write_text(proxy_config(backend))
    server = servers([RWS_BIN, "--ip", "127.0.0.1", "--port", "0", "--thread-count", "1",
                      "--config", str(config), *tls_flags(pki)])
    down = tmp_path / "down"
    down.mkdir()
    client = subprocess.Popen([require_tool("gtlsclient"), "-q", "--exit-on-all-streams-close",
                               "--timeout=20s", "--download", str(down), "127.0.0.1",
                               str(server.port),
                               f"https://127.0.0.1:{server.port}/sse?key=drain&events=2"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    got = down / "sse?key=drain&events=2"
    try:
        wait_until(lambda: got.exists() and b"data: event 1" in got.read_bytes(),
                   what="event 1 over h3")
        server.signal(signal.SIGTERM)
        wait_until(lambda: "draining" in server.stderr, what="the drain to start")
        backend.ctl("sse_release", key="drain")
        assert client.wait(30) == 0, client.stderr.read().decode("latin-1")
        assert b"data: event 2" in got.read_bytes()
        assert server.wait_exit() == 0, server.stderr
    finally:
        if client.poll() is None:
            client.kill()


def test_a_long_running_h3_request_outlives_the_idle_timeout(servers, backends, pki, tmp_path):
    """The QUIC idle timeout (idle_timeout_ms) closes idle connections, not those whose
    request is still being answered: an event stream silent for longer than the timeout
    still delivers its next event."""
    backend = backends("b")
    config = tmp_path / "rws.config.toml"
    config.write_text("idle_timeout_ms = 600\n" + proxy_config(backend))
    server = servers([RWS_BIN, "--ip", "127.0.0.1", "--port", "0", "--thread-count", "1",
                      "--config", str(config), *tls_flags(pki)])
    down = tmp_path / "down"
    down.mkdir()
    client = subprocess.Popen([require_tool("gtlsclient"), "-q", "--exit-on-all-streams-close",
                               "--timeout=20s", "--download", str(down), "127.0.0.1",
                               str(server.port),
                               f"https://127.0.0.1:{server.port}/sse?key=quiet&events=2"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    got = down / "sse?key=quiet&events=2"
    try:
        wait_until(lambda: got.exists() and b"data: event 1" in got.read_bytes(),
                   what="event 1 over h3")
        # Silence for several idle timeouts: what is under test is that nothing closes.
        time.sleep(2.0)
        backend.ctl("sse_release", key="quiet")
        assert client.wait(30) == 0, client.stderr.read().decode("latin-1")
        assert b"data: event 2" in got.read_bytes()
    finally:
        if client.poll() is None:
            client.kill()


def test_every_worker_serves_h3_on_the_shared_port(servers, pki, site, tmp_path):
    """Four workers bind the same UDP port (SO_REUSEPORT); the kernel spreads clients over
    them by address, and each client's packets keep reaching the worker that owns its
    connection."""
    server = servers([RWS_BIN, "--ip", "127.0.0.1", "--port", "0", "--thread-count", "4",
                      *tls_flags(pki)], cwd=site)
    for i in range(12):
        down = tmp_path / f"down{i}"
        down.mkdir()
        code, err = h3get(server.port, "/index.html", "/f3.txt", download=down)
        assert code == 0, err
        assert (down / "index.html").read_bytes() == (site / "index.html").read_bytes(), i
        assert (down / "f3.txt").read_bytes() == (site / "f3.txt").read_bytes(), i
    assert server.alive() and "Sanitizer" not in server.stderr, server.stderr


def test_connections_that_migrate_reach_the_worker_that_owns_them(servers, pki, site, tmp_path):
    """Four workers share the UDP port and the kernel picks one by the client's address: after
    the client moves to a new local port (a migration, or NAT rebinding where only the server
    validates the new path) its packets mostly land on another worker, which must hand them to
    the owner (the connection IDs name it) rather than answer with a stateless reset. The
    request goes out after the move (--delay-stream), so the whole response depends on it."""
    server = servers([RWS_BIN, "--ip", "127.0.0.1", "--port", "0", "--thread-count", "4",
                      *tls_flags(pki)], cwd=site)
    (site / "mid.bin").write_bytes(os.urandom(300 << 10))
    for i in range(8):
        down = tmp_path / f"down{i}"
        down.mkdir()
        rebinding = ["--nat-rebinding"] if i % 2 else []
        out = subprocess.run([require_tool("gtlsclient"), "--no-quic-dump", "--no-http-dump",
                              "--exit-on-all-streams-close", "--timeout=20s", "--download",
                              str(down), "--change-local-addr=1ms", "--delay-stream=100ms",
                              *rebinding, "127.0.0.1", str(server.port),
                              f"https://127.0.0.1:{server.port}/mid.bin"],
                             capture_output=True, timeout=60)
        err = out.stderr.decode("latin-1")
        assert out.returncode == 0 and "IDLE_CLOSE" not in err, (i, err[-3000:])
        assert "Local address is now" in err, (i, err[-3000:])
        got = down / "mid.bin"
        assert got.exists() and got.read_bytes() == (site / "mid.bin").read_bytes(), i
    assert server.alive() and "Sanitizer" not in server.stderr, server.stderr


def test_http3_retry_validates_the_client_address_before_the_handshake(rws, pki, site, tmp_path):
    """With http3_retry the client's first Initial is answered with a Retry packet, and the
    connection proceeds once the client echoes its token (gtlsclient prints the packets it
    receives, and the transport parameters the server sent)."""
    server = rws(*tls_flags(pki), "--http3-retry", "true", cwd=site)
    down = tmp_path / "down"
    down.mkdir()
    out = subprocess.run([require_tool("gtlsclient"), "--no-quic-dump", "--no-http-dump",
                          "--exit-on-all-streams-close", "--timeout=20s", "--download", str(down),
                          "127.0.0.1", str(server.port),
                          f"https://127.0.0.1:{server.port}/index.html",
                          f"https://127.0.0.1:{server.port}/f5.txt"],
                         capture_output=True, timeout=60)
    err = out.stderr.decode("latin-1")
    assert out.returncode == 0 and "IDLE_CLOSE" not in err, err[-3000:]
    assert "type=Retry" in err, err[-3000:]
    assert "retry_source_connection_id=" in err, err[-3000:]
    assert (down / "index.html").read_bytes() == (site / "index.html").read_bytes()
    assert (down / "f5.txt").read_bytes() == (site / "f5.txt").read_bytes()
    assert server.alive() and "Sanitizer" not in server.stderr, server.stderr


def varint2(n):
    """`n` as a two-byte QUIC variable-length integer."""
    return (0x4000 | n).to_bytes(2, "big")


def long_header_packet(version, dcid, scid, token=b""):
    """A client Initial (for version 1) of 1200 bytes whose payload is random: nobody can
    decrypt it, but the server decides on Retry from the header alone."""
    head = (bytes([0xc3]) + version.to_bytes(4, "big") + bytes([len(dcid)]) + dcid +
            bytes([len(scid)]) + scid + varint2(len(token)) + token)
    length = 1200 - len(head) - 2
    return head + varint2(length) + os.urandom(length)


def parse_long_header(d):
    """(first byte, version, dcid, scid, rest) of a long-header packet."""
    version = int.from_bytes(d[1:5], "big")
    dcid = d[6:6 + d[5]]
    at = 6 + d[5]
    scid = d[at + 1:at + 1 + d[at]]
    return d[0], version, dcid, scid, d[at + 1 + d[at]:]


def udp_exchange(port, packet):
    """Sends `packet` from a fresh UDP socket, then a datagram of an unknown version, which the
    server answers with Version Negotiation; returns the datagrams that came before that answer.
    One worker handles both in order, so whatever it sent for `packet` has arrived by then."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(10)
    try:
        sock.sendto(packet, ("127.0.0.1", port))
        probe_dcid = os.urandom(8)
        sock.sendto(long_header_packet(0x1a2a3a4a, probe_dcid, os.urandom(8)),
                    ("127.0.0.1", port))
        before = []
        while True:
            d, _ = sock.recvfrom(65536)
            first, version, dcid, scid, _ = parse_long_header(d)
            if first & 0x80 and version == 0 and scid == probe_dcid:
                return before
            before.append(d)
    finally:
        sock.close()


def test_an_initial_without_token_gets_a_retry_only_with_http3_retry(rws, pki, site):
    """Raw UDP: a hand-made Initial (random DCID, padded to 1200 bytes, undecryptable payload)
    is answered with a Retry packet addressed to the client's SCID when http3_retry is on;
    without the option no Retry comes back."""
    dcid, scid = os.urandom(12), os.urandom(9)
    server = rws(*tls_flags(pki), "--http3-retry", "true", cwd=site)
    got = udp_exchange(server.port, long_header_packet(1, dcid, scid))
    assert len(got) == 1, got
    first, version, retry_dcid, retry_scid, rest = parse_long_header(got[0])
    assert first & 0xf0 == 0xf0, hex(first)  # long header, fixed bit, type Retry
    assert version == 1
    assert retry_dcid == scid  # to the client's source connection ID
    assert len(retry_scid) == 16 and retry_scid != dcid  # a new ID of the server's
    assert len(rest) > 16  # a token, then the 16-byte integrity tag
    # A token that claims to be a Retry token but is not ours: CONNECTION_CLOSE in an Initial
    # (INVALID_TOKEN, RFC 9000 §8.1.2), never a connection, never a crash.
    forged = bytes([0xb6]) + os.urandom(80)
    got = udp_exchange(server.port, long_header_packet(1, retry_scid, scid, forged))
    assert len(got) == 1, got
    first, version, close_dcid, close_scid, _ = parse_long_header(got[0])
    assert first & 0xf0 == 0xc0 and version == 1, hex(first)  # an Initial
    assert close_dcid == scid and close_scid == retry_scid
    assert server.alive() and "Sanitizer" not in server.stderr, server.stderr

    plain = rws(*tls_flags(pki), cwd=site)
    got = udp_exchange(plain.port, long_header_packet(1, dcid, scid))
    assert all(d[0] & 0xf0 != 0xf0 for d in got), got
    assert plain.alive() and "Sanitizer" not in plain.stderr, plain.stderr


PROTOCOL_PAGE = (
    "<!doctype html><html><body><div id='p'>pending</div><script>"
    "document.getElementById('p').textContent = 'protocol=' + "
    "performance.getEntriesByType('navigation')[0].nextHopProtocol;"
    "</script></body></html>\n")


def spki_sha256(cert):
    """base64 SHA-256 of the certificate's public key, for --ignore-certificate-errors-spki-list
    (the only way to make chromium accept a test certificate over QUIC)."""
    public_key = subprocess.run([require_tool("openssl"), "x509", "-in", cert, "-pubkey",
                                 "-noout"], capture_output=True, check=True, timeout=30).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "der"], input=public_key,
                         capture_output=True, check=True, timeout=30).stdout
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


def chromium_page(host, port, path, accepted_cert, profile):
    """The DOM of https://host:port/path after headless chromium, forced onto QUIC for that
    origin and trusting only `accepted_cert`, ran its scripts; and chromium's stderr."""
    out = subprocess.run(
        [require_tool("chromium"), "--headless", "--no-sandbox", "--disable-gpu",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--no-first-run", f"--user-data-dir={profile}",
         f"--origin-to-force-quic-on={host}:{port}",
         f"--ignore-certificate-errors-spki-list={spki_sha256(accepted_cert)}",
         f"--host-resolver-rules=MAP {host} 127.0.0.1, MAP * ~NOTFOUND",
         "--dump-dom", f"https://{host}:{port}{path}"],
        capture_output=True, timeout=120)
    return out.stdout.decode("latin-1"), out.stderr.decode("latin-1")[-2000:]


def test_headless_chromium_navigates_over_h3(rws, pki, site, tmp_path):
    """A browser nobody here wrote: Debian's chromium, forced onto QUIC for the test origin
    (Alt-Svc alone does not switch a fresh headless profile), reports the protocol it used
    for the page itself."""
    (site / "proto.html").write_text(PROTOCOL_PAGE)
    server = rws(*tls_flags(pki), cwd=site)
    cert, _ = pki.server
    dom, err = chromium_page("localhost", server.port, "/proto.html", cert, tmp_path / "p")
    assert "protocol=h3" in dom, (dom, err)
    wait_until(lambda: '"GET /proto.html HTTP/3.0" 200' in server.stdout,
               what="the access log line of the page, over HTTP/3")
    # The header size limit (max_header_size, 64 KiB by default) holds over h3: 431.
    (site / "fields.html").write_text(
        "<!doctype html><html><body><div id='p'>pending</div><script>var r = [];"
        "for (const n of [1000, 70000]) { var x = new XMLHttpRequest();"
        "x.open('GET', '/index.html?n=' + n, false); x.setRequestHeader('x-big', 'a'.repeat(n));"
        "try { x.send(); r.push(n + ':' + x.status); } catch (e) { r.push(n + ':error'); } }"
        "document.getElementById('p').textContent = 'result=' + r.join(',');"
        "</script></body></html>\n")
    dom, err = chromium_page("localhost", server.port, "/fields.html", cert, tmp_path / "p2")
    assert "result=1000:200,70000:431" in dom, (dom, err)
    wait_until(lambda: '"GET /index.html?n=70000 HTTP/3.0" 431' in server.stdout,
               what="the access log line of the 431, over HTTP/3")


def test_sni_picks_the_virtual_host_certificate_over_h3(rws, pki, site, tmp_path):
    """Chromium trusting only the virtual host's certificate loads the page from that host
    name over QUIC; trusting only the default certificate, it cannot (so the certificate the
    QUIC handshake presented was the virtual host's)."""
    (site / "proto.html").write_text(PROTOCOL_PAGE)
    config = tmp_path / "rws.config.toml"
    config.write_text(vhost_config(pki))
    server = rws("--config", str(config), cwd=site)
    api_cert, _ = pki.api
    dom, err = chromium_page("api.other.test", server.port, "/proto.html", api_cert,
                             tmp_path / "p1")
    assert "protocol=h3" in dom, (dom, err)
    default_cert, _ = pki.server
    dom, err = chromium_page("api.other.test", server.port, "/proto.html", default_cert,
                             tmp_path / "p2")
    assert "protocol=" not in dom, dom
