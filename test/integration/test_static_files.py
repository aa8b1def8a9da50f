"""Static file server mode: safe path resolution, directories, MIME types, validators, ranges,
precompressed siblings, SPA fallback, methods, HEAD, health probes and the access log.

Every server runs on 127.0.0.1 port 0 over a document root built in tmp_path. Raw-socket
requests are used where the exact bytes on the wire matter (curl normalises paths and hides
framing); curl is used as an independent client for ordinary downloads."""

import email.utils
import hashlib
import html
import json
import os
import re
import signal
import urllib.parse

import pytest

from conftest import request, wait_until

# A fixed modification time (2020-09-13 12:26:40 GMT) makes date validators deterministic.
MTIME = 1_600_000_000
MTIME_HTTP = email.utils.formatdate(MTIME, usegmt=True)
EARLIER_HTTP = email.utils.formatdate(MTIME - 3600, usegmt=True)
LATER_HTTP = email.utils.formatdate(MTIME + 3600, usegmt=True)

RANGE_DATA = bytes(range(256)) * 40  # 10240 bytes, every offset's value is predictable
RANGE_SIZE = len(RANGE_DATA)

SECRET = b"TOP-SECRET-OUTSIDE-THE-ROOT"
ALLOW = "GET, HEAD, OPTIONS"
ESCAPE_NAME = "<b>&\"x'.txt"

JS_IDENTITY = b"console.log('identity variant');\n"
JS_GZIP = b"GZIP-VARIANT-MARKER"
JS_BROTLI = b"BROTLI-VARIANT-MARKER!"

STRONG_ETAG = re.compile(r'^"[^"\s]+"$')


# --------------------------------------------------------------------------------------------
# Helpers


def write(path, data, mtime=MTIME):
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    path.write_bytes(data)
    os.utime(path, (mtime, mtime))
    return path


def fetch(server, method, target, headers=(), body=b"", check_framing=False):
    """Sends one raw request on a fresh connection and returns the parsed response.

    With check_framing, a second request (GET /healthz) is pipelined behind it: the second
    response only parses if the first one carried exactly the bytes its head announced."""
    conn = server.connect()
    try:
        data = request(method, target, headers=headers, body=body)
        if check_framing:
            data += request("GET", "/healthz")
        conn.send(data)
        resp = conn.read_response(head_request=(method == "HEAD"))
        if check_framing:
            sentinel = conn.read_response()
            assert (sentinel.status, sentinel.body) == (200, b"OK"), \
                f"response framing broken: the pipelined request read {sentinel!r}"
        return resp
    finally:
        conn.close()


def fetch_raw(server, raw):
    """Sends raw bytes (possibly not a valid request) and returns the parsed response."""
    conn = server.connect()
    try:
        conn.send(raw)
        return conn.read_response()
    finally:
        conn.close()


def get(server, target, headers=(), **kw):
    return fetch(server, "GET", target, headers, **kw)


def media_type(value):
    return (value or "").split(";")[0].strip().lower()


def build_site(root, outside):
    """The document root shared by most tests (no index.html and no 404.html at the top)."""
    write(root / "hello.txt", "hello world\n")
    write(root / "a b.txt", "space in name\n")
    write(root / "caf\u00e9.txt", "utf-8 name\n")
    write(root / "q?x.txt", "question\n")
    write(root / "a+b.txt", "plus\n")
    write(root / "empty.txt", b"")
    write(root / "sub" / "index.html", "<p>sub index</p>\n")
    write(root / "sub" / "other.txt", "other\n")
    write(root / "my dir" / "index.html", "<p>my dir</p>\n")
    write(root / "about.html", "<p>about page</p>\n")
    write(root / "about.txt.html", "<p>must not be a fallback for about.txt</p>\n")
    write(root / ".env", "SECRET_KEY=dotenv\n")
    write(root / ".git" / "config", "[core]\n")
    write(root / "sub" / ".hidden", "hidden\n")
    write(root / ".well-known" / "x", "well known\n")
    write(root / "data.bin", RANGE_DATA)
    # Files for the MIME table.
    write(root / "page.html", "<!DOCTYPE html><p>page</p>\n")
    write(root / "style.css", "body{}\n")
    write(root / "script.js", "let x = 1;\n")
    write(root / "data.json", "{}\n")
    write(root / "image.png", b"\x89PNG\r\n\x1a\nfake")
    write(root / "IMAGE2.PNG", b"\x89PNG\r\n\x1a\nfake2")
    write(root / "vector.svg", "<svg xmlns='http://www.w3.org/2000/svg'/>\n")
    write(root / "module.wasm", b"\x00asm\x01\x00\x00\x00")
    write(root / "blob.unknownext", b"\x01\x02\x03")
    # Precompressed siblings (marker contents, so the served variant is recognisable).
    write(root / "app.js", JS_IDENTITY)
    write(root / "app.js.gz", JS_GZIP)
    write(root / "app.js.br", JS_BROTLI)
    write(root / "only.js", JS_IDENTITY)
    write(root / "only.js.gz", JS_GZIP)
    # Directory listing fixture.
    listing = root / "list"
    write(listing / "b.txt", b"b" * 1234)
    write(listing / "a.txt", b"a" * 77)
    write(listing / "c d.txt", b"c" * 5)
    write(listing / ESCAPE_NAME, b"e" * 42)
    write(listing / "h#.txt", b"h" * 8)
    write(listing / "q?.txt", b"q" * 9)
    write(listing / "x:y.txt", b"x" * 10)
    write(listing / ".hidden", "hidden\n")
    (listing / "zdir").mkdir()
    (listing / "adir").mkdir()
    # Symlinks: out of the root (absolute and relative, file and directory) and inside it.
    write(outside / "secret.txt", SECRET)
    os.symlink(outside / "secret.txt", root / "escape_abs.txt")
    os.symlink(os.path.join("..", outside.name, "secret.txt"), root / "escape_rel.txt")
    os.symlink(outside, root / "outdir")
    os.symlink("hello.txt", root / "inlink.txt")
    os.symlink(os.path.join("..", "hello.txt"), root / "sub" / "uplink.txt")
    os.symlink("sub", root / "alias")
    os.symlink("loop", root / "loop")
    os.symlink("does-not-exist.txt", root / "dangling.txt")
    # Files the server derives from the request (sibling, .html fallback, index) that lead out.
    write(root / "leak.js", JS_IDENTITY)
    os.symlink(outside / "secret.txt", root / "leak.js.gz")
    os.symlink(outside / "secret.txt", root / "leakpage.html")
    (root / "leakdir").mkdir()
    os.symlink(outside / "secret.txt", root / "leakdir" / "index.html")
    # Directories whose names need care in a redirect or a listing title.
    (root / "evil.example").mkdir()
    write(root / "evil.example" / "index.html", "<p>not a host</p>\n")
    write(root / "q?dir" / "index.html", "<p>question dir</p>\n")
    write(root / "<i>" / "f.txt", "f\n")
    return root


