"""Process behaviour of the `rws` binary: graceful shutdown and its limits, signals, the command
line, environment variables, rws.config.toml, precedence between them, IPv6 and workers."""

import concurrent.futures
import hashlib
import json
import os
import re
import signal
import socket
import subprocess
import time

import pytest

from conftest import RWS_BIN, request, wait_until

BIG_SIZE = 64 << 20


def rws_bin():
    if not RWS_BIN:
        pytest.fail("RWS_BIN is not set: run the integration tests through ctest")
    return RWS_BIN


def clean_env(extra=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("RWS_CONFIG_")}
    env.update(extra or {})
    return env


def run_rws(*args, cwd, env=None, timeout=10):
    """Runs rws expecting it to exit by itself (help, version, refused configuration)."""
    try:
        out = subprocess.run([rws_bin(), *args], cwd=cwd, env=clean_env(env),
                             stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"rws {' '.join(args)} did not exit within {timeout}s (it should have "
                    f"refused to start); stderr:\n{(e.stderr or b'').decode()}")
    return out.returncode, out.stdout.decode("utf-8", "replace"), out.stderr.decode(
        "utf-8", "replace")


def get(path, headers=()):
    return request("GET", path, host="x", headers=headers)


def refused(server):
    """True once the server no longer accepts connections on its address."""
    family = socket.AF_INET6 if ":" in server.host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(2)
    try:
        s.connect((server.host, server.port))
    except ConnectionRefusedError:
        return True
    except ConnectionResetError:
        return False  # caught in the listener's backlog as it closed: try again
    finally:
        s.close()
    return False


def read_body_into(conn, length, digest, chunk=1 << 20):
    """Feeds exactly `length` body bytes (buffered ones first) to `digest`; raises EOFError if
    the connection ends early. Streams instead of buffering 64 MiB."""
    take = conn.buf[:length]
    conn.buf = conn.buf[len(take):]
    digest.update(take)
    left = length - len(take)
    view = bytearray(chunk)
    while left > 0:
        n = conn.sock.recv_into(view, min(chunk, left))
        if n == 0:
            raise EOFError(f"connection closed with {left} body bytes missing")
        digest.update(view[:n])
        left -= n


def drain_count(conn):
    """Reads until EOF or reset; returns the number of bytes received."""
    total = len(conn.buf)
    conn.buf = b""
    view = bytearray(1 << 20)
    while True:
        try:
            n = conn.sock.recv_into(view)
        except ConnectionResetError:
            return total
        if n == 0:
            return total
        total += n


