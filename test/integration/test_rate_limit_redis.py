"""rate_limit with store = "redis" through the real binary and a real redis-server: two rws
processes share one limit (exactly max_requests admitted across both, in turn and concurrently),
both algorithms, keys namespaced by route with an expiry, AUTH and SELECT from the URL, and the
failure behaviour: Redis stopped, paused past redis_timeout_ms, or refusing the password → 503
naming the problem (never an unlimited pass), then recovery once Redis is back.

Each test starts its own redis-server on a free loopback port in its own temp dir (no
persistence), waits for it by polling PING, and kills it by PID at the end. Windows are an hour,
so no token comes back while a test runs: every count below is exact. Synchronisation is by
observable events with deadlines, never by sleeping."""

import re
import signal
import socket
import subprocess
import threading

import pytest

from conftest import RWS_BIN, Process, require_tool, wait_until
from test_gateway import call, q, upstream
from test_gateway import backends, gateway  # noqa: F401  (fixtures)


# --- a minimal RESP client, to look inside Redis ------------------------------------------------

def _read_reply(f):
    line = f.readline()
    if not line.endswith(b"\r\n"):
        raise ConnectionError("connection closed by redis")
    kind, rest = line[:1], line[1:-2]
    if kind == b"+":
        return rest.decode()
    if kind == b"-":
        return RuntimeError(rest.decode())
    if kind == b":":
        return int(rest)
    if kind == b"$":
        n = int(rest)
        if n < 0:
            return None
        data = f.read(n + 2)
        return data[:-2]
    if kind == b"*":
        n = int(rest)
        return None if n < 0 else [_read_reply(f) for _ in range(n)]
    raise ValueError(f"bad RESP line {line!r}")


