"""The behaviour suites over HTTP/3 (issue 7: static files, handlers, gateway routes, the proxy
and middleware work over h3 unchanged).

Most tests here call the original test functions of test_static_files, test_gateway, test_auth,
test_rate_limit, test_gateway_middleware, test_compress, test_rewrite, test_cache and
test_forward_auth with a server whose connect() speaks HTTP/3 (h3client.H3Server, through
`rws-client --http3`): the same requests and the same assertions, over QUIC to rws serving TLS.
Where an original asserts something that is HTTP/1.1 or cleartext by definition (chunked
framing, a reason phrase, X-Forwarded-Proto "http", "Via: 1.1 rws", no HSTS) or needs a raw
connection or curl (which has no HTTP/3 here), the scenario is written out here with its HTTP/3
values, from the same configs and helpers. gtlsclient (ngtcp2's client, which nobody here
wrote) checks some of them independently. Servers that the scenarios share live for the whole
module; the originals that start their own gateway get one each (h3_gateway)."""

import hashlib
import json
import os

import pytest

import test_auth as auth
import test_cache as cache
import test_compress as compress
import test_forward_auth as forward_auth
import test_gateway as gw
import test_gateway_middleware as mw
import test_h3_upstream as h3_upstream
import test_rate_limit as rate
import test_rewrite as rewrite
import test_static_files as static
from conftest import RWS_BIN, RWS_TEST_SERVER, Process
from h3client import H3Server, gtls_request, h3_failure, h3_request, wait_h3
from test_gateway import backends, dead_port, gateway  # noqa: F401  (fixtures)
from test_tls import pki, tls_flags  # noqa: F401  (pki is a fixture)

MiB = 1 << 20
RWS_WS_TEST_SERVER = os.environ.get("RWS_WS_TEST_SERVER", "")


def same_cases(original):
    """The @pytest.mark.parametrize of an original test, for the test that reruns it."""
    (mark,) = [m for m in original.pytestmark if m.name == "parametrize"]
    return pytest.mark.parametrize(*mark.args, **mark.kwargs)


def fixture_body(fixture):
    """The function behind an original's @pytest.fixture (pytest keeps it as
    __pytest_wrapped__.obj), to build that fixture's server over HTTP/3 instead."""
    return fixture.__pytest_wrapped__.obj


def check_clean(process):
    assert process.alive(), f"exited with {process.proc.returncode}:\n{process.stderr}"
    assert "Sanitizer" not in process.stderr, process.stderr


@pytest.fixture(scope="module")
def ca(pki):
    return pki.path("ca.pem")


@pytest.fixture(scope="module")
def start_tls(pki, ca):
    """Factory for module-lived servers: start_tls(argv) → an H3Server once HTTP/3 is up;
    each is checked (alive, no sanitizer report) and stopped when the module ends."""
    started = []

    def start(argv, tls=True):
        """tls=False: `argv` names the certificate and key itself."""
        process = Process([*argv, *tls_flags(pki)] if tls else argv)
        started.append(process)
        process.wait_listening()
        assert process.scheme == "https"
        wait_h3(process)
        return H3Server(process, ca)

    yield start
    try:
        for process in started:
            check_clean(process)
    finally:
        for process in started:
            process.stop()


def rws_argv(*flags):
    if not RWS_BIN:
        pytest.fail("RWS_BIN is not set: run the integration tests through ctest")
    return [RWS_BIN, "--ip", "127.0.0.1", "--port", "0", "--thread-count", "1", *flags]


@pytest.fixture
def h3_gateway(gateway, ca, pki):  # noqa: F811
    """test_gateway's `gateway` factory with TLS, seen over HTTP/3: for the originals that
    start a gateway of their own."""
    def start(config, *flags, **kw):
        process = gateway(config, *flags, *tls_flags(pki), **kw)
        wait_h3(process)
        return H3Server(process, ca)
    return start


# --- static file server mode ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def static_site(tmp_path_factory):
    base = tmp_path_factory.mktemp("static")
    site = static.build_site(base / "root", base / "outside")
    (site / "big.bin").write_bytes(os.urandom(8 * MiB))
    return site


@pytest.fixture(scope="module")
def static_server(start_tls, static_site):
    return start_tls(rws_argv("--root", str(static_site)))


@same_cases(static.test_content_types)
def test_static_content_types(static_server, target, expected):
    static.test_content_types(static_server, target, expected)


