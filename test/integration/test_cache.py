"""The cache middleware through the real binary in front of a real test/support/backend.py:
a stored response is served without reaching the backend (X-Cache, Age), streamed (chunked)
bodies are stored as they pass, uncacheable responses always reach the backend, Vary selects a
variant, a no-cache entry is revalidated with If-None-Match (304 → the stored body), concurrent
misses make one backend request (a slow backend, clients on two worker threads), and a reload
keeps a route's entries only while its name and cache settings stay."""

import signal
import threading
import urllib.parse

from conftest import wait_until
from test_gateway import backends, call, gateway, proxy_route, reloads, upstream  # noqa: F401


def cached_config(backend, cache="{ }", compress="", name=None):
    extra = f"[route.middleware]\ncache = {cache}\n{compress}"
    return upstream("app", [backend.addr]) + proxy_route("app", name=name, extra=extra)


def cached_gateway(gateway, backend, cache="{ }", compress="", threads=1):
    return gateway(cached_config(backend, cache, compress), threads=threads)


def target(tag, **params):
    return "/cacheable?" + urllib.parse.urlencode({"tag": tag, **params})


def test_second_request_is_served_from_the_cache(gateway, backends):
    b = backends()
    server = cached_gateway(gateway, b)
    path = target("hit", cc="max-age=60")
    first = call(server, "GET", path)
    assert first.status == 200 and first.body == b"hit 1", first
    assert first.header("X-Cache") == "MISS"
    second = call(server, "GET", path)
    assert second.status == 200 and second.body == b"hit 1", second
    assert second.header("X-Cache") == "HIT"
    assert second.header("Cache-Control") == "max-age=60"
    assert second.header("Age") is not None and int(second.header("Age")) >= 0
    head = call(server, "HEAD", path)
    assert head.status == 200 and head.header("X-Cache") == "HIT", head
    assert head.header("Content-Length") == "5", head
    assert b.count("hit") == 1
    # Another query is another key.
    assert call(server, "GET", target("hit", cc="max-age=60", x="1")).body == b"hit 2"
    assert b.count("hit") == 2


def test_streamed_body_is_stored_as_it_passes(gateway, backends):
    b = backends()
    server = cached_gateway(gateway, b)
    path = target("chunked", cc="max-age=60", chunked="1")
    assert call(server, "GET", path).body == b"chunked 1"
    hit = call(server, "GET", path)
    assert hit.body == b"chunked 1" and hit.header("X-Cache") == "HIT", hit
    assert b.count("chunked") == 1


def test_uncacheable_responses_always_reach_the_backend(gateway, backends):
    b = backends()
    server = cached_gateway(gateway, b)
    for i, cc in enumerate(["no-store", "private, max-age=60"]):
        tag = f"nostore{i}"
        assert call(server, "GET", target(tag, cc=cc)).body == f"{tag} 1".encode()
        again = call(server, "GET", target(tag, cc=cc))
        assert again.body == f"{tag} 2".encode() and again.header("X-Cache") == "MISS", again
    # No Cache-Control and no ttl_secs: nothing to store.
    call(server, "GET", target("nolife"))
    assert call(server, "GET", target("nolife")).body == b"nolife 2"
    # A request with Cache-Control: no-store bypasses the cache.
    call(server, "GET", target("bypass", cc="max-age=60"))
    r = call(server, "GET", target("bypass", cc="max-age=60"),
             headers=[("Cache-Control", "no-store")])
    assert r.body == b"bypass 2" and r.header("X-Cache") is None, r


def test_ttl_secs_and_vary_by(gateway, backends):
    b = backends()
    server = cached_gateway(gateway, b, cache='{ ttl_secs = 60, vary_by = ["X-Tenant"] }')
    path = target("tenant")
    assert call(server, "GET", path, headers=[("X-Tenant", "a")]).body == b"tenant 1"
    assert call(server, "GET", path, headers=[("X-Tenant", "b")]).body == b"tenant 2"
    hit = call(server, "GET", path, headers=[("X-Tenant", "a")])
    assert hit.body == b"tenant 1" and hit.header("X-Cache") == "HIT", hit
    assert b.count("tenant") == 2


def test_no_cache_entry_is_revalidated_with_a_304(gateway, backends):
    b = backends()
    server = cached_gateway(gateway, b)
    path = target("reval", cc="no-cache, max-age=60", etag='"v1"')
    first = call(server, "GET", path)
    assert first.body == b"reval 1" and first.header("ETag") == '"v1"', first
    # The backend answers 304 only to If-None-Match: "v1", which only the cache sends.
    second = call(server, "GET", path)
    assert second.status == 200, second
    assert second.body == b"reval 1", second
    assert second.header("X-Cache") == "REVALIDATED", second
    assert b.count("reval") == 2


