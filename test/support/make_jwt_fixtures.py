#!/usr/bin/python3
"""Writes the JWT fixtures of test/unit/middleware/fixtures/jwt/ with tools independent of rws:
Debian's python3-jwt (PyJWT) and python3-cryptography. Regenerate (keys change every run, so
regenerate everything at once and commit the whole directory):

    /usr/bin/python3 test/support/make_jwt_fixtures.py test/unit/middleware/fixtures/jwt

Valid tokens expire in 2100; "expired" ones in 2001; "nbf_future" ones start in 2100.
"""
import base64
import hashlib
import hmac
import json
import os
import sys

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

FAR_FUTURE = 4102444800  # 2100-01-01
PAST = 1000000000  # 2001-09-09
ISSUER = "https://issuer.example"
AUDIENCE = "api"
SECRET = "fixture-hmac-secret-0123456789abcdef"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_int(n: int) -> str:
    return b64url(n.to_bytes((n.bit_length() + 7) // 8, "big"))


def public_pem(key) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def private_pem(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def claims(**extra):
    c = {"sub": "alice", "iss": ISSUER, "aud": AUDIENCE, "exp": FAR_FUTURE, "iat": PAST,
         "name": "Alice \u00e9"}
    c.update(extra)
    return {k: v for k, v in c.items() if v is not None}


def main(out: str) -> None:
    os.makedirs(out, exist_ok=True)
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    rsa_other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    rsa_weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    ec_p384 = ec.generate_private_key(ec.SECP384R1())

    files = {
        "rsa_private.pem": private_pem(rsa_key),
        "rsa_public.pem": public_pem(rsa_key),
        "rsa_other_public.pem": public_pem(rsa_other),
        "rsa1024_public.pem": public_pem(rsa_weak),
        "ec_private.pem": private_pem(ec_key),
        "ec_public.pem": public_pem(ec_key),
        "ec_p384_public.pem": public_pem(ec_p384),
        "hs_secret.txt": SECRET.encode(),
    }
    rn = rsa_key.public_key().public_numbers()
    en = ec_key.public_key().public_numbers()
    jwks = {"keys": [
        {"kty": "RSA", "kid": "rsa1", "use": "sig", "alg": "RS256", "n": b64url_int(rn.n),
         "e": b64url_int(rn.e)},
        {"kty": "EC", "kid": "ec1", "crv": "P-256", "x": b64url(en.x.to_bytes(32, "big")),
         "y": b64url(en.y.to_bytes(32, "big"))},
        {"kty": "oct", "kid": "ignored", "k": b64url(b"not used")},
    ]}
    files["jwks.json"] = json.dumps(jwks, indent=2).encode() + b"\n"

    rsa_priv = private_pem(rsa_key)
    tokens = {
        "hs256_valid": jwt.encode(claims(), SECRET, "HS256"),
        "hs384_valid": jwt.encode(claims(), SECRET, "HS384"),
        "hs512_valid": jwt.encode(claims(), SECRET, "HS512"),
        "hs256_wrong_secret": jwt.encode(claims(), SECRET + "x", "HS256"),
        "hs256_expired": jwt.encode(claims(exp=PAST), SECRET, "HS256"),
        "hs256_nbf_future": jwt.encode(claims(nbf=FAR_FUTURE - 1000), SECRET, "HS256"),
        "hs256_wrong_iss": jwt.encode(claims(iss="https://evil.example"), SECRET, "HS256"),
        "hs256_wrong_aud": jwt.encode(claims(aud="other"), SECRET, "HS256"),
        "hs256_aud_array": jwt.encode(claims(aud=["other", AUDIENCE]), SECRET, "HS256"),
        "hs256_no_exp": jwt.encode(claims(exp=None), SECRET, "HS256"),
        "rs256_valid": jwt.encode(claims(), rsa_priv, "RS256", headers={"kid": "rsa1"}),
        "rs256_no_kid": jwt.encode(claims(), rsa_priv, "RS256"),
        "rs256_unknown_kid": jwt.encode(claims(), rsa_priv, "RS256", headers={"kid": "nope"}),
        "rs256_other_key": jwt.encode(claims(), private_pem(rsa_other), "RS256",
                                      headers={"kid": "rsa1"}),
        "rs256_expired": jwt.encode(claims(exp=PAST), rsa_priv, "RS256", headers={"kid": "rsa1"}),
        "es256_valid": jwt.encode(claims(), private_pem(ec_key), "ES256", headers={"kid": "ec1"}),
        "alg_none": jwt.encode(claims(), None, "none"),
    }
    # Algorithm confusion: HS256 keyed with the RSA public key's PEM text. PyJWT refuses to
    # make this on purpose, so it is assembled by hand.
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = b64url(json.dumps(claims()).encode())
    mac = hmac.new(files["rsa_public.pem"], f"{header}.{payload}".encode(), hashlib.sha256)
    tokens["hs256_confusion_rsa_pem"] = f"{header}.{payload}.{b64url(mac.digest())}"
    # A valid RS256 token whose payload was swapped afterwards.
    h, _, s = tokens["rs256_valid"].split(".")
    forged = b64url(json.dumps(claims(sub="mallory")).encode())
    tokens["rs256_tampered"] = f"{h}.{forged}.{s}"

    for name, data in files.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    for name, token in tokens.items():
        with open(os.path.join(out, name + ".jwt"), "w") as f:
            f.write(token + "\n")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "test/unit/middleware/fixtures/jwt")