def test_static_validators_and_conditional_requests(static_server):
    static.test_validators_on_200(static_server)
    static.test_if_none_match(static_server)
    static.test_if_modified_since(static_server)
    static.test_if_none_match_takes_precedence_over_if_modified_since(static_server)
    static.test_if_match_and_if_unmodified_since(static_server)


@same_cases(static.test_single_range)
def test_static_single_range(static_server, spec, first, last):
    static.test_single_range(static_server, spec, first, last)


def test_static_ranges(static_server):
    static.test_full_response_advertises_ranges(static_server)
    static.test_unsatisfiable_range(static_server)
    static.test_multiple_ranges(static_server)
    static.test_if_range(static_server)
    static.test_head_ignores_range(static_server)


def test_static_directories(static_server, static_site):
    static.test_directory_with_index_serves_it(static_server)
    static.test_directory_listing(static_server, static_site)
    static.test_listing_shows_only_what_can_be_served(static_server)
    static.test_dotfiles_are_hidden_but_well_known_is_served(static_server)
    static.test_file_with_trailing_slash_is_not_found(static_server)
    static.test_html_extension_fallback(static_server)
    static.test_plain_404_without_custom_page(static_server)


def test_static_directory_without_slash_redirects(static_server):
    """test_static_files.test_directory_without_slash_redirects without its curl step."""
    get = static.get
    resp = get(static_server, "/sub")
    assert (resp.status, resp.header("location")) == (301, "/sub/")
    resp = get(static_server, "/sub?a=1&b=two")
    assert (resp.status, resp.header("location")) == (301, "/sub/?a=1&b=two")
    for target, location, body in (("/my%20dir", "/my%20dir/", b"<p>my dir</p>\n"),
                                   ("/q%3Fdir", "/q%3Fdir/", b"<p>question dir</p>\n")):
        resp = get(static_server, target)
        assert (resp.status, resp.header("location")) == (301, location), target
        resp = get(static_server, location)
        assert (resp.status, resp.body) == (200, body), location


@same_cases(static.test_traversal_attempts_are_rejected)
def test_static_traversal_attempts_are_rejected(static_server, target):
    static.test_traversal_attempts_are_rejected(static_server, target)


@same_cases(static.test_nul_and_malformed_percent_encoding_are_rejected)
def test_static_malformed_targets_are_rejected(static_server, target):
    static.test_nul_and_malformed_percent_encoding_are_rejected(static_server, target)


def test_static_paths_and_symlinks(static_server):
    static.test_symlinks_inside_the_root_are_followed(static_server)
    static.test_symlinked_directory_inside_the_root(static_server)
    for target in ("/escape_abs.txt", "/escape_rel.txt", "/outdir/secret.txt"):
        resp = static.get(static_server, target)
        assert resp.status == 403, target
        assert static.SECRET not in resp.body
    for target in ("/sub/../hello.txt", "/./hello.txt", "/sub/%2e%2e/hello.txt", "/a+b.txt"):
        resp = static.get(static_server, target)
        assert resp.status == 200, (target, resp)


@same_cases(static.test_precompressed_negotiation)
def test_static_precompressed_negotiation(static_server, accept, variant):
    static.test_precompressed_negotiation(static_server, accept, variant)


@same_cases(static.test_head_matches_get)
def test_static_head_matches_get(static_server, target):
    static.test_head_matches_get(static_server, target)


@same_cases(static.test_unsupported_methods_on_files)
def test_static_unsupported_methods(static_server, method):
    static.test_unsupported_methods_on_files(static_server, method)


def test_static_options(static_server):
    resp = static.fetch(static_server, "OPTIONS", "/hello.txt", check_framing=True)
    assert (resp.status, resp.header("allow")) == (204, static.ALLOW)


def test_static_request_limits_as_over_http1(static_server):
    """test_http1's 414 and 431 (request line, field count, head size) over HTTP/3: the same
    limits, measured on the request line and fields the request would have over HTTP/1.1."""
    resp = static.get(static_server, "/" + "a" * (20 * 1024))
    assert resp.status == 414, resp
    assert "request line" in resp.body.decode().lower()
    assert static.get(static_server, "/" + "a" * (15 * 1024)).status == 404
    resp = static.get(static_server, "/hello.txt", [(f"X-F{i}", "v") for i in range(150)])
    assert resp.status == 431, resp
    assert "field" in resp.body.decode().lower()
    resp = static.get(static_server, "/hello.txt", [(f"X-F{i}", "v") for i in range(90)])
    assert (resp.status, resp.body) == (200, b"hello world\n")
    resp = static.get(static_server, "/hello.txt", [("X-Big", "b" * (70 * 1024))])
    assert resp.status == 431, resp
    assert "header" in resp.body.decode().lower()


