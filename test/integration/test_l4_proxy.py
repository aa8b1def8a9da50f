"""[[tcp_proxy]] and [[udp_proxy]] through the real binary: a real redis-server reached with
redis-cli through a tcp_proxy (round trip, a 5 MB value, a dead backend next to a live one),
half-close and idle timeout against a python echo backend, and a python UDP echo server behind a
udp_proxy (per-client answers, late replies dropped, session expiry). A file with only L4
listeners runs them next to the normal HTTP port. Listeners bind port 0; the real port is read
from the "tcp_proxy NAME listening on IP:PORT" log line. Every redis-server and echo backend is
started on a free loopback port and stopped by PID (or closed) at the end."""

import hashlib
import re
import signal
import socket
import subprocess
import threading
import time

import pytest

from conftest import RWS_BIN, Process, require_tool, wait_until
from test_rate_limit_redis import free_port, redis_server  # noqa: F401 (fixture)


def l4_port(server, kind, name):
    """The port `kind` ("tcp_proxy"/"udp_proxy") NAME logged that it listens on."""
    pattern = re.compile(rf"{kind} {re.escape(name)} listening on 127\.0\.0\.1:(\d+)")
    m = wait_until(lambda: pattern.search(server.stderr), what=f"{kind} {name} to listen")
    return int(m.group(1))


@pytest.fixture
def rws_l4(servers, tmp_path):
    """Factory: rws_l4(toml) → the server (HTTP on 127.0.0.1:0) running that L4 configuration."""
    if not RWS_BIN:
        pytest.fail("RWS_BIN is not set: run the integration tests through ctest")

    def start(body):
        cfg = tmp_path / "rws.config.toml"
        cfg.write_text('ip = "127.0.0.1"\nport = 0\nthread_count = 1\n' + body)
        return servers([RWS_BIN, "--config", str(cfg)], cwd=tmp_path)

    return start


def tcp_proxy(name, backends, **extra):
    keys = "".join(f"{k} = {v}\n" for k, v in extra.items())
    listed = ", ".join(f'"{b}"' for b in backends)
    return (f'\n[[tcp_proxy]]\nname = "{name}"\nlisten = "127.0.0.1:0"\n'
            f"backends = [{listed}]\n{keys}")