@pytest.fixture
def site(tmp_path):
    return build_site(tmp_path / "root", tmp_path / "outside")


@pytest.fixture
def server(rws, site):
    return rws("--root", str(site))


def parse_listing(body):
    """Returns [(href as written, label, row text)] for each link of a directory listing."""
    text = body.decode("utf-8")
    rows = []
    for m in re.finditer(r'<a href="([^"]*)">(.*?)</a>(.*?)(?=<a href=|$)', text, re.S):
        rows.append((m.group(1), m.group(2), m.group(3)))
    return text, rows


def parse_byteranges(body, boundary):
    """Strictly parses a multipart/byteranges body (RFC 9110 §14.6, RFC 2046 §5.1.1).

    Returns [(content_type, (first, last, complete), data)]; each part's data length is taken
    from its Content-Range, so a wrong byte count shows up as a broken delimiter."""
    delimiter = b"--" + boundary.encode("latin-1")
    pos = body.index(delimiter)
    assert body[:pos].strip(b"\r\n") == b"", f"unexpected preamble {body[:pos]!r}"
    pos += len(delimiter)
    parts = []
    while True:
        if body.startswith(b"--", pos):
            epilogue = body[pos + 2:]
            assert epilogue in (b"", b"\r\n"), f"unexpected epilogue {epilogue!r}"
            return parts
        assert body.startswith(b"\r\n", pos), f"bad delimiter line at {pos}: {body[pos:pos+20]!r}"
        head_end = body.index(b"\r\n\r\n", pos)
        fields = {}
        for line in body[pos + 2:head_end].decode("latin-1").split("\r\n"):
            name, _, value = line.partition(":")
            fields[name.strip().lower()] = value.strip()
        m = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)", fields.get("content-range", ""))
        assert m, f"part without a valid Content-Range: {fields!r}"
        first, last, complete = map(int, m.groups())
        start = head_end + 4
        data = body[start:start + last - first + 1]
        assert len(data) == last - first + 1
        parts.append((fields.get("content-type"), (first, last, complete), data))
        pos = start + len(data)
        assert body.startswith(b"\r\n" + delimiter, pos), \
            f"part data not followed by the delimiter: {body[pos:pos+40]!r}"
        pos += 2 + len(delimiter)


def boundary_of(content_type):
    m = re.search(r'boundary=("([^"]+)"|[^;\s]+)', content_type)
    assert m, content_type
    return m.group(2) or m.group(1)


# --------------------------------------------------------------------------------------------
# Safe paths


def test_percent_decoded_names_are_served(server, curl):
    status, headers, body = curl.run(server.url("/a%20b.txt"))
    assert (status, body) == (200, b"space in name\n")
    assert headers["content-type"] == "text/plain; charset=utf-8"
    for target in ("/caf%C3%A9.txt", "/caf%c3%a9.txt"):
        resp = get(server, target)
        assert (resp.status, resp.body) == (200, b"utf-8 name\n"), target
    resp = get(server, "/q%3Fx.txt")
    assert (resp.status, resp.body) == (200, b"question\n")
    # '+' is an ordinary path character, not a space.
    resp = get(server, "/a+b.txt")
    assert (resp.status, resp.body) == (200, b"plus\n")
    # The query string does not take part in the lookup.
    for target in ("/hello.txt?v=1&x=%2e%2e", "/hello.txt?a=%00", "/hello.txt?../../x"):
        resp = get(server, target)
        assert (resp.status, resp.body) == (200, b"hello world\n"), target


def test_dot_segments_are_normalised(server, curl):
    for target in ("/sub/../hello.txt", "/sub/./../hello.txt", "/./hello.txt",
                   "/sub/%2e%2e/hello.txt"):
        resp = get(server, target)
        assert (resp.status, resp.body) == (200, b"hello world\n"), target
    status, _, body = curl.run("--path-as-is", server.url("/sub/../hello.txt"))
    assert (status, body) == (200, b"hello world\n")


@pytest.mark.parametrize("target", [
    "/../outside/secret.txt",
    "/sub/../../outside/secret.txt",
    "/%2e%2e/outside/secret.txt",
    "/..%2foutside%2fsecret.txt",
    "/../etc/passwd",
    "/%2e%2e/%2e%2e/etc/passwd",
    "/..%2f..%2fetc/passwd",
    "/%2e%2e%5c%2e%2e%5cetc%5cpasswd",
    "/sub%5c..%5chello.txt",
])
def test_traversal_attempts_are_rejected(server, target):
    resp = get(server, target)
    assert resp.status == 400, (target, resp)
    assert SECRET not in resp.body
    assert b"root:" not in resp.body


@pytest.mark.parametrize("target", ["/..\\..\\etc\\passwd", "/sub\\..\\hello.txt"])
def test_raw_backslash_in_target_is_rejected(server, target):
    resp = fetch_raw(server, f"GET {target} HTTP/1.1\r\nHost: test\r\n\r\n".encode())
    assert resp.status == 400, (target, resp)
    assert b"root:" not in resp.body and b"hello world" not in resp.body


@pytest.mark.parametrize("target", ["/a%00b", "/hello.txt%00.png", "/%zz", "/a%2", "/a%g0"])
def test_nul_and_malformed_percent_encoding_are_rejected(server, target):
    resp = get(server, target)
    assert resp.status == 400, (target, resp)


def test_symlinks_leaving_the_root_are_forbidden(server, curl):
    for target in ("/escape_abs.txt", "/escape_rel.txt", "/outdir/secret.txt"):
        status, _, body = curl.run(server.url(target))
        assert status == 403, target
        assert SECRET not in body


def test_symlinks_inside_the_root_are_followed(server):
    for target in ("/inlink.txt", "/sub/uplink.txt"):
        resp = get(server, target)
        assert (resp.status, resp.body) == (200, b"hello world\n"), target


