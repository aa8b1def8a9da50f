"""The auth middleware ([route.middleware] auth: bearer, basic, jwt) through the real binary and
a real backend (test/support/backend.py). Credentials come from tools independent of rws:
htpasswd (apache2-utils) and hashlib for the user files, PyJWT and python3-cryptography for the
tokens and keys, made at test time. A JWKS is served by a python http.server started here.
Synchronisation is by observable events with deadlines (the reload log line), never by sleeping."""

import base64
import concurrent.futures
import hashlib
import hmac
import http.server
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import threading
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from conftest import RWS_BIN, require_tool, wait_until
from test_tls import Pki
from test_gateway import BackendProcess, call, echo_of, fields, q, reloads, upstream
from test_gateway import gateway  # noqa: F401  (fixture)

SECRET = "integration-hmac-secret-7f3a9c"
ISSUER = "https://issuer.test"


# --- helpers ------------------------------------------------------------------------------------

@pytest.fixture
def backend():
    b = BackendProcess("auth-backend")
    yield b
    b.proc.stop()


def route(name, path, auth, upstream_name="app"):
    return (f"[[route]]\nname = {q(name)}\nmatch = {{ path = {q(path)} }}\n"
            f"action = {{ type = \"proxy\", upstream = {q(upstream_name)} }}\n"
            f"middleware = {{ auth = {auth} }}\n\n")


def get(server, path, *headers):
    return call(server, "GET", path, headers=list(headers))


