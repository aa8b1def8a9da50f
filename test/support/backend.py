#!/usr/bin/env python3
"""A configurable HTTP/1.1 backend for the gateway integration tests (python3 stdlib only).

    backend.py --id NAME

listens on 127.0.0.1 on two free ports, the data port (what rws proxies to) and the control
port (what the test talks to directly, never through rws), and prints one JSON line on stdout:

    {"id": "NAME", "port": 40001, "control_port": 40002}

One thread per connection; the HTTP/1.1 parsing is written out here so that the backend can do
what a library server would not: reset a connection, stall, stop in the middle of a body, answer
before reading the body, send interim responses and trailers, switch protocols.

Every request on the data port is recorded (method, path, tag, connection) when its head has
arrived, before its body is read, so a test can tell how many times a request reached this
backend. The tag of a request is its X-Test-Tag header, else its `tag` query parameter.

Data port endpoints (any other path is /echo):
  /echo                 the request back as JSON (method, target, headers, body, connection id,
                        peer port); X-Backend-Id names this instance on every response
  /status?code=N        a response with status N
  /health               the status set by /_ctl/health (200 at start)
  /count                records the request, answers with how many requests carried its tag
  /download?size=N&chunked=1&trailers=1&tag=T&block=B
                        N bytes of the shared pattern (see pattern()), streamed; progress is
                        visible at /_ctl/progress?tag=T; trailers: X-Pattern-Sha256 and
                        X-Pattern-Size (announced in a Trailer field)
  /upload               reads the body as it streams without keeping it; answers with the
                        byte count and the sha256
  /sse?key=K&events=N   text/event-stream, chunked; event 1 is sent at once, event i+1 only
                        after the test called /_ctl/sse_release?key=K i times
  /close-mid-body?size=N&sent=M&chunked=1
                        a head promising N bytes, M bytes, then a clean close (FIN)
  /until-close?size=N   a body delimited by the end of the connection (no length, no chunks)
  /reset?when=head|body|mid
                        SO_LINGER 0 close (RST): right after the head, after reading the whole
                        body, or after the response head and some body bytes
  /stall?when=head|body stops answering (after the head: mid-body) until the peer closes
  /reject413            413 and Connection: close at once, without reading the body
                        (then a lingering close, so the answer is not lost in a reset)
  /interim?code=103     an interim response (with a Link field) and then a 200 echo
  /cacheable?cc=CC&etag=E&chunked=1&delay_ms=D&tag=T
                        "T N" (N: requests with tag T so far) with Cache-Control CC and ETag E
                        when given, chunked when asked; a 304 when If-None-Match is E; the
                        answer starts D ms after the request was recorded (a slow origin)
  /hop                  a response carrying hop-by-hop fields that a proxy must remove
  /upgrade              101 Switching Protocols, a greeting line, then raw byte echo
A request with Expect: 100-continue gets "100 Continue" when its body is first read.

Control endpoints (both ports; not recorded):
  /_ctl/state           counters: connections, requests, health hits, mode, health status
  /_ctl/log?tag=T&path=P
                        recorded requests, optionally filtered
  /_ctl/count?tag=T     {"count": requests with that tag}
  /_ctl/health?status=N sets the /health status
  /_ctl/mode?mode=M     normal | reset (every data request is reset after its head) |
                        status500 (every data request gets a 500)
  /_ctl/close_idle      closes (FIN) the data connections waiting between requests
  /_ctl/linger_idle     half-closes (FIN) the data connections waiting between requests and
                        then discards what arrives on them until the peer closes, answering
                        nothing and sending no reset (a lingering close)
  /_ctl/progress?tag=T  {"sent": bytes of that download written so far, "done": bool,
                        "aborted": true once writing to the peer failed}
  /_ctl/sse?key=K       {"sent": events sent, "released": releases}
  /_ctl/sse_release?key=K
"""

import argparse
import hashlib
import json
import random
import select
import socket
import struct
import threading
import time
import urllib.parse