@pytest.fixture
def h3_rws(rws, pki, ca):
    """conftest's `rws` factory (static file mode) with TLS, seen over HTTP/3: for the originals
    that start a server of their own. Each is checked (alive, no sanitizer report) at the end."""
    started = []

    def start(*flags, **kw):
        process = rws(*flags, *tls_flags(pki), **kw)
        started.append(process)
        wait_h3(process)
        return H3Server(process, ca)

    yield start
    for process in started:
        check_clean(process)


def test_static_mode_options_pages_and_middleware(h3_rws, static_site, tmp_path):
    def fresh(name):
        path = tmp_path / name
        path.mkdir()
        return path

    static.test_directory_listing_can_be_disabled(h3_rws, static_site)
    static.test_custom_404_page(h3_rws, fresh("custom404"))
    static.test_spa_fallback(h3_rws, fresh("spa"))
    mw.test_static_mode_applies_cors_and_middleware(h3_rws, fresh("cors"))
    rate.test_static_mode(h3_rws, fresh("rate"))
    site = fixture_body(compress.site)(fresh("compress"))
    compress.test_static_file_server_mode_with_middleware_defaults(h3_rws, site,
                                                                   fresh("compress-config"))


def test_static_large_file_by_both_clients(static_server, static_site, ca, tmp_path):
    data = (static_site / "big.bin").read_bytes()
    want = hashlib.sha256(data).hexdigest()
    copy = tmp_path / "copy.bin"
    resp = h3_request(static_server.port, "/big.bin", ca, output=copy, timeout=60)
    assert resp.status == 200
    assert resp.header("content-length") == str(len(data))
    assert hashlib.sha256(copy.read_bytes()).hexdigest() == want
    resp = h3_request(static_server.port, "/big.bin", ca,
                      headers=[("Range", "bytes=5000000-5999999")])
    assert (resp.status, resp.header("content-range")) == (
        206, f"bytes 5000000-5999999/{len(data)}")
    assert resp.body == data[5000000:6000000]
    other = gtls_request(static_server.port, f"https://localhost:{static_server.port}/big.bin")
    assert other.status == 200
    assert hashlib.sha256(other.body).hexdigest() == want
    small = gtls_request(static_server.port, f"https://localhost:{static_server.port}/hello.txt")
    assert (small.status, small.body) == (200, b"hello world\n")
    assert small.header("content-type") == "text/plain; charset=utf-8"
    assert small.header("content-length") == "12"
    assert gtls_request(static_server.port,
                        f"https://localhost:{static_server.port}/nope.txt").status == 404


# --- gateway: respond, redirect, static routes, route matching -----------------------------------

def test_gateway_respond_static_and_route_matching(h3_gateway, tmp_path):
    gw.test_respond_action_sets_status_body_content_type_and_headers(h3_gateway)
    gw.test_static_action_serves_a_tree_under_the_route_prefix(h3_gateway, tmp_path)
    gw.test_route_matching_first_match_wins_hosts_methods_headers_and_404(h3_gateway)


def test_gateway_redirect_expands_variables(h3_gateway):
    """test_gateway.test_redirect_action_expands_variables over HTTP/3, where $scheme is https
    (and without its reloads)."""
    server = h3_gateway("""
[[route]]
name = "to-https"
match = { path = "/old/*" }
action = { type = "redirect", location = "https://$host$request_uri" }

[[route]]
name = "moved"
match = { path = "/moved" }
[route.action]
type = "redirect"
location = "$scheme://new.test/p$path?from=$query&h=$host&cost=$5"
status = 308
""")
    r = gw.call(server, "GET", "/old/a/b?x=1&y=2", host="Site.Example:8080")
    assert r.status == 301
    assert r.header("location") == "https://site.example/old/a/b?x=1&y=2"
    r = gw.call(server, "POST", "/moved?k=v", host="h.test", body=b"x")
    assert r.status == 308
    assert r.header("location") == "https://new.test/p/moved?from=k=v&h=h.test&cost=$5"


