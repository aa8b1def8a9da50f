"""Strict HTTP/1.1 behaviour (RFC 9112 message syntax and framing, RFC 9110 semantics) of the
real server, driven over raw sockets and with curl.

Every framing error must be answered with the right status, must close the connection, and must
never let bytes that follow the bad message be read as another request (request smuggling)."""

import email.utils
import hashlib
import os
import socket
import struct
import time

import pytest

from conftest import request, wait_until

FOLLOW_UP = b"GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n"
BIG_SIZE = 1 << 20


@pytest.fixture
def root(tmp_path):
    """A document root with small distinct files, an empty file and a 1 MiB file."""
    (tmp_path / "hello.txt").write_bytes(b"hello world\n")
    (tmp_path / "a.txt").write_bytes(b"file a\n")
    (tmp_path / "b.txt").write_bytes(b"file b, a little longer\n")
    (tmp_path / "c.txt").write_bytes(b"file c!\n")
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "big.bin").write_bytes(os.urandom(BIG_SIZE))
    return tmp_path


@pytest.fixture
def static(rws, root):
    """Factory: a static-mode rws serving `root`, with extra flags."""
    def start(*flags):
        return rws("--root", str(root), *flags)
    return start


def get(path, version="HTTP/1.1", headers=()):
    return request("GET", path, host="x" if version == "HTTP/1.1" else None,
                   headers=headers, version=version)


def assert_closed_without_more_bytes(conn):
    """After a response, the server must close: EOF, and not one byte of another response."""
    rest = conn.read_to_eof()
    assert rest == b"", f"unexpected bytes after the response: {rest[:200]!r}"


# --- persistent connections and pipelining ------------------------------------------------------

def test_keep_alive_serves_several_requests_on_one_connection(static, root):
    server = static()
    conn = server.connect()
    for name in ("a.txt", "b.txt", "c.txt", "hello.txt"):
        conn.send(get("/" + name))
        resp = conn.read_response()
        assert resp.status == 200
        assert resp.body == (root / name).read_bytes()
        assert resp.header("connection") in (None, "keep-alive")
    # Still open and idle: nothing unsolicited arrives.
    assert not conn.readable_within(0.2)


def test_pipelined_requests_are_answered_in_order(static, root):
    server = static()
    conn = server.connect()
    names = ["a.txt", "b.txt", "c.txt", "hello.txt"]
    conn.send(b"".join(get("/" + n) for n in names))
    for name in names:
        resp = conn.read_response()
        assert resp.status == 200, name
        assert resp.body == (root / name).read_bytes(), name
    conn.send(get("/a.txt"))
    assert conn.read_response().body == b"file a\n"


def test_pipelined_mix_with_a_large_response_in_the_middle(static, root):
    server = static()
    conn = server.connect()
    conn.send(get("/a.txt") + get("/big.bin") + request("HEAD", "/b.txt", host="x")
              + get("/healthz") + get("/c.txt"))
    first = conn.read_response()
    assert (first.status, first.body) == (200, b"file a\n")
    big = conn.read_response()
    assert big.status == 200
    assert int(big.header("content-length")) == BIG_SIZE
    assert hashlib.sha256(big.body).digest() == hashlib.sha256(
        (root / "big.bin").read_bytes()).digest()
    head = conn.read_response(head_request=True)
    assert head.status == 200
    assert int(head.header("content-length")) == len(b"file b, a little longer\n")
    health = conn.read_response()
    assert (health.status, health.body) == (200, b"OK")
    last = conn.read_response()
    assert (last.status, last.body) == (200, b"file c!\n")


def test_http10_without_keep_alive_closes_after_the_response(static):
    server = static()
    conn = server.connect()
    conn.send(b"GET /hello.txt HTTP/1.0\r\n\r\n")
    resp = conn.read_response()
    assert resp.status == 200
    assert resp.body == b"hello world\n"
    assert resp.header("connection", "close").lower() == "close"
    assert_closed_without_more_bytes(conn)