def test_symlinked_directory_inside_the_root(server):
    resp = get(server, "/alias/other.txt")
    assert (resp.status, resp.body) == (200, b"other\n")


def test_symlink_loops_and_dangling_links(server):
    for target in ("/loop", "/loop/x", "/dangling.txt"):
        resp = get(server, target, check_framing=True)
        assert resp.status in (403, 404), (target, resp)


@pytest.mark.parametrize("target,headers", [
    ("/leak.js", [("Accept-Encoding", "gzip")]),
    ("/leak.js.gz", []),
    ("/leakpage", []),
    ("/leakdir/", []),
])
def test_derived_files_stay_inside_the_root(server, target, headers):
    """The precompressed sibling, the .html fallback and the directory index are looked up by
    the server itself; a symlink out of the root must stop them as it stops a direct request."""
    resp = get(server, target, headers)
    assert SECRET not in resp.body, (target, resp)
    if target == "/leak.js":
        assert (resp.status, resp.body) == (200, JS_IDENTITY)
        assert resp.header("content-encoding") is None
    elif target == "/leakdir/":
        # Refusing the index, or listing the directory instead of serving it, are both safe.
        assert resp.status in (200, 403, 404), (target, resp)
        if resp.status == 200:
            assert b"Index of /leakdir/" in resp.body
    else:
        assert resp.status in (403, 404), (target, resp)


def test_custom_404_page_outside_the_root_is_not_served(rws, tmp_path):
    root = tmp_path / "site404"
    write(root / "index.html", "<p>home</p>\n")
    write(tmp_path / "elsewhere" / "secret.html", SECRET)
    os.symlink(tmp_path / "elsewhere" / "secret.html", root / "404.html")
    server = rws("--root", str(root))
    resp = get(server, "/missing.txt")
    assert resp.status == 404
    assert SECRET not in resp.body


def test_dotfiles_are_hidden_but_well_known_is_served(server):
    for target in ("/.env", "/%2eenv", "/.git/config", "/.git/", "/.git", "/sub/.hidden"):
        resp = get(server, target)
        assert resp.status == 404, (target, resp)
        assert b"dotenv" not in resp.body and b"[core]" not in resp.body
    resp = get(server, "/.well-known/x")
    assert (resp.status, resp.body) == (200, b"well known\n")
    root_listing = get(server, "/")
    assert root_listing.status == 200
    _, rows = parse_listing(root_listing.body)
    hrefs = [href for href, _, _ in rows]
    assert not any(h.startswith((".env", ".git", "./.")) for h in hrefs), hrefs
    assert b".env" not in root_listing.body and b".git" not in root_listing.body


# --------------------------------------------------------------------------------------------
# Directories


def test_directory_without_slash_redirects(server, curl):
    resp = get(server, "/sub")
    assert resp.status == 301
    assert resp.header("location") == "/sub/"
    resp = get(server, "/sub?a=1&b=two")
    assert resp.status == 301
    assert resp.header("location") == "/sub/?a=1&b=two"
    # The Location is percent-encoded again, and following it reaches the directory.
    for target, location, body in (("/my%20dir", "/my%20dir/", b"<p>my dir</p>\n"),
                                   ("/q%3Fdir", "/q%3Fdir/", b"<p>question dir</p>\n")):
        resp = get(server, target)
        assert resp.status == 301, target
        assert resp.header("location") == location
        resp = get(server, location)
        assert (resp.status, resp.body) == (200, body), location
    status, headers, _ = curl.run(server.url("/sub?x=%20y"))
    assert (status, headers["location"]) == (301, "/sub/?x=%20y")


@pytest.mark.parametrize("target", ["//evil.example", "/%2fevil.example", "//evil.example?x=1",
                                    "/.//evil.example"])
def test_directory_redirect_is_never_protocol_relative(server, target):
    """A Location starting with '//' names another host (open redirect)."""
    resp = get(server, target)
    if resp.status in (301, 302, 307, 308):
        location = resp.header("location")
        assert location.startswith("/") and not location.startswith(("//", "/\\")), location
        assert urllib.parse.urlsplit(location).netloc == ""
    else:
        assert resp.status in (400, 404), resp


def test_directory_with_index_serves_it(server):
    resp = get(server, "/sub/")
    assert (resp.status, resp.body) == (200, b"<p>sub index</p>\n")
    assert resp.header("content-type") == "text/html; charset=utf-8"


def test_directory_listing(server, site):
    resp = get(server, "/list/")
    assert resp.status == 200
    assert resp.header("content-type") == "text/html; charset=utf-8"
    text, rows = parse_listing(resp.body)
    assert "../" in [href for href, _, _ in rows]
    rows = [row for row in rows if row[0] != "../"]

    names = [urllib.parse.unquote(html.unescape(href).removeprefix("./")) for href, _, _ in rows]
    # Directories first, then files, each group sorted by name; dotfiles hidden.
    assert names == ["adir/", "zdir/", ESCAPE_NAME, "a.txt", "b.txt", "c d.txt", "h#.txt",
                     "q?.txt", "x:y.txt"], names

    # Labels are HTML-escaped; the raw name never appears as markup.
    assert ESCAPE_NAME not in text
    assert "&lt;b&gt;&amp;" in text
    labels = [html.unescape(re.sub(r"<[^>]*>", "", label)) for _, label, _ in rows]
    assert ESCAPE_NAME in labels and "c d.txt" in labels

    # Hrefs are percent-encoded (no raw space, quote or angle bracket once HTML-unescaped).
    for href, _, _ in rows:
        raw = html.unescape(href)
        assert not re.search(r'[\s<>"\\#?]', raw), href
    by_name = dict(zip(names, rows))
    assert html.unescape(by_name["c d.txt"][0]) == "c%20d.txt"

    # Sizes and modification times of files are shown.
    for name, size in (("b.txt", 1234), ("a.txt", 77), ("c d.txt", 5), (ESCAPE_NAME, 42),
                       ("q?.txt", 9)):
        cells = by_name[name][2]
        assert re.search(rf">\s*{size}\s*<", cells), (name, cells)
        assert re.search(r"2020-09-13|13-Sep-2020|13 Sep 2020", cells), (name, cells)

    # Every href resolves against /list/ to the entry it names.
    for name, (href, _, _) in by_name.items():
        # As a browser would: resolve against the page, drop any fragment.
        target = urllib.parse.urldefrag(urllib.parse.urljoin("/list/", html.unescape(href)))[0]
        entry = get(server, target)
        assert entry.status == 200, (name, target, entry)
        if not name.endswith("/"):
            assert entry.body == (site / "list" / name).read_bytes()

    # The title (the request path) is escaped as well.
    resp = get(server, "/%3Ci%3E/")
    assert resp.status == 200
    assert b"<i>" not in resp.body
    assert b"&lt;i&gt;" in resp.body

    root = get(server, "/")
    assert root.status == 200
    _, root_rows = parse_listing(root.body)
    assert "../" not in [href for href, _, _ in root_rows]
    assert "hello.txt" in [html.unescape(href) for href, _, _ in root_rows]


