"""[[ws_proxy]] listeners through the real binary, with Debian's python3 `websockets` as both the
backends (each answers "NAME:message" and serves an HTTP health path whose status the test sets)
and the client. Covered: echo through the listener, two backends balanced, a dead backend
skipped, a health check taking a backend out and back, all backends out → 503, a non-upgrade
request → 426 with Upgrade: websocket, and a reload that changes the backends while a tunnel
stays open."""

import asyncio
import http
import signal
import socket
import threading
import urllib.error
import urllib.request

import pytest
import websockets

from conftest import RWS_BIN, wait_until
from test_l4_proxy import l4_port
from test_rate_limit_redis import free_port


class WsBackend:
    """A WebSocket echo server on 127.0.0.1 in a thread of its own. Messages come back as
    "NAME:message"; GET /health (not an upgrade) answers `health_status`."""

    def __init__(self, name):
        self.name = name
        self.health_status = 200
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(ready,), daemon=True)
        self.thread.start()
        assert ready.wait(10), "the WebSocket backend did not start"

    def _run(self, ready):
        asyncio.set_event_loop(self.loop)

        async def echo(ws, _path):
            async for message in ws:
                await ws.send(f"{self.name}:{message}")

        async def health(path, _headers):
            if path == "/health":
                return http.HTTPStatus(self.health_status), [], b"health\n"
            return None  # a WebSocket handshake

        self.server = self.loop.run_until_complete(
            websockets.serve(echo, "127.0.0.1", 0, process_request=health))
        self.port = self.server.sockets[0].getsockname()[1]
        ready.set()
        self.loop.run_forever()

    def close(self):
        async def stop():
            self.server.close()
            await self.server.wait_closed()
        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@pytest.fixture
def backends():
    made = []

    def make(name):
        made.append(WsBackend(name))
        return made[-1]

    yield make
    for b in made:
        b.close()


@pytest.fixture
def rws_ws(servers, tmp_path):
    """Factory: rws_ws(toml) → (server, config path) running that configuration."""
    if not RWS_BIN:
        pytest.fail("RWS_BIN is not set: run the integration tests through ctest")
    cfg = tmp_path / "rws.config.toml"

    def start(body, listen=True):
        cfg.write_text(HEAD + body)
        return servers([RWS_BIN, "--config", str(cfg)], cwd=tmp_path, listen=listen), cfg

    return start


HEAD = 'ip = "127.0.0.1"\nport = 0\nthread_count = 1\n'


def ws_proxy(name, urls, extra=""):
    listed = ", ".join(f'"{u}"' for u in urls)
    return f'[[ws_proxy]]\nname = "{name}"\nlisten = "127.0.0.1:0"\nbackends = [{listed}]\n{extra}'


def health(interval=1):
    return ("[ws_proxy.health_check]\npath = \"/health\"\n"
            f"interval_secs = {interval}\ntimeout_ms = 1000\n"
            "healthy_threshold = 1\nunhealthy_threshold = 1\n")


def exchange(port, message):
    """One WebSocket connection through rws: sends `message`, returns the answer."""
    async def run():
        async with websockets.connect(f"ws://127.0.0.1:{port}/chat", open_timeout=10) as ws:
            await ws.send(message)
            return await asyncio.wait_for(ws.recv(), 10)
    return asyncio.run(run())


def handshake_status(port):
    """The status rws answers a WebSocket handshake with when it refuses it."""
    async def run():
        try:
            async with websockets.connect(f"ws://127.0.0.1:{port}/chat", open_timeout=10):
                return 101
        except websockets.exceptions.InvalidStatusCode as e:
            return e.status_code
    return asyncio.run(run())


def test_echo_through_the_listener(rws_ws, backends):
    a = backends("a")
    server, _ = rws_ws(ws_proxy("chat", [f"ws://127.0.0.1:{a.port}"]))
    port = l4_port(server, "ws_proxy", "chat")
    assert exchange(port, "hello") == "a:hello"
    assert exchange(port, "x" * 100000) == "a:" + "x" * 100000


def test_two_backends_are_balanced(rws_ws, backends):
    a, b = backends("a"), backends("b")
    server, _ = rws_ws(ws_proxy("chat", [f"127.0.0.1:{a.port}", f"ws://127.0.0.1:{b.port}"]))
    port = l4_port(server, "ws_proxy", "chat")
    seen = [exchange(port, "m").split(":")[0] for _ in range(4)]
    assert sorted(seen) == ["a", "a", "b", "b"]