def test_compressed_variants_are_keyed_by_accept_encoding(gateway, backends):
    # CONFIG.md's order puts cache outside compress: the cache stores what compress produced,
    # and compress's Vary: Accept-Encoding keeps the identity and gzip variants apart.
    b = backends()
    server = cached_gateway(gateway, b, compress="compress = { min_size = 1 }\n")
    path = target("gz", cc="max-age=60")
    gzip = [("Accept-Encoding", "gzip")]
    plain = call(server, "GET", path)
    assert plain.body == b"gz 1" and plain.header("Content-Encoding") is None, plain
    assert call(server, "GET", path).header("X-Cache") == "HIT"
    first_gzip = call(server, "GET", path, headers=gzip)
    assert first_gzip.header("X-Cache") == "MISS", first_gzip
    assert first_gzip.header("Content-Encoding") == "gzip", first_gzip
    hit = call(server, "GET", path, headers=gzip)
    assert hit.header("X-Cache") == "HIT" and hit.header("Content-Encoding") == "gzip", hit
    assert hit.body == first_gzip.body
    assert b.count("gz") == 2


def call_together(server, path, clients):
    """`clients` requests for `path`, each on its own connection, sent at the same moment."""
    barrier = threading.Barrier(clients)
    results = [None] * clients

    def one(i):
        barrier.wait()
        try:
            results[i] = call(server, "GET", path, timeout=30.0)
        except Exception as e:  # noqa: BLE001 (reported below)
            results[i] = e

    threads = [threading.Thread(target=one, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_concurrent_misses_make_one_backend_request(gateway, backends):
    # The backend takes a second to answer: all 20 requests arrive while the first is
    # upstream. Without collapsing, each of them would reach the backend.
    b = backends()
    server = cached_gateway(gateway, b, threads=2)
    path = target("herd", cc="max-age=60", delay_ms="1000")
    results = call_together(server, path, 20)
    for r in results:
        assert not isinstance(r, Exception), r
        assert r.status == 200 and r.body == b"herd 1", r
    assert b.count("herd") == 1
    assert sorted(r.header("X-Cache") for r in results) == ["HIT"] * 19 + ["MISS"]


def test_an_uncacheable_answer_releases_the_waiters_upstream(gateway, backends):
    # lock_timeout_ms is far above the clients' 30 s timeout: a waiter that were not released
    # when the leader's answer turns out uncacheable would fail the test.
    b = backends()
    server = cached_gateway(gateway, b, cache="{ lock_timeout_ms = 120000 }", threads=2)
    path = target("private", cc="private, max-age=60", delay_ms="500")
    results = call_together(server, path, 5)
    for r in results:
        assert not isinstance(r, Exception), r
        assert r.status == 200 and r.header("X-Cache") == "MISS", r
    assert sorted(r.body for r in results) == [f"private {i}".encode() for i in range(1, 6)]
    assert b.count("private") == 5


def test_a_waiter_past_lock_timeout_goes_upstream_and_stores_nothing(gateway, backends):
    b = backends()
    server = cached_gateway(gateway, b, cache="{ lock_timeout_ms = 200 }")
    path = target("late", cc="max-age=60", delay_ms="2000")
    leader = {}
    first = threading.Thread(target=lambda: leader.update(r=call(server, "GET", path)))
    first.start()
    wait_until(lambda: b.count("late") == 1, what="the first request to reach the backend")
    # This one waits 200 ms for the first, then goes to the backend itself; it reaches the
    # backend about 200 ms after the first, so its answer comes back last.
    second = call(server, "GET", path)
    first.join()
    assert leader["r"].body == b"late 1" and leader["r"].header("X-Cache") == "MISS"
    assert second.body == b"late 2" and second.header("X-Cache") == "MISS", second
    # Had the waiter stored its answer, it would have replaced the first one.
    hit = call(server, "GET", path)
    assert hit.body == b"late 1" and hit.header("X-Cache") == "HIT", hit
    assert b.count("late") == 2


def test_reload_keeps_the_cache_only_while_the_route_and_its_settings_stay(gateway, backends):
    b = backends()
    server = gateway(cached_config(b, name="catalog"))
    path = target("kept", cc="max-age=600")
    assert call(server, "GET", path).header("X-Cache") == "MISS"
    assert call(server, "GET", path).header("X-Cache") == "HIT"

    def reload(config, n):
        server.config_path.write_text(config)
        server.signal(signal.SIGHUP)
        wait_until(lambda: reloads(server) == n, what=f"reload {n} to be logged")

    # Same route name and cache settings (another route added): the entry is still there.
    reload(cached_config(b, name="catalog") + proxy_route("app", path="/other/*", name="other"),
           1)
    hit = call(server, "GET", path)
    assert hit.body == b"kept 1" and hit.header("X-Cache") == "HIT", hit
    # Changed cache settings: an empty cache.
    reload(cached_config(b, cache="{ max_entries = 500 }", name="catalog"), 2)
    miss = call(server, "GET", path)
    assert miss.body == b"kept 2" and miss.header("X-Cache") == "MISS", miss
    assert call(server, "GET", path).header("X-Cache") == "HIT"
    # A renamed route: an empty cache too.
    reload(cached_config(b, cache="{ max_entries = 500 }", name="catalogue"), 3)
    assert call(server, "GET", path).body == b"kept 3"
    assert b.count("kept") == 3