def test_listing_shows_only_what_can_be_served(server):
    """The root listing omits symlinks that lead out of the root (and loops, dangling links):
    it must not reveal names, sizes or dates of files a request could not fetch."""
    resp = get(server, "/")
    assert resp.status == 200
    _, rows = parse_listing(resp.body)
    names = {urllib.parse.unquote(html.unescape(href).removeprefix("./")) for href, _, _ in rows}
    for hidden in ("escape_abs.txt", "escape_rel.txt", "outdir/", "loop", "dangling.txt",
                   "leak.js.gz", "leakpage.html"):
        assert hidden not in names, hidden
    for shown in ("inlink.txt", "alias/", "hello.txt", "leakdir/"):
        assert shown in names, shown


def test_directory_listing_can_be_disabled(rws, site):
    server = rws("--root", str(site), "--directory-listing=false")
    resp = get(server, "/list/")
    assert resp.status == 403
    assert b"b.txt" not in resp.body
    assert get(server, "/").status == 403
    resp = get(server, "/sub/")
    assert (resp.status, resp.body) == (200, b"<p>sub index</p>\n")


def test_file_with_trailing_slash_is_not_found(server):
    resp = get(server, "/hello.txt/")
    assert resp.status == 404
    assert b"hello world" not in resp.body


def test_html_extension_fallback(server):
    resp = get(server, "/about")
    assert (resp.status, resp.body) == (200, b"<p>about page</p>\n")
    assert resp.header("content-type") == "text/html; charset=utf-8"
    resp = get(server, "/about.txt")
    assert resp.status == 404
    assert b"must not be a fallback" not in resp.body


def test_custom_404_page(rws, tmp_path):
    root = tmp_path / "with404"
    write(root / "404.html", "<h1>custom not found</h1>\n")
    write(root / "index.html", "<p>home</p>\n")
    server = rws("--root", str(root))
    resp = get(server, "/does/not/exist.txt")
    assert resp.status == 404
    assert resp.body == b"<h1>custom not found</h1>\n"
    assert resp.header("content-type") == "text/html; charset=utf-8"
    # The page is a normal file too.
    assert get(server, "/404.html").status == 200


def test_plain_404_without_custom_page(server):
    resp = get(server, "/does/not/exist.txt", check_framing=True)
    assert resp.status == 404
    assert b"custom not found" not in resp.body
    assert int(resp.header("content-length")) == len(resp.body)


# --------------------------------------------------------------------------------------------
# MIME types


@pytest.mark.parametrize("target,expected", [
    ("/page.html", "text/html; charset=utf-8"),
    ("/style.css", "text/css; charset=utf-8"),
    ("/script.js", "text/javascript; charset=utf-8"),
    ("/data.json", "application/json"),
    ("/image.png", "image/png"),
    ("/IMAGE2.PNG", "image/png"),
    ("/vector.svg", "image/svg+xml"),
    ("/module.wasm", "application/wasm"),
    ("/blob.unknownext", "application/octet-stream"),
    ("/hello.txt", "text/plain; charset=utf-8"),
])
def test_content_types(server, target, expected):
    resp = get(server, target)
    assert resp.status == 200
    value = resp.header("content-type")
    if ";" in expected:
        assert value == expected
    else:
        # Only the media type is specified; a charset parameter is allowed for text-like types.
        assert media_type(value) == expected, value
        if expected in ("image/png", "application/wasm", "application/octet-stream"):
            assert "charset" not in value, value


# --------------------------------------------------------------------------------------------
# Validators


def test_validators_on_200(server):
    resp = get(server, "/hello.txt")
    assert resp.status == 200
    etag = resp.header("etag")
    assert etag and STRONG_ETAG.match(etag), etag
    assert resp.header("last-modified") == MTIME_HTTP
    # The same file yields the same tag; another file another tag.
    assert get(server, "/hello.txt").header("etag") == etag
    assert get(server, "/sub/other.txt").header("etag") != etag


def test_if_none_match(server):
    etag = get(server, "/hello.txt").header("etag")
    for value in (etag, f'"other", {etag}', f"W/{etag}", "*", f'"a",W/{etag} , "b"'):
        resp = get(server, "/hello.txt", [("If-None-Match", value)], check_framing=True)
        assert resp.status == 304, value
        assert resp.header("etag") == etag, value
    resp = get(server, "/hello.txt", [("If-None-Match", '"nope", W/"nope2"')])
    assert (resp.status, resp.body) == (200, b"hello world\n")
    head = fetch(server, "HEAD", "/hello.txt", [("If-None-Match", etag)], check_framing=True)
    assert head.status == 304
    # RFC 9110 §13.2.1: preconditions are ignored when the response would not be 2xx.
    for name in ("If-None-Match", "If-Match"):
        assert get(server, "/missing.txt", [(name, "*")]).status == 404, name


def test_if_modified_since(server):
    for value in (MTIME_HTTP, LATER_HTTP):
        resp = get(server, "/hello.txt", [("If-Modified-Since", value)], check_framing=True)
        assert resp.status == 304, value
    resp = get(server, "/hello.txt", [("If-Modified-Since", EARLIER_HTTP)])
    assert (resp.status, resp.body) == (200, b"hello world\n")
    # An unparsable date is ignored.
    resp = get(server, "/hello.txt", [("If-Modified-Since", "yesterday-ish")])
    assert resp.status == 200


def test_if_none_match_takes_precedence_over_if_modified_since(server):
    etag = get(server, "/hello.txt").header("etag")
    resp = get(server, "/hello.txt", [("If-None-Match", '"stale"'),
                                      ("If-Modified-Since", LATER_HTTP)])
    assert (resp.status, resp.body) == (200, b"hello world\n")
    resp = get(server, "/hello.txt", [("If-None-Match", etag),
                                      ("If-Modified-Since", EARLIER_HTTP)])
    assert resp.status == 304


