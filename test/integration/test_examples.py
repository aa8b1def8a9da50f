"""The example applications (examples/*), built by the test command, run and answer curl."""

import json
import os
import signal

import pytest

from conftest import request

EXAMPLES_DIR = os.environ.get("RWS_EXAMPLES_DIR", "")


@pytest.fixture
def example(servers):
    def start(name, *args, cwd=None, env=None):
        path = os.path.join(EXAMPLES_DIR, name, "example_" + name)
        if not os.path.exists(path):
            pytest.fail(f"example binary {path} is missing: build with RWS_BUILD_EXAMPLES=ON")
        return servers([path, "0", *args], cwd=cwd, env=env)
    return start


def test_hello(example, curl):
    server = example("hello")
    assert curl.run(server.url("/"))[::2] == (200, b"Hello, world!\n")
    assert curl.run(server.url("/hello/Ada%20L"))[::2] == (200, b"Hello, Ada L!\n")
    assert curl.run(server.url("/nope"))[0] == 404
    status, headers, _ = curl.run("-X", "POST", server.url("/"))
    assert (status, headers["allow"]) == (405, "GET, HEAD, OPTIONS")
    server.signal(signal.SIGTERM)
    assert server.wait_exit() == 0


def test_todo_api(example, curl):
    server = example("todo_api")
    base = server.url("/todos")
    assert curl.run(base)[::2] == (200, b"[]")
    status, headers, body = curl.run("-X", "POST", "-H", "Content-Type: application/json",
                                     "--data", '{"title":"write tests"}', base)
    assert status == 201
    created = json.loads(body)
    assert created == {"id": 1, "title": "write tests", "done": False}
    assert headers["location"] == "/todos/1"
    status, _, body = curl.run("-X", "PUT", "-H", "Content-Type: application/json",
                               "--data", '{"title":"write tests","done":true}', base + "/1")
    assert (status, json.loads(body)["done"]) == (200, True)
    assert json.loads(curl.run(base + "/1")[2])["done"] is True
    assert json.loads(curl.run(base)[2]) == [{"id": 1, "title": "write tests", "done": True}]

    # Validation: every bad field listed with 422.
    status, _, body = curl.run("-X", "POST", "-H", "Content-Type: application/json",
                               "--data", '{"title":"","done":"yes"}', base)
    assert status == 422
    assert json.loads(body) == {"errors": [
        {"field": "title", "message": "length must be between 1 and 200"},
        {"field": "done", "message": "must be true or false"}]}
    assert curl.run("-X", "POST", "--data", "x", "-H", "Content-Type: text/plain", base)[0] == 415
    assert curl.run("-X", "POST", "-H", "Content-Type: application/json", "--data", "{",
                    base)[0] == 400
    assert curl.run(base + "/abc")[0] == 400
    assert curl.run(base + "/99")[0] == 404
    assert curl.run("-X", "DELETE", base + "/1")[0] == 204
    assert curl.run(base + "/1")[0] == 404


def test_middleware(example, curl):
    server = example("middleware", env={"EXAMPLE_TOKEN": "t0k"})
    status, headers, body = curl.run(server.url("/"))
    assert (status, body) == (200, b"public\n")
    assert headers["x-response-time"].endswith("us")
    status, headers, _ = curl.run(server.url("/admin/stats"))
    assert (status, headers["www-authenticate"]) == (401, "Bearer")
    assert "x-response-time" in headers  # the outer middleware wraps the refusal too
    assert curl.run("-H", "Authorization: Bearer wrong", server.url("/admin/stats"))[0] == 401
    status, _, body = curl.run("-H", "Authorization: Bearer t0k", server.url("/admin/stats"))
    stats = json.loads(body)
    assert status == 200 and stats["admin"] is True and stats["requests"] >= 4
    status, headers, _ = curl.run("-H", "Authorization: Bearer t0k", server.url("/admin/report"))
    assert (status, headers["cache-control"]) == (200, "no-store")


def test_static_and_api(example, curl, tmp_path):
    public = tmp_path / "public"
    public.mkdir()
    (public / "index.html").write_text("<h1>home</h1>\n")
    (public / "app.css").write_text("body{}\n")
    server = example("static_and_api", str(public))
    status, headers, body = curl.run(server.url("/"))
    assert (status, body) == (200, b"<h1>home</h1>\n")
    status, headers, _ = curl.run(server.url("/app.css"))
    assert (status, headers["content-type"]) == (200, "text/css; charset=utf-8")
    etag = headers["etag"]
    assert curl.run("-H", f"If-None-Match: {etag}", server.url("/app.css"))[0] == 304
    assert "unix_ms" in json.loads(curl.run(server.url("/api/time"))[2])
    status, _, body = curl.run("-H", "Content-Type: application/json", "--data", '{"a":[1]}',
                               server.url("/api/echo"))
    assert (status, json.loads(body)) == (200, {"echo": {"a": [1]}})
    assert curl.run(server.url("/missing.txt"))[0] == 404


def test_sse_clock(example, curl):
    server = example("sse_clock")
    status, headers, body = curl.run(server.url("/clock?interval_ms=10&count=3"))
    assert status == 200
    assert headers["content-type"] == "text/event-stream"
    assert headers["transfer-encoding"] == "chunked"
    events = [e for e in body.decode().split("\n\n") if e]
    assert len(events) == 3
    for i, event in enumerate(events):
        lines = event.split("\n")
        assert lines[0] == "event: tick" and lines[1] == f"id: {i}"
        assert lines[2].startswith("data: ") and int(lines[2][6:]) > 0
    # A reconnecting client continues after its Last-Event-ID.
    _, _, body = curl.run("-H", "Last-Event-ID: 41", server.url("/clock?interval_ms=10&count=2"))
    assert [line for line in body.decode().split("\n") if line.startswith("id:")] == \
        ["id: 42", "id: 43"]
    page = curl.run(server.url("/"))[2]
    assert b"new EventSource(\"/clock\")" in page


def test_sse_stream_is_not_buffered(example):
    """Each event reaches the client when it is sent, not when the stream ends."""
    server = example("sse_clock")
    conn = server.connect()
    conn.send(request("GET", "/clock?interval_ms=60000&count=2"))
    head = conn.read_until(b"\r\n\r\n")
    assert b"200 OK" in head
    first = conn.read_until(b"\n\n")  # arrives although the next one is a minute away
    assert b"id: 0" in first
