"""The rate_limit middleware through the real binary: 429 with Retry-After and the RateLimit-*
fields in front of a real backend, client keys (address, header, the address as the fallback),
one limit shared by all worker threads, limiter state across reloads, the static file mode, and
configuration errors (store = "redis" itself is tested with a real Redis in
test_rate_limit_redis.py).

Backends are test/support/backend.py instances (see test_gateway.py); a backend counts the
requests that reached it by tag, so a test sees that refused requests never left rws.
Windows are long (an hour or a day) so that no token comes back while a test runs: every count
below is exact. Synchronisation is by observable events with deadlines, never by sleeping."""

import re
import signal
import subprocess
import threading

import pytest

from conftest import RWS_BIN, Process, wait_until
from test_gateway import call, q, reloads, upstream
from test_gateway import backends, gateway  # noqa: F401  (fixtures)

LIMITED_BODY = re.compile(rb"Too Many Requests: the rate limit is exceeded; retry in (\d+) s\n")


def proxy(name, path, rate_limit, upstream_name="app"):
    return (f"[[route]]\nname = {q(name)}\nmatch = {{ path = {q(path)} }}\n"
            f"action = {{ type = \"proxy\", upstream = {q(upstream_name)} }}\n"
            f"middleware = {{ rate_limit = {rate_limit} }}\n\n")


def get(server, path, headers=()):
    return call(server, "GET", path, headers=headers)


def tagged(server, tag, headers=()):
    return get(server, f"/count?tag={tag}", headers=headers)


def assert_quota(resp, limit, remaining):
    assert resp.header("ratelimit-limit") == str(limit), resp
    assert resp.header("ratelimit-remaining") == str(remaining), resp
    assert 1 <= int(resp.header("ratelimit-reset")) <= 3600, resp


# --- the answer ---------------------------------------------------------------------------------

def test_429_past_the_limit_with_retry_after_and_quota_fields(gateway, backends):
    b = backends("app")
    server = gateway(upstream("app", [b.addr])
                     + proxy("api", "/*", "{ max_requests = 3, window_secs = 3600 }"))
    for remaining in (2, 1, 0):
        resp = tagged(server, "ok")
        assert resp.status == 200, resp
        assert_quota(resp, 3, remaining)
    # A token is earned every 1200 s; the bucket is full again 3600 s after the last admit.
    assert 3590 <= int(resp.header("ratelimit-reset")) <= 3600, resp

    resp = tagged(server, "over")
    assert resp.status == 429, resp
    retry = int(resp.header("retry-after"))
    assert 1190 <= retry <= 1200, resp
    m = LIMITED_BODY.fullmatch(resp.body)
    assert m and int(m.group(1)) == retry, resp
    assert_quota(resp, 3, 0)
    assert b.count("ok") == 3
    assert b.count("over") == 0, "a refused request must not reach the backend"


def test_burst_adds_to_the_limit(gateway, backends):
    b = backends("app")
    server = gateway(upstream("app", [b.addr])
                     + proxy("api", "/*", "{ max_requests = 2, window_secs = 3600, burst = 3 }"))
    statuses = [tagged(server, "t").status for _ in range(7)]
    assert statuses == [200] * 5 + [429] * 2
    assert b.count("t") == 5


def test_sliding_window(gateway, backends):
    b = backends("app")
    server = gateway(upstream("app", [b.addr])
                     + proxy("api", "/*", "{ max_requests = 4, window_secs = 86400, "
                             "algorithm = \"sliding_window\" }"))
    answers = [tagged(server, "t") for _ in range(6)]
    assert [r.status for r in answers] == [200] * 4 + [429] * 2
    assert [r.header("ratelimit-remaining") for r in answers] == ["3", "2", "1", "0", "0", "0"]
    assert int(answers[-1].header("retry-after")) >= 1
    assert b.count("t") == 4


# --- keys ---------------------------------------------------------------------------------------

def test_header_key_separates_clients_and_the_address_is_the_fallback(gateway, backends):
    b = backends("app")
    server = gateway(upstream("app", [b.addr])
                     + proxy("api", "/*", "{ max_requests = 2, window_secs = 3600, "
                             "key = \"header:X-Client\" }"))
    alice = [("X-Client", "alice")]
    bob = [("X-Client", "bob")]
    assert [tagged(server, "alice", alice).status for _ in range(3)] == [200, 200, 429]
    assert [tagged(server, "bob", bob).status for _ in range(3)] == [200, 200, 429]
    # Without the header the client's address counts: leaving it out does not escape the limit.
    assert [tagged(server, "anon").status for _ in range(3)] == [200, 200, 429]
    # ...and the address is its own key, not the header value "127.0.0.1".
    as_ip = [("X-Client", "127.0.0.1")]
    assert [tagged(server, "as-ip", as_ip).status for _ in range(3)] == [200, 200, 429]
    assert [b.count(t) for t in ("alice", "bob", "anon", "as-ip")] == [2, 2, 2, 2]


def test_routes_have_their_own_limits(gateway, backends):
    b = backends("app")
    server = gateway("[middleware]\nrate_limit = { max_requests = 2, window_secs = 3600 }\n\n"
                     + upstream("app", [b.addr])
                     + proxy("tight", "/tight/*", "{ max_requests = 1, window_secs = 3600 }")
                     + "[[route]]\nname = \"rest\"\nmatch = { path = \"/rest/*\" }\n"
                     "action = { type = \"proxy\", upstream = \"app\" }\n")
    assert [get(server, "/tight/a").status for _ in range(2)] == [200, 429]
    # The default applies to the other route, with its own count.
    assert [get(server, "/rest/a").status for _ in range(3)] == [200, 200, 429]
    # And to requests no route matches.
    no_route = [get(server, "/nowhere") for _ in range(3)]
    assert [r.status for r in no_route] == [404, 404, 429], no_route
    assert no_route[0].header("ratelimit-limit") == "2"