def test_if_match_and_if_unmodified_since(server):
    etag = get(server, "/hello.txt").header("etag")
    resp = get(server, "/hello.txt", [("If-Match", '"another-tag"')], check_framing=True)
    assert resp.status == 412
    assert b"hello world" not in resp.body
    for value in (etag, "*", f'"x", {etag}'):
        resp = get(server, "/hello.txt", [("If-Match", value)])
        assert (resp.status, resp.body) == (200, b"hello world\n"), value
    # If-Match uses the strong comparison: a weak tag never matches.
    assert get(server, "/hello.txt", [("If-Match", f"W/{etag}")]).status == 412

    resp = get(server, "/hello.txt", [("If-Unmodified-Since", EARLIER_HTTP)])
    assert resp.status == 412
    for value in (MTIME_HTTP, LATER_HTTP):
        resp = get(server, "/hello.txt", [("If-Unmodified-Since", value)])
        assert resp.status == 200, value


def test_changed_file_gets_new_validators(server, site):
    first = get(server, "/hello.txt")
    write(site / "hello.txt", "hello brave new world\n", mtime=MTIME + 86400)
    second = get(server, "/hello.txt", [("If-None-Match", first.header("etag"))])
    assert (second.status, second.body) == (200, b"hello brave new world\n")
    assert second.header("etag") != first.header("etag")
    assert second.header("last-modified") == email.utils.formatdate(MTIME + 86400, usegmt=True)
    assert get(server, "/hello.txt", [("If-Range", first.header("etag")),
                                      ("Range", "bytes=0-4")]).status == 200


# --------------------------------------------------------------------------------------------
# Ranges


def ranged(server, spec, extra=(), method="GET", check_framing=True):
    return fetch(server, method, "/data.bin", [("Range", spec), *extra],
                 check_framing=check_framing)


def test_full_response_advertises_ranges(server):
    resp = get(server, "/data.bin")
    assert resp.status == 200
    assert resp.header("accept-ranges") == "bytes"
    assert resp.body == RANGE_DATA
    assert resp.header("content-length") == str(RANGE_SIZE)


@pytest.mark.parametrize("spec,first,last", [
    ("bytes=0-99", 0, 99),
    ("bytes=-100", RANGE_SIZE - 100, RANGE_SIZE - 1),
    ("bytes=10200-", 10200, RANGE_SIZE - 1),
    ("bytes=10000-99999", 10000, RANGE_SIZE - 1),
    ("bytes=5000-5000", 5000, 5000),
    ("bytes=-99999", 0, RANGE_SIZE - 1),
])
def test_single_range(server, spec, first, last):
    resp = ranged(server, spec)
    assert resp.status == 206, resp
    assert resp.header("content-range") == f"bytes {first}-{last}/{RANGE_SIZE}"
    assert resp.header("content-length") == str(last - first + 1)
    assert resp.body == RANGE_DATA[first:last + 1]
    assert resp.header("etag") and resp.header("last-modified") == MTIME_HTTP
    assert media_type(resp.header("content-type")) == "application/octet-stream"


def test_unsatisfiable_range(server):
    # RFC 9110 §14.1.1: a suffix-range is satisfiable only with a non-zero suffix-length.
    for spec in ("bytes=20000-", f"bytes={RANGE_SIZE}-", "bytes=-0", "bytes=20000-20010,30000-"):
        resp = ranged(server, spec)
        assert resp.status == 416, spec
        assert resp.header("content-range") == f"bytes */{RANGE_SIZE}"
        assert RANGE_DATA[:64] not in resp.body


def test_range_set_with_one_satisfiable_range(server):
    resp = ranged(server, "bytes=20000-20010,0-9")
    assert resp.status == 206
    assert resp.header("content-range") == f"bytes 0-9/{RANGE_SIZE}"
    assert resp.body == RANGE_DATA[:10]


def test_ranges_of_an_empty_file(server):
    resp = get(server, "/empty.txt", check_framing=True)
    assert (resp.status, resp.body, resp.header("content-length")) == (200, b"", "0")
    # Nothing can be cut out of zero bytes: the server either answers 416 (RFC 9110 §14.1.1:
    # a first-pos not below the length is unsatisfiable) or ignores the Range (§14.2 allows
    # it); a suffix-range is formally satisfiable yet has no 206 form, so it is ignored.
    for spec in ("bytes=0-", "bytes=0-0", "bytes=-5"):
        resp = get(server, "/empty.txt", [("Range", spec)], check_framing=True)
        assert resp.status in (200, 416), (spec, resp)
        if resp.status == 416:
            assert spec != "bytes=-5"
            assert resp.header("content-range") == "bytes */0"
        else:
            assert (resp.body, resp.header("content-range")) == (b"", None)


def test_multiple_ranges(server):
    resp = ranged(server, "bytes=0-9,100-109")
    assert resp.status == 206
    content_type = resp.header("content-type")
    assert media_type(content_type) == "multipart/byteranges", content_type
    assert resp.header("content-range") is None
    assert int(resp.header("content-length")) == len(resp.body)
    boundary = boundary_of(content_type)
    parts = parse_byteranges(resp.body, boundary)
    assert [p[1] for p in parts] == [(0, 9, RANGE_SIZE), (100, 109, RANGE_SIZE)]
    for part_type, (first, last, _), data in parts:
        assert media_type(part_type) == "application/octet-stream"
        assert data == RANGE_DATA[first:last + 1]
    assert resp.body.rstrip(b"\r\n").endswith(b"--" + boundary.encode() + b"--")

    again = ranged(server, "bytes=0-9,100-109")
    assert boundary_of(again.header("content-type")) != boundary

    # Whitespace around the ranges is allowed.
    resp = ranged(server, "bytes= 10-19 , 5000-5009")
    assert resp.status == 206
    parts = parse_byteranges(resp.body, boundary_of(resp.header("content-type")))
    assert [(p[1][:2], p[2]) for p in parts] == [((10, 19), RANGE_DATA[10:20]),
                                                 ((5000, 5009), RANGE_DATA[5000:5010])]


