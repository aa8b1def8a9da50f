"""HTTP/3 requests for the integration tests, by two clients: rws's own `rws-client --http3` (the
main one: any method, fields and body, output like `curl -i`) and Debian's `gtlsclient`
(ngtcp2's example client, which nobody here wrote: GET or another method with a body file, no
request fields of its own; its :authority is the URI's).

H3Server wraps a running TLS server so that the request helpers of the behaviour suites
(test_gateway.call, test_static_files.fetch/get, ...) run over HTTP/3 unchanged: they write an
HTTP/1.1 request on `server.connect()` and read a conftest.Response back; here each request
written is parsed and replayed as one HTTP/3 request by rws-client."""

import os
import re
import subprocess
import tempfile
from pathlib import Path

import pytest

from conftest import Response, require_tool, wait_until

RWS_CLIENT = os.environ.get("RWS_CLIENT", "")


def client_path():
    if not RWS_CLIENT:
        pytest.fail("RWS_CLIENT is not set: run the integration tests through ctest")
    return RWS_CLIENT


def run_rws_client(port, target, ca, method="GET", headers=(), body=None, output=None,
                   timeout=20):
    """Runs `rws-client --http3` for https://localhost:PORT TARGET; returns (exit status, stdout
    (head and trailers: the body goes to `output`, a temporary file unless given), the body
    bytes (b"" when `output` was given) and stderr)."""
    with tempfile.TemporaryDirectory(prefix="h3client-") as scratch:
        args = [client_path(), "--http3", "--cacert", ca, "--max-time", str(timeout),
                "-X", method]
        for name, value in headers:
            args += ["-H", f"{name}: {value}"]
        if body is not None:
            upload = Path(scratch) / "body"
            upload.write_bytes(body if isinstance(body, bytes) else body.encode())
            args += ["-d", f"@{upload}"]
        sink = Path(output) if output is not None else Path(scratch) / "out"
        args += ["-o", str(sink), f"https://localhost:{port}{target}"]
        out = subprocess.run(args, capture_output=True, timeout=timeout + 10)
        data = b"" if output is not None or not sink.exists() else sink.read_bytes()
        return out.returncode, out.stdout, data, out.stderr.decode("latin-1")


def parse_head(stdout):
    """Splits rws-client's stdout (the body went to a file): "HTTP/3 200", fields, a blank line,
    then trailer fields after one more CRLF if the response had any."""
    head, sep, rest = stdout.partition(b"\r\n\r\n")
    assert sep, f"rws-client printed no complete head: {stdout!r}"
    lines = head.decode("latin-1").split("\r\n")
    version, _, status = lines[0].partition(" ")
    assert version == "HTTP/3", f"not an HTTP/3 response: {lines[0]!r}"

    def fields(text_lines):
        out = []
        for line in text_lines:
            if line:
                name, _, value = line.partition(": ")
                out.append((name, value))
        return out

    resp = Response(int(status), "", fields(lines[1:]), b"", "HTTP/3")
    resp.trailers = fields(rest.decode("latin-1").split("\r\n"))
    return resp


def h3_request(port, target, ca, method="GET", headers=(), body=None, output=None, timeout=20):
    """One request over HTTP/3 with rws-client; returns a conftest.Response (version "HTTP/3",
    trailers filled). A Host field in `headers` becomes the :authority. With `output` the body
    is written to that file and resp.body is b"". Fails the test when no response arrived."""
    code, stdout, body_bytes, err = run_rws_client(port, target, ca, method, headers, body,
                                                   output, timeout)
    assert code == 0, f"rws-client --http3 {method} {target} failed ({code}): {err}"
    resp = parse_head(stdout)
    resp.body = body_bytes
    return resp


def h3_failure(port, target, ca, method="GET", headers=(), timeout=20):
    """A request that must not complete: returns rws-client's stderr after checking that it
    exited with 2 (the request failed) and printed no response."""
    code, stdout, _, err = run_rws_client(port, target, ca, method, headers, timeout=timeout)
    assert code == 2, f"expected a failed exchange, got exit {code}: {stdout!r} {err}"
    assert stdout == b"", stdout
    return err


def wait_h3(process):
    """Until `process` (rws, or a server built on its library, started listening) logs that it
    serves HTTP/3: its UDP sockets are bound by then, so a datagram sent from now on is queued
    for it. (Probing with a request instead would go through the routes and middleware under
    test: a rate limit would count it.)"""
    wanted = f"HTTP/3 on udp://{process.host}:{process.port}"

    def logged():
        if not process.alive():
            raise AssertionError(f"exited with {process.proc.returncode}:\n{process.stderr}")
        return wanted in process.stderr
    wait_until(logged, what=f"'{wanted}' in the log")


# --- gtlsclient ---------------------------------------------------------------------------------