BLOCK_SIZE = 1 << 20
_BLOCK = random.Random(20261126).randbytes(BLOCK_SIZE)
STALL_LIMIT = 120.0  # a stalled or waiting handler gives up after this long
LINGER_LIMIT = 10.0

GONE = "gone"    # the handler closed (or reset) the socket
CLOSE = "close"  # close after this response
KEEP = "keep"


def pattern(size, block=BLOCK_SIZE):
    """Yields the first `size` bytes of the test pattern (a fixed 1 MiB pseudo-random block,
    repeated) as memoryviews of at most `block` bytes."""
    view = memoryview(_BLOCK)
    pos = 0
    while pos < size:
        start = pos % BLOCK_SIZE
        n = min(block, size - pos, BLOCK_SIZE - start)
        yield view[start:start + n]
        pos += n


def pattern_sha256(size):
    digest = hashlib.sha256()
    for piece in pattern(size):
        digest.update(piece)
    return digest.hexdigest()


class Lingering(Exception):
    """The connection was half-closed while idle: what arrives now is discarded."""


class ProtocolError(Exception):
    pass


class Request:
    def __init__(self, conn, method, target, version, headers):
        self.conn = conn
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers  # [(name, value)] as received
        path, _, query = target.partition("?")
        self.path = path
        self.query = query
        self.params = {k: v[-1] for k, v in urllib.parse.parse_qs(query).items()}
        self.trailers = []
        self.body_done = False
        self.continue_sent = False
        te = self.header("transfer-encoding")
        self.chunked = te is not None and te.strip().lower().endswith("chunked")
        cl = self.header("content-length")
        self.length = int(cl) if cl is not None and not self.chunked else 0
        if not self.chunked and self.length == 0:
            self.body_done = True
        self.tag = self.header("x-test-tag") or self.params.get("tag", "")

    def header(self, name, default=None):
        values = [v for k, v in self.headers if k.lower() == name]
        return ", ".join(values) if values else default

    def wants_close(self):
        connection = (self.header("connection") or "").lower()
        if self.version == "HTTP/1.0":
            return "keep-alive" not in connection
        return "close" in connection

    def expects_continue(self):
        return "100-continue" in (self.header("expect") or "").lower()

    # --- body ---------------------------------------------------------------------------------

    def body_chunks(self):
        """Yields the body as it arrives (chunked or Content-Length)."""
        if self.body_done:
            return
        if self.expects_continue() and not self.continue_sent:
            self.continue_sent = True
            self.conn.sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        c = self.conn
        if self.chunked:
            while True:
                line = c.read_line()
                size = int(line.split(b";")[0].strip(), 16)
                if size == 0:
                    while True:
                        line = c.read_line()
                        if not line:
                            break
                        name, _, value = line.decode("latin-1").partition(":")
                        self.trailers.append((name.strip(), value.strip()))
                    break
                left = size
                while left:
                    piece = c.read_some(left)
                    left -= len(piece)
                    yield piece
                if c.read_exact(2) != b"\r\n":
                    raise ProtocolError("bad chunk end")
        else:
            left = self.length
            while left:
                piece = c.read_some(left)
                left -= len(piece)
                yield piece
        self.body_done = True

    def read_body(self):
        return b"".join(self.body_chunks())

    # --- responses ----------------------------------------------------------------------------

    def head(self, status, headers=(), reason=None, length=None, chunked=False):
        lines = [f"HTTP/1.1 {status} {reason or REASONS.get(status, 'Status')}",
                 f"X-Backend-Id: {self.conn.server.ident}",
                 f"X-Conn-Id: {self.conn.conn_id}"]
        lines += [f"{k}: {v}" for k, v in headers]
        if chunked:
            lines.append("Transfer-Encoding: chunked")
        elif length is not None:
            lines.append(f"Content-Length: {length}")
        self.conn.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))

    def respond(self, status, body=b"", headers=(), reason=None):
        if isinstance(body, str):
            body = body.encode()
        no_body = status in (204, 304) or 100 <= status < 200
        self.head(status, headers, reason, length=None if no_body else len(body))
        if body and not no_body and self.method != "HEAD":
            self.conn.sock.sendall(body)

    def respond_json(self, value, status=200, headers=()):
        self.respond(status, json.dumps(value).encode(),
                     [("Content-Type", "application/json"), *headers])

    def chunk(self, data):
        self.conn.sock.sendall(b"%x\r\n" % len(data) + bytes(data) + b"\r\n")

    def end_chunks(self, trailers=()):
        tail = "".join(f"{k}: {v}\r\n" for k, v in trailers)
        self.conn.sock.sendall(b"0\r\n" + tail.encode("latin-1") + b"\r\n")


