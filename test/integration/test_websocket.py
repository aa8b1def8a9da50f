"""WebSocket endpoints of the App framework (rws-ws-test-server, test/support/websocket_server.cpp)
against the `websockets` library (Debian's python3-websockets) and a raw-socket client for what a
well-behaved client never sends."""

import asyncio
import base64
import hashlib
import os
import re
import signal
import struct
import zlib

import pytest

from conftest import wait_until

try:
    import websockets
except ImportError:  # a missing peer fails the tests, it never skips them
    websockets = None

RWS_WS_TEST_SERVER = os.environ.get("RWS_WS_TEST_SERVER", "")
KEY = base64.b64encode(b"0123456789abcdef").decode()
MASK = b"\x11\x22\x33\x44"
TAIL = b"\x00\x00\xff\xff"


def start_server(servers, *args):
    if not RWS_WS_TEST_SERVER:
        pytest.fail("RWS_WS_TEST_SERVER is not set: run the integration tests through ctest")
    if websockets is None:
        pytest.fail("python3-websockets is not installed (run scripts/setup test)")
    return servers([RWS_WS_TEST_SERVER, "0", *args])


@pytest.fixture
def server(servers):
    return start_server(servers)


def ws_url(server, path):
    return f"ws://127.0.0.1:{server.port}{path}"


def run(coroutine):
    return asyncio.run(asyncio.wait_for(coroutine, 60))


