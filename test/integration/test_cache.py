"""The cache middleware through the real binary in front of a real test/support/backend.py:
a stored response is served without reaching the backend (X-Cache, Age), streamed (chunked)
bodies are stored as they pass, uncacheable responses always reach the backend, Vary selects a
variant, and a no-cache entry is revalidated with If-None-Match (304 → the stored body)."""

import urllib.parse

from test_gateway import backends, call, gateway, proxy_route, upstream  # noqa: F401 (fixtures)


def cached_gateway(gateway, backend, cache="{ }", compress=""):
    extra = f"[route.middleware]\ncache = {cache}\n{compress}"
    return gateway(upstream("app", [backend.addr]) + proxy_route("app", extra=extra))


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