def test_http10_with_keep_alive_stays_open(static):
    server = static()
    conn = server.connect()
    conn.send(b"GET /a.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    resp = conn.read_response()
    assert resp.status == 200
    assert resp.header("connection", "").lower() == "keep-alive"
    assert resp.header("content-length") == "7"
    assert resp.body == b"file a\n"
    conn.send(b"GET /c.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    resp = conn.read_response()
    assert resp.status == 200
    assert resp.body == b"file c!\n"
    assert resp.header("connection", "").lower() == "keep-alive"


def test_connection_close_on_http11_closes_after_the_response(static):
    server = static()
    conn = server.connect()
    conn.send(get("/hello.txt", headers=[("Connection", "close")]) + FOLLOW_UP)
    resp = conn.read_response()
    assert resp.status == 200
    assert resp.body == b"hello world\n"
    assert resp.header("connection", "").lower() == "close"
    assert_closed_without_more_bytes(conn)


def test_date_and_server_headers(static):
    server = static()
    conn = server.connect()
    conn.send(get("/hello.txt"))
    resp = conn.read_response()
    assert resp.header("server") == "rws"
    date = resp.header("date")
    assert date is not None and date.endswith(" GMT"), date
    parsed = email.utils.parsedate_to_datetime(date)
    assert abs(parsed.timestamp() - time.time()) < 60
    assert len(resp.header_all("date")) == 1


def test_empty_file_has_content_length_zero(static):
    server = static()
    conn = server.connect()
    conn.send(get("/empty.txt") + get("/a.txt"))
    resp = conn.read_response()
    assert resp.status == 200
    assert resp.header("content-length") == "0"
    assert resp.header("transfer-encoding") is None
    assert resp.body == b""
    # The next response starts right after the empty one.
    assert conn.read_response().body == b"file a\n"


def test_client_reset_during_a_large_download_does_not_hurt_the_server(static, root):
    """A client that resets the connection mid-body must cost the server that connection only
    (sendfile to a reset socket raises SIGPIPE, which must not kill the process)."""
    big = root / "huge.bin"
    big.write_bytes(os.urandom(32 << 20))
    server = static()
    for _ in range(3):
        conn = server.connect()
        conn.send(get("/huge.bin"))
        conn.read_until(b"\r\n\r\n")
        conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()  # RST while the server is still sending
    conn = server.connect()
    conn.send(get("/hello.txt"))
    assert conn.read_response().body == b"hello world\n"
    assert server.alive()


def test_head_has_no_body(static):
    server = static()
    conn = server.connect()
    conn.send(request("HEAD", "/big.bin", host="x") + get("/a.txt"))
    head = conn.read_response(head_request=True)
    assert head.status == 200
    assert head.header("content-length") == str(BIG_SIZE)
    # If any body byte followed the HEAD response, this would not parse as the next response.
    nxt = conn.read_response()
    assert nxt.status == 200
    assert nxt.body == b"file a\n"


# --- message framing and request smuggling ------------------------------------------------------

def post(headers, body=b"", version="HTTP/1.1", host="x"):
    lines = [f"POST /hello.txt {version}"]
    if host is not None:
        lines.append(f"Host: {host}")
    lines += [f"{k}: {v}" for k, v in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


BAD_MESSAGES = [
    # (id, raw bytes, status, words that the error body must mention (any of))
    ("te-and-cl", post([("Transfer-Encoding", "chunked"), ("Content-Length", "5")],
                       b"0\r\n\r\n"), 400, ["content-length", "transfer-encoding"]),
    ("cl-and-te", post([("Content-Length", "5"), ("Transfer-Encoding", "chunked")],
                       b"0\r\n\r\n"), 400, ["content-length", "transfer-encoding"]),
    ("two-cl-different", post([("Content-Length", "5"), ("Content-Length", "6")], b"hello!"),
     400, ["content-length"]),
    ("two-cl-equal", post([("Content-Length", "5"), ("Content-Length", "5")], b"hello"),
     400, ["content-length"]),
    ("cl-list", post([("Content-Length", "5, 5")], b"hello"), 400, ["content-length"]),
    ("cl-non-numeric", post([("Content-Length", "five")], b"hello"), 400, ["content-length"]),
    ("cl-negative", post([("Content-Length", "-5")], b"hello"), 400, ["content-length"]),
    ("cl-plus", post([("Content-Length", "+5")], b"hello"), 400, ["content-length"]),
    ("cl-hex", post([("Content-Length", "0x5")], b"hello"), 400, ["content-length"]),
    ("te-gzip-chunked", post([("Transfer-Encoding", "gzip, chunked")], b"0\r\n\r\n"), 501,
     ["transfer"]),
    ("te-chunked-gzip", post([("Transfer-Encoding", "chunked, gzip")], b"0\r\n\r\n"), 400,
     ["transfer", "chunked"]),
    ("te-chunked-twice-fields", post([("Transfer-Encoding", "chunked"),
                                      ("Transfer-Encoding", "chunked")], b"0\r\n\r\n"), 400,
     ["transfer", "chunked"]),
    ("te-in-http10", post([("Transfer-Encoding", "chunked")], b"0\r\n\r\n", version="HTTP/1.0",
                          host=None), 400, ["transfer-encoding"]),
    ("obs-fold", b"GET /hello.txt HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n b\r\n\r\n", 400,
     ["fold"]),
    ("space-before-colon", b"GET /hello.txt HTTP/1.1\r\nHost: x\r\nX-Test : 1\r\n\r\n", 400,
     ["colon", "field"]),
    ("space-before-colon-te", b"POST /hello.txt HTTP/1.1\r\nHost: x\r\n"
     b"Transfer-Encoding : chunked\r\nContent-Length: 3\r\n\r\n0\r\n", 400, ["colon", "field"]),
    ("bare-cr-in-value", b"GET /hello.txt HTTP/1.1\r\nHost: x\r\nX-Test: a\rb\r\n\r\n", 400,
     ["character", "value", "cr"]),
    ("bare-lf-line-end", b"GET /hello.txt HTTP/1.1\r\nHost: x\nX-Test: 1\r\n\r\n", 400,
     ["lf", "line"]),
    ("bare-lf-request-line", b"GET /hello.txt HTTP/1.1\nHost: x\r\n\r\n", 400, ["lf", "line"]),
    ("nul-in-value", b"GET /hello.txt HTTP/1.1\r\nHost: x\r\nX-Test: a\x00b\r\n\r\n", 400,
     ["character", "value"]),
    ("invalid-method", b"GE(T /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n", 400, ["method"]),
    ("invalid-version", b"GET /hello.txt HTTP/1.x\r\nHost: x\r\n\r\n", 400, ["version"]),
    ("lowercase-version", b"GET /hello.txt http/1.1\r\nHost: x\r\n\r\n", 400, ["version"]),
    ("http2-version", b"GET /hello.txt HTTP/2.0\r\nHost: x\r\n\r\n", 505, ["version"]),
    ("missing-host", b"GET /hello.txt HTTP/1.1\r\nUser-Agent: t\r\n\r\n", 400, ["host"]),
    ("two-hosts", b"GET /hello.txt HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", 400, ["host"]),
    ("fragment-in-target", b"GET /hello.txt#top HTTP/1.1\r\nHost: x\r\n\r\n", 400,
     ["target"]),
    ("space-in-target", b"GET /hello .txt HTTP/1.1\r\nHost: x\r\n\r\n", 400,
     ["target", "request line", "version"]),
]


@pytest.mark.parametrize("raw,status,words", [b[1:] for b in BAD_MESSAGES],
                         ids=[b[0] for b in BAD_MESSAGES])
def test_bad_message_is_rejected_and_the_connection_closed(static, raw, status, words):
    server = static()
    conn = server.connect()
    conn.send(raw + FOLLOW_UP)
    resp = conn.read_response()
    assert resp.status == status, resp
    text = resp.body.decode("latin-1").lower()
    assert any(w in text for w in words), f"error body {resp.body!r} names none of {words}"
    assert resp.header("connection", "").lower() == "close"
    assert_closed_without_more_bytes(conn)
    # The server is still fine for other clients.
    other = server.connect()
    other.send(get("/hello.txt"))
    assert other.read_response().body == b"hello world\n"


def test_request_line_longer_than_the_limit_is_414(static):
    server = static()
    conn = server.connect()
    conn.send(get("/" + "a" * (20 * 1024)) + FOLLOW_UP)
    resp = conn.read_response()
    assert resp.status == 414
    assert "request line" in resp.body.decode().lower() or "uri" in resp.body.decode().lower()
    assert_closed_without_more_bytes(conn)


def test_header_block_over_max_header_size_is_431(static):
    server = static("--max-header-size", "4096")
    ok = server.connect()
    ok.send(get("/hello.txt", headers=[(f"X-Pad-{i}", "p" * 300) for i in range(8)]))
    assert ok.read_response().status == 200  # ~2.5 KiB of fields is fine
    conn = server.connect()
    conn.send(get("/hello.txt", headers=[(f"X-Pad-{i}", "p" * 1000) for i in range(8)])
              + FOLLOW_UP)
    resp = conn.read_response()
    assert resp.status == 431
    assert "header" in resp.body.decode().lower()
    assert_closed_without_more_bytes(conn)


def test_too_many_header_fields_is_431(static):
    server = static()
    conn = server.connect()
    conn.send(get("/hello.txt", headers=[(f"X-F{i}", "v") for i in range(150)]) + FOLLOW_UP)
    resp = conn.read_response()
    assert resp.status == 431
    assert "field" in resp.body.decode().lower()
    assert_closed_without_more_bytes(conn)


CHUNKED_ECHO_HEAD = (b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                     b"Content-Type: application/octet-stream\r\n\r\n")


@pytest.mark.parametrize("body", [
    b"zz\r\nhello\r\n0\r\n\r\n",
    b"-5\r\nhello\r\n0\r\n\r\n",
    b"0x5\r\nhello\r\n0\r\n\r\n",
    b" 5\r\nhello\r\n0\r\n\r\n",
    b"5\r\nhelloXX\r\n0\r\n\r\n",            # data longer than the size
    b"5\nhello\r\n0\r\n\r\n",                # bare LF after the size
    b"fffffffffffffffffffff\r\nhello\r\n0\r\n\r\n",
], ids=["letters", "negative", "0x-prefix", "leading-space", "overlong-data", "bare-lf",
        "huge-size"])
def test_invalid_chunk_framing_is_400(test_server, body):
    server = test_server()
    conn = server.connect()
    conn.send(CHUNKED_ECHO_HEAD + body + FOLLOW_UP)
    resp = conn.read_response()
    assert resp.status == 400, resp
    assert "chunk" in resp.body.decode().lower()
    assert_closed_without_more_bytes(conn)


@pytest.mark.parametrize("ext", [b"5;@@@", b"5;=x", b"5;a=\"unterminated", b"5;a=b c",
                                 b"5;a\x01b"], ids=["not-a-token", "no-name",
                                                    "unterminated-quote", "space-in-value",
                                                    "control-char"])
def test_chunk_extension_garbage_is_400(test_server, ext):
    server = test_server()
    conn = server.connect()
    conn.send(CHUNKED_ECHO_HEAD + ext + b"\r\nhello\r\n0\r\n\r\n" + FOLLOW_UP)
    resp = conn.read_response()
    assert resp.status == 400, resp
    assert "chunk" in resp.body.decode().lower()
    assert_closed_without_more_bytes(conn)


# --- Expect: 100-continue -----------------------------------------------------------------------

def test_pipelined_requests_with_bodies_keep_their_framing(test_server):
    server = test_server()
    conn = server.connect()
    conn.send(request("POST", "/echo", host="x", body=b"first body")
              + CHUNKED_ECHO_HEAD + b"6\r\nsecond\r\n0\r\n\r\n"
              + request("POST", "/echo", host="x", body=b"GET /hello.txt HTTP/1.1\r\n\r\n")
              + get("/stream?n=1"))
    assert conn.read_response().body == b"first body"
    assert conn.read_response().body == b"second"
    # A body that looks like a request is only a body.
    assert conn.read_response().body == b"GET /hello.txt HTTP/1.1\r\n\r\n"
    assert conn.read_response().body == b"chunk 0\n"
    assert not conn.readable_within(0.2)


def test_expect_100_continue_is_answered_before_the_body(test_server):
    server = test_server()
    conn = server.connect()
    body = b"hello, continue"
    conn.send(request("POST", "/echo", host="x",
                      headers=[("Content-Length", str(len(body))), ("Expect", "100-continue")]))
    interim = conn.read_response()
    assert interim.status == 100
    assert interim.version == "HTTP/1.1"
    conn.send(body)
    resp = conn.read_response()
    assert resp.status == 200
    assert resp.body == body
    assert resp.header("x-body-length") == str(len(body))
    # The connection stays usable.
    conn.send(request("POST", "/echo", host="x", body=b"again"))
    assert conn.read_response().body == b"again"


def test_expect_100_continue_with_an_early_final_response(test_server):
    server = test_server()
    conn = server.connect()
    conn.send(request("POST", "/reject", host="x",
                      headers=[("Content-Length", "100000"), ("Expect", "100-continue")]))
    resp = conn.read_response()
    assert resp.status == 413, "the final response must come without a 100 Continue"
    assert resp.header("connection", "").lower() == "close"
    assert_closed_without_more_bytes(conn)


def test_unsupported_expectation_is_417(test_server):
    server = test_server()
    conn = server.connect()
    conn.send(request("POST", "/echo", host="x",
                      headers=[("Content-Length", "5"), ("Expect", "something-else")],
                      body=b"hello") + FOLLOW_UP)
    resp = conn.read_response()
    assert resp.status == 417
    assert_closed_without_more_bytes(conn)


def test_expect_100_continue_with_curl(test_server, curl, tmp_path):
    server = test_server()
    data = os.urandom(300 * 1024)
    path = tmp_path / "upload.bin"
    path.write_bytes(data)
    status, headers, body = curl.run("-H", "Expect: 100-continue", "--data-binary", f"@{path}",
                                     "-H", "Content-Type: application/octet-stream",
                                     server.url("/echo"))
    assert status == 200
    assert headers["x-body-length"] == str(len(data))
    assert body == data


# --- chunked request bodies ---------------------------------------------------------------------

def test_chunked_body_with_extensions_and_trailers(test_server):
    server = test_server()
    conn = server.connect()
    conn.send(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
              b"Trailer: X-Checksum\r\n\r\n"
              b"5;ext=1\r\nhello\r\n"
              b"6;name=\"quoted; value\";flag\r\n world\r\n"
              b"A \t; padded = token\r\n, chunked!\r\n"
              b"0\r\nX-Checksum: abc123\r\nX-Other: two words\r\n\r\n")
    resp = conn.read_response()
    assert resp.status == 200, resp
    assert resp.body == b"hello world, chunked!"
    assert resp.header("x-body-length") == "21"
    assert resp.header("x-trailer-x-checksum") == "abc123"
    assert resp.header("x-trailer-x-other") == "two words"
    # The message ended exactly after the trailer section: the connection is reusable.
    conn.send(request("POST", "/echo", host="x", body=b"next"))
    assert conn.read_response().body == b"next"


def test_chunked_body_split_across_many_sends(test_server):
    server = test_server()
    conn = server.connect()
    raw = CHUNKED_ECHO_HEAD + b"3\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\n\r\n"
    for i in range(len(raw)):
        conn.send(raw[i:i + 1])
    resp = conn.read_response()
    assert resp.status == 200
    assert resp.body == b"abc0123456789abcdef"


def test_large_chunked_upload_with_curl(test_server, curl, tmp_path):
    server = test_server()
    data = os.urandom(6 * 1024 * 1024 + 123)
    path = tmp_path / "upload.bin"
    path.write_bytes(data)
    status, headers, body = curl.run("-H", "Transfer-Encoding: chunked",
                                     "-H", "Content-Type: application/octet-stream",
                                     "--data-binary", f"@{path}", server.url("/echo"))
    assert status == 200
    assert headers["x-body-length"] == str(len(data))
    assert len(body) == len(data)
    assert hashlib.sha256(body).hexdigest() == hashlib.sha256(data).hexdigest()


def test_content_length_over_max_body_size_is_413_without_100_continue(test_server):
    server = test_server("--max-body-size", "1000")
    conn = server.connect()
    conn.send(request("POST", "/echo", host="x",
                      headers=[("Content-Length", "2000"), ("Expect", "100-continue")]))
    resp = conn.read_response()
    assert resp.status == 413, "expected an immediate 413 (and no 100 Continue)"
    assert_closed_without_more_bytes(conn)
    # Within the limit is fine.
    ok = server.connect()
    ok.send(request("POST", "/echo", host="x", body=b"x" * 1000))
    resp = ok.read_response()
    assert resp.status == 200
    assert resp.header("x-body-length") == "1000"


def test_content_length_over_max_body_size_without_expect_is_413(test_server):
    server = test_server("--max-body-size", "1000")
    conn = server.connect()
    conn.send(request("POST", "/echo", host="x", body=b"y" * 2000) + FOLLOW_UP)
    resp = conn.read_response()
    assert resp.status == 413
    assert_closed_without_more_bytes(conn)


def test_chunked_body_over_max_body_size_is_413(test_server):
    server = test_server("--max-body-size", "1000")
    conn = server.connect()
    chunk = b"z" * 600
    conn.send(CHUNKED_ECHO_HEAD + (b"258\r\n" + chunk + b"\r\n") * 3 + b"0\r\n\r\n" + FOLLOW_UP)
    resp = conn.read_response()
    assert resp.status == 413
    assert_closed_without_more_bytes(conn)


# --- chunked and close-delimited responses ------------------------------------------------------

STREAM5 = b"".join(b"chunk %d\n" % i for i in range(5))


def test_streamed_response_is_chunked_with_curl(test_server, curl):
    server = test_server()
    status, headers, body = curl.run(server.url("/stream?n=5"))
    assert status == 200
    assert headers.get("transfer-encoding") == "chunked"
    assert "content-length" not in headers
    assert body == STREAM5


def test_streamed_response_is_chunked_raw(test_server):
    server = test_server()
    conn = server.connect()
    conn.send(get("/stream?n=5") + get("/stream?n=2"))
    resp = conn.read_response()
    assert resp.status == 200
    assert resp.header("transfer-encoding") == "chunked"
    assert resp.header("content-length") is None
    assert resp.body == STREAM5
    # The terminating chunk ended the message: the pipelined request gets its answer.
    second = conn.read_response()
    assert second.body == b"chunk 0\nchunk 1\n"


def test_failing_stream_closes_without_the_last_chunk(test_server):
    server = test_server()
    conn = server.connect()
    conn.send(get("/stream-fail"))
    head = conn.read_until(b"\r\n\r\n").decode("latin-1")
    assert head.startswith("HTTP/1.1 200")
    assert "transfer-encoding: chunked" in head.lower()
    rest = conn.read_to_eof()
    assert b"chunk 0\n" in rest and b"chunk 1\n" in rest
    assert not rest.endswith(b"0\r\n\r\n"), "a failed body must not look complete"
    assert b"\r\n0\r\n" not in rest


def test_failing_stream_is_seen_as_truncated_by_a_strict_reader(test_server):
    server = test_server()
    conn = server.connect()
    conn.send(get("/stream-fail"))
    with pytest.raises(EOFError):
        conn.read_response()


def test_http10_streamed_response_is_delimited_by_close(test_server):
    server = test_server()
    conn = server.connect()
    conn.send(b"GET /stream?n=5 HTTP/1.0\r\n\r\n")
    head = conn.read_until(b"\r\n\r\n").decode("latin-1")
    assert head.startswith("HTTP/1.1 200") or head.startswith("HTTP/1.0 200")
    assert "transfer-encoding" not in head.lower()
    assert "content-length" not in head.lower()
    assert conn.read_to_eof() == STREAM5


def test_handler_exception_is_a_500_that_reveals_nothing(test_server):
    server = test_server()
    conn = server.connect()
    conn.send(get("/throw"))
    resp = conn.read_response()
    assert resp.status == 500
    text = resp.body.decode("latin-1").lower()
    for secret in ("handler failure", "testing", "runtime_error", "exception", "what()"):
        assert secret not in text, resp.body
    assert resp.header("connection", "").lower() != "close"
    conn.send(get("/stream?n=1"))
    again = conn.read_response()
    assert (again.status, again.body) == (200, b"chunk 0\n")


# --- slow-client defences -----------------------------------------------------------------------

def test_header_timeout_answers_408_and_closes(static):
    server = static("--header-timeout-ms", "300")
    conn = server.connect()
    start = time.monotonic()
    conn.send(b"GET /hello.txt HTTP/1.1\r\nHost: x\r\n")
    resp = conn.read_response()
    elapsed = time.monotonic() - start
    assert resp.status == 408
    assert 0.25 <= elapsed < 3.0, elapsed
    assert_closed_without_more_bytes(conn)


def test_header_timeout_covers_the_whole_head_of_a_trickling_client(static):
    server = static("--header-timeout-ms", "500")
    conn = server.connect()
    start = time.monotonic()
    conn.send(b"GET /hello.txt HTTP/1.1\r\nHost: x\r\nX-Slow: ")
    trickled = 0
    while not conn.readable_within(0.1):
        conn.send(b"a")
        trickled += 1
        assert time.monotonic() - start < 10, "no 408 for a client trickling its head"
    elapsed = time.monotonic() - start
    resp = conn.read_response()
    assert resp.status == 408
    assert trickled >= 3
    assert 0.4 <= elapsed < 2.5, elapsed
    assert_closed_without_more_bytes(conn)


def test_idle_keep_alive_connection_is_closed_silently(static):
    server = static("--idle-timeout-ms", "300")
    conn = server.connect()
    conn.send(get("/hello.txt"))
    assert conn.read_response().status == 200
    start = time.monotonic()
    assert conn.closed_by_peer(5.0), "idle connection not closed (or bytes were sent)"
    assert time.monotonic() - start < 3.0


def test_a_request_that_came_with_the_end_of_stream_is_answered_and_then_closed(static):
    """The request and the client's FIN arrive in one segment (TCP_CORK holds the bytes until
    the shutdown), so nothing announces the end of stream after rws has read the request. It
    answers, and must then still notice the end and close — not wait for its 60 s idle timeout
    (the client gives up after 10 s)."""
    server = static("--idle-timeout-ms", "60000")
    for _ in range(3):
        conn = server.connect()
        conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
        conn.send(get("/hello.txt"))
        conn.sock.shutdown(socket.SHUT_WR)
        assert conn.read_response().status == 200
        assert conn.closed_by_peer(10.0), "the half-closed connection was not closed"


def test_body_timeout_answers_408_and_closes(test_server):
    server = test_server("--body-timeout-ms", "300")
    conn = server.connect()
    start = time.monotonic()
    conn.send(request("POST", "/echo", host="x", headers=[("Content-Length", "100")])
              + b"0123456789")
    resp = conn.read_response()
    assert resp.status == 408
    assert time.monotonic() - start < 3.0
    assert_closed_without_more_bytes(conn)


def test_max_connections(static):
    server = static("--max-connections", "2")
    first = server.connect()
    second = server.connect()
    for conn in (first, second):
        conn.send(get("/a.txt"))
        assert conn.read_response().body == b"file a\n"

    third = server.connect()
    try:
        third.send(get("/a.txt"))
    except (BrokenPipeError, ConnectionResetError):
        pass
    assert third.read_to_eof() == b"", "a connection over the limit must get no response"
    third.close()

    # The first two are still served.
    second.send(get("/b.txt"))
    assert second.read_response().status == 200

    first.close()

    def new_connection_works():
        try:
            conn = server.connect(timeout=2.0)
            conn.send(get("/c.txt"))
            resp = conn.read_response()
            conn.close()
            return resp.status == 200 and resp.body == b"file c!\n"
        except (EOFError, ConnectionResetError, BrokenPipeError, socket.timeout):
            return False

    wait_until(new_connection_works, timeout=10, what="a slot to free after a close")
