"""The binary starts, serves a file, answers health probes and stops on SIGTERM."""

import signal


def test_serves_a_file_and_stops_cleanly(rws, tmp_path, curl):
    (tmp_path / "hello.txt").write_text("hello world\n")
    server = rws("--root", str(tmp_path))
    status, headers, body = curl.run(server.url("/hello.txt"))
    assert status == 200
    assert body == b"hello world\n"
    assert headers["content-type"] == "text/plain; charset=utf-8"
    assert headers["server"] == "rws"
    assert "date" in headers

    status, _, body = curl.run(server.url("/healthz?probe=1"))
    assert (status, body) == (200, b"OK")

    server.signal(signal.SIGTERM)
    assert server.wait_exit() == 0
    assert '"GET /hello.txt HTTP/1.1" 200 12' in server.stdout
