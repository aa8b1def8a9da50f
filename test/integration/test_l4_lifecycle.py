"""[[tcp_proxy]] / [[udp_proxy]] across SIGTERM and SIGHUP, and their /metrics counters, through
the real binary with python echo backends (TCP and UDP) on free loopback ports. Drain: a tunnel
open across SIGTERM still carries data, new connections are refused, UDP sessions end, and the
process exits once the tunnel closes. Reload: unchanged, changed, removed and added listeners; a
bad file changes nothing. Metrics: connections, bytes, active tunnels and UDP sessions, connect
failures and backend health, scraped from /metrics."""

import signal
import socket

import pytest

from conftest import wait_until
from test_l4_proxy import (connect, echo_server, l4_port, read_to_eof, rws_l4,  # noqa: F401
                           tcp_proxy, udp_client, udp_echo, udp_proxy, ask)
from test_metrics import scrape, value
from test_rate_limit_redis import free_port


def echoes(sock, payload):
    sock.sendall(payload)
    got = b""
    while len(got) < len(payload):
        data = sock.recv(65536)
        assert data, "the tunnel closed"
        got += data
    return got == payload


def refused(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=10).close()
    except ConnectionRefusedError:
        return True
    return False


# ----- drain ------------------------------------------------------------------------------------

def test_sigterm_drains_open_tunnels_and_refuses_new_ones(rws_l4, echo_server, udp_echo):
    echo = echo_server()
    uecho = udp_echo()
    server = rws_l4(tcp_proxy("echo", [f"127.0.0.1:{echo.port}"]) +
                    udp_proxy("dns", [f"127.0.0.1:{uecho.port}"]))
    port = l4_port(server, "tcp_proxy", "echo")
    uport = l4_port(server, "udp_proxy", "dns")
    client = udp_client()
    try:
        assert ask(client, uport, b"q1").startswith(b"q1|")
        with connect(port) as tunnel:
            assert echoes(tunnel, b"before")
            server.signal(signal.SIGTERM)
            wait_until(lambda: "L4: stopped accepting; draining 1 TCP connection(s)"
                       in server.stderr, what="the L4 drain to begin")
            assert refused(port)
            # The open tunnel still carries data both ways, and keeps the process alive.
            assert echoes(tunnel, b"after SIGTERM" * 1000)
            assert server.alive()
            # UDP sessions ended with the drain: the listening socket is closed.
            client.settimeout(0.5)
            client.sendto(b"q2", ("127.0.0.1", uport))
            with pytest.raises((socket.timeout, ConnectionRefusedError)):
                client.recvfrom(65536)
            tunnel.shutdown(socket.SHUT_WR)
            assert read_to_eof(tunnel) == b""
        assert server.wait_exit() == 0, server.stderr
        assert "closing 1 remaining TCP connection" not in server.stderr
    finally:
        client.close()


def test_drain_deadline_closes_what_is_still_open(rws_l4, echo_server):
    echo = echo_server()
    server = rws_l4("shutdown_timeout_ms = 300\n" +
                    tcp_proxy("echo", [f"127.0.0.1:{echo.port}"]))
    port = l4_port(server, "tcp_proxy", "echo")
    with connect(port) as tunnel:
        assert echoes(tunnel, b"x")
        server.signal(signal.SIGTERM)
        assert read_to_eof(tunnel) == b""  # closed by the deadline, not by the client
        assert server.wait_exit() == 0, server.stderr
    assert "L4: closing 1 remaining TCP connection(s)" in server.stderr


def test_second_sigterm_closes_tunnels_at_once(rws_l4, echo_server):
    echo = echo_server()
    server = rws_l4(tcp_proxy("echo", [f"127.0.0.1:{echo.port}"]))  # 30 s drain by default
    port = l4_port(server, "tcp_proxy", "echo")
    with connect(port) as tunnel:
        assert echoes(tunnel, b"x")
        server.signal(signal.SIGTERM)
        wait_until(lambda: "L4: stopped accepting" in server.stderr, what="the drain to begin")
        server.signal(signal.SIGTERM)
        assert read_to_eof(tunnel) == b""
        assert server.wait_exit(timeout=10) == 0, server.stderr


# ----- reload -----------------------------------------------------------------------------------