REASONS = {100: "Continue", 101: "Switching Protocols", 103: "Early Hints", 200: "OK",
           201: "Created", 204: "No Content", 301: "Moved Permanently", 304: "Not Modified",
           400: "Bad Request", 404: "Not Found", 413: "Content Too Large",
           500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}


class Connection:
    def __init__(self, server, sock, peer, conn_id, control):
        self.server = server
        self.sock = sock
        self.peer = peer
        self.conn_id = conn_id
        self.control = control
        self.buf = b""
        self.requests = 0
        self.lingering = False

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError
        self.buf += data

    def read_line(self):
        while b"\r\n" not in self.buf:
            if len(self.buf) > 65536:
                raise ProtocolError("line too long")
            self._fill()
        line, _, self.buf = self.buf.partition(b"\r\n")
        return line

    def read_exact(self, n):
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_some(self, most):
        if not self.buf:
            self._fill()
        out, self.buf = self.buf[:most], self.buf[most:]
        return out

    def read_request(self):
        """The next request's head, or None on a clean close between requests."""
        if not self.buf:
            self.server.set_idle(self, True)
            try:
                self._fill()
            except (EOFError, OSError):
                return None
            finally:
                self.server.set_idle(self, False)
            if self.lingering:
                raise Lingering
        while b"\r\n\r\n" not in self.buf:
            if len(self.buf) > 1 << 20:
                raise ProtocolError("head too long")
            self._fill()
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, target, version = lines[0].split(" ", 2)
        headers = []
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers.append((name.strip(), value.strip()))
        self.requests += 1
        return Request(self, method, target, version, headers)

    def reset(self):
        """Closes with RST (SO_LINGER 0)."""
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.sock.close()

    def lingering_close(self):
        """FIN, then reads and discards until the peer closes, so unread request bytes do not
        turn the close into a reset that could destroy the response."""
        try:
            self.sock.shutdown(socket.SHUT_WR)
            deadline = time.monotonic() + LINGER_LIMIT
            while time.monotonic() < deadline:
                ready, _, _ = select.select([self.sock], [], [], 0.5)
                if ready and not self.sock.recv(65536):
                    break
        except OSError:
            pass
        self.sock.close()

    def wait_peer_close(self, limit=STALL_LIMIT):
        """Waits (without answering) until the peer closes or resets, at most `limit` s."""
        deadline = time.monotonic() + limit
        try:
            while time.monotonic() < deadline:
                ready, _, _ = select.select([self.sock], [], [], 0.5)
                if ready and not self.sock.recv(65536):
                    break
        except OSError:
            pass
        self.sock.close()

    def serve(self):
        try:
            while True:
                req = self.read_request()
                if req is None:
                    break
                if req.path.startswith("/_ctl/"):
                    outcome = self.server.control(req)
                else:
                    outcome = self.server.handle(req)
                if outcome == GONE:
                    return
                if outcome == CLOSE or req.wants_close():
                    break
                if not req.body_done:
                    for _ in req.body_chunks():
                        pass
        except Lingering:
            self.wait_peer_close()
            return
        except (EOFError, OSError, ProtocolError, ValueError):
            pass
        try:
            self.sock.close()
        except OSError:
            pass