def redis_cli(port, *args, stdin=None):
    cli = require_tool("redis-cli")
    out = subprocess.run([cli, "-h", "127.0.0.1", "-p", str(port), *args], input=stdin,
                         capture_output=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout


class EchoServer:
    """A TCP backend that echoes what it reads and, at EOF from the client, finishes sending
    and closes. Records how many connections it accepted."""

    def __init__(self):
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.accepted = 0
        self.peer_closed = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.accepted += 1
            threading.Thread(target=self._echo, args=(conn,), daemon=True).start()

    def _echo(self, conn):
        with conn:
            while True:
                try:
                    data = conn.recv(65536)
                except OSError:
                    break
                if not data:
                    break
                conn.sendall(data)
        self.peer_closed.set()

    def close(self):
        self.listener.close()


@pytest.fixture
def echo_server():
    servers = []

    def start():
        s = EchoServer()
        servers.append(s)
        return s

    yield start
    for s in servers:
        s.close()


def connect(port, timeout=10.0):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    return s


def read_to_eof(sock):
    chunks = []
    while True:
        data = sock.recv(65536)
        if not data:
            return b"".join(chunks)
        chunks.append(data)


# ----- TCP ------------------------------------------------------------------------------------

def test_redis_round_trip_and_large_value(rws_l4, redis_server):  # noqa: F811
    redis = redis_server()
    server = rws_l4(tcp_proxy("redis", [f"127.0.0.1:{redis.port}"]))
    port = l4_port(server, "tcp_proxy", "redis")

    assert redis_cli(port, "SET", "greeting", "hello") == b"OK\n"
    assert redis_cli(port, "GET", "greeting") == b"hello\n"
    assert redis.call(["GET", "greeting"]) == [b"hello"]  # it really went to this Redis

    value = hashlib.sha256(b"seed").hexdigest().encode() * (5 * 1024 * 1024 // 64)
    assert redis_cli(port, "-x", "SET", "big", stdin=value) == b"OK\n"
    assert redis_cli(port, "STRLEN", "big") == f"{len(value)}\n".encode()
    got = redis_cli(port, "--raw", "GET", "big")
    assert got == value + b"\n"
    # The HTTP port runs too (the gateway with no routes).
    assert server.port > 0


def test_dead_backend_next_to_a_live_one(rws_l4, redis_server):  # noqa: F811
    redis = redis_server()
    dead = free_port()  # nothing listens there: connects are refused
    server = rws_l4(tcp_proxy("redis", [f"127.0.0.1:{dead}", f"127.0.0.1:{redis.port}"],
                              strategy='"round_robin"', connect_timeout_ms=2000))
    port = l4_port(server, "tcp_proxy", "redis")
    for i in range(6):
        assert redis_cli(port, "SET", f"k{i}", str(i)) == b"OK\n"
    assert redis.call(["GET", "k5"]) == [b"5"]
    # Round robin sent about half of the connections to the dead backend first.
    assert f"cannot connect to backend 127.0.0.1:{dead}" in server.stderr


def test_no_backend_reachable_closes_the_client(rws_l4):
    dead = free_port()
    server = rws_l4(tcp_proxy("none", [f"127.0.0.1:{dead}"]))
    port = l4_port(server, "tcp_proxy", "none")
    with connect(port) as s:
        assert read_to_eof(s) == b""
    wait_until(lambda: "no backend reachable" in server.stderr, what="the log line")


def test_half_close_keeps_the_other_direction(rws_l4, echo_server):
    echo = echo_server()
    server = rws_l4(tcp_proxy("echo", [f"127.0.0.1:{echo.port}"]))
    port = l4_port(server, "tcp_proxy", "echo")
    payload = bytes(range(256)) * (3 * 1024 * 1024 // 256)  # 3 MiB: many 64 KiB buffers
    with connect(port, timeout=30) as s:
        sender = threading.Thread(target=lambda: (s.sendall(payload),
                                                  s.shutdown(socket.SHUT_WR)))
        sender.start()
        got = read_to_eof(s)
        sender.join()
    assert len(got) == len(payload)
    assert got == payload
    # The backend saw the client's EOF (shutdown passed on) and closed its side.
    assert echo.peer_closed.wait(10)


def test_idle_timeout_closes_both_sides(rws_l4, echo_server):
    echo = echo_server()
    server = rws_l4(tcp_proxy("echo", [f"127.0.0.1:{echo.port}"], idle_timeout_secs=1))
    port = l4_port(server, "tcp_proxy", "echo")
    with connect(port) as s:
        s.sendall(b"ping")
        assert s.recv(4) == b"ping"
        # Nothing more is sent: the proxy closes the client and the backend connection.
        assert read_to_eof(s) == b""
    assert echo.peer_closed.wait(10)


def test_health_check_takes_a_dead_backend_out(rws_l4, echo_server):
    echo = echo_server()
    dead = free_port()
    server = rws_l4(tcp_proxy("echo", [f"127.0.0.1:{dead}", f"127.0.0.1:{echo.port}"]) +
                    "[tcp_proxy.health_check]\ninterval_secs = 1\ntimeout_ms = 500\n"
                    "unhealthy_threshold = 1\n")
    port = l4_port(server, "tcp_proxy", "echo")
    wait_until(lambda: f"backend 127.0.0.1:{dead} is unhealthy" in server.stderr,
               what="the probe to mark the dead backend down")
    for i in range(4):
        with connect(port) as s:
            s.sendall(b"%d" % i)
            assert s.recv(1) == b"%d" % i
    # No client connection tried the dead backend once the probe had taken it out.
    # (without the probe, round robin would have sent two of the four there first).
    assert f"cannot connect to backend 127.0.0.1:{dead}" not in server.stderr


def test_http_port_of_an_l4_only_file_serves_404(rws_l4, echo_server):
    echo = echo_server()
    server = rws_l4(tcp_proxy("echo", [f"127.0.0.1:{echo.port}"]))
    conn = server.connect()
    conn.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert conn.read_response().status == 404
    conn.send(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    assert conn.read_response().status == 200


def test_bind_alias_is_warned_and_busy_address_refused(rws_l4, servers, tmp_path, echo_server):
    echo = echo_server()
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    busy = taken.getsockname()[1]
    try:
        cfg = tmp_path / "busy.toml"
        cfg.write_text('ip = "127.0.0.1"\nport = 0\n\n[[tcp_proxy]]\nname = "x"\n'
                       f'bind = "127.0.0.1:{busy}"\nbackends = ["127.0.0.1:{echo.port}"]\n')
        p = Process([RWS_BIN, "--config", str(cfg)], cwd=tmp_path)
        try:
            assert p.wait_exit() != 0
            assert f"{cfg}:6:" in p.stderr and "'bind' is deprecated; use 'listen'" in p.stderr
            assert f"tcp_proxy x: cannot listen on 127.0.0.1:{busy}" in p.stderr, p.stderr
        finally:
            p.stop()
    finally:
        taken.close()


def test_config_errors_name_file_line_and_column(tmp_path):
    cfg = tmp_path / "bad.toml"
    cfg.write_text('[[tcp_proxy]]\nname = "a"\nlisten = "localhost:80"\nbackends = ["b:1"]\n'
                   'idel_timeout_secs = 3\n')
    out = subprocess.run([RWS_BIN, "--check-config", "--config", str(cfg)], capture_output=True,
                         timeout=30, cwd=tmp_path)
    err = out.stderr.decode()
    assert out.returncode == 1, err
    assert f"{cfg}:3:10: [[tcp_proxy]] 'a': listen: 'localhost' is not an IPv4 address" in err
    assert f"{cfg}:5:1: [[tcp_proxy]] 'a': unknown key 'idel_timeout_secs' (did you mean " \
           "'idle_timeout_secs'?)" in err


# ----- UDP ------------------------------------------------------------------------------------

class UdpEcho:
    """A UDP backend answering "<payload>|<source port>"; a payload starting with b"slow" is
    answered `slow_secs` late (a slow backend is the scenario), then `late_sent` is set."""

    def __init__(self, slow_secs=0.5):
        self.slow_secs = slow_secs
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.late_sent = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while True:
            try:
                data, addr = self.sock.recvfrom(65536)
            except OSError:
                return
            answer = data + b"|" + str(addr[1]).encode()
            if data.startswith(b"slow"):
                threading.Thread(target=self._later, args=(answer, addr), daemon=True).start()
            else:
                self.sock.sendto(answer, addr)

    def _later(self, answer, addr):
        time.sleep(self.slow_secs)
        self.sock.sendto(answer, addr)
        self.late_sent.set()

    def close(self):
        self.sock.close()


@pytest.fixture
def udp_echo():
    backends = []

    def start():
        b = UdpEcho()
        backends.append(b)
        return b

    yield start
    for b in backends:
        b.close()


def udp_proxy(name, backends, **extra):
    keys = "".join(f"{k} = {v}\n" for k, v in extra.items())
    listed = ", ".join(f'"{b}"' for b in backends)
    return (f'\n[[udp_proxy]]\nname = "{name}"\nlisten = "127.0.0.1:0"\n'
            f"backends = [{listed}]\n{keys}")


def udp_client():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(10)
    return s


def ask(sock, port, payload):
    sock.sendto(payload, ("127.0.0.1", port))
    data, _ = sock.recvfrom(65536)
    return data


def test_udp_round_trips_per_client(rws_l4, udp_echo):
    echo = udp_echo()
    server = rws_l4(udp_proxy("dns", [f"127.0.0.1:{echo.port}"]))
    port = l4_port(server, "udp_proxy", "dns")
    clients = [udp_client() for _ in range(4)]
    try:
        seen_ports = set()
        for round_ in range(3):
            # All clients send before any reads: each must get its own answer back.
            for i, c in enumerate(clients):
                c.sendto(f"q{i}-{round_}".encode(), ("127.0.0.1", port))
            for i, c in enumerate(clients):
                data, _ = c.recvfrom(65536)
                payload, _, source = data.partition(b"|")
                assert payload == f"q{i}-{round_}".encode()
                seen_ports.add((i, source))
        # One backend-side socket per client, stable across its datagrams.
        assert len(seen_ports) == len(clients)
        assert len({source for _, source in seen_ports}) == len(clients)
        # SIGTERM with sessions open: a clean exit (sanitizers would report otherwise).
        server.signal(signal.SIGTERM)
        assert server.wait_exit() == 0, server.stderr
    finally:
        for c in clients:
            c.close()


def test_udp_late_reply_is_dropped(rws_l4, udp_echo):
    echo = udp_echo()
    server = rws_l4('log_level = "debug"\n' +
                    udp_proxy("dns", [f"127.0.0.1:{echo.port}"], reply_timeout_ms=200))
    port = l4_port(server, "udp_proxy", "dns")
    c = udp_client()
    try:
        c.sendto(b"slow-1", ("127.0.0.1", port))  # answered 500 ms later: past the 200 ms
        assert echo.late_sent.wait(10)
        wait_until(lambda: "udp_proxy dns: dropped a late reply" in server.stderr,
                   what="the late reply to be dropped")
        # The next request is answered, and the late reply never reached the client first.
        assert ask(c, port, b"fast").partition(b"|")[0] == b"fast"
    finally:
        c.close()


def test_udp_session_expires(rws_l4, udp_echo):
    echo = udp_echo()
    server = rws_l4('log_level = "debug"\n' +
                    udp_proxy("dns", [f"127.0.0.1:{echo.port}"], session_timeout_secs=1))
    port = l4_port(server, "udp_proxy", "dns")
    c = udp_client()
    try:
        first = ask(c, port, b"a").partition(b"|")[2]
        assert ask(c, port, b"b").partition(b"|")[2] == first  # same session
        expired = re.compile(r"udp_proxy dns: session for 127\.0\.0\.1:\d+ expired")
        wait_until(lambda: expired.search(server.stderr), what="the session to expire")
        # A new session: a new socket towards the backend.
        assert ask(c, port, b"c").partition(b"|")[2] != first
    finally:
        c.close()
