"""Shared harness for the integration tests: starts the real binaries on 127.0.0.1 port 0 and
offers raw-socket and curl clients. Synchronisation is by observable events (a log line, a
response, a refused connection) with deadlines, never by sleeping."""

import os
import re
import select
import shutil
import signal
import socket
import subprocess
import threading
import time

import pytest

RWS_BIN = os.environ.get("RWS_BIN", "")
RWS_TEST_SERVER = os.environ.get("RWS_TEST_SERVER", "")
LISTENING = re.compile(r"listening on (https?)://(\[[^\]]+\]|[^:\s]+):(\d+)")
DEFAULT_DEADLINE = 20.0


def require_tool(name):
    """Fails (never skips) when a peer the test relies on is missing."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"required test peer '{name}' is not installed (run scripts/setup test)")
    return path


def wait_until(predicate, timeout=DEFAULT_DEADLINE, interval=0.01, what="condition"):
    """Polls `predicate` until it returns a truthy value or the deadline passes."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def accept_in_threads(listener, serve):
    """Accepts connections on `listener` until it is closed, each served by `serve(sock)` in a
    thread of its own (daemon threads, so a test's stray peer cannot hold the run)."""

    def accept_loop():
        while True:
            try:
                sock, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(sock,), daemon=True).start()

    threading.Thread(target=accept_loop, daemon=True).start()


class Process:
    """A started server. stdout (the access log) and stderr are collected by reader threads."""

    def __init__(self, argv, cwd=None, env=None):
        self.argv = argv
        full_env = dict(os.environ)
        # Never let the developer's environment leak RWS_CONFIG_* settings into a test.
        for key in list(full_env):
            if key.startswith("RWS_CONFIG_"):
                del full_env[key]
        full_env.update(env or {})
        self.proc = subprocess.Popen(argv, cwd=cwd, env=full_env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self._out = []
        self._err = []
        self._lock = threading.Lock()
        self._readers = [threading.Thread(target=self._drain, args=(self.proc.stdout, self._out),
                                          daemon=True),
                         threading.Thread(target=self._drain, args=(self.proc.stderr, self._err),
                                          daemon=True)]
        for t in self._readers:
            t.start()
        self.scheme = None
        self.host = None
        self.port = None

    def _drain(self, stream, sink):
        for line in iter(stream.readline, b""):
            with self._lock:
                sink.append(line.decode("utf-8", "replace"))
        stream.close()

    @property
    def stdout(self):
        with self._lock:
            return "".join(self._out)

    @property
    def stderr(self):
        with self._lock:
            return "".join(self._err)

    def wait_listening(self, timeout=DEFAULT_DEADLINE):
        def found():
            m = LISTENING.search(self.stderr)
            if m:
                return m
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"{self.argv[0]} exited with {self.proc.returncode} before listening:\n"
                    f"{self.stderr}")
            return None
        m = wait_until(found, timeout, what="the server to listen")
        self.scheme = m.group(1)
        self.host = m.group(2).strip("[]")
        self.port = int(m.group(3))
        return self

    def url(self, path="/"):
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}{path}"

    def connect(self, timeout=10.0):
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        s = socket.socket(family, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect((self.host, self.port))
        return RawConnection(s)

    def signal(self, sig):
        self.proc.send_signal(sig)

    def wait_exit(self, timeout=DEFAULT_DEADLINE):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"{self.argv[0]} did not exit within {timeout}s:\n{self.stderr}")

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
        for t in self._readers:
            t.join(5)


class Response:
    def __init__(self, status, reason, headers, body, version):
        self.status = status
        self.reason = reason
        self.headers = headers  # list of (name, value) in order
        self.body = body
        self.version = version
        self.trailers = []  # (name, value) of a chunked body's trailer section

    def header(self, name, default=None):
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return default

    def header_all(self, name):
        name = name.lower()
        return [v for k, v in self.headers if k.lower() == name]

    def __repr__(self):
        return f"<Response {self.status} {self.headers!r} body={self.body[:80]!r}>"