HEADER_LINE = re.compile(r"^http: stream 0x0 \[([^:\]][^:]*|:status): (.*)\]$")


def gtls_request(port, uri, method="GET", body_file=None, timeout=60):
    """One request with gtlsclient to 127.0.0.1:PORT for `uri` (whose authority becomes the
    :authority; the certificate is not verified by this client). Returns a conftest.Response
    built from the response fields gtlsclient logs and the body it downloads."""
    with tempfile.TemporaryDirectory(prefix="gtls-") as scratch:
        args = [require_tool("gtlsclient"), "--exit-on-all-streams-close", "--no-quic-dump",
                "--no-http-dump", "--timeout=20s", "--download", scratch, "-m", method]
        if body_file is not None:
            args += ["-d", str(body_file)]
        args += ["127.0.0.1", str(port), uri]
        out = subprocess.run(args, capture_output=True, timeout=timeout)
        err = out.stderr.decode("latin-1")
        assert out.returncode == 0 and "IDLE_CLOSE" not in err, (
            f"gtlsclient {method} {uri} failed ({out.returncode}): {err[-2000:]}")
        fields = []
        for line in err.splitlines():
            m = HEADER_LINE.match(line)
            if m:
                fields.append((m.group(1), m.group(2)))
        assert fields and fields[0][0] == ":status", f"no response head in: {err[-2000:]}"
        files = list(Path(scratch).iterdir())
        body = files[0].read_bytes() if files else b""
        return Response(int(fields[0][1]), "", fields[1:], body, "HTTP/3")


# --- the behaviour suites' helpers over HTTP/3 --------------------------------------------------

class H3Server:
    """A running TLS server (a conftest.Process) whose connect() speaks HTTP/3: see the module
    docstring. Everything else (port, stdout, stderr, signal, proc, ...) is the process's."""

    def __init__(self, process, ca):
        self.process = process
        self.ca = ca

    def __getattr__(self, name):
        return getattr(self.process, name)

    def url(self, path="/"):
        return f"https://localhost:{self.process.port}{path}"

    def connect(self, timeout=10.0):
        return H3Exchange(self, timeout)


class H3Exchange:
    """Stands for a connection: requests written with send() (HTTP/1.1 syntax, as
    conftest.request makes them; Content-Length or chunked bodies) are sent one by one over
    HTTP/3 when their responses are read. Host becomes the :authority; the framing fields
    (Content-Length, Transfer-Encoding) are HTTP/3's own business and are not copied."""

    def __init__(self, server, timeout):
        self.server = server
        self.timeout = timeout
        self.buf = b""
        self.pending = []

    def send(self, data):
        if isinstance(data, str):
            data = data.encode("latin-1")
        self.buf += data
        while True:
            parsed = self._parse_one()
            if parsed is None:
                return
            self.pending.append(parsed)

    def _parse_one(self):
        end = self.buf.find(b"\r\n\r\n")
        if end < 0:
            return None
        lines = self.buf[:end].decode("latin-1").split("\r\n")
        method, target, version = lines[0].split(" ")
        assert version == "HTTP/1.1", lines[0]
        fields = []
        for line in lines[1:]:
            name, _, value = line.partition(":")
            fields.append((name.strip(), value.strip()))
        rest = self.buf[end + 4:]
        names = {name.lower(): value for name, value in fields}
        body = None
        if "transfer-encoding" in names:
            assert names["transfer-encoding"].lower() == "chunked", names
            body, rest = self._dechunk(rest)
            if body is None:
                return None
        elif "content-length" in names:
            length = int(names["content-length"])
            if len(rest) < length:
                return None
            body, rest = rest[:length], rest[length:]
        self.buf = rest
        kept = [(n, v) for n, v in fields
                if n.lower() not in ("content-length", "transfer-encoding")]
        return method, target, kept, body

    @staticmethod
    def _dechunk(data):
        body = b""
        pos = 0
        while True:
            eol = data.find(b"\r\n", pos)
            if eol < 0:
                return None, data
            size = int(data[pos:eol].split(b";")[0], 16)
            if size == 0:
                assert data.startswith(b"\r\n", eol + 2), "chunked trailers are not replayed"
                return body, data[eol + 4:]
            if len(data) < eol + 2 + size + 2:
                return None, data
            body += data[eol + 2:eol + 2 + size]
            pos = eol + 2 + size + 2

    def read_response(self, head_request=False):
        assert self.pending, "no complete request was written before reading a response"
        method, target, fields, body = self.pending.pop(0)
        return h3_request(self.server.port, target, self.server.ca, method, fields, body,
                          timeout=self.timeout)

    def close(self):
        """Like closing a socket: requests never read are dropped unsent."""
        self.pending.clear()
        self.buf = b""