def test_multipart_parts_keep_request_order(server):
    """RFC 9110 §14.6: parts SHOULD come in the order of the range-specs, except for ranges
    that were coalesced or unsatisfiable."""
    resp = ranged(server, "bytes=5000-5009,10-19")
    assert resp.status == 206
    parts = parse_byteranges(resp.body, boundary_of(resp.header("content-type")))
    assert [(p[1][:2], p[2]) for p in parts] == [((5000, 5009), RANGE_DATA[5000:5010]),
                                                 ((10, 19), RANGE_DATA[10:20])]


def test_multiple_ranges_of_text_file_keep_part_content_type(server):
    resp = fetch(server, "GET", "/page.html", [("Range", "bytes=0-1,5-6")], check_framing=True)
    assert resp.status == 206
    parts = parse_byteranges(resp.body, boundary_of(resp.header("content-type")))
    body = b"<!DOCTYPE html><p>page</p>\n"
    assert [(p[0], p[2]) for p in parts] == [("text/html; charset=utf-8", body[0:2]),
                                             ("text/html; charset=utf-8", body[5:7])]


def test_overlapping_ranges_are_coalesced(server):
    resp = ranged(server, "bytes=0-50,25-75")
    assert resp.status == 206
    assert resp.header("content-range") == f"bytes 0-75/{RANGE_SIZE}"
    assert resp.body == RANGE_DATA[:76]


def test_many_overlapping_ranges_are_not_amplified(server):
    resp = ranged(server, ",".join(["bytes=0-"] + ["0-"] * 9))
    assert resp.status in (200, 206)
    assert len(resp.body) <= RANGE_SIZE
    resp = ranged(server, "bytes=" + ",".join(f"{i}-{i + 5000}" for i in range(0, 50)))
    assert resp.status in (200, 206)
    assert len(resp.body) <= RANGE_SIZE


def test_small_ranges_are_not_amplified(server):
    """RFC 9110 §17.15: many small ranges are to be ignored, coalesced or rejected rather
    than answered with a multipart body far larger than the file."""
    resp = ranged(server, "bytes=" + ",".join(f"{i}-{i}" for i in range(0, 2000, 2)))
    assert resp.status in (200, 206, 416)
    assert len(resp.body) <= RANGE_SIZE, (resp.status, len(resp.body))


@pytest.mark.parametrize("spec", ["bytes=0-99999999999999999999999999",
                                  "bytes=99999999999999999999999999-",
                                  "bytes=-99999999999999999999999999"])
def test_huge_range_numbers(server, spec):
    resp = ranged(server, spec)
    if resp.status == 206:
        assert resp.header("content-range") == f"bytes 0-{RANGE_SIZE - 1}/{RANGE_SIZE}"
        assert resp.body == RANGE_DATA
    elif resp.status == 416:
        assert spec.startswith("bytes=9")
        assert resp.header("content-range") == f"bytes */{RANGE_SIZE}"
    else:
        assert (resp.status, resp.body) == (200, RANGE_DATA), spec


@pytest.mark.parametrize("spec", ["bytes=abc", "bytes=5-1", "lines=0-10", "bytes=", "bytes 0-9"])
def test_invalid_range_is_ignored(server, spec):
    resp = ranged(server, spec)
    assert resp.status == 200, spec
    assert resp.body == RANGE_DATA
    assert resp.header("content-range") is None


def test_if_range(server):
    full = get(server, "/data.bin")
    etag = full.header("etag")
    resp = ranged(server, "bytes=0-99", [("If-Range", etag)])
    assert resp.status == 206
    assert resp.body == RANGE_DATA[:100]
    resp = ranged(server, "bytes=0-99", [("If-Range", MTIME_HTTP)])
    assert resp.status == 206
    for stale in ('"an-old-etag"', f"W/{etag}", EARLIER_HTTP, LATER_HTTP):
        resp = ranged(server, "bytes=0-99", [("If-Range", stale)])
        assert resp.status == 200, stale
        assert resp.body == RANGE_DATA, stale
        assert resp.header("content-range") is None


def test_if_none_match_wins_over_range(server):
    etag = get(server, "/data.bin").header("etag")
    resp = ranged(server, "bytes=0-99", [("If-None-Match", etag)])
    assert resp.status == 304
    resp = ranged(server, "bytes=0-99", [("If-Match", '"other"')])
    assert resp.status == 412


def test_head_ignores_range(server):
    resp = ranged(server, "bytes=0-99", method="HEAD")
    assert resp.status == 200
    assert resp.header("content-length") == str(RANGE_SIZE)
    assert resp.header("accept-ranges") == "bytes"
    assert resp.header("content-range") is None


def test_large_file_downloads_intact(rws, tmp_path, curl):
    root = tmp_path / "big"
    root.mkdir()
    data = os.urandom(32 * 1024 * 1024)
    (root / "big.bin").write_bytes(data)
    server = rws("--root", str(root))
    status, headers, body = curl.run(server.url("/big.bin"))
    assert status == 200
    assert headers["content-length"] == str(len(data))
    assert hashlib.sha256(body).hexdigest() == hashlib.sha256(data).hexdigest()
    # A range out of the middle of the large file.
    status, headers, body = curl.run("-r", "20000000-20999999", server.url("/big.bin"))
    assert status == 206
    assert body == data[20000000:21000000]


# --------------------------------------------------------------------------------------------
# Precompressed siblings


@pytest.mark.parametrize("accept,variant", [
    ("gzip", "gzip"),
    ("GZip", "gzip"),
    ("br", "br"),
    ("gzip, br", "br"),
    ("br, gzip", "br"),
    ("br;q=0.5, gzip;q=0.9", "gzip"),
    ("gzip;q=0", None),
    ("gzip;q=0, br;q=0", None),
    ("deflate", None),
    (None, None),
    ("*", "br"),
    ("*;q=0.1, identity", None),
])
def test_precompressed_negotiation(server, accept, variant):
    headers = [("Accept-Encoding", accept)] if accept is not None else []
    resp = get(server, "/app.js", headers, check_framing=True)
    assert resp.status == 200
    assert resp.header("content-type") == "text/javascript; charset=utf-8"
    expected = {"gzip": JS_GZIP, "br": JS_BROTLI, None: JS_IDENTITY}[variant]
    assert resp.body == expected, (accept, resp.body)
    assert resp.header("content-encoding") == variant
    assert resp.header("content-length") == str(len(expected))
    if variant is not None:
        assert "accept-encoding" in (resp.header("vary") or "").lower()