@pytest.fixture
def big_root(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    data = os.urandom(BIG_SIZE)
    (root / "big.bin").write_bytes(data)
    (root / "hello.txt").write_bytes(b"hello world\n")
    return root, hashlib.sha256(data).hexdigest()


@pytest.fixture
def root(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    (root / "hello.txt").write_bytes(b"hello world\n")
    sub = root / "sub"
    sub.mkdir()
    (sub / "listed-file.txt").write_bytes(b"in sub\n")
    return root


def start_download(server):
    """Requests the big file and reads the head; returns (conn, content_length)."""
    conn = server.connect(timeout=20)
    conn.send(get("/big.bin"))
    head = conn.read_until(b"\r\n\r\n").decode("latin-1")
    assert head.startswith("HTTP/1.1 200"), head
    length = int(re.search(r"(?im)^content-length:\s*(\d+)", head).group(1))
    assert length == BIG_SIZE
    return conn, length


# --- graceful shutdown --------------------------------------------------------------------------

@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_graceful_shutdown_finishes_an_in_flight_download(rws, big_root, sig):
    root, digest = big_root
    server = rws("--root", str(root), "--shutdown-timeout-ms", "20000")
    conn, length = start_download(server)
    first = conn.read_exact(1 << 20)
    assert len(first) == 1 << 20

    server.signal(sig)
    wait_until(lambda: refused(server), what="the listener to close after the signal")
    assert server.alive(), "the server must wait for the in-flight response"

    whole = hashlib.sha256(first)
    read_body_into(conn, length - len(first), whole)
    assert whole.hexdigest() == digest, "the body changed or was cut during the drain"

    # Nothing more on this connection: the server closes it, then exits cleanly.
    assert conn.read_to_eof() == b""
    assert server.wait_exit() == 0
    name = "SIGTERM" if sig == signal.SIGTERM else "SIGINT"
    assert name in server.stderr


def test_readyz_is_503_while_draining_and_idle_connections_are_closed(rws, root):
    server = rws("--root", str(root), "--shutdown-timeout-ms", "20000")

    # Before the drain: ready.
    probe = server.connect()
    probe.send(get("/readyz"))
    resp = probe.read_response()
    assert (resp.status, resp.body) == (200, b"ready")

    partial = server.connect()
    partial.send(b"GET /readyz HTTP/1.1\r\nHost: x\r\n")
    # A full exchange on another connection of the same (single) worker, sent after the partial
    # head, orders the partial head before the signal; it leaves `idle` as an idle keep-alive.
    idle = server.connect()
    idle.send(get("/hello.txt"))
    assert idle.read_response().status == 200

    server.signal(signal.SIGTERM)
    wait_until(lambda: refused(server), what="the listener to close after SIGTERM")
    assert idle.closed_by_peer(5.0), "an idle keep-alive connection must be closed by the drain"
    assert server.alive()

    partial.send(b"\r\n")
    resp = partial.read_response()
    assert resp.status == 503
    assert resp.header("connection", "").lower() == "close"
    assert partial.read_to_eof() == b""
    partial.close()
    assert server.wait_exit() == 0


def test_shutdown_timeout_closes_a_stuck_connection(rws, big_root):
    root, _ = big_root
    server = rws("--root", str(root), "--shutdown-timeout-ms", "500")
    conn, length = start_download(server)  # and then stop reading

    start = time.monotonic()
    server.signal(signal.SIGTERM)
    code = server.wait_exit(timeout=10)
    elapsed = time.monotonic() - start
    assert code == 0
    assert 0.4 <= elapsed < 5.0, f"exit {elapsed:.2f}s after SIGTERM with a 500 ms drain"
    received = drain_count(conn)
    assert received < length, "the stuck download cannot have completed"


def test_second_sigterm_exits_without_waiting_for_the_drain(rws, big_root):
    root, _ = big_root
    server = rws("--root", str(root), "--shutdown-timeout-ms", "20000")
    conn, length = start_download(server)  # and then stop reading

    server.signal(signal.SIGTERM)
    wait_until(lambda: refused(server), what="the listener to close after SIGTERM")
    assert server.alive(), "the stuck download keeps the drain going"
    start = time.monotonic()
    server.signal(signal.SIGTERM)
    code = server.wait_exit(timeout=10)
    assert time.monotonic() - start < 5.0
    assert code == 0
    assert drain_count(conn) < length


def test_sighup_does_not_stop_the_server(rws, root, curl):
    server = rws("--root", str(root))
    server.signal(signal.SIGHUP)
    wait_until(lambda: server.stderr.count("SIGHUP") >= 1, what="the SIGHUP log line")
    server.signal(signal.SIGHUP)
    wait_until(lambda: server.stderr.count("SIGHUP") >= 2, what="the second SIGHUP log line")
    assert server.alive()
    status, _, body = curl.run(server.url("/hello.txt"))
    assert (status, body) == (200, b"hello world\n")
    server.signal(signal.SIGTERM)
    assert server.wait_exit() == 0


# --- command line -------------------------------------------------------------------------------

def test_help(tmp_path):
    code, out, _ = run_rws("--help", cwd=tmp_path)
    assert code == 0
    assert "--port" in out and "--root" in out
    code, out_short, _ = run_rws("-h", cwd=tmp_path)
    assert code == 0
    assert out_short == out


def test_version(tmp_path):
    code, out, _ = run_rws("--version", cwd=tmp_path)
    assert code == 0
    assert re.fullmatch(r"rws \d+\.\d+\.\d+\n", out), out


@pytest.mark.parametrize("argv", [
    ["--ip=127.0.0.1", "--port=0", "--thread-count=1"],
    ["--ip", "127.0.0.1", "--port", "0", "--thread-count", "1"],
], ids=["equals", "separate"])
def test_long_flag_forms(servers, root, curl, argv):
    server = servers([rws_bin(), *argv, f"--root={root}"], cwd=str(root))
    assert server.host == "127.0.0.1"
    assert server.port != 0
    status, _, body = curl.run(server.url("/hello.txt"))
    assert (status, body) == (200, b"hello world\n")


def test_short_flags(servers, root, curl):
    server = servers([rws_bin(), "-p", "0", "-i", "127.0.0.1", "-t", "2", "--root", str(root)])
    assert "with 2 worker(s)" in server.stderr
    assert server.host == "127.0.0.1"
    status, _, body = curl.run(server.url("/hello.txt"))
    assert (status, body) == (200, b"hello world\n")


@pytest.mark.parametrize("args,flag,value", [
    (["--ip", "127.0.0.1", "--port", "abc"], "--port", "abc"),
    (["--ip", "127.0.0.1", "--port", "70000"], "--port", "70000"),
    (["--ip", "127.0.0.1", "--port", "-1"], "--port", "-1"),
    (["--ip", "127.0.0.1", "--port", "0", "--thread-count", "0"], "--thread-count", "0"),
    (["--ip", "1.2.3", "--port", "0"], "--ip", "1.2.3"),
    (["--ip", "127.0.0.1", "--port", "0", "--directory-listing", "maybe"], "--directory-listing",
     "maybe"),
    (["--ip", "127.0.0.1", "--port", "0", "--max-body-size=lots"], "--max-body-size", "lots"),
    (["--ip", "127.0.0.1", "--port", "0", "--log-format", "xml"], "--log-format", "xml"),
], ids=["port-abc", "port-70000", "port-negative", "threads-0", "ip", "listing", "body-size",
        "log-format"])
def test_bad_flag_value_is_refused(tmp_path, args, flag, value):
    code, _, err = run_rws(*args, cwd=tmp_path)
    assert code != 0
    assert flag in err and value in err, err
    assert "listening on" not in err


def test_unknown_flag_suggests_the_right_one(tmp_path):
    code, _, err = run_rws("--ip", "127.0.0.1", "--prot", "0", cwd=tmp_path)
    assert code != 0
    assert "--prot" in err
    assert "did you mean '--port'" in err, err


def test_bad_environment_value_names_the_variable(tmp_path):
    code, _, err = run_rws("--ip", "127.0.0.1", cwd=tmp_path, env={"RWS_CONFIG_PORT": "abc"})
    assert code != 0
    assert "RWS_CONFIG_PORT" in err and "abc" in err, err
    code, _, err = run_rws("--ip", "127.0.0.1", "--port", "0", cwd=tmp_path,
                           env={"RWS_CONFIG_THREAD_COUNT": "many"})
    assert code != 0
    assert "RWS_CONFIG_THREAD_COUNT" in err and "many" in err, err


def test_environment_variables_configure_the_server(servers, root, curl):
    server = servers([rws_bin(), "--root", str(root)], cwd=str(root),
                     env={"RWS_CONFIG_IP": "127.0.0.1", "RWS_CONFIG_PORT": "0",
                          "RWS_CONFIG_THREAD_COUNT": "1"})
    assert server.host == "127.0.0.1"
    status, _, body = curl.run(server.url("/hello.txt"))
    assert (status, body) == (200, b"hello world\n")


def test_max_body_size_in_bytes_environment_alias(rws, root):
    server = rws("--root", str(root), env={"RWS_CONFIG_MAX_BODY_SIZE_IN_BYTES": "10"})
    conn = server.connect()
    conn.send(request("POST", "/hello.txt", host="x", body=b"x" * 100))
    assert conn.read_response().status == 413
    small = server.connect()
    small.send(request("POST", "/hello.txt", host="x", body=b"x" * 5))
    assert small.read_response().status != 413


# --- rws.config.toml ----------------------------------------------------------------------------

def test_config_file_in_the_working_directory_top_level_keys(servers, root, tmp_path, curl):
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    (cwd / "rws.config.toml").write_text(
        f'ip = "127.0.0.1"\nport = 0\nthread_count = 1\nroot = "{root}"\n')
    server = servers([rws_bin()], cwd=str(cwd))
    assert server.host == "127.0.0.1"
    status, _, body = curl.run(server.url("/hello.txt"))
    assert (status, body) == (200, b"hello world\n")


def test_config_file_server_table_with_config_flag(servers, root, tmp_path, curl):
    cfg = tmp_path / "elsewhere.toml"
    cfg.write_text(f'[server]\nip = "127.0.0.1"\nport = 0\nthread_count = 1\nroot = "{root}"\n'
                   f'directory_listing = false\n')
    server = servers([rws_bin(), "--config", str(cfg)], cwd=str(tmp_path))
    assert server.host == "127.0.0.1"
    status, _, body = curl.run(server.url("/hello.txt"))
    assert (status, body) == (200, b"hello world\n")
    status, _, _ = curl.run(server.url("/sub/"))
    assert status == 403


def test_config_file_from_environment(servers, root, tmp_path, curl):
    cfg = tmp_path / "from-env.toml"
    cfg.write_text(f'ip = "127.0.0.1"\nport = 0\nthread_count = 1\nroot = "{root}"\n')
    server = servers([rws_bin()], cwd=str(tmp_path), env={"RWS_CONFIG_FILE": str(cfg)})
    assert server.host == "127.0.0.1"
    status, _, body = curl.run(server.url("/hello.txt"))
    assert (status, body) == (200, b"hello world\n")


def test_config_unknown_key(tmp_path):
    cfg = tmp_path / "bad.toml"
    cfg.write_text('ip = "127.0.0.1"\nprot = 0\n')
    code, _, err = run_rws("--config", str(cfg), cwd=tmp_path)
    assert code != 0
    assert f"{cfg}:2:1: unknown key 'prot' (did you mean 'port'?)" in err, err


def test_config_unknown_key_in_the_default_file(tmp_path):
    (tmp_path / "rws.config.toml").write_text('[server]\nip = "127.0.0.1"\n  prot = 0\n')
    code, _, err = run_rws(cwd=tmp_path)
    assert code != 0
    assert "rws.config.toml:3:3: unknown key 'prot' (did you mean 'port'?)" in err, err


def test_config_wrong_type(tmp_path):
    cfg = tmp_path / "bad.toml"
    cfg.write_text('ip = "127.0.0.1"\nport = "x"\n')
    code, _, err = run_rws("--config", str(cfg), cwd=tmp_path)
    assert code != 0
    assert re.search(re.escape(str(cfg)) + r":2:\d+: port: expected an integer", err), err


def test_config_errors_are_reported_all_at_once(tmp_path):
    cfg = tmp_path / "bad.toml"
    cfg.write_text('ip = "127.0.0.1"\nprot = 0\nthread_count = "two"\ndirectory_listing = 3\n')
    code, _, err = run_rws("--config", str(cfg), cwd=tmp_path)
    assert code != 0
    assert f"{cfg}:2:" in err and f"{cfg}:3:" in err and f"{cfg}:4:" in err, err


def test_config_syntax_error(tmp_path):
    cfg = tmp_path / "broken.toml"
    cfg.write_text('ip = "127.0.0.1"\nport = = 3\n')
    code, _, err = run_rws("--config", str(cfg), cwd=tmp_path)
    assert code != 0
    assert re.search(re.escape(str(cfg)) + r":2:\d+: \S", err), err


def test_config_section_of_a_later_capability_is_refused(tmp_path):
    cfg = tmp_path / "acme.toml"
    cfg.write_text('ip = "127.0.0.1"\nport = 0\n\n[acme]\nemail = "a@example.com"\n')
    code, _, err = run_rws("--config", str(cfg), cwd=tmp_path)
    assert code != 0
    assert "[acme] is not supported" in err, err
    assert f"{cfg}:4:" in err, err
    assert "listening on" not in err


def test_config_deprecated_alias_is_accepted_with_a_warning(servers, root, tmp_path, curl):
    cfg = tmp_path / "alias.toml"
    cfg.write_text(f'ip = "127.0.0.1"\nport = 0\nthread_count = 1\nroot = "{root}"\n'
                   f'request-allocation-size-in-bytes = 32768\n')
    server = servers([rws_bin(), "--config", str(cfg)], cwd=str(tmp_path))
    assert "deprecated" in server.stderr
    assert "request_allocation_size_in_bytes" in server.stderr
    assert f"{cfg}:5:" in server.stderr
    status, _, body = curl.run(server.url("/hello.txt"))
    assert (status, body) == (200, b"hello world\n")


def test_config_flag_with_a_missing_file(tmp_path):
    code, _, err = run_rws("--ip", "127.0.0.1", "--port", "0", "--config", "missing.toml",
                           cwd=tmp_path)
    assert code != 0
    assert "missing.toml" in err
    assert "listening on" not in err


# --- precedence: CLI > file > environment > default ---------------------------------------------

def listing_status(server, curl):
    status, _, body = curl.run(server.url("/sub/"))
    if status == 200:
        assert b"listed-file.txt" in body
    return status


def test_precedence_of_directory_listing(rws, root, tmp_path, curl):
    cfg = tmp_path / "listing.toml"
    cfg.write_text("directory_listing = true\n")
    env_off = {"RWS_CONFIG_DIRECTORY_LISTING": "false"}

    assert listing_status(rws("--root", str(root)), curl) == 200  # default: on
    assert listing_status(rws("--root", str(root), env=env_off), curl) == 403  # env
    assert listing_status(rws("--root", str(root), "--config", str(cfg), env=env_off),
                          curl) == 200  # file > env
    assert listing_status(rws("--root", str(root), "--config", str(cfg),
                              "--directory-listing=false", env=env_off), curl) == 403  # CLI


def access_line(server, curl):
    curl.run(server.url("/hello.txt"))
    wait_until(lambda: "/hello.txt" in server.stdout, what="the access log line")
    return [line for line in server.stdout.splitlines() if "/hello.txt" in line][0]


def is_json(line):
    try:
        return json.loads(line)["target"] == "/hello.txt"
    except ValueError:
        return False


def test_precedence_of_log_format(rws, root, tmp_path, curl):
    cfg = tmp_path / "log.toml"
    cfg.write_text('[server]\nlog_format = "combined"\n')
    env_json = {"RWS_CONFIG_LOG_FORMAT": "json"}

    assert '"GET /hello.txt HTTP/1.1" 200' in access_line(rws("--root", str(root)), curl)
    assert is_json(access_line(rws("--root", str(root), env=env_json), curl))
    line = access_line(rws("--root", str(root), "--config", str(cfg), env=env_json), curl)
    assert '"GET /hello.txt HTTP/1.1" 200' in line and not is_json(line)
    assert is_json(access_line(rws("--root", str(root), "--config", str(cfg),
                                   "--log-format", "json"), curl))


# --- addresses and workers ----------------------------------------------------------------------

def require_ipv6_loopback():
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    try:
        s.bind(("::1", 0))
    except OSError as e:
        pytest.fail(f"this machine has no IPv6 loopback (::1): {e}; the IPv6 tests need one")
    finally:
        s.close()


def raw_get(family, host, port, path="/hello.txt"):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect((host, port))
    s.sendall(get(path, headers=[("Connection", "close")]))
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    return data


def test_ipv6_loopback(servers, root, curl):
    require_ipv6_loopback()
    server = servers([rws_bin(), "--ip", "::1", "--port", "0", "-t", "1", "--root", str(root)])
    assert server.host == "::1"
    assert "listening on http://[::1]:" in server.stderr
    status, _, body = curl.run("-g", f"http://[::1]:{server.port}/hello.txt")
    assert (status, body) == (200, b"hello world\n")
    raw = raw_get(socket.AF_INET6, "::1", server.port)
    assert raw.startswith(b"HTTP/1.1 200") and raw.endswith(b"hello world\n")
    wait_until(lambda: "::1 - - [" in server.stdout, what="an access log line naming the v6 peer")


def test_ipv6_any_accepts_ipv4_and_ipv6(servers, root, curl):
    require_ipv6_loopback()
    server = servers([rws_bin(), "--ip", "::", "--port", "0", "-t", "1", "--root", str(root)])
    v6 = raw_get(socket.AF_INET6, "::1", server.port)
    assert v6.startswith(b"HTTP/1.1 200") and v6.endswith(b"hello world\n")
    v4 = raw_get(socket.AF_INET, "127.0.0.1", server.port)
    assert v4.startswith(b"HTTP/1.1 200") and v4.endswith(b"hello world\n")
    status, _, body = curl.run(f"http://127.0.0.1:{server.port}/hello.txt")
    assert (status, body) == (200, b"hello world\n")


def test_two_workers_serve_many_concurrent_connections(servers, root):
    for i in range(10):
        (root / f"f{i}.txt").write_bytes(f"file number {i}\n".encode() * (i * 500 + 1))
    server = servers([rws_bin(), "--ip", "127.0.0.1", "--port", "0", "-t", "2",
                      "--root", str(root)])
    assert "with 2 worker(s)" in server.stderr
    conns = [server.connect() for _ in range(50)]  # all open at once

    def client(index):
        conn = conns[index]
        for k in range(4):
            i = (index + k) % 10
            conn.send(get(f"/f{i}.txt"))
            resp = conn.read_response()
            assert resp.status == 200
            assert resp.body == (root / f"f{i}.txt").read_bytes()
        # and a pipelined pair
        conn.send(get("/f1.txt") + get("/f2.txt"))
        assert conn.read_response().body == (root / "f1.txt").read_bytes()
        assert conn.read_response().body == (root / "f2.txt").read_bytes()
        conn.close()
        return True

    with concurrent.futures.ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(client, range(50)))
    assert results == [True] * 50
    wait_until(lambda: server.stdout.count('" 200 ') >= 300, what="300 access log lines")