def stats(server):
    conn = server.connect()
    conn.send(f"GET /stats HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    body = conn.read_response().body.decode()
    conn.close()
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", body)}


# --- a raw client ---

def masked_frame(opcode, payload, fin=True, rsv1=False, mask=True):
    first = (0x80 if fin else 0) | (0x40 if rsv1 else 0) | opcode
    n = len(payload)
    if n < 126:
        head = bytes([first, (0x80 if mask else 0) | n])
    elif n < 65536:
        head = bytes([first, (0x80 if mask else 0) | 126]) + struct.pack("!H", n)
    else:
        head = bytes([first, (0x80 if mask else 0) | 127]) + struct.pack("!Q", n)
    if not mask:
        return head + payload
    return head + MASK + bytes(b ^ MASK[i % 4] for i, b in enumerate(payload))


def read_frame(conn):
    """(fin, rsv1, opcode, payload) of the next server frame, which must be unmasked."""
    b0, b1 = conn.read_exact(2)
    assert not b1 & 0x80, "a server frame must not be masked"
    n = b1 & 0x7F
    if n == 126:
        n = struct.unpack("!H", conn.read_exact(2))[0]
    elif n == 127:
        n = struct.unpack("!Q", conn.read_exact(8))[0]
    return bool(b0 & 0x80), bool(b0 & 0x40), b0 & 0x0F, conn.read_exact(n)


def close_code_of(payload):
    return struct.unpack("!H", payload[:2])[0] if payload else None


def open_raw(server, path, extra_headers=""):
    conn = server.connect()
    conn.send(f"GET {path} HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\n"
              f"Connection: Upgrade\r\nSec-WebSocket-Key: {KEY}\r\n"
              f"Sec-WebSocket-Version: 13\r\n{extra_headers}\r\n")
    response = conn.read_response()
    assert response.status == 101, response
    accept = hashlib.sha1((KEY + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()
    assert response.header("sec-websocket-accept") == base64.b64encode(accept).decode()
    return conn, response


def expect_close(conn, code):
    """The server's next frame is a close frame with `code`, and then it closes the TCP
    connection."""
    fin, rsv1, opcode, payload = read_frame(conn)
    assert opcode == 0x8, (opcode, payload[:50])
    assert close_code_of(payload) == code, payload
    assert conn.closed_by_peer(), "the server kept the connection open after its close frame"


# --- the library client ---

def test_echo_text_and_binary_with_negotiated_compression(server):
    async def scenario():
        async with websockets.connect(ws_url(server, "/echo")) as ws:
            assert ws.response_headers["Sec-WebSocket-Extensions"] == "permessage-deflate"
            await ws.send("hello, ünïcode")
            assert await ws.recv() == "hello, ünïcode"
            await ws.send(b"\x00\x01\xff")
            assert await ws.recv() == b"\x00\x01\xff"
            await ws.send("")
            assert await ws.recv() == ""
    run(scenario())


def test_no_compression_when_the_client_or_the_route_does_not_want_it(server):
    async def scenario():
        async with websockets.connect(ws_url(server, "/echo"), compression=None) as ws:
            assert "Sec-WebSocket-Extensions" not in ws.response_headers
            await ws.send("plain")
            assert await ws.recv() == "plain"
        async with websockets.connect(ws_url(server, "/nodeflate")) as ws:
            assert "Sec-WebSocket-Extensions" not in ws.response_headers
            await ws.send("plain")
            assert await ws.recv() == "plain"
    run(scenario())


@pytest.mark.parametrize("compression", ["deflate", None])
def test_large_fragmented_message(server, compression):
    message = bytes(range(256)) * (6 * 4096)  # 6 MiB, compressible but not trivially
    fragments = [message[i:i + 65536] for i in range(0, len(message), 65536)]

    async def scenario():
        async with websockets.connect(ws_url(server, "/echo"), compression=compression,
                                      max_size=None) as ws:
            await ws.send(fragments)  # an iterable is sent as one fragmented message
            assert await ws.recv() == message
            text = "é" * (3 << 20)
            await ws.send([text[i:i + 1000] for i in range(0, len(text), 1000)])
            assert await ws.recv() == text
    run(scenario())


def test_subprotocol_is_the_servers_first_preference_the_client_offers(server):
    async def chosen(offered):
        async with websockets.connect(ws_url(server, "/chat"), subprotocols=offered) as ws:
            return ws.subprotocol, await ws.recv()

    assert run(chosen(["chat.v1", "chat.v2"])) == ("chat.v2", "subprotocol=chat.v2")
    assert run(chosen(["chat.v1"])) == ("chat.v1", "subprotocol=chat.v1")


def test_no_subprotocol_header_when_none_matches(server):
    conn, response = open_raw(server, "/chat", "Sec-WebSocket-Protocol: other\r\n")
    assert response.header("sec-websocket-protocol") is None
    assert read_frame(conn)[3] == b"subprotocol="


def test_server_close_code_and_reason_reach_the_client(server):
    async def scenario():
        async with websockets.connect(ws_url(server, "/close?code=4002&reason=done")) as ws:
            with pytest.raises(websockets.ConnectionClosed):
                await ws.recv()
            return ws.close_code, ws.close_reason
    assert run(scenario()) == (4002, "done")
    wait_until(lambda: stats(server)["closed"] == 4002, what="the server's close code")


def test_client_close_code_is_echoed_and_seen_by_the_handler(server):
    async def scenario():
        ws = await websockets.connect(ws_url(server, "/echo"))
        await ws.send("x")
        assert await ws.recv() == "x"
        await ws.close(4001, "client leaves")
        return ws.close_code
    assert run(scenario()) == 4001  # the code the server echoed
    wait_until(lambda: stats(server)["closed"] == 4001, what="the handler to see 4001")


def test_handler_exception_closes_with_1011(server):
    async def scenario():
        async with websockets.connect(ws_url(server, "/throw")) as ws:
            await ws.send("boom")
            with pytest.raises(websockets.ConnectionClosedError):
                await ws.recv()
            return ws.close_code
    assert run(scenario()) == 1011


def test_client_ping_gets_a_pong(server):
    async def scenario():
        async with websockets.connect(ws_url(server, "/echo")) as ws:
            waiter = await ws.ping(b"are you there")
            await asyncio.wait_for(waiter, 10)
            await ws.send("still open")
            assert await ws.recv() == "still open"
    run(scenario())


# --- the raw client ---

def test_compressed_frames_both_ways(server):
    conn, response = open_raw(server, "/echo", "Sec-WebSocket-Extensions: permessage-deflate; "
                                               "client_no_context_takeover\r\n")
    assert response.header("sec-websocket-extensions") == \
        "permessage-deflate; client_no_context_takeover"
    text = ("a fairly repetitive message " * 100).encode()
    # Sent uncompressed, echoed compressed: RSV1 set, smaller, inflates back.
    conn.send(masked_frame(0x1, text))
    fin, rsv1, opcode, payload = read_frame(conn)
    assert (fin, rsv1, opcode) == (True, True, 0x1)
    assert len(payload) < len(text) // 4
    inflater = zlib.decompressobj(-15)  # the server keeps its context between messages
    assert inflater.decompress(payload + TAIL) == text
    # Sent compressed (RSV1, tail removed), echoed.
    compressor = zlib.compressobj(wbits=-15)
    body = compressor.compress(b"compressed hello") + compressor.flush(zlib.Z_SYNC_FLUSH)
    assert body.endswith(TAIL)
    conn.send(masked_frame(0x1, body[:-4], rsv1=True))
    fin, rsv1, opcode, payload = read_frame(conn)
    assert (fin, rsv1, opcode) == (True, True, 0x1)
    assert inflater.decompress(payload + TAIL) == b"compressed hello"


def test_rejected_handshakes(server):
    def answer(head):
        conn = server.connect()
        conn.send(head)
        return conn.read_response()

    base = f"Host: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {KEY}\r\n"
    r = answer(f"GET /echo HTTP/1.1\r\n{base}Sec-WebSocket-Version: 8\r\n\r\n")
    assert (r.status, r.header("sec-websocket-version")) == (426, "13")
    r = answer(f"GET /echo HTTP/1.1\r\n{base}\r\n")
    assert (r.status, r.header("sec-websocket-version")) == (426, "13")
    r = answer("GET /echo HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Version: 13\r\n\r\n")
    assert r.status == 400  # no key
    r = answer("GET /echo HTTP/1.1\r\nHost: t\r\n\r\n")
    assert r.status == 400  # not an upgrade at all
    r = answer(f"POST /echo HTTP/1.1\r\n{base}Sec-WebSocket-Version: 13\r\n"
               "Content-Length: 0\r\n\r\n")
    assert (r.status, r.header("allow")) == (405, "GET, HEAD, OPTIONS")


def test_unmasked_client_frame_is_a_protocol_error(server):
    conn, _ = open_raw(server, "/echo")
    conn.send(masked_frame(0x1, b"unmasked", mask=False))
    expect_close(conn, 1002)


def test_invalid_utf8_text_is_1007(server):
    conn, _ = open_raw(server, "/echo")
    conn.send(masked_frame(0x1, b"ok \xc3\x28 not"))
    expect_close(conn, 1007)


def test_oversized_message_is_1009(server):
    conn, _ = open_raw(server, "/small")
    conn.send(masked_frame(0x2, b"x" * 2000))
    expect_close(conn, 1009)
    wait_until(lambda: stats(server)["closed"] == 1009, what="the handler to see 1009")


def test_fragments_adding_up_over_the_limit_are_1009(server):
    conn, _ = open_raw(server, "/small")
    conn.send(masked_frame(0x2, b"x" * 800, fin=False))
    conn.send(masked_frame(0x0, b"x" * 800))
    expect_close(conn, 1009)


def test_decompression_bomb_is_1009(server):
    conn, _ = open_raw(server, "/small", "Sec-WebSocket-Extensions: permessage-deflate\r\n")
    compressor = zlib.compressobj(wbits=-15)
    bomb = compressor.compress(b"\0" * 1_000_000) + compressor.flush(zlib.Z_SYNC_FLUSH)
    assert len(bomb) < 1024  # the frame itself is within the limits
    conn.send(masked_frame(0x2, bomb[:-4], rsv1=True))
    expect_close(conn, 1009)


def test_close_without_an_answer_times_out(server):
    conn, _ = open_raw(server, "/close?code=4003")
    fin, rsv1, opcode, payload = read_frame(conn)
    assert (opcode, close_code_of(payload)) == (0x8, 4003)
    # The client never answers; the server gives up after its close_timeout (500 ms).
    assert conn.closed_by_peer(timeout=10)


def test_keepalive_pings_and_drops_a_silent_peer(server):
    conn, _ = open_raw(server, "/keepalive")
    for _ in range(2):  # answered pings keep the connection open: the next one comes
        fin, rsv1, opcode, payload = read_frame(conn)
        assert opcode == 0x9
        conn.send(masked_frame(0xA, payload))
    fin, rsv1, opcode, payload = read_frame(conn)
    assert opcode == 0x9  # not answered: the connection is dropped without a close frame
    assert conn.closed_by_peer(timeout=10)
    wait_until(lambda: stats(server)["closed"] == 1006, what="the handler to see 1006")


def test_messages_sent_right_before_the_close_frame_reach_the_handler(server):
    # The handler starts receiving 200 ms late: by then the close frame has been read.
    conn, _ = open_raw(server, "/collect?delay_ms=200")
    conn.send(b"".join(masked_frame(0x1, b"message %d" % i) for i in range(5)) +
              masked_frame(0x8, struct.pack("!H", 1000)))
    expect_close(conn, 1000)
    wait_until(lambda: stats(server)["closed"] == 1000, what="the handler to finish")
    assert stats(server)["collected"] == 5


def test_pings_are_answered_while_the_handler_waits(server):
    conn, _ = open_raw(server, "/echo")
    conn.send(masked_frame(0x9, b"ping 1"))
    assert read_frame(conn) == (True, False, 0xA, b"ping 1")
    # A ping between the fragments of a message.
    conn.send(masked_frame(0x1, b"frag", fin=False))
    conn.send(masked_frame(0x9, b"ping 2"))
    assert read_frame(conn) == (True, False, 0xA, b"ping 2")
    conn.send(masked_frame(0x0, b"mented"))
    assert read_frame(conn)[3] == b"fragmented"
    conn.send(masked_frame(0x8, struct.pack("!H", 1000)))
    expect_close(conn, 1000)


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+) kB", f.read()).group(1))


def test_a_client_that_stops_reading_blocks_the_sender(server):
    size = 1 << 20
    before = rss_kib(server.proc.pid)
    conn, _ = open_raw(server, "/flood?size=%d" % size)
    wait_until(lambda: stats(server)["flood_sent"] > 0, what="the first messages")

    # The client reads nothing: the sender must stall once the socket buffers are full.
    history = []

    def stalled():
        history.append(stats(server)["flood_sent"])
        return len(history) >= 30 and len(set(history[-30:])) == 1
    wait_until(stalled, interval=0.02, what="the sender to stall")
    sent = history[-1]
    assert sent < 64, f"{sent} MiB sent to a client that reads nothing"
    grown = rss_kib(server.proc.pid) - before
    assert grown < 64 * 1024, f"the server grew by {grown} KiB"

    # Reading resumes the sender.
    received = len(conn.buf)
    while received < (sent + 4) * size:
        chunk = conn.sock.recv(1 << 20)
        assert chunk, "the server closed the connection"
        received += len(chunk)
    wait_until(lambda: stats(server)["flood_sent"] > sent, what="the sender to resume")


def test_idle_timeout_still_applies_after_a_send(servers):
    """A read and a write were pending together; the write finishing must not lift the read's
    deadline (the server's idle timeout, here 500 ms, with keep-alive pings off)."""
    server = start_server(servers, "500")
    conn, _ = open_raw(server, "/quiet")
    conn.send(masked_frame(0x1, b"hi"))
    assert read_frame(conn) == (True, False, 0x1, b"hi")
    assert conn.closed_by_peer(timeout=10), "the silent connection outlived the idle timeout"
    wait_until(lambda: stats(server)["closed"] == 1006, what="the handler to see 1006")


def test_server_shutdown_closes_with_1001(server):
    conn, _ = open_raw(server, "/echo")
    conn.send(masked_frame(0x1, b"up"))
    assert read_frame(conn)[3] == b"up"
    server.signal(signal.SIGTERM)
    fin, rsv1, opcode, payload = read_frame(conn)
    assert (opcode, close_code_of(payload)) == (0x8, 1001)
    conn.send(masked_frame(0x8, payload[:2]))
    assert conn.closed_by_peer()
    # Long before the 30 s shutdown timeout that cuts connections still open.
    assert server.wait_exit(timeout=10) == 0