@pytest.mark.parametrize("accept", [None, "deflate", "gzip;q=0", "identity", "gzip;q=0, br;q=0"])
def test_vary_on_identity_response_of_negotiated_file(server, accept):
    """RFC 9110 §12.5.5: the identity response of a file that has precompressed siblings was
    selected by Accept-Encoding too, so it carries Vary (else a shared cache may keep serving
    it to every client, or replace the compressed entry by it)."""
    headers = [("Accept-Encoding", accept)] if accept is not None else []
    resp = get(server, "/app.js", headers)
    assert (resp.status, resp.body) == (200, JS_IDENTITY)
    assert "accept-encoding" in (resp.header("vary") or "").lower(), resp.headers


def test_range_applies_to_the_selected_variant(server):
    resp = get(server, "/app.js", [("Accept-Encoding", "gzip"), ("Range", "bytes=0-3")],
               check_framing=True)
    if resp.status == 206:
        assert resp.header("content-encoding") == "gzip"
        assert resp.header("content-range") == f"bytes 0-3/{len(JS_GZIP)}"
        assert resp.body == JS_GZIP[:4]
    else:
        assert resp.status == 200
        assert (resp.header("content-encoding"), resp.body) == ("gzip", JS_GZIP)
    resp = get(server, "/app.js", [("Range", "bytes=0-3")])
    assert (resp.status, resp.body) == (206, JS_IDENTITY[:4])
    assert resp.header("content-encoding") is None


def test_identity_refused_uses_the_only_sibling(server):
    resp = get(server, "/only.js", [("Accept-Encoding", "identity;q=0, gzip")])
    assert resp.status == 200
    assert resp.body == JS_GZIP
    assert resp.header("content-encoding") == "gzip"
    resp = get(server, "/only.js", [("Accept-Encoding", "br")])
    assert (resp.status, resp.body) == (200, JS_IDENTITY)
    assert resp.header("content-encoding") is None


def test_variants_have_distinct_etags(server):
    tags = {get(server, "/app.js", [("Accept-Encoding", ae)]).header("etag")
            for ae in ("identity", "gzip", "br")}
    assert len(tags) == 3, tags
    gz_tag = get(server, "/app.js", [("Accept-Encoding", "gzip")]).header("etag")
    resp = get(server, "/app.js", [("Accept-Encoding", "gzip"), ("If-None-Match", gz_tag)])
    assert resp.status == 304
    # RFC 9110 §15.4.5: a 304 carries the ETag and Vary the 200 would have carried.
    assert resp.header("etag") == gz_tag
    assert "accept-encoding" in (resp.header("vary") or "").lower()
    # The gzip variant's tag does not validate the identity representation.
    resp = get(server, "/app.js", [("If-None-Match", gz_tag)])
    assert (resp.status, resp.body) == (200, JS_IDENTITY)


def test_compressed_file_requested_directly(server):
    resp = get(server, "/app.js.gz", [("Accept-Encoding", "gzip, br")])
    assert resp.status == 200
    assert resp.body == JS_GZIP
    assert resp.header("content-type") == "application/gzip"
    assert resp.header("content-encoding") is None


# --------------------------------------------------------------------------------------------
# SPA fallback


def build_spa(root):
    write(root / "index.html", "<div id=app></div>\n")
    write(root / "assets" / "app.css", "body{}\n")
    write(root / "api" / "real.json", "{\"real\": true}\n")
    return root


def test_spa_fallback(rws, tmp_path):
    root = build_spa(tmp_path / "spa")
    server = rws("--root", str(root), "--spa-fallback", "index.html",
                 "--spa-fallback-exclude-prefixes", "/api,/x")
    for target in ("/app/route", "/deep/nested/route?q=1", "/settings"):
        resp = get(server, target)
        assert (resp.status, resp.body) == (200, b"<div id=app></div>\n"), target
        assert resp.header("content-type") == "text/html; charset=utf-8"
    head = fetch(server, "HEAD", "/app/route", check_framing=True)
    assert head.status == 200
    assert head.header("content-length") == str(len(b"<div id=app></div>\n"))
    # Real files win over the fallback.
    assert get(server, "/assets/app.css").body == b"body{}\n"
    assert get(server, "/api/real.json").status == 200
    # A last segment with a dot, and excluded prefixes, stay 404.
    for target in ("/missing.png", "/app/missing.js", "/api/users", "/api/v1/users", "/x/y"):
        resp = get(server, target)
        assert resp.status == 404, target
        assert b"<div id=app>" not in resp.body, target
    resp = fetch(server, "POST", "/app/route", body=b"x=1")
    assert resp.status == 405
    assert resp.header("allow") == ALLOW


def test_spa_fallback_from_environment(rws, tmp_path):
    root = build_spa(tmp_path / "spa")
    server = rws("--root", str(root), env={"RWS_CONFIG_SPA_FALLBACK": "index.html"})
    resp = get(server, "/some/client/route")
    assert (resp.status, resp.body) == (200, b"<div id=app></div>\n")
    assert get(server, "/missing.png").status == 404


# --------------------------------------------------------------------------------------------
# Methods and HEAD


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_unsupported_methods_on_files(server, method):
    resp = fetch(server, method, "/hello.txt", body=b"data", check_framing=True)
    assert resp.status == 405, method
    assert resp.header("allow") == ALLOW
    assert b"hello world" not in resp.body


def test_options(server):
    resp = fetch(server, "OPTIONS", "/hello.txt", check_framing=True)
    assert resp.status == 204
    assert resp.header("allow") == ALLOW
    assert resp.header("content-length") in (None, "0")
    resp = fetch_raw(server, b"OPTIONS * HTTP/1.1\r\nHost: test\r\n\r\n")
    assert resp.status == 204
    allow = [m.strip() for m in (resp.header("allow") or "").split(",")]
    assert "GET" in allow and "HEAD" in allow, resp


@pytest.mark.parametrize("target", ["/hello.txt", "/data.bin", "/list/", "/sub/", "/about",
                                    "/nope.txt", "/sub", "/healthz"])
def test_head_matches_get(server, target):
    got = get(server, target)
    head = fetch(server, "HEAD", target, check_framing=True)
    assert head.status == got.status
    assert head.body == b""

    def comparable(resp):
        return sorted((k.lower(), v) for k, v in resp.headers if k.lower() != "date")

    assert comparable(head) == comparable(got)
    assert head.header("content-length") == str(len(got.body))