def basic(user, password):
    return ("Authorization", "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode())


def bearer(token):
    return ("Authorization", f"Bearer {token}")


def run_check(path, env=None):
    full = {k: v for k, v in os.environ.items() if not k.startswith("RWS_CONFIG_")}
    full.update(env or {})
    p = subprocess.run([RWS_BIN, "check-config", str(path)], capture_output=True, text=True,
                       timeout=60, env=full)
    return p.returncode, p.stdout + p.stderr


def htpasswd_line(flag, user, password):
    tool = require_tool("htpasswd")
    out = subprocess.run([tool, "-n", "-b", flag, user, password], capture_output=True, text=True,
                         check=True).stdout
    return out.splitlines()[0]


def claims(**extra):
    c = {"sub": "alice", "iss": ISSUER, "aud": "api", "exp": int(time.time()) + 3600}
    c.update(extra)
    return c


def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_pem(key):
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


def b64url_int(n, size=None):
    raw = n.to_bytes(size or (n.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def challenge(resp):
    return resp.header("www-authenticate")


# --- bearer -------------------------------------------------------------------------------------

def test_bearer_token(gateway, backend):
    server = gateway(upstream("app", [backend.addr])
                     + route("private", "/private/*",
                             '{ type = "bearer", token_env = "RWS_IT_TOKEN" }')
                     + "[[route]]\nname = \"open\"\nmatch = { path = \"/*\" }\n"
                       "action = { type = \"proxy\", upstream = \"app\" }\n",
                     env={"RWS_IT_TOKEN": "s3cr3t-t0ken"})
    r = get(server, "/private/x?tag=no-token")
    assert (r.status, challenge(r)) == (401, "Bearer")
    r = get(server, "/private/x?tag=wrong", bearer("s3cr3t-t0kem"))
    assert (r.status, challenge(r)) == (401, 'Bearer error="invalid_token"')
    assert get(server, "/private/x?tag=wrong", bearer("s3cr3t-t0ken-")).status == 401
    assert backend.count("no-token") == 0 and backend.count("wrong") == 0

    r = get(server, "/private/x?tag=ok", bearer("s3cr3t-t0ken"))
    assert echo_of(r)["target"] == "/private/x?tag=ok"
    assert backend.count("ok") == 1
    assert echo_of(get(server, "/public")) is not None  # the other route has no auth


def test_bearer_token_env_unset_is_a_config_error(tmp_path, backend):
    path = tmp_path / "bearer.toml"
    path.write_text(upstream("app", [backend.addr])
                    + route("private", "/*", '{ type = "bearer", token_env = "RWS_IT_UNSET" }'))
    code, out = run_check(path)
    assert code == 1, out
    assert re.search(re.escape(str(path)) + r":\d+:\d+: .*token_env: environment variable "
                     r"'RWS_IT_UNSET' is not set", out), out


# --- basic --------------------------------------------------------------------------------------

USERS = {
    "bcrypt": ("-B", "pw-bcrypt"),
    "apr1": ("-m", "pw:apr1"),
    "sha": ("-s", "pw-sha"),
    "plain": ("-p", "pw-plain"),
}


def write_users(path, users):
    lines = [htpasswd_line(flag, user, pw) for user, (flag, pw) in users.items()]
    # {SHA256}: not an htpasswd option; base64 of the raw digest, as the tools that use it write.
    digest = base64.b64encode(hashlib.sha256(b"pw-sha256").digest()).decode()
    lines.append(f"sha256:{{SHA256}}{digest}")
    path.write_text("\n".join(lines) + "\n")


def test_basic_each_hash_kind(gateway, backend, tmp_path):
    users = tmp_path / "users.htpasswd"
    write_users(users, USERS)
    server = gateway(upstream("app", [backend.addr])
                     + route("basic", "/*", "{ type = \"basic\", htpasswd_file = "
                             + q(str(users)) + ", realm = " + q('Ops "team"') + " }"))
    r = get(server, "/x")
    assert r.status == 401
    assert challenge(r) == 'Basic realm="Ops \\"team\\"", charset="UTF-8"'
    passwords = {user: pw for user, (_, pw) in USERS.items()}
    passwords["sha256"] = "pw-sha256"
    for user, pw in passwords.items():
        echo = echo_of(get(server, f"/x?tag=ok-{user}", basic(user, pw)))
        assert echo["target"] == f"/x?tag=ok-{user}"
        r = get(server, f"/x?tag=bad-{user}", basic(user, pw + "x"))
        assert r.status == 401 and challenge(r).startswith("Basic realm="), user
        assert backend.count(f"bad-{user}") == 0
    assert get(server, "/x", basic("nobody", "pw-plain")).status == 401
    assert get(server, "/x", ("Authorization", "Basic not-base64!")).status == 401


def test_reload_rereads_the_htpasswd_file(gateway, backend, tmp_path):
    users = tmp_path / "users.htpasswd"
    users.write_text(htpasswd_line("-m", "ann", "first") + "\n")
    server = gateway(upstream("app", [backend.addr])
                     + route("basic", "/*", "{ type = \"basic\", htpasswd_file = "
                             + q(str(users)) + " }"))
    assert get(server, "/x", basic("ann", "first")).status == 200
    assert get(server, "/x", basic("ann", "second")).status == 401

    users.write_text(htpasswd_line("-B", "ann", "second") + "\n")
    server.signal(signal.SIGHUP)
    wait_until(lambda: reloads(server) == 1, what="the reload to be logged")
    assert get(server, "/x", basic("ann", "first")).status == 401
    assert get(server, "/x", basic("ann", "second")).status == 200

    # A broken file fails the reload: the old users stay, nothing opens up.
    users.write_text("ann\n")
    server.signal(signal.SIGHUP)
    wait_until(lambda: "reload failed" in server.stderr, what="the failed reload to be logged")
    assert f"{users}:1: expected 'user:hash'" in server.stderr
    assert get(server, "/x", basic("ann", "second")).status == 200
    assert get(server, "/x").status == 401


# --- jwt ----------------------------------------------------------------------------------------

@pytest.fixture
def jwt_gateway(gateway, backend, tmp_path):
    key = rsa_key()
    pem = tmp_path / "rsa_public.pem"
    pem.write_bytes(public_pem(key))
    server = gateway(
        upstream("app", [backend.addr])
        + route("hs", "/hs/*", '{ type = "jwt", secret_env = "RWS_IT_JWT_SECRET", '
                f'issuer = {q(ISSUER)}, audience = "api", claims_header = "X-Jwt-Claims" }}')
        + route("rs", "/rs/*", f'{{ type = "jwt", public_key_file = {q(str(pem))}, '
                'algorithms = ["RS256"] }'),
        env={"RWS_IT_JWT_SECRET": SECRET})
    server.rsa_key = key
    server.rsa_pem = public_pem(key)
    return server


def test_jwt_hs256_claims_header_reaches_the_backend_and_spoofing_is_removed(jwt_gateway):
    server = jwt_gateway
    token = jwt.encode(claims(role="reader"), SECRET, algorithm="HS256")
    spoof = ("X-Jwt-Claims", '{"sub":"admin","role":"admin"}')
    echo = echo_of(get(server, "/hs/x", bearer(token), spoof))
    seen = fields(echo, "X-Jwt-Claims")
    assert len(seen) == 1, seen
    assert json.loads(seen[0]) == claims(role="reader") | {"exp": json.loads(seen[0])["exp"]}

    # Without a token the spoofed header goes nowhere: 401.
    r = get(server, "/hs/x", spoof)
    assert (r.status, challenge(r)) == (401, "Bearer")


@pytest.mark.parametrize("case,description", [
    ("expired", "token expired"),
    ("not_yet", "token not valid yet (nbf)"),
    ("wrong_issuer", "wrong issuer"),
    ("wrong_audience", "wrong audience"),
    ("wrong_secret", "bad signature"),
    ("hs512_allowed", None),
    ("none", "algorithm none not allowed"),
])
def test_jwt_hs256_rejections(jwt_gateway, case, description):
    now = int(time.time())
    token = {
        "expired": lambda: jwt.encode(claims(exp=now - 10), SECRET, algorithm="HS256"),
        "not_yet": lambda: jwt.encode(claims(nbf=now + 3600), SECRET, algorithm="HS256"),
        "wrong_issuer": lambda: jwt.encode(claims(iss="https://x.test"), SECRET, algorithm="HS256"),
        "wrong_audience": lambda: jwt.encode(claims(aud="web"), SECRET, algorithm="HS256"),
        "wrong_secret": lambda: jwt.encode(claims(), SECRET + "!", algorithm="HS256"),
        "hs512_allowed": lambda: jwt.encode(claims(), SECRET, algorithm="HS512"),
        "none": lambda: jwt.encode(claims(), None, algorithm="none"),
    }[case]()
    r = get(jwt_gateway, "/hs/x", bearer(token))
    if description is None:
        assert r.status == 200, r
    else:
        assert r.status == 401, r
        assert challenge(r) == (f'Bearer error="invalid_token", '
                                f'error_description="{description}"')


def test_jwt_rs256_public_key(jwt_gateway):
    server = jwt_gateway
    private = server.rsa_key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption())
    assert get(server, "/rs/x", bearer(jwt.encode(claims(), private, algorithm="RS256"))).status \
        == 200
    expired = jwt.encode(claims(exp=int(time.time()) - 10), private, algorithm="RS256")
    r = get(server, "/rs/x", bearer(expired))
    assert r.status == 401 and 'error_description="token expired"' in challenge(r)
    other = rsa_key().private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
    r = get(server, "/rs/x", bearer(jwt.encode(claims(), other, algorithm="RS256")))
    assert r.status == 401 and 'error_description="bad signature"' in challenge(r)
    # Algorithm confusion: HS256 keyed with the public key's PEM (PyJWT refuses to make it).
    header = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').rstrip(b"=")
    body = base64.urlsafe_b64encode(json.dumps(claims()).encode()).rstrip(b"=")
    mac = hmac.new(server.rsa_pem, header + b"." + body, hashlib.sha256).digest()
    forged = (header + b"." + body + b"." + base64.urlsafe_b64encode(mac).rstrip(b"=")).decode()
    r = get(server, "/rs/x", bearer(forged))
    assert r.status == 401 and "algorithm HS256 not allowed" in challenge(r)
    # And the HS route does not take RS tokens.
    r = get(server, "/hs/x", bearer(jwt.encode(claims(), private, algorithm="RS256")))
    assert r.status == 401 and "algorithm RS256 not allowed" in challenge(r)


class JwksServer:
    """A python http.server on 127.0.0.1 serving `document` at /jwks.json (replaced by
    `publish`); `hits` counts requests. With `tls` = (cert, key) it serves https, and `sni`
    records the server names clients sent."""

    def __init__(self, document, tls=None, host="127.0.0.1"):
        self.lock = threading.Lock()
        self.hits = 0
        self.publish(document)
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                with outer.lock:
                    outer.hits += 1
                    body = outer.body
                if self.path != "/jwks.json":
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.sni = []
        scheme = "http"
        if tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            context.sni_callback = lambda _sock, name, _ctx: self.sni.append(name)
            self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
            scheme = "https"
        self.url = f"{scheme}://{host}:{self.httpd.server_address[1]}/jwks.json"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def publish(self, document):
        with self.lock:
            self.body = json.dumps(document).encode()

    def count(self):
        with self.lock:
            return self.hits

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def rsa_jwk(private, kid):
    n = private.public_key().public_numbers()
    return {"kty": "RSA", "kid": kid, "use": "sig", "n": b64url_int(n.n), "e": b64url_int(n.e)}


def test_jwt_jwks_url(gateway, backend, tmp_path):
    rsa_private = rsa_key()
    ec_private = ec.generate_private_key(ec.SECP256R1())
    n = rsa_private.public_key().public_numbers()
    p = ec_private.public_key().public_numbers()
    jwks = JwksServer({"keys": [
        {"kty": "RSA", "kid": "r1", "use": "sig", "n": b64url_int(n.n), "e": b64url_int(n.e)},
        {"kty": "EC", "kid": "e1", "crv": "P-256", "x": b64url_int(p.x, 32),
         "y": b64url_int(p.y, 32)},
    ]})
    try:
        server = gateway(upstream("app", [backend.addr])
                         + route("jwks", "/*", f'{{ type = "jwt", jwks_url = {q(jwks.url)} }}'))
        assert jwks.hits == 1
        rs = jwt.encode(claims(), rsa_private, algorithm="RS256", headers={"kid": "r1"})
        es = jwt.encode(claims(), ec_private, algorithm="ES256", headers={"kid": "e1"})
        assert get(server, "/x", bearer(rs)).status == 200
        assert get(server, "/x", bearer(es)).status == 200
        unknown = jwt.encode(claims(), rsa_private, algorithm="RS256", headers={"kid": "zz"})
        r = get(server, "/x", bearer(unknown))
        assert r.status == 401 and 'error_description="unknown key id"' in challenge(r)
        assert jwks.count() == 2, "an unknown kid fetches the set once more, early"
        # The RSA key under the EC key's id: no key of that kind has that id (but the id is
        # known: no early fetch).
        r = get(server, "/x", bearer(jwt.encode(claims(), rsa_private, algorithm="RS256",
                                                headers={"kid": "e1"})))
        assert r.status == 401
        assert jwks.count() == 2

        # A reload fetches the keys again.
        server.signal(signal.SIGHUP)
        wait_until(lambda: reloads(server) == 1, what="the reload to be logged")
        assert jwks.count() == 3
        assert get(server, "/x", bearer(rs)).status == 200
    finally:
        jwks.close()


def test_jwt_jwks_key_rotation_and_unknown_kids(gateway, backend):
    old_key, new_key = rsa_key(), rsa_key()
    jwks = JwksServer({"keys": [rsa_jwk(old_key, "k1")]})
    config = (upstream("app", [backend.addr])
              + route("jwks", "/*", f'{{ type = "jwt", jwks_url = {q(jwks.url)} }}'))
    old = jwt.encode(claims(), old_key, algorithm="RS256", headers={"kid": "k1"})
    new = jwt.encode(claims(), new_key, algorithm="RS256", headers={"kid": "k2"})
    garbage = jwt.encode(claims(), new_key, algorithm="RS256", headers={"kid": "garbage"})
    try:
        server = gateway(config, threads=2)
        assert jwks.count() == 1
        assert get(server, "/x", bearer(old)).status == 200
        # The identity provider rotates to a new key: its first token is accepted at once (an
        # early fetch), not after the 5-minute refresh.
        jwks.publish({"keys": [rsa_jwk(new_key, "k2")]})
        assert get(server, "/x", bearer(new)).status == 200
        assert jwks.count() == 2
        # Within 30 s of that fetch, unknown kids cause no further fetch.
        assert get(server, "/x", bearer(old)).status == 401
        for _ in range(50):
            r = get(server, "/x", bearer(garbage))
            assert r.status == 401 and 'error_description="unknown key id"' in challenge(r)
        assert jwks.count() == 2

        # A fresh instance hit by 50 garbage-kid tokens at once fetches the set once more, not
        # 50 times; concurrent requests share that fetch.
        second = gateway(config, name="second.toml", threads=2)
        assert jwks.count() == 3
        with concurrent.futures.ThreadPoolExecutor(max_workers=10) as pool:
            statuses = list(pool.map(lambda _: get(second, "/x", bearer(garbage)).status,
                                     range(50)))
        assert statuses == [401] * 50
        assert jwks.count() == 4
        assert get(second, "/x", bearer(new)).status == 200
    finally:
        jwks.close()


def test_jwt_jwks_url_unreachable_is_a_config_error(tmp_path, backend):
    held = socket.socket()
    held.bind(("127.0.0.1", 0))  # bound, not listening: connections are refused
    try:
        dead = f"http://127.0.0.1:{held.getsockname()[1]}/jwks.json"
        path = tmp_path / "jwks.toml"
        path.write_text(upstream("app", [backend.addr])
                        + route("a", "/a/*", f'{{ type = "jwt", jwks_url = {q(dead)} }}'))
        code, out = run_check(path)
    finally:
        held.close()
    assert code == 1, out
    assert re.search(re.escape(str(path)) + r":\d+:\d+: .*jwks_url: " + re.escape(dead)
                     + r": cannot connect", out), out


# --- JWKS over https ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """The test CA (trusted through SSL_CERT_FILE), a JWKS server certificate for localhost and
    127.0.0.1, and one for another name."""
    p = Pki(tmp_path_factory.mktemp("pki"))
    p.server = p.issue("jwks", "localhost", ["DNS:localhost", "IP:127.0.0.1"])
    p.elsewhere = p.issue("elsewhere", "elsewhere.test", ["DNS:elsewhere.test"])
    return p


def trusting(ca_pem):
    return {"SSL_CERT_FILE": ca_pem, "SSL_CERT_DIR": "/nonexistent"}


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1"])
def test_jwt_jwks_url_over_https(gateway, backend, pki, host):
    key = rsa_key()
    jwks = JwksServer({"keys": [rsa_jwk(key, "k1")]}, tls=pki.server, host=host)
    try:
        server = gateway(upstream("app", [backend.addr])
                         + route("jwks", "/*", f'{{ type = "jwt", jwks_url = {q(jwks.url)} }}'),
                         env=trusting(pki.path("ca.pem")))
        assert jwks.count() == 1
        assert jwks.sni == (["localhost"] if host == "localhost" else [None]), \
            "SNI for a name, none for an IP literal"
        token = jwt.encode(claims(), key, algorithm="RS256", headers={"kid": "k1"})
        assert get(server, "/x", bearer(token)).status == 200
        # A reload fetches over https again.
        server.signal(signal.SIGHUP)
        wait_until(lambda: reloads(server) == 1, what="the reload to be logged")
        assert jwks.count() == 2
        assert get(server, "/x", bearer(token)).status == 200
    finally:
        jwks.close()


def test_jwt_jwks_url_with_an_untrusted_or_misnamed_certificate_is_a_config_error(
        tmp_path, backend, pki):
    key = rsa_key()
    trusted = JwksServer({"keys": [rsa_jwk(key, "k1")]}, tls=pki.server)
    misnamed = JwksServer({"keys": [rsa_jwk(key, "k1")]}, tls=pki.elsewhere)
    try:
        path = tmp_path / "jwks.toml"
        path.write_text(upstream("app", [backend.addr])
                        + route("a", "/a/*", f'{{ type = "jwt", jwks_url = {q(trusted.url)} }}')
                        + route("b", "/b/*", f'{{ type = "jwt", jwks_url = {q(misnamed.url)} }}'))
        # Only the rogue CA is trusted: the test CA's certificates are not.
        code, out = run_check(path, env=trusting(pki.path("rogue-ca.pem")))
        assert code == 1, out
        for url in (trusted.url, misnamed.url):
            assert re.search(re.escape(str(path)) + r":\d+:\d+: .*jwks_url: " + re.escape(url)
                             + r": TLS handshake: certificate verification failed: unable to get "
                             r"local issuer certificate", out), out
        # With the test CA trusted, the certificate for another name is still refused.
        code, out = run_check(path, env=trusting(pki.path("ca.pem")))
        assert code == 1, out
        assert trusted.url not in out, out
        assert re.search(re.escape(str(path)) + r":\d+:\d+: .*jwks_url: " + re.escape(misnamed.url)
                         + r": TLS handshake: certificate verification failed: IP address "
                         r"mismatch", out), out
    finally:
        trusted.close()
        misnamed.close()