def test_gateway_host_routing_seen_by_gtlsclient(h3_gateway):
    """The :authority of a client nobody here wrote selects the route."""
    server = h3_gateway("""
[[route]]
name = "wildcard-host"
match = { host = "*.example.com", path = "/h" }
action = { type = "respond", body = "wild" }

[[route]]
name = "exact-host"
match = { host = "example.com", path = "/h" }
action = { type = "respond", body = "apex" }

[[route]]
name = "moved"
match = { path = "/moved" }
action = { type = "redirect", location = "$scheme://$host/new", status = 307 }
""")
    port = server.port
    r = gtls_request(port, f"https://a.example.com:{port}/h")
    assert (r.status, r.body) == (200, b"wild")
    r = gtls_request(port, f"https://example.com:{port}/h")
    assert (r.status, r.body) == (200, b"apex")
    r = gtls_request(port, f"https://other.org:{port}/h")
    assert r.status == 404
    r = gtls_request(port, f"https://example.com:{port}/moved")
    assert (r.status, r.header("location")) == (307, "https://example.com/new")


# --- gateway: the proxy to test/support/backend.py -----------------------------------------------

@pytest.fixture
def proxied(h3_gateway, backends):  # noqa: F811
    return fixture_body(gw.proxied)(h3_gateway, backends)


def test_proxy_forwards_requests(proxied):
    gw.test_proxy_forwards_method_target_body_and_fields(proxied)
    gw.test_proxy_preserve_host_keeps_the_client_host(proxied)
    gw.test_proxy_strip_and_add_path_prefix(proxied)
    gw.test_proxy_removes_response_hop_by_hop_fields(proxied)


def test_proxy_adds_forwarding_fields(proxied):
    """test_gateway.test_proxy_adds_forwarding_fields with the values of a request that came
    over HTTP/3 on TLS: proto https, Via "3 rws"."""
    server, _ = proxied
    echo = gw.echo_of(gw.call(server, "GET", "/echo", host="front.test:8080", headers=[
        ("X-Forwarded-For", "203.0.113.7"), ("X-Forwarded-For", "198.51.100.1"),
        ("X-Forwarded-Proto", "http"), ("Forwarded", "for=192.0.2.60;proto=http"),
        ("Via", "1.0 fred")]))
    assert gw.fields(echo, "x-forwarded-for") == ["203.0.113.7, 198.51.100.1, 127.0.0.1"]
    assert gw.fields(echo, "x-forwarded-proto") == ["https"], "the proto rws saw"
    assert gw.fields(echo, "x-forwarded-host") == ["front.test:8080"]
    assert gw.fields(echo, "forwarded") == [
        'for=192.0.2.60;proto=http, for=127.0.0.1;proto=https;host="front.test:8080"']
    assert gw.fields(echo, "via") == ["1.0 fred, 3 rws"]
    echo = gw.echo_of(gw.call(server, "GET", "/echo", host="plain.test"))
    assert gw.fields(echo, "x-forwarded-for") == ["127.0.0.1"]
    assert gw.fields(echo, "forwarded") == ["for=127.0.0.1;proto=https;host=plain.test"]
    assert gw.fields(echo, "via") == ["3 rws"]


def test_proxy_forwarding_seen_by_gtlsclient(proxied):
    server, b = proxied
    r = gtls_request(server.port, f"https://front.test:{server.port}/echo?tag=gtls")
    echo = gw.echo_of(r)
    assert r.header("x-backend-id") == "A"
    assert echo["target"] == "/echo?tag=gtls"
    assert gw.fields(echo, "x-forwarded-host") == [f"front.test:{server.port}"]
    assert gw.fields(echo, "x-forwarded-proto") == ["https"]
    assert gw.fields(echo, "via") == ["3 rws"]
    assert b.count("gtls") == 1