def redis_call(port, *commands, timeout=5.0):
    """Sends the commands (lists of str) on one connection; returns their replies."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        out = b""
        for args in commands:
            out += f"*{len(args)}\r\n".encode()
            for a in args:
                a = a.encode() if isinstance(a, str) else a
                out += f"${len(a)}\r\n".encode() + a + b"\r\n"
        s.sendall(out)
        f = s.makefile("rb")
        return [_read_reply(f) for _ in commands]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Redis:
    """A redis-server on 127.0.0.1:`port` (a free one by default), data in `directory`."""

    def __init__(self, directory, port=None, password=None):
        self.binary = require_tool("redis-server")
        self.directory = directory
        self.port = port or free_port()
        self.password = password
        self.proc = None

    def start(self):
        argv = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", str(self.directory),
                "--daemonize", "no"]
        if self.password:
            argv += ["--requirepass", self.password]
        self.proc = Process(argv)
        wait_until(self._pong, what=f"redis-server on port {self.port} to answer PING")
        return self

    def _pong(self):
        if self.proc.proc.poll() is not None:
            raise AssertionError(f"redis-server exited with {self.proc.proc.returncode}:\n"
                                 f"{self.proc.stdout}{self.proc.stderr}")
        try:
            cmds = ([["AUTH", self.password]] if self.password else []) + [["PING"]]
            return redis_call(self.port, *cmds, timeout=1.0)[-1] == "PONG"
        except OSError:
            return False

    def call(self, *commands):
        if self.password:
            commands = (["AUTH", self.password],) + commands
            return redis_call(self.port, *commands)[1:]
        return redis_call(self.port, *commands)

    def stop(self):
        if self.proc is not None:
            self.proc.stop()  # SIGKILL to this server's PID
            self.proc = None


@pytest.fixture
def redis_server(tmp_path):
    """Factory: redis_server(password=None, port=None) → a running Redis; each is killed by PID
    at the end."""
    started = []

    def start(password=None, port=None):
        directory = tmp_path / f"redis-{len(started)}"
        directory.mkdir()
        r = Redis(directory, port=port, password=password).start()
        started.append(r)
        return r

    yield start
    for r in started:
        if r.proc is not None and r.proc.alive():
            r.proc.proc.send_signal(signal.SIGCONT)  # a paused one must be able to die
        r.stop()


# --- helpers ------------------------------------------------------------------------------------

def limited_route(name, rate_limit, url):
    return (f"[[route]]\nname = {q(name)}\nmatch = {{ path = \"/*\" }}\n"
            f"action = {{ type = \"proxy\", upstream = \"app\" }}\n"
            f"[route.middleware]\nrequest_id = {{}}\n"
            f"rate_limit = {{ {rate_limit}, store = \"redis\", redis_url = {q(url)} }}\n\n")


def two_gateways(gateway, b, rate_limit, url, name="api"):
    config = upstream("app", [b.addr]) + limited_route(name, rate_limit, url)
    return [gateway(config, name=f"rws-{i}.toml", threads=2) for i in range(2)]


def tagged(server, tag, headers=()):
    return call(server, "GET", f"/count?tag={tag}", headers=headers)


# --- one limit across processes -----------------------------------------------------------------

def test_two_processes_share_one_token_bucket(gateway, backends, redis_server):
    r = redis_server()
    b = backends("app")
    one, two = two_gateways(gateway, b, "max_requests = 5, window_secs = 3600",
                            f"redis://127.0.0.1:{r.port}")
    answers = [tagged((one, two)[i % 2], "turn") for i in range(8)]
    assert [a.status for a in answers] == [200] * 5 + [429] * 3, answers
    # One quota, counted down across both processes.
    assert [a.header("ratelimit-remaining") for a in answers[:5]] == ["4", "3", "2", "1", "0"]
    for a in answers:
        assert a.header("ratelimit-limit") == "5", a
    # A token is earned every 720 s.
    assert 710 <= int(answers[5].header("retry-after")) <= 720, answers[5]
    assert b.count("turn") == 5

    # The key is namespaced by route and algorithm, and expires (when the bucket is full again).
    key = "rws:rl:api:tb:a127.0.0.1"
    ttl, = r.call(["PTTL", key])
    assert 3_500_000 < ttl <= 3_600_000, ttl


def test_concurrent_requests_through_two_processes_admit_exactly_the_limit(
        gateway, backends, redis_server):
    r = redis_server()
    b = backends("app")
    servers = two_gateways(gateway, b, "max_requests = 7, window_secs = 3600, key = "
                           "\"header:X-Client\"", f"redis://127.0.0.1:{r.port}")
    statuses = []
    lock = threading.Lock()

    def client(i):
        resp = tagged(servers[i % 2], "burst", headers=[("X-Client", "c1")])
        with lock:
            statuses.append(resp.status)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(statuses) == [200] * 7 + [429] * 17, statuses
    assert b.count("burst") == 7
    # Another client key has its own quota.
    assert tagged(servers[0], "other", headers=[("X-Client", "c2")]).status == 200


def test_sliding_window_is_shared_and_expires(gateway, backends, redis_server):
    r = redis_server()
    b = backends("app")
    one, two = two_gateways(gateway, b, "max_requests = 3, window_secs = 3600, "
                            "algorithm = \"sliding_window\"", f"redis://127.0.0.1:{r.port}",
                            name="slide")
    answers = [tagged((one, two)[i % 2], "sw") for i in range(5)]
    assert [a.status for a in answers] == [200, 200, 200, 429, 429], answers
    assert [a.header("ratelimit-remaining") for a in answers[:3]] == ["2", "1", "0"]
    # Windows are aligned on Redis's clock: the first admit comes a third into the next one.
    assert 1200 <= int(answers[3].header("retry-after")) <= 4800, answers[3]
    key = "rws:rl:slide:sw:a127.0.0.1"
    cur, ttl = r.call(["HGET", key, "cur"], ["PTTL", key])
    assert cur == b"3"
    assert 3_600_000 < ttl <= 7_200_000, ttl
    assert b.count("sw") == 3


def test_auth_and_database_from_the_url(gateway, backends, redis_server):
    r = redis_server(password="s3cret")
    b = backends("app")
    server = gateway(upstream("app", [b.addr])
                     + limited_route("db", "max_requests = 2, window_secs = 3600",
                                     f"redis://:s3cret@127.0.0.1:{r.port}/2"))
    assert [tagged(server, "db").status for _ in range(3)] == [200, 200, 429]
    key = "rws:rl:db:tb:a127.0.0.1"
    assert r.call(["SELECT", "2"], ["EXISTS", key]) == ["OK", 1]
    assert r.call(["EXISTS", key]) == [0]  # not in db 0


def test_wrong_password_is_503(gateway, backends, redis_server):
    r = redis_server(password="s3cret")
    b = backends("app")
    server = gateway(upstream("app", [b.addr])
                     + limited_route("api", "max_requests = 2, window_secs = 3600",
                                     f"redis://:wrong@127.0.0.1:{r.port}"))
    resp = tagged(server, "denied")
    assert resp.status == 503, resp
    assert b"refused AUTH" in resp.body, resp
    assert b"wrong" not in resp.body, resp
    assert b.count("denied") == 0


# --- failure: nothing passes unlimited ----------------------------------------------------------

def test_redis_stopped_gives_503_then_recovers(gateway, backends, redis_server):
    r = redis_server()
    b = backends("app")
    server = gateway(upstream("app", [b.addr])
                     + limited_route("api", "max_requests = 3, window_secs = 3600",
                                     f"redis://127.0.0.1:{r.port}"))
    assert tagged(server, "up").status == 200
    r.stop()

    for i in range(3):
        resp = tagged(server, "down", headers=[("X-Request-Id", f"req-down-{i}")])
        assert resp.status == 503, resp
        assert re.search(rb"Redis at 127\.0\.0\.1:\d+", resp.body), resp
        assert resp.header("x-request-id") == f"req-down-{i}", resp
    assert b.count("down") == 0, "no request may pass while Redis is down"
    wait_until(lambda: "req-down-2 refused with 503" in server.stderr,
               what="the warning naming the request id")
    assert re.search(r"rate_limit: request req-down-0 refused with 503: .*Redis", server.stderr)

    # Redis back on the same port (empty: the quota starts again): requests pass again.
    redis_server(port=r.port)
    resp = wait_until(lambda: (lambda a: a if a.status == 200 else None)(tagged(server, "back")),
                      what="a request to pass once Redis is back")
    assert resp.header("ratelimit-remaining") == "2", resp


def test_no_answer_within_redis_timeout_gives_503(gateway, backends, redis_server):
    r = redis_server()
    b = backends("app")
    server = gateway(upstream("app", [b.addr])
                     + limited_route("api", "max_requests = 3, window_secs = 3600, "
                                     "redis_timeout_ms = 100", f"redis://127.0.0.1:{r.port}"))
    assert tagged(server, "up").status == 200
    r.proc.signal(signal.SIGSTOP)
    try:
        resp = tagged(server, "paused")
        assert resp.status == 503, resp
        assert re.search(rb"did not answer within 100 ms", resp.body), resp
    finally:
        r.proc.signal(signal.SIGCONT)
    assert b.count("paused") == 0
    resp = wait_until(lambda: (lambda a: a if a.status == 200 else None)(tagged(server, "again")),
                      what="a request to pass once Redis answers again")
    # Redis may still run the command the paused request sent (the 503 then cost a token: the
    # error is on the side of limiting).
    assert resp.header("ratelimit-remaining") in ("0", "1"), resp


# --- configuration ------------------------------------------------------------------------------

@pytest.mark.parametrize("value,message", [
    ("store = \"redis\", redis_url = \"redis://127.0.0.1:99999\"",
     r"3:\d+: .*redis_url is not a valid .* the port must be a number from 1 to 65535"),
    ("redis_url = \"redis://127.0.0.1\"",
     r"3:\d+: .*redis_url applies to store = \"redis\" only"),
])
def test_configuration_errors(tmp_path, value, message):
    if not RWS_BIN:
        pytest.fail("RWS_BIN is not set: run the integration tests through ctest")
    path = tmp_path / "bad.toml"
    path.write_text("[middleware]\ntimeout_ms = 1000\n"
                    f"rate_limit = {{ max_requests = 5, window_secs = 1, {value} }}\n\n"
                    "[[route]]\nname = \"r\"\naction = { type = \"respond\", body = \"ok\" }\n")
    where = re.compile(re.escape(str(path)) + ":" + message)
    out = subprocess.run([RWS_BIN, "check-config", str(path)], capture_output=True, text=True,
                         timeout=30)
    assert out.returncode == 1, out
    assert where.search(out.stderr), out.stderr


# --- shutdown -----------------------------------------------------------------------------------

def test_shutdown_is_not_held_by_the_redis_connection(tmp_path, backends, redis_server):
    """Each worker keeps its Redis connection open between requests; a drain must close it, or
    the worker would wait out the whole drain period (30 s) for it."""
    if not RWS_BIN:
        pytest.fail("RWS_BIN is not set: run the integration tests through ctest")
    r = redis_server()
    b = backends("app")
    path = tmp_path / "rws.toml"
    path.write_text(upstream("app", [b.addr])
                    + limited_route("api", "max_requests = 5, window_secs = 3600",
                                    f"redis://127.0.0.1:{r.port}"))
    proc = Process([RWS_BIN, "--ip", "127.0.0.1", "--port", "0", "--thread-count", "2",
                    "--config", str(path)])
    try:
        proc.wait_listening()
        assert [tagged(proc, "x").status for _ in range(4)] == [200] * 4
        proc.signal(signal.SIGTERM)
        assert proc.wait_exit(timeout=10) == 0, proc.stderr
    finally:
        proc.stop()
    assert "Sanitizer" not in proc.stderr, proc.stderr