# --- threads ------------------------------------------------------------------------------------

@pytest.mark.parametrize("algorithm", ["token_bucket", "sliding_window"])
def test_the_limit_is_shared_by_all_workers(gateway, backends, algorithm):
    b = backends("app")
    limit = 40
    server = gateway(upstream("app", [b.addr])
                     + proxy("api", "/*", f"{{ max_requests = {limit}, window_secs = 86400, "
                             f"algorithm = \"{algorithm}\" }}"), threads=2)
    # Every request on its own connection: SO_REUSEPORT spreads them over both workers, so
    # per-worker limits would admit up to twice the limit.
    clients, per_client = 16, 10
    statuses = []
    lock = threading.Lock()
    errors = []

    def client():
        try:
            for _ in range(per_client):
                status = tagged(server, "t").status
                with lock:
                    statuses.append(status)
        except Exception as e:  # noqa: BLE001 (reported below)
            with lock:
                errors.append(repr(e))

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    assert len(statuses) == clients * per_client
    assert statuses.count(200) == limit, statuses
    assert statuses.count(429) == clients * per_client - limit
    assert b.count("t") == limit


# --- reload -------------------------------------------------------------------------------------

def test_counts_survive_a_reload_that_keeps_the_settings(gateway, backends):
    b = backends("app")
    limited = proxy("api", "/api/*", "{ max_requests = 2, window_secs = 3600 }")
    base = upstream("app", [b.addr]) + limited
    server = gateway(base)
    assert [get(server, "/api/x").status for _ in range(3)] == [200, 200, 429]

    # Another route added, this one's settings unchanged: still limited.
    server.config_path.write_text(base + "[[route]]\nname = \"new\"\n"
                                  "match = { path = \"/new\" }\n"
                                  "action = { type = \"respond\", body = \"new\" }\n")
    server.signal(signal.SIGHUP)
    wait_until(lambda: reloads(server) == 1, what="the first reload")
    assert get(server, "/new").status == 200
    assert get(server, "/api/x").status == 429

    # Changed settings start afresh.
    server.config_path.write_text(upstream("app", [b.addr])
                                  + proxy("api", "/api/*", "{ max_requests = 3, "
                                          "window_secs = 3600 }"))
    server.signal(signal.SIGHUP)
    wait_until(lambda: reloads(server) == 2, what="the second reload")
    assert [get(server, "/api/x").status for _ in range(4)] == [200, 200, 200, 429]

    # A failed reload keeps the running limiter and its counts.
    server.config_path.write_text(upstream("app", [b.addr])
                                  + proxy("api", "/api/*", "{ max_requests = 0, "
                                          "window_secs = 3600 }"))
    server.signal(signal.SIGHUP)
    wait_until(lambda: "reload failed" in server.stderr, what="the failed reload")
    assert "max_requests must be an integer between 1 and" in server.stderr
    assert get(server, "/api/x").status == 429


# --- static file mode ---------------------------------------------------------------------------

def test_static_mode(rws, tmp_path):
    root = tmp_path / "site"
    root.mkdir()
    (root / "a.txt").write_text("a\n")
    config = tmp_path / "static.toml"
    config.write_text(f"root = {q(str(root))}\n\n"
                      "[middleware]\nrate_limit = { max_requests = 2, window_secs = 3600 }\n")
    server = rws("--config", str(config))
    answers = [get(server, "/a.txt") for _ in range(3)]
    assert [r.status for r in answers] == [200, 200, 429], answers
    assert answers[0].body == b"a\n"
    assert answers[1].header("ratelimit-remaining") == "0"
    assert int(answers[2].header("retry-after")) >= 1


# --- configuration errors -----------------------------------------------------------------------

@pytest.mark.parametrize("value,message", [
    ("{ max_requests = 5, window_secs = 1, store = \"memcached\" }",
     r"3:\d+: .*store must be \"memory\" or \"redis\", not 'memcached'"),
    ("{ max_requests = 5, window_secs = 1, store = \"redis\" }",
     r"3:\d+: .*store = \"redis\" needs redis_url"),
    ("{ max_requests = 0, window_secs = 1 }",
     r"3:\d+: .*max_requests must be an integer between 1 and"),
    ("{ max_requests = 5, window_secs = 0 }",
     r"3:\d+: .*window_secs must be an integer between 1 and"),
    ("{ max_requests = 5, window_secs = 1, key = \"cookie:id\" }",
     r"3:\d+: .*key must be \"ip\" or \"header:NAME\""),
])
def test_configuration_errors(tmp_path, value, message):
    if not RWS_BIN:
        pytest.fail("RWS_BIN is not set: run the integration tests through ctest")
    path = tmp_path / "bad.toml"
    path.write_text("[middleware]\ntimeout_ms = 1000\n"
                    f"rate_limit = {value}\n\n"
                    "[[route]]\nname = \"r\"\naction = { type = \"respond\", body = \"ok\" }\n")
    where = re.compile(re.escape(str(path)) + ":" + message)
    proc = Process([RWS_BIN, "--ip", "127.0.0.1", "--port", "0", "--thread-count", "1",
                    "--config", str(path)])
    try:
        code = proc.wait_exit(timeout=30)
    finally:
        proc.stop()
    assert code != 0, proc.stderr
    assert where.search(proc.stderr), proc.stderr
    assert "listening on" not in proc.stderr

    out = subprocess.run([RWS_BIN, "check-config", str(path)], capture_output=True, text=True,
                         timeout=30)
    assert out.returncode == 1, out
    assert where.search(out.stderr), out.stderr