def test_proxy_large_download_upload_and_trailers(proxied, ca, tmp_path):
    server, _ = proxied
    size = 24 * MiB
    copy = tmp_path / "download.bin"
    resp = h3_request(server.port, f"/download?size={size}", ca, output=copy, timeout=120)
    assert (resp.status, resp.header("content-length")) == (200, str(size))
    assert copy.stat().st_size == size
    assert hashlib.sha256(copy.read_bytes()).hexdigest() == gw.backend_support.pattern_sha256(size)

    # A chunked download with trailers: HTTP/3 carries them in a trailing HEADERS frame.
    size = 300000
    resp = h3_request(server.port, f"/download?size={size}&chunked=1&trailers=1", ca,
                      headers=[("TE", "trailers")])
    assert resp.status == 200
    assert hashlib.sha256(resp.body).hexdigest() == gw.backend_support.pattern_sha256(size)
    trailers = {k.lower(): v for k, v in resp.trailers}
    assert trailers.get("x-pattern-sha256") == gw.backend_support.pattern_sha256(size), (
        resp.trailers)
    assert trailers.get("x-pattern-size") == str(size)

    body = os.urandom(6 * MiB)
    seen = gw.echo_of(gw.call(server, "POST", "/upload", body=body, timeout=60))
    assert seen["received"] == len(body)
    assert seen["sha256"] == hashlib.sha256(body).hexdigest()


def test_proxy_backend_failures(h3_gateway, backends, dead_port, ca):  # noqa: F811
    gw.test_all_backends_dead_is_502(h3_gateway, dead_port)
    gw.test_backend_reset_before_the_response_is_502(h3_gateway, backends)
    # A backend that stops mid-body: the client must not get a complete-looking response
    # (over HTTP/3 the stream is reset after the head), and rws keeps serving.
    b = backends("mid")
    server = h3_gateway(gw.simple_proxy_config([b.addr], upstream_extra="retries = 0"),
                        name="mid.toml")
    err = h3_failure(server.port, "/close-mid-body?size=100000&sent=5000", ca)
    assert "reset the stream during the response body (HTTP/3 error 0x102)" in err, err
    gw.assert_still_serving(server)


def test_proxy_failover_retries_and_timeouts(h3_gateway, backends, dead_port):  # noqa: F811
    gw.test_failover_skips_a_dead_backend(h3_gateway, backends, dead_port)
    gw.test_get_reset_before_the_response_is_retried_on_another_backend(h3_gateway, backends)
    gw.test_post_whose_body_was_sent_is_not_replayed(h3_gateway, backends)
    gw.test_read_timeout_without_a_response_head_is_504(h3_gateway, backends)
    gw.test_sequential_requests_reuse_one_upstream_connection(h3_gateway, backends)


def test_gateway_reload_swaps_the_route_table(h3_gateway, backends):  # noqa: F811
    gw.test_sighup_swaps_the_route_table(h3_gateway, backends)


# --- middleware ----------------------------------------------------------------------------------

@pytest.fixture
def auth_backend(backends):  # noqa: F811
    """test_auth's `backend`."""
    return backends("auth-backend")


def test_auth_basic_and_bearer(h3_gateway, auth_backend, tmp_path):
    auth.test_basic_each_hash_kind(h3_gateway, auth_backend, tmp_path)
    auth.test_bearer_token(h3_gateway, auth_backend)


def test_auth_jwt(h3_gateway, auth_backend, tmp_path):
    server = fixture_body(auth.jwt_gateway)(h3_gateway, auth_backend, tmp_path)
    auth.test_jwt_hs256_claims_header_reaches_the_backend_and_spoofing_is_removed(server)
    auth.test_jwt_rs256_public_key(server)


def test_rate_limit(h3_gateway, backends):  # noqa: F811
    rate.test_429_past_the_limit_with_retry_after_and_quota_fields(h3_gateway, backends)
    rate.test_header_key_separates_clients_and_the_address_is_the_fallback(h3_gateway, backends)


def test_cors_preflight_answered_by_rws(h3_gateway, backends):  # noqa: F811
    """test_gateway_middleware.test_cors_preflight_answered_by_rws, whose curl request is
    made here with the suite's preflight() helper."""
    b = backends("app")
    server = h3_gateway(gw.upstream("app", [b.addr])
                        + mw.proxy("api", "/api/*", middleware=mw.CORS_ROUTE))
    resp = mw.preflight(server, "/api/items", req_headers="x-custom", tag="preflight")
    assert (resp.status, resp.body) == (204, b""), resp
    assert resp.header("access-control-allow-origin") == mw.ORIGIN
    assert resp.header("access-control-allow-credentials") == "true"
    assert "put" in mw.tokens(resp.header("access-control-allow-methods"))
    assert "x-custom" in mw.tokens(resp.header("access-control-allow-headers"))
    assert resp.header("access-control-max-age") == "600"
    assert "origin" in mw.vary(resp)
    assert b.count("preflight") == 0
    mw.test_cors_actual_request_gets_allow_origin_and_vary(h3_gateway, backends)


