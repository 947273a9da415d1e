"""TLS without a proxy (issue 15): `janus serve --tls-cert/--tls-key` serves https (rustls).
boto3 checks the certificate against the test's own CA; the issuer, the discovery document and
the JWKS URL follow the scheme, and PyJWT verifies a token against keys fetched over https.
SIGHUP swaps in a renewed certificate without a restart; a file that does not load at SIGHUP
keeps the certificate before (and the log says so); plain http on the TLS port gets no answer.
A certificate without its key is refused at start-up with a message naming the flag."""

from __future__ import annotations

import json
import signal
import socket
import ssl
import subprocess
import time
import urllib.request
from pathlib import Path

import boto3
import jwt
import pytest
from botocore import UNSIGNED
from botocore.config import Config

from auth_support import make_app_client, make_user, password_auth
from conftest import ACCESS_KEY_ID, CLIENT_REGION, JANUS_BIN, SECRET_ACCESS_KEY, start_janus, stop_janus
from support import unique
from test_cross_region import wait_until


def make_cert(dir: Path, name: str) -> tuple[Path, Path]:
    """A self-signed P-256 certificate for 127.0.0.1 (it is its own CA) and its key."""
    dir.mkdir(parents=True, exist_ok=True)
    cert, key = dir / "cert.pem", dir / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", f"/CN={name}",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True)
    return cert, key


def served(endpoint: str) -> bytes:
    """The DER certificate the server presents now."""
    host, port = endpoint.removeprefix("https://").split(":")
    ctx = ssl._create_unverified_context()
    with socket.create_connection((host, int(port)), timeout=5) as raw, ctx.wrap_socket(raw) as tls:
        return tls.getpeercert(binary_form=True)


def der(cert: Path) -> bytes:
    return ssl.PEM_cert_to_DER_cert(cert.read_text())


def https_get(url: str, ca: Path) -> dict:
    ctx = ssl.create_default_context(cafile=str(ca))
    with urllib.request.urlopen(url, context=ctx, timeout=10) as r:
        return json.load(r)


def cognito(endpoint: str, ca: Path, signed: bool = True):
    extra = {} if signed else {"config": Config(signature_version=UNSIGNED)}
    return boto3.client("cognito-idp", endpoint_url=endpoint, region_name=CLIENT_REGION, verify=str(ca),
                        aws_access_key_id=ACCESS_KEY_ID, aws_secret_access_key=SECRET_ACCESS_KEY, **extra)


def test_janus_serves_https_and_swaps_its_certificate_on_sighup(tmp_path):
    cert, key = make_cert(tmp_path / "first", "janus-first")
    live_cert, live_key = tmp_path / "live-cert.pem", tmp_path / "live-key.pem"
    live_cert.write_bytes(cert.read_bytes())
    live_key.write_bytes(key.read_bytes())
    server = start_janus(tmp_path / "tls", args=("--tls-cert", str(live_cert), "--tls-key", str(live_key)))
    try:
        assert server.endpoint.startswith("https://127.0.0.1:")
        admin = cognito(server.endpoint, cert)
        pool = admin.create_user_pool(PoolName=unique("tls"))["UserPool"]["Id"]
        client = make_app_client(admin, pool)["ClientId"]
        user = make_user(admin, pool)
        tokens = password_auth(cognito(server.endpoint, cert, signed=False), client, user)["AuthenticationResult"]

        issuer = f"{server.endpoint}/{pool}"
        discovery = https_get(f"{issuer}/.well-known/openid-configuration", cert)
        assert discovery["issuer"] == issuer
        assert discovery["jwks_uri"] == f"{issuer}/.well-known/jwks.json"
        jwks = jwt.PyJWKClient(discovery["jwks_uri"], ssl_context=ssl.create_default_context(cafile=str(cert)))
        key_of = jwks.get_signing_key_from_jwt(tokens["IdToken"])
        claims = jwt.decode(tokens["IdToken"], key_of.key, algorithms=["RS256"], audience=client, issuer=issuer)
        assert claims["iss"].startswith("https://")

        # A renewed certificate: written over the files, then SIGHUP.
        renewed, renewed_key = make_cert(tmp_path / "second", "janus-second")
        live_cert.write_bytes(renewed.read_bytes())
        live_key.write_bytes(renewed_key.read_bytes())
        assert served(server.endpoint) == der(cert), "nothing changes before the signal"
        server.process.send_signal(signal.SIGHUP)
        wait_until("the renewed certificate", lambda: served(server.endpoint) == der(renewed))
        assert cognito(server.endpoint, renewed).describe_user_pool(UserPoolId=pool)["UserPool"]["Id"] == pool

        # A broken file at SIGHUP: the certificate before stays, and the log says why.
        live_cert.write_text("not a certificate")
        server.process.send_signal(signal.SIGHUP)
        wait_until("the reload error", lambda: "TLS certificate not reloaded" in server.stderr_path.read_text())
        assert served(server.endpoint) == der(renewed)
        assert "PRIVATE KEY" not in server.stderr_path.read_text()

        # Plain http on the TLS port: no HTTP answer.
        host, port = server.endpoint.removeprefix("https://").split(":")
        with socket.create_connection((host, int(port)), timeout=5) as s:
            s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            s.settimeout(5)
            try:
                reply = s.recv(100)
            except (ConnectionResetError, socket.timeout):
                reply = b""
            assert not reply.startswith(b"HTTP/"), reply
    finally:
        assert stop_janus(server) == 0


def test_a_certificate_without_its_key_is_refused_at_start(tmp_path):
    cert, _ = make_cert(tmp_path, "janus")
    p = subprocess.run([str(JANUS_BIN), "serve", "--listen", "127.0.0.1:0", "--data-dir", str(tmp_path / "d"),
                        "--tls-cert", str(cert)], capture_output=True, text=True, timeout=30)
    assert p.returncode != 0
    assert "--tls-cert needs --tls-key" in p.stderr


def test_a_client_that_never_finishes_its_handshake_is_dropped(tmp_path):
    """A connection that opens and sends nothing holds no one up, and is closed once the
    handshake deadline (10 s) passes."""
    cert, key = make_cert(tmp_path / "c", "janus")
    server = start_janus(tmp_path / "tls", args=("--tls-cert", str(cert), "--tls-key", str(key)))
    try:
        host, port = server.endpoint.removeprefix("https://").split(":")
        stalled = socket.create_connection((host, int(port)), timeout=20)
        try:
            assert served(server.endpoint) == der(cert), "others are served meanwhile"
            started = time.monotonic()
            assert stalled.recv(1) == b"", "closed by the server"
            assert time.monotonic() - started < 15
        finally:
            stalled.close()
    finally:
        assert stop_janus(server) == 0