class Backend:
    def __init__(self, ident):
        self.ident = ident
        self.lock = threading.Condition()
        self.log = []
        self.connections = 0
        self.health_hits = 0
        self.health_status = 200
        self.mode = "normal"
        self.idle = set()
        self.progress = {}
        self.sse_sent = {}
        self.sse_released = {}
        self.next_conn_id = 0

    # --- bookkeeping --------------------------------------------------------------------------

    def set_idle(self, conn, idle):
        if conn.control:
            return
        with self.lock:
            if idle:
                self.idle.add(conn)
            else:
                self.idle.discard(conn)

    def accept_loop(self, listener, control):
        while True:
            sock, peer = listener.accept()
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self.lock:
                self.next_conn_id += 1
                conn_id = self.next_conn_id
                if not control:
                    self.connections += 1
            conn = Connection(self, sock, peer, conn_id, control)
            threading.Thread(target=conn.serve, daemon=True).start()

    def record(self, req):
        entry = {"method": req.method, "path": req.path, "query": req.query, "tag": req.tag,
                 "conn_id": req.conn.conn_id, "peer_port": req.conn.peer[1],
                 "expect": req.header("expect"), "time": time.monotonic()}
        with self.lock:
            self.log.append(entry)
            return sum(1 for e in self.log if req.tag and e["tag"] == req.tag)

    # --- control ------------------------------------------------------------------------------

    def control(self, req):
        req.read_body()
        p = req.params
        name = req.path[len("/_ctl/"):]
        with self.lock:
            if name == "state":
                value = {"id": self.ident, "connections": self.connections,
                         "requests": len(self.log), "health_hits": self.health_hits,
                         "health_status": self.health_status, "mode": self.mode,
                         "idle": len(self.idle)}
            elif name == "log":
                value = [e for e in self.log
                         if ("tag" not in p or e["tag"] == p["tag"])
                         and ("path" not in p or e["path"] == p["path"])]
            elif name == "count":
                value = {"count": sum(1 for e in self.log if e["tag"] == p.get("tag", ""))}
            elif name == "health":
                self.health_status = int(p["status"])
                value = {"health_status": self.health_status}
            elif name == "mode":
                self.mode = p["mode"]
                value = {"mode": self.mode}
            elif name == "close_idle":
                idle = list(self.idle)
                self.idle.clear()
                for c in idle:
                    try:
                        c.sock.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                value = {"closed": len(idle)}
            elif name == "linger_idle":
                idle = list(self.idle)
                self.idle.clear()
                for c in idle:
                    c.lingering = True
                    try:
                        c.sock.shutdown(socket.SHUT_WR)
                    except OSError:
                        pass
                value = {"lingering": len(idle)}
            elif name == "progress":
                value = self.progress.get(p.get("tag", ""), {"sent": 0, "done": False})
            elif name == "sse":
                key = p.get("key", "")
                value = {"sent": self.sse_sent.get(key, 0),
                         "released": self.sse_released.get(key, 0)}
            elif name == "sse_release":
                key = p.get("key", "")
                self.sse_released[key] = self.sse_released.get(key, 0) + 1
                self.lock.notify_all()
                value = {"released": self.sse_released[key]}
            else:
                value = None
        if value is None:
            req.respond(404, "unknown control endpoint\n")
        else:
            req.respond_json(value)
        return KEEP

    # --- data ---------------------------------------------------------------------------------

    def handle(self, req):
        if req.path == "/health":
            with self.lock:
                self.health_hits += 1
                status = self.health_status
            req.read_body()
            req.respond(status, f"health {status}\n")
            return KEEP
        count = self.record(req)
        if self.mode == "reset":
            req.conn.reset()
            return GONE
        if self.mode == "status500":
            req.read_body()
            req.respond(500, "failing on purpose\n")
            return KEEP
        handler = HANDLERS.get(req.path, Backend.echo)
        return handler(self, req, count)

    def echo(self, req, count):
        body = req.read_body()
        value = {"id": self.ident, "method": req.method, "target": req.target,
                 "path": req.path, "query": req.query, "version": req.version,
                 "headers": req.headers, "body": body.decode("latin-1"), "body_len": len(body),
                 "chunked": req.chunked, "trailers": req.trailers,
                 "continue_sent": req.continue_sent, "conn_id": req.conn.conn_id,
                 "peer_port": req.conn.peer[1], "request_on_conn": req.conn.requests}
        req.respond_json(value)
        return KEEP

    def status(self, req, count):
        req.read_body()
        code = int(req.params.get("code", "200"))
        req.respond(code, f"status {code}\n", [("Content-Type", "text/plain")])
        return KEEP

    def count(self, req, count):
        req.read_body()
        req.respond_json({"id": self.ident, "tag": req.tag, "count": count})
        return KEEP

    def cacheable(self, req, count):
        req.read_body()
        p = req.params
        if "delay_ms" in p:
            time.sleep(int(p["delay_ms"]) / 1000)
        headers = [("Content-Type", "text/plain")]
        if "cc" in p:
            headers.append(("Cache-Control", p["cc"]))
        if "etag" in p:
            headers.append(("ETag", p["etag"]))
            if req.header("if-none-match") == p["etag"]:
                req.respond(304, b"", headers)
                return KEEP
        body = f"{req.tag} {count}".encode()
        if p.get("chunked") == "1":
            req.head(200, headers, chunked=True)
            req.chunk(body)
            req.end_chunks()
        else:
            req.respond(200, body, headers)
        return KEEP

    def download(self, req, count):
        req.read_body()
        size = int(req.params.get("size", "0"))
        chunked = req.params.get("chunked") == "1"
        trailers = req.params.get("trailers") == "1"
        block = int(req.params.get("block", str(64 * 1024)))
        tag = req.tag
        headers = [("Content-Type", "application/octet-stream")]
        if trailers:
            headers.append(("Trailer", "X-Pattern-Sha256, X-Pattern-Size"))
        req.head(200, headers, length=None if chunked else size, chunked=chunked)
        sent = 0
        digest = hashlib.sha256() if trailers else None
        with self.lock:
            self.progress[tag] = {"sent": 0, "done": False}
        try:
            for piece in pattern(size, block):
                if chunked:
                    req.chunk(piece)
                else:
                    req.conn.sock.sendall(piece)
                if digest is not None:
                    digest.update(piece)
                sent += len(piece)
                with self.lock:
                    self.progress[tag] = {"sent": sent, "done": False}
        except OSError:
            with self.lock:
                self.progress[tag] = {"sent": sent, "done": False, "aborted": True}
            req.conn.sock.close()
            return GONE
        if chunked:
            req.end_chunks([("X-Pattern-Sha256", digest.hexdigest()),
                            ("X-Pattern-Size", str(size))] if trailers else ())
        with self.lock:
            self.progress[tag] = {"sent": sent, "done": True}
        return KEEP

    def upload(self, req, count):
        digest = hashlib.sha256()
        received = 0
        for piece in req.body_chunks():
            digest.update(piece)
            received += len(piece)
        req.respond_json({"id": self.ident, "received": received, "sha256": digest.hexdigest(),
                          "chunked": req.chunked, "trailers": req.trailers,
                          "continue_sent": req.continue_sent})
        return KEEP

    def sse(self, req, count):
        req.read_body()
        key = req.params.get("key", "")
        events = int(req.params.get("events", "3"))
        req.head(200, [("Content-Type", "text/event-stream"), ("Cache-Control", "no-cache")],
                 chunked=True)
        for i in range(1, events + 1):
            with self.lock:
                released = self.lock.wait_for(
                    lambda: self.sse_released.get(key, 0) >= i - 1, timeout=STALL_LIMIT)
            if not released:
                req.conn.sock.close()
                return GONE
            with self.lock:  # counted before it leaves, so a client never sees it uncounted
                self.sse_sent[key] = i
            req.chunk(f"id: {i}\ndata: event {i}\n\n".encode())
        req.end_chunks()
        return KEEP

    def close_mid_body(self, req, count):
        req.read_body()
        size = int(req.params.get("size", "100000"))
        sent = int(req.params.get("sent", str(size // 2)))
        chunked = req.params.get("chunked") == "1"
        req.head(200, [("Content-Type", "application/octet-stream")],
                 length=None if chunked else size, chunked=chunked)
        data = b"".join(bytes(p) for p in pattern(sent))
        if chunked:
            req.chunk(data)
        else:
            req.conn.sock.sendall(data)
        req.conn.sock.shutdown(socket.SHUT_WR)
        req.conn.sock.close()
        return GONE

    def until_close(self, req, count):
        req.read_body()
        size = int(req.params.get("size", "100000"))
        req.head(200, [("Content-Type", "application/octet-stream"), ("Connection", "close")])
        for piece in pattern(size):
            req.conn.sock.sendall(piece)
        req.conn.lingering_close()
        return GONE

    def reset(self, req, count):
        when = req.params.get("when", "head")
        if when == "body":
            req.read_body()
        elif when == "mid":
            req.read_body()
            req.head(200, [("Content-Type", "application/octet-stream")], length=100000)
            req.conn.sock.sendall(b"x" * 10000)
        req.conn.reset()
        return GONE

    def stall(self, req, count):
        req.read_body()
        if req.params.get("when", "head") == "body":
            req.head(200, [("Content-Type", "application/octet-stream")], length=100000)
            req.conn.sock.sendall(b"y" * 10000)
        req.conn.wait_peer_close()
        return GONE

    def reject413(self, req, count):
        req.head(413, [("Content-Type", "text/plain"), ("Connection", "close")], length=13)
        req.conn.sock.sendall(b"too large!!!\n")
        req.conn.lingering_close()
        return GONE

    def interim(self, req, count):
        code = int(req.params.get("code", "103"))
        req.conn.sock.sendall(f"HTTP/1.1 {code} {REASONS.get(code, 'Interim')}\r\n"
                              f"Link: </style.css>; rel=preload\r\n\r\n".encode())
        return self.echo(req, count)

    def hop(self, req, count):
        req.read_body()
        req.respond(200, "hop\n", [("Connection", "X-Resp-Hop"), ("X-Resp-Hop", "secret"),
                                   ("Keep-Alive", "timeout=5, max=100"),
                                   ("Proxy-Connection", "keep-alive"), ("Upgrade", "h2c"),
                                   ("X-End-To-End", "kept"), ("Via", "1.0 origin")])
        return KEEP

    def upgrade(self, req, count):
        req.read_body()
        proto = req.header("upgrade")
        if proto is None:
            req.respond(426, "upgrade required\n", [("Upgrade", "websocket")])
            return KEEP
        req.conn.sock.sendall(("HTTP/1.1 101 Switching Protocols\r\n"
                               f"Upgrade: {proto}\r\nConnection: Upgrade\r\n"
                               f"X-Backend-Id: {self.ident}\r\n\r\n").encode("latin-1"))
        sock = req.conn.sock
        sock.sendall(b"hello from " + self.ident.encode() + b"\n")
        pending = req.conn.buf
        req.conn.buf = b""
        try:
            if pending:
                sock.sendall(pending)
            while True:
                data = sock.recv(65536)
                if not data:
                    break
                sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        sock.close()
        return GONE


HANDLERS = {
    "/echo": Backend.echo,
    "/status": Backend.status,
    "/count": Backend.count,
    "/cacheable": Backend.cacheable,
    "/download": Backend.download,
    "/upload": Backend.upload,
    "/sse": Backend.sse,
    "/close-mid-body": Backend.close_mid_body,
    "/until-close": Backend.until_close,
    "/reset": Backend.reset,
    "/stall": Backend.stall,
    "/reject413": Backend.reject413,
    "/interim": Backend.interim,
    "/hop": Backend.hop,
    "/upgrade": Backend.upgrade,
}


def listen():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(512)
    return s


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--id", default="backend")
    args = parser.parse_args()
    backend = Backend(args.id)
    data = listen()
    control = listen()
    for listener, is_control in ((data, False), (control, True)):
        threading.Thread(target=backend.accept_loop, args=(listener, is_control),
                         daemon=True).start()
    print(json.dumps({"id": args.id, "port": data.getsockname()[1],
                      "control_port": control.getsockname()[1]}), flush=True)
    threading.Event().wait()  # until killed


if __name__ == "__main__":
    main()