def test_head_then_get_pipelined(server):
    conn = server.connect()
    try:
        conn.send(request("HEAD", "/data.bin") + request("GET", "/hello.txt"))
        head = conn.read_response(head_request=True)
        assert head.status == 200
        assert head.header("content-length") == str(RANGE_SIZE)
        nxt = conn.read_response()
        assert (nxt.status, nxt.body) == (200, b"hello world\n")
    finally:
        conn.close()


# --------------------------------------------------------------------------------------------
# Health probes


def test_health_probes(server):
    for target, body in (("/healthz", b"OK"), ("/readyz", b"ready"),
                         ("/healthz?x=1", b"OK"), ("/readyz?probe=k8s&y", b"ready")):
        resp = get(server, target)
        assert (resp.status, resp.body) == (200, body), target
        head = fetch(server, "HEAD", target, check_framing=True)
        assert head.status == 200, target
        assert head.header("content-length") == str(len(body))
    for target in ("/healthz", "/readyz"):
        resp = fetch(server, "POST", target, body=b"x", check_framing=True)
        assert resp.status == 405, target
        assert "GET" in (resp.header("allow") or "")


# --------------------------------------------------------------------------------------------
# Access log


COMBINED = re.compile(
    r'^(?P<addr>\S+) - - \[(?P<time>\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4})\] '
    r'"(?P<request>(?:[^"\\]|\\.)*)" (?P<status>\d{3}) (?P<bytes>\d+) '
    r'"(?P<referer>(?:[^"\\]|\\.)*)" "(?P<agent>(?:[^"\\]|\\.)*)"$')


def log_lines(server, count):
    def ready():
        lines = server.stdout.splitlines()
        return lines if len(lines) >= count else None
    return wait_until(ready, what=f"{count} access log line(s)")


def test_access_log_combined(server, curl):
    curl.run(server.url("/hello.txt"))
    curl.run("-e", "http://referrer.example/page", server.url("/nope.txt"))
    fetch(server, "HEAD", "/hello.txt", [("User-Agent", "probe/1.0")])
    lines = log_lines(server, 3)
    assert len(lines) == 3, lines
    first = COMBINED.match(lines[0])
    assert first, lines[0]
    assert first["addr"] == "127.0.0.1"
    assert first["request"] == "GET /hello.txt HTTP/1.1"
    assert (first["status"], first["bytes"], first["referer"]) == ("200", "12", "-")
    assert first["agent"].startswith("curl/")
    second = COMBINED.match(lines[1])
    assert second, lines[1]
    assert (second["request"], second["status"]) == ("GET /nope.txt HTTP/1.1", "404")
    assert second["referer"] == "http://referrer.example/page"
    third = COMBINED.match(lines[2])
    assert third, lines[2]
    assert (third["request"], third["status"], third["bytes"]) == \
        ("HEAD /hello.txt HTTP/1.1", "200", "0")
    assert third["agent"] == "probe/1.0"


def test_access_log_lines_of_the_last_requests_are_written_at_exit(server):
    """Lines gather in the worker and reach the log in pieces (at its 100 ms sweep); a SIGTERM
    right after the last response must still write every line."""
    for i in range(5):
        assert fetch(server, "GET", f"/hello.txt?n={i}").status == 200
    server.signal(signal.SIGTERM)
    assert server.wait_exit() == 0
    lines = log_lines(server, 5)
    assert [COMBINED.match(line)["request"] for line in lines] == [
        f"GET /hello.txt?n={i} HTTP/1.1" for i in range(5)]


def test_access_log_json(rws, site, curl):
    server = rws("--root", str(site), "--log-format", "json")
    curl.run("-A", "json-agent/2", server.url("/hello.txt?x=1"))
    fetch(server, "GET", "/data.bin", [("Range", "bytes=0-9")])
    lines = log_lines(server, 2)
    assert len(lines) == 2, lines
    first, second = (json.loads(line) for line in lines)
    assert first["method"] == "GET"
    assert first["target"] == "/hello.txt?x=1"
    assert first["status"] == 200
    assert first["bytes_sent"] == 12
    assert first["user_agent"] == "json-agent/2"
    assert first["remote_addr"] == "127.0.0.1"
    assert first["protocol"] == "HTTP/1.1"
    assert (second["status"], second["bytes_sent"]) == (206, 10)


# A quote, a backslash, a tab and a byte outside ASCII: all legal in a field value, all
# dangerous in a log line written without escaping.
NASTY_AGENT = b'evil" "injected\\ \ttab \xff end'


def test_access_log_escapes_user_agent_combined(server):
    fetch(server, "GET", "/hello.txt", [("User-Agent", NASTY_AGENT.decode("latin-1"))])
    lines = log_lines(server, 1)
    assert len(lines) == 1, lines
    line = lines[0]
    assert "\t" not in line and "\ufffd" not in line, repr(line)
    m = COMBINED.match(line)
    assert m, repr(line)
    assert m["status"] == "200"
    assert "evil" in m["agent"] and "end" in m["agent"]


def test_access_log_escapes_user_agent_json(rws, site):
    server = rws("--root", str(site), "--log-format", "json")
    fetch(server, "GET", "/hello.txt", [("User-Agent", NASTY_AGENT.decode("latin-1"))])
    lines = log_lines(server, 1)
    assert len(lines) == 1, lines
    assert "\t" not in lines[0] and "\ufffd" not in lines[0], repr(lines[0])
    record = json.loads(lines[0])
    assert record["user_agent"].startswith('evil" "injected\\ \ttab ')
    assert record["user_agent"].endswith(" end")
    assert record["status"] == 200


def test_access_log_control_bytes(rws, site):
    """A control byte in a field value is invalid (RFC 9110 §5.5): the server may reject the
    request or keep the byte, but the log line must stay one line with the byte escaped."""
    server = rws("--root", str(site), "--log-format", "json")
    conn = server.connect()
    try:
        conn.send(b"GET /hello.txt HTTP/1.1\r\nHost: test\r\nUser-Agent: a\x1bb\x7fc\r\n\r\n")
        resp = conn.read_response()
        assert resp.status in (200, 400)
    finally:
        conn.close()
    lines = log_lines(server, 1)
    assert len(lines) == 1, lines
    assert "\x1b" not in lines[0] and "\x7f" not in lines[0], repr(lines[0])
    record = json.loads(lines[0])
    assert record["status"] == resp.status
    if resp.status == 200:
        assert record["user_agent"] == "a\x1bb\x7fc"
