"""The behaviour suites over HTTP/3 (issue 7: static files, handlers, gateway routes, the proxy
and middleware work over h3 unchanged).

Most tests here call the original test functions of test_static_files, test_gateway, test_auth,
test_rate_limit, test_gateway_middleware, test_compress and test_rewrite with a server whose
connect() speaks HTTP/3 (h3client.H3Server, through `rws-client --http3`): the same requests and
the same assertions, over QUIC to rws serving TLS. Where an original asserts something that is
HTTP/1.1 by definition (chunked framing, X-Forwarded-Proto "http", "Via: 1.1 rws") or uses curl
(which has no HTTP/3 here), the scenario is written out here with its HTTP/3 values, from the
same configs and helpers. gtlsclient (ngtcp2's client, which nobody here wrote) checks a few of
them independently. Servers that the scenarios share live for the whole module."""

import hashlib
import json
import os
import socket
import sys

import pytest

import test_auth as auth
import test_compress as compress
import test_gateway as gw
import test_gateway_middleware as mw
import test_rate_limit as rate
import test_rewrite as rewrite
import test_static_files as static
from conftest import RWS_BIN, RWS_TEST_SERVER, Process
from h3client import H3Server, gtls_request, h3_failure, h3_request, wait_h3
from test_gateway import backends, gateway  # noqa: F401  (fixtures)
from test_tls import pki, tls_flags  # noqa: F401  (pki is a fixture)

MiB = 1 << 20


def same_cases(original):
    """The @pytest.mark.parametrize of an original test, for the test that reruns it."""
    (mark,) = [m for m in original.pytestmark if m.name == "parametrize"]
    return pytest.mark.parametrize(*mark.args, **mark.kwargs)


def check_clean(process):
    assert process.alive(), f"exited with {process.proc.returncode}:\n{process.stderr}"
    assert "Sanitizer" not in process.stderr, process.stderr


@pytest.fixture(scope="module")
def ca(pki):
    return pki.path("ca.pem")


@pytest.fixture(scope="module")
def start_tls(pki, ca):
    """Factory for module-lived servers: start_tls(argv) → an H3Server once HTTP/3 answers;
    each is checked (alive, no sanitizer report) and stopped when the module ends."""
    started = []

    def start(argv):
        process = Process([*argv, *tls_flags(pki)])
        started.append(process)
        process.wait_listening()
        assert process.scheme == "https"
        wait_h3(process.port, ca)
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
        wait_h3(process.port, ca)
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