def test_a_dead_backend_is_skipped(rws_ws, backends):
    a = backends("a")
    dead = free_port()
    server, _ = rws_ws(ws_proxy("chat", [f"127.0.0.1:{dead}", f"127.0.0.1:{a.port}"]))
    port = l4_port(server, "ws_proxy", "chat")
    for _ in range(4):
        assert exchange(port, "m") == "a:m"


def test_health_check_takes_a_backend_out_and_back(rws_ws, backends):
    a, b = backends("a"), backends("b")
    server, _ = rws_ws(ws_proxy("chat", [f"127.0.0.1:{a.port}", f"127.0.0.1:{b.port}"], health()))
    port = l4_port(server, "ws_proxy", "chat")
    a.health_status = 500
    wait_until(lambda: f"backend 127.0.0.1:{a.port} failed" in server.stderr,
               what="backend a to be taken out")
    assert [exchange(port, "m") for _ in range(4)] == ["b:m"] * 4
    a.health_status = 200
    wait_until(lambda: f"backend 127.0.0.1:{a.port} is healthy again" in server.stderr,
               what="backend a to come back")
    assert sorted(exchange(port, "m") for _ in range(4)) == ["a:m", "a:m", "b:m", "b:m"]


def test_all_backends_down_is_503(rws_ws, backends):
    a = backends("a")
    a.health_status = 500
    server, _ = rws_ws(ws_proxy("chat", [f"127.0.0.1:{a.port}"], health()))
    port = l4_port(server, "ws_proxy", "chat")
    wait_until(lambda: f"backend 127.0.0.1:{a.port} failed" in server.stderr,
               what="the only backend to be taken out")
    assert handshake_status(port) == 503


def test_a_plain_request_is_426(rws_ws, backends):
    a = backends("a")
    server, _ = rws_ws(ws_proxy("chat", [f"127.0.0.1:{a.port}"]))
    port = l4_port(server, "ws_proxy", "chat")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/chat", timeout=10)
    assert refused.value.code == 426
    assert refused.value.headers["Upgrade"] == "websocket"


def test_reload_changes_backends_and_keeps_an_open_tunnel(rws_ws, backends):
    a, b = backends("a"), backends("b")
    server, cfg = rws_ws(ws_proxy("chat", [f"127.0.0.1:{a.port}"]))
    port = l4_port(server, "ws_proxy", "chat")

    async def run():
        async with websockets.connect(f"ws://127.0.0.1:{port}/chat", open_timeout=10) as ws:
            await ws.send("before")
            assert await asyncio.wait_for(ws.recv(), 10) == "a:before"
            cfg.write_text(HEAD + ws_proxy("chat", [f"127.0.0.1:{b.port}"]))
            server.signal(signal.SIGHUP)
            await asyncio.get_running_loop().run_in_executor(None, lambda: wait_until(
                lambda: "configuration reloaded" in server.stderr, what="the reload"))
            # New connections go to the new backend; the open tunnel stays on the old one.
            assert await asyncio.get_running_loop().run_in_executor(
                None, exchange, port, "new") == "b:new"
            await ws.send("after")
            assert await asyncio.wait_for(ws.recv(), 10) == "a:after"

    asyncio.run(run())
    assert "reload failed" not in server.stderr


def test_a_listen_address_in_use_stops_the_start(rws_ws, backends):
    a = backends("a")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server, _ = rws_ws(ws_proxy("chat", [f"127.0.0.1:{a.port}"]).replace(
            "127.0.0.1:0", f"127.0.0.1:{port}"), listen=False)
        assert server.wait_exit() == 1
    assert f"rws: error: ws_proxy chat: cannot listen on 127.0.0.1:{port}" in server.stderr


def test_a_reload_that_moves_a_listener_warns_and_keeps_it(rws_ws, backends):
    a = backends("a")
    server, cfg = rws_ws(ws_proxy("chat", [f"127.0.0.1:{a.port}"]))
    port = l4_port(server, "ws_proxy", "chat")
    cfg.write_text(HEAD + ws_proxy("chat", [f"127.0.0.1:{a.port}"]).replace(
        "127.0.0.1:0", f"127.0.0.1:{free_port()}"))
    server.signal(signal.SIGHUP)
    wait_until(lambda: "configuration reloaded" in server.stderr, what="the reload")
    assert "their listeners change at the next restart" in server.stderr
    assert exchange(port, "m") == "a:m"