def test_reload_keeps_changes_removes_and_adds_listeners(rws_l4, echo_server, tmp_path):
    a, b, c = echo_server(), echo_server(), echo_server()
    server = rws_l4(tcp_proxy("same", [f"127.0.0.1:{a.port}"]) +
                    tcp_proxy("changed", [f"127.0.0.1:{a.port}"]) +
                    tcp_proxy("removed", [f"127.0.0.1:{c.port}"]))
    same = l4_port(server, "tcp_proxy", "same")
    changed = l4_port(server, "tcp_proxy", "changed")
    removed = l4_port(server, "tcp_proxy", "removed")
    t_same, t_changed, t_removed = connect(same), connect(changed), connect(removed)
    try:
        for t in (t_same, t_changed, t_removed):
            assert echoes(t, b"before")
        assert (a.accepted, b.accepted, c.accepted) == (2, 0, 1)

        cfg = tmp_path / "rws.config.toml"
        head = 'ip = "127.0.0.1"\nport = 0\nthread_count = 1\n'
        cfg.write_text(head + tcp_proxy("same", [f"127.0.0.1:{a.port}"]) +
                       tcp_proxy("changed", [f"127.0.0.1:{b.port}"]) +
                       tcp_proxy("added", [f"127.0.0.1:{c.port}"]))
        server.signal(signal.SIGHUP)
        added = l4_port(server, "tcp_proxy", "added")
        assert "tcp_proxy changed reconfigured" in server.stderr
        assert "tcp_proxy same reconfigured" not in server.stderr
        assert "tcp_proxy removed removed" in server.stderr

        # Established tunnels are untouched, whatever happened to their listener.
        for t in (t_same, t_changed, t_removed):
            assert echoes(t, b"after the reload")
        # Same socket, same backend.
        with connect(same) as s:
            assert echoes(s, b"same")
        assert a.accepted == 3
        # Same socket, new backend for new connections.
        with connect(changed) as s:
            assert echoes(s, b"changed")
        assert (a.accepted, b.accepted) == (3, 1)
        # The removed listener no longer accepts; the added one does.
        assert refused(removed)
        with connect(added) as s:
            assert echoes(s, b"added")
        assert c.accepted == 2

        # A bad file changes nothing.
        cfg.write_text(head + tcp_proxy("same", ["127.0.0.1:not-a-port"]))
        server.signal(signal.SIGHUP)
        wait_until(lambda: "reload failed" in server.stderr, what="the reload to fail")
        with connect(changed) as s:
            assert echoes(s, b"still b")
        assert b.accepted == 2
        with connect(added) as s:
            assert echoes(s, b"still added")
        assert echoes(t_removed, b"still open")
    finally:
        for t in (t_same, t_changed, t_removed):
            t.close()


def test_reload_that_cannot_bind_changes_nothing(rws_l4, echo_server, tmp_path):
    a, b = echo_server(), echo_server()
    server = rws_l4(tcp_proxy("one", [f"127.0.0.1:{a.port}"]))
    port = l4_port(server, "tcp_proxy", "one")
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    try:
        cfg = tmp_path / "rws.config.toml"
        cfg.write_text('ip = "127.0.0.1"\nport = 0\nthread_count = 1\n' +
                       tcp_proxy("one", [f"127.0.0.1:{b.port}"]) +
                       tcp_proxy("two", [f"127.0.0.1:{b.port}"]).replace(
                           "127.0.0.1:0", f"127.0.0.1:{busy.getsockname()[1]}"))
        server.signal(signal.SIGHUP)
        wait_until(lambda: "reload failed: tcp_proxy two: cannot listen" in server.stderr,
                   what="the reload to fail")
        with connect(port) as s:
            assert echoes(s, b"old settings")
        assert (a.accepted, b.accepted) == (1, 0)
    finally:
        busy.close()