@same_cases(mw.test_cors_preflight_refused)
def test_cors_preflight_refused(h3_gateway, backends,  # noqa: F811
                                origin, method, req_headers, why):
    mw.test_cors_preflight_refused(h3_gateway, backends, origin, method, req_headers, why)


def test_request_id_header_edits_and_body_limit(h3_gateway, backends):  # noqa: F811
    mw.test_request_id_generated_forwarded_and_kept(h3_gateway, backends)
    mw.test_headers_edit_proxied_responses(h3_gateway, backends)
    # test_gateway_middleware.test_max_body_size_content_length sends a head without its body,
    # which only a raw HTTP/1.1 connection can do: here the body goes along.
    b = backends("limited")
    server = h3_gateway(gw.upstream("app", [b.addr])
                        + mw.proxy("api", "/*", middleware="{ max_body_size = 1000 }"),
                        name="limited.toml")
    resp = mw.get(server, "/upload", method="POST", body=b"x" * 1001,
                  headers=[("X-Test-Tag", "big")])
    assert resp.status == 413, resp
    assert b.count("big") == 0
    resp = mw.get(server, "/echo", method="POST", body=b"x" * 1000,
                  headers=[("X-Test-Tag", "ok")])
    assert gw.echo_of(resp)["body_len"] == 1000
    assert b.count("ok") == 1


def test_ip_filter_trusted_proxies_and_timeout(h3_gateway, backends, sink):  # noqa: F811
    """The client address ip_filter and the access log see is the QUIC peer's."""
    mw.test_ip_filter_ipv4(h3_gateway, backends)
    mw.test_trusted_proxies_give_the_client_address(h3_gateway, backends)
    mw.test_timeout_answers_504_and_cancels_the_upstream_exchange(h3_gateway, backends, sink)
    mw.test_defaults_wrap_the_no_route_404(h3_gateway)


@pytest.fixture
def sink():
    """test_gateway_middleware's `sink`."""
    yield from fixture_body(mw.sink)()


@pytest.fixture
def auth_service():
    """test_forward_auth's `auth_service`."""
    yield from fixture_body(forward_auth.auth_service)()


def test_forward_auth(h3_gateway, backends, auth_service):  # noqa: F811
    """test_forward_auth.test_allowed_requests_reach_the_backend_with_copied_fields with the
    X-Forwarded-Proto of a request that came over HTTP/3 (https), then refusals unchanged."""
    b = backends("A")
    server = h3_gateway(forward_auth.config(b, auth_service.port), name="allowed.toml")
    r = gw.call(server, "GET", "/echo/x?y=1", host="front.test",
                headers=[("X-Token", "good"), ("X-User", "mallory")])
    echo = gw.echo_of(r)
    assert gw.fields(echo, "x-user") == ["alice"], "the service's value, not the client's"
    assert gw.fields(echo, "x-token") == ["good"]
    [(path, seen)] = auth_service.seen
    assert path == "/verify?realm=x"
    got = {k.lower(): v for k, v in seen}
    assert got["x-forwarded-method"] == "GET"
    assert got["x-forwarded-proto"] == "https"
    assert got["x-forwarded-host"] == "front.test"
    assert got["x-forwarded-uri"] == "/echo/x?y=1"
    assert got["x-forwarded-for"] == "127.0.0.1"
    auth_service.seen.clear()
    forward_auth.test_refused_requests_never_reach_the_backend(h3_gateway, backends,
                                                               auth_service)


def test_rate_limit_shared_by_workers(h3_gateway, backends):  # noqa: F811
    """Two workers: QUIC connections land on either (connection-ID routing), one limit. (One
    algorithm of the original's two: 160 requests each, and the sharing is the same.)"""
    rate.test_the_limit_is_shared_by_all_workers(h3_gateway, backends, "token_bucket")