class RawConnection:
    """A client socket with a small, strict HTTP/1.1 response reader."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def send(self, data):
        if isinstance(data, str):
            data = data.encode("latin-1")
        self.sock.sendall(data)

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("connection closed by the server")
        self.buf += chunk

    def read_until(self, marker):
        while marker not in self.buf:
            self._fill()
        i = self.buf.index(marker) + len(marker)
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def read_exact(self, n):
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_response(self, head_request=False):
        """Reads one response (interim 1xx responses are returned as responses too)."""
        head = self.read_until(b"\r\n\r\n").decode("latin-1")
        lines = head.split("\r\n")
        version, status, reason = (lines[0].split(" ", 2) + [""])[:3]
        headers = []
        for line in lines[1:]:
            if not line:
                continue
            name, _, value = line.partition(":")
            headers.append((name, value.strip()))
        status = int(status)
        resp = Response(status, reason, headers, b"", version)
        if head_request or 100 <= status < 200 or status in (204, 304):
            return resp
        te = resp.header("transfer-encoding")
        cl = resp.header("content-length")
        if te is not None:
            assert te.lower() == "chunked", te
            body = b""
            while True:
                size_line = self.read_until(b"\r\n")
                size = int(size_line.split(b";")[0], 16)
                if size == 0:
                    while True:
                        line = self.read_until(b"\r\n")
                        if line == b"\r\n":
                            break
                        name, _, value = line[:-2].decode("latin-1").partition(":")
                        resp.trailers.append((name, value.strip()))
                    break
                body += self.read_exact(size)
                assert self.read_exact(2) == b"\r\n"
            resp.body = body
        elif cl is not None:
            resp.body = self.read_exact(int(cl))
        else:
            resp.body = self.read_to_eof()
        return resp

    def read_to_eof(self):
        data = self.buf
        self.buf = b""
        while True:
            try:
                chunk = self.sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            data += chunk
        return data

    def closed_by_peer(self, timeout=10.0):
        """True when the server closes the connection (EOF or reset) within `timeout`, after
        discarding nothing: unread bytes count as 'not closed'."""
        if self.buf:
            return False
        ready, _, _ = select.select([self.sock], [], [], timeout)
        if not ready:
            return False
        try:
            return self.sock.recv(1) == b""
        except ConnectionResetError:
            return True

    def readable_within(self, timeout):
        if self.buf:
            return True
        ready, _, _ = select.select([self.sock], [], [], timeout)
        return bool(ready)

    def close(self):
        self.sock.close()


def request(method, path, host="test", headers=(), body=b"", version="HTTP/1.1"):
    """Builds a raw request."""
    lines = [f"{method} {path} {version}"]
    if host is not None:
        lines.append(f"Host: {host}")
    lines += [f"{k}: {v}" for k, v in headers]
    if body and not any(k.lower() in ("content-length", "transfer-encoding") for k, _ in headers):
        lines.append(f"Content-Length: {len(body)}")
    data = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return data + (body if isinstance(body, bytes) else body.encode())


class Curl:
    def __init__(self):
        self.path = require_tool("curl")

    def run(self, *args, input=None, timeout=60):
        """Runs curl; returns (status, headers dict lower-cased (last wins), body bytes)."""
        cmd = [self.path, "-sS", "-D", "-", "-o", "-", "--max-time", str(timeout), *args]
        out = subprocess.run(cmd, input=input, capture_output=True, timeout=timeout + 5)
        if out.returncode != 0:
            raise AssertionError(f"curl {' '.join(args)} failed ({out.returncode}): "
                                 f"{out.stderr.decode()}")
        data = out.stdout
        # Skip interim responses (100 Continue) that -D prints before the final head.
        while True:
            head, _, rest = data.partition(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            if 100 <= status < 200 and rest.startswith(b"HTTP/"):
                data = rest
                continue
            break
        headers = {}
        for line in head.decode("latin-1").split("\r\n")[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        return status, headers, rest


@pytest.fixture
def curl():
    return Curl()


@pytest.fixture
def servers():
    """Factory: servers(argv, cwd=..., env=...) → a listening Process; all are killed at the end."""
    started = []

    def start(argv, cwd=None, env=None, listen=True):
        p = Process(argv, cwd=cwd, env=env)
        started.append(p)
        return p.wait_listening() if listen else p

    yield start
    for p in started:
        p.stop()


@pytest.fixture
def rws(servers):
    """Starts `rws` (static mode) with --ip 127.0.0.1 --port 0 and extra flags."""
    if not RWS_BIN:
        pytest.fail("RWS_BIN is not set: run the integration tests through ctest")

    def start(*flags, cwd=None, env=None, listen=True):
        return servers([RWS_BIN, "--ip", "127.0.0.1", "--port", "0", "--thread-count", "1",
                        *flags], cwd=cwd, env=env, listen=listen)

    return start


@pytest.fixture
def test_server(servers):
    """Starts rws-test-server (echo/stream/slow handlers) with extra flags."""
    if not RWS_TEST_SERVER:
        pytest.fail("RWS_TEST_SERVER is not set: run the integration tests through ctest")

    def start(*flags):
        return servers([RWS_TEST_SERVER, *flags])

    return start