def test_reload_changes_udp_backend_for_new_sessions(rws_l4, udp_echo, tmp_path):
    a, b = udp_echo(), udp_echo()
    server = rws_l4(udp_proxy("dns", [f"127.0.0.1:{a.port}"]))
    port = l4_port(server, "udp_proxy", "dns")
    old, new = udp_client(), udp_client()
    try:
        first = ask(old, port, b"q")
        cfg = tmp_path / "rws.config.toml"
        cfg.write_text('ip = "127.0.0.1"\nport = 0\nthread_count = 1\n' +
                       udp_proxy("dns", [f"127.0.0.1:{b.port}"]))
        server.signal(signal.SIGHUP)
        wait_until(lambda: "udp_proxy dns reconfigured" in server.stderr, what="the reload")
        # The open session keeps its backend socket (same source port seen by backend a) ...
        assert ask(old, port, b"q") == first
        # ... a new client's session goes to b (a is gone), through the same listening socket.
        a.close()
        assert ask(new, port, b"r").startswith(b"r|")
        assert server.stderr.count("udp_proxy dns listening") == 1
    finally:
        old.close()
        new.close()


# ----- metrics ----------------------------------------------------------------------------------

def test_l4_metrics(rws_l4, echo_server, udp_echo):
    echo = echo_server()
    uecho = udp_echo()
    dead = free_port()
    server = rws_l4("[metrics]\nenabled = true\n" +
                    tcp_proxy("echo", [f"127.0.0.1:{dead}", f"127.0.0.1:{echo.port}"]) +
                    udp_proxy("dns", [f"127.0.0.1:{uecho.port}"]))
    server.wait_listening()
    port = l4_port(server, "tcp_proxy", "echo")
    uport = l4_port(server, "udp_proxy", "dns")
    client = udp_client()
    try:
        # Round robin: the first connection tries the dead backend, then the live one.
        with connect(port) as t1, connect(port) as t2:
            assert echoes(t1, b"a" * 1000)
            assert echoes(t2, b"b" * 500)
            assert ask(client, uport, b"hello").startswith(b"hello|")
            samples, types = scrape(server)
            assert value(samples, "rws_l4_connections_total", listener="echo") == 2
            assert value(samples, "rws_l4_connections_active", listener="echo") == 2
            assert value(samples, "rws_l4_bytes_total", listener="echo", direction="in") == 1500
            assert value(samples, "rws_l4_bytes_total", listener="echo", direction="out") == 1500
            assert value(samples, "rws_l4_connect_failures_total", listener="echo",
                         backend=f"127.0.0.1:{dead}") == 1
            assert value(samples, "rws_l4_backend_healthy", listener="echo",
                         backend=f"127.0.0.1:{echo.port}") == 1
            assert value(samples, "rws_l4_connections_total", listener="dns") == 1
            assert value(samples, "rws_l4_udp_sessions_active", listener="dns") == 1
            assert value(samples, "rws_l4_bytes_total", listener="dns", direction="in") == 5
            # The reply is counted once its send completed, which may be after the client got
            # it (a counter never goes back, so it is not counted ahead of the send).
            reply = len(b"hello|") + len(str(client.getsockname()[1]))
            wait_until(lambda: value(scrape(server)[0], "rws_l4_bytes_total", listener="dns",
                                     direction="out") >= reply, what="the reply in the counter")
            assert types["rws_l4_connections_total"] == "counter"
            assert types["rws_l4_connections_active"] == "gauge"
        # Both tunnels closed by the client: the gauge follows.
        wait_until(lambda: value(scrape(server)[0], "rws_l4_connections_active",
                                 listener="echo") == 0, what="the active gauge to drop")
    finally:
        client.close()


def test_listener_added_by_reload_runs_and_is_in_metrics(rws_l4, echo_server, tmp_path):
    echo = echo_server()
    route = ('\n[[upstream]]\nname = "u"\nbackends = ["127.0.0.1:1"]\n'
             '\n[[route]]\nname = "r"\nmatch = { path = "/*" }\n'
             'action = { type = "proxy", upstream = "u" }\n')
    server = rws_l4("[metrics]\nenabled = true\n" + route)
    server.wait_listening()
    samples, types = scrape(server)
    assert types["rws_l4_connections_total"] == "counter"
    assert not [k for k in samples if k[0].startswith("rws_l4_")]
    cfg = tmp_path / "rws.config.toml"
    cfg.write_text(cfg.read_text() + tcp_proxy("late", [f"127.0.0.1:{echo.port}"]))
    server.signal(signal.SIGHUP)
    port = l4_port(server, "tcp_proxy", "late")
    with connect(port) as s:
        assert echoes(s, b"hi")
    samples, _ = scrape(server)
    assert value(samples, "rws_l4_connections_total", listener="late") == 1