def test_compress_gzip(h3_gateway, backends):  # noqa: F811
    """test_compress.test_proxied_json_is_compressed_with_the_negotiated_coding for gzip,
    without its HTTP/1.1 framing (chunked) assertion: no Content-Length either way."""
    backend = backends()
    server = h3_gateway(compress.proxy_config(backend))
    pad = "x" * 3000
    resp = gw.call(server, "GET", f"/echo?pad={pad}", headers=[("Accept-Encoding", "gzip")])
    assert resp.status == 200, resp
    assert resp.header("content-encoding") == "gzip"
    assert resp.header("vary") == "Accept-Encoding"
    assert resp.header("content-length") is None
    assert len(resp.body) < 1500
    echo = json.loads(compress.decode("gzip", resp.body))
    assert echo["query"] == f"pad={pad}"
    assert gw.fields(echo, "accept-encoding") == ["gzip"]


def test_compress_negotiation_and_exclusions(h3_gateway, backends, tmp_path):  # noqa: F811
    compress.test_qvalues_and_server_order_choose_the_coding(h3_gateway, backends)
    compress.test_responses_that_are_not_compressed(h3_gateway, backends)
    compress.test_head_carries_the_fields_of_get(h3_gateway, backends)
    site = fixture_body(compress.site)(tmp_path)
    compress.test_static_action_files_are_compressed(h3_gateway, site)


@pytest.fixture
def rewriting(h3_gateway, backends):  # noqa: F811
    return fixture_body(rewrite.rewriting)(h3_gateway, backends)


def test_rewrite_request(rewriting):
    rewrite.test_upstream_sees_rewritten_fields_and_path(rewriting)
    rewrite.test_unrewritten_route_is_untouched(rewriting)
    rewrite.test_regex_with_named_and_numbered_groups_sets_the_query(rewriting)
    rewrite.test_uri_set_keeps_the_query_and_rules_chain(rewriting)


def test_rewrite_response(h3_gateway, backends, tmp_path):  # noqa: F811
    """test_rewrite.test_client_sees_rewritten_status_fields_and_body without its reason
    phrase (HTTP/3 has none) and chunked framing (a length, when sent, is the rewritten body's);
    then originals that run unchanged."""
    b = backends("A")
    server = h3_gateway(gw.upstream("app", [b.addr])
                        + rewrite.route("resp", "/*", rewrite.proxy_to("app"),
                                        rewrite.RESPONSE_RULES), name="response-rules.toml")
    r = gw.call(server, "GET", "/echo?x=1")
    assert r.status == 299
    assert r.header("x-backend-id") is None
    assert r.header("x-served-by") == "rws"
    assert b'"id": "hidden-backend"' in r.body
    assert b'"id": "A"' not in r.body
    if r.header("content-length") is not None:  # HTTP/3 may go without one
        assert int(r.header("content-length")) == len(r.body)
    rewrite.test_body_replace_in_a_content_length_download(h3_gateway, backends)
    rewrite.test_static_route_serves_the_rewritten_path(h3_gateway, tmp_path)


def test_cache(h3_gateway, backends):  # noqa: F811
    cache.test_second_request_is_served_from_the_cache(h3_gateway, backends)
    cache.test_no_cache_entry_is_revalidated_with_a_304(h3_gateway, backends)
    cache.test_compressed_variants_are_keyed_by_accept_encoding(h3_gateway, backends)
    cache.test_concurrent_misses_make_one_backend_request(h3_gateway, backends)


def test_server_max_body_size(h3_gateway, gateway, backends, pki, ca):  # noqa: F811
    """The server's max_body_size (not the middleware's) over HTTP/3, as test_http1 checks it
    over HTTP/1.1: a declared length beyond it is 413 before the handler runs; a body without
    a length is 413 once past it. Such a body comes from an rws in front that forwards a
    chunked HTTP/1.1 upload to its h3:// backend."""
    origin = backends("origin")
    back = h3_gateway("max_body_size = 1000\n" + gw.simple_proxy_config([origin.addr]),
                      name="back.toml")
    resp = h3_request(back.port, "/upload?tag=declared", ca, method="POST", body=b"y" * 2000)
    assert resp.status == 413, resp
    assert origin.count("declared") == 0
    resp = h3_request(back.port, "/upload?tag=fits", ca, method="POST", body=b"y" * 1000)
    assert (resp.status, json.loads(resp.body)["received"]) == (200, 1000)

    front = gateway(h3_upstream.front_config(f"h3://localhost:{back.port}",
                                             h3_upstream.trusted(pki)), name="front.toml")
    chunked = [("Transfer-Encoding", "chunked")]

    def chunks(size):
        return b"".join(b"%x\r\n%s\r\n" % (len(p), p)
                        for p in [b"z" * 500] * (size // 500)) + b"0\r\n\r\n"
    resp = gw.call(front, "POST", "/upload?tag=streamed", headers=chunked, body=chunks(5000))
    assert resp.status == 413, resp
    assert b"request body larger than the server accepts" in resp.body
    resp = gw.call(front, "POST", "/upload?tag=small", headers=chunked, body=chunks(1000))
    assert (resp.status, json.loads(resp.body)["received"]) == (200, 1000)


# --- a handler of the server library (rws-test-server) -------------------------------------------

@pytest.fixture(scope="module")
def handler_server(start_tls):
    if not RWS_TEST_SERVER:
        pytest.fail("RWS_TEST_SERVER is not set: run the integration tests through ctest")
    return start_tls([RWS_TEST_SERVER])


def test_handler_reads_bodies_and_streams_answers(handler_server, ca):
    port = handler_server.port
    body = os.urandom(3 * MiB)
    resp = h3_request(port, "/echo", ca, method="POST", body=body, timeout=60)
    assert resp.status == 200
    assert resp.header("x-body-length") == str(len(body))
    assert resp.body == body
    resp = h3_request(port, "/echo", ca, method="PUT", body=b"")
    assert (resp.status, resp.header("x-body-length"), resp.body) == (200, "0", b"")
    resp = h3_request(port, "/stream?n=50", ca)
    assert resp.status == 200
    assert resp.header("content-length") is None
    assert resp.body == b"".join(b"chunk %d\n" % i for i in range(50))
    assert h3_request(port, "/throw", ca).status == 500
    assert h3_request(port, "/nothing", ca).status == 404


def test_handler_body_failure_resets_the_stream(handler_server, ca):
    """The body fails after two chunks: the client must not see a complete response (HTTP/1.1
    closes the connection before the last chunk; HTTP/3 resets the stream)."""
    err = h3_failure(handler_server.port, "/stream-fail", ca)
    assert "(HTTP/3 error 0x102)" in err, err  # H3_INTERNAL_ERROR from rws, not a timeout
    assert h3_request(handler_server.port, "/stream?n=2", ca).body == b"chunk 0\nchunk 1\n"


def test_handler_seen_by_gtlsclient(handler_server, tmp_path):
    upload = tmp_path / "body.bin"
    upload.write_bytes(os.urandom(MiB))
    port = handler_server.port
    r = gtls_request(port, f"https://localhost:{port}/echo", method="POST", body_file=upload)
    assert (r.status, r.header("x-body-length")) == (200, str(MiB))
    assert r.body == upload.read_bytes()
    r = gtls_request(port, f"https://localhost:{port}/stream?n=3")
    assert (r.status, r.body) == (200, b"chunk 0\nchunk 1\nchunk 2\n")


# --- an App (rws-ws-test-server's plain routes) ------------------------------------------------

@pytest.fixture(scope="module")
def app_server(start_tls, pki):
    if not RWS_WS_TEST_SERVER:
        pytest.fail("RWS_WS_TEST_SERVER is not set: run the integration tests through ctest")
    # Its TLS certificate and key come as positional arguments, after the idle timeout.
    cert, key = pki.server
    return start_tls([RWS_WS_TEST_SERVER, "0", "60000", cert, key], tls=False)


def test_app_routes(app_server):
    """App routes over HTTP/3 answer as test_websocket sees them over HTTP/1.1: a plain route, a
    WebSocket route asked without an upgrade (400), a method it does not take (405)."""
    resp = gw.call(app_server, "GET", "/stats")
    assert (resp.status, resp.body) == (200, b"flood_sent=0 collected=0 closed=0\n")
    assert resp.header("content-type") == "text/plain; charset=utf-8"
    head = gw.call(app_server, "HEAD", "/stats")
    assert (head.status, head.body, head.header("content-length")) == (
        200, b"", str(len(resp.body)))
    assert gw.call(app_server, "GET", "/echo").status == 400
    resp = gw.call(app_server, "POST", "/echo", body=b"")
    assert (resp.status, resp.header("allow")) == (405, "GET, HEAD, OPTIONS")
    assert gw.call(app_server, "GET", "/nothing").status == 404
