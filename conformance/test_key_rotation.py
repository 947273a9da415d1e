"""Rotation without downtime (issue 5): while a loop signs a user in, refreshes, and verifies
every ID token with PyJWT against the pool's JWKS, the pool's CMK is rotated (its data key is
re-wrapped) and its signing key is rotated (published first, signing after
JANUS_SIGNING_KEY_ACTIVATION_SECS). The loop must see zero errors, tokens must switch to the
new key only after the delay, and a token signed before the rotation must still validate
against the JWKS afterwards. The pool's sealing key (refresh tokens) is rotated in the middle
too: refresh tokens sealed before keep working."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time

import jwt
import pytest

from auth_support import make_app_client, make_user, sign_in
from conftest import ACCESS_KEY_ID, JANUS_BIN, SECRET_ACCESS_KEY, start_janus, stop_janus
from test_cross_region import boto_clients

ACTIVATION_S = 2
PASSWORD = "Rotati0n-Pa55word!"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if not JANUS_BIN.exists():
        pytest.skip(f"janus binary not found at {JANUS_BIN}")
    s = start_janus(tmp_path_factory.mktemp("rotation"),
                    extra_env={"JANUS_SIGNING_KEY_ACTIVATION_SECS": str(ACTIVATION_S)})
    yield s
    assert stop_janus(s) == 0


def keys_cli(server, *args: str) -> str:
    env = dict(os.environ, JANUS_ADMIN_ACCESS_KEY_ID=ACCESS_KEY_ID,
               JANUS_ADMIN_SECRET_ACCESS_KEY=SECRET_ACCESS_KEY)
    r = subprocess.run([str(JANUS_BIN), "keys", *args, "--endpoint", server.endpoint],
                       capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_sign_in_and_refresh_see_no_error_through_cmk_and_signing_key_rotations(server):
    admin, public = boto_clients(server)
    arn = json.loads(keys_cli(server, "create", "--multi-region"))["KeyMetadata"]["Arn"]
    pool = admin.create_user_pool(PoolName="rotation", KeyConfiguration={
        "KeyType": "CUSTOMER_MANAGED_KEY", "KmsKeyArn": arn})["UserPool"]["Id"]
    app = make_app_client(admin, pool)
    user = make_user(admin, pool, password=PASSWORD)
    issuer = f"{server.endpoint}/{pool}"
    jwks = jwt.PyJWKClient(f"{issuer}/.well-known/jwks.json", cache_jwk_set=True, lifespan=1)
    first = sign_in(public, app["ClientId"], user, PASSWORD)
    old_kid = jwt.get_unverified_header(first["IdToken"])["kid"]
    errors: list[str] = []
    seen: list[tuple[float, str]] = []
    stop = threading.Event()

    def verify(token: str) -> str:
        key = jwks.get_signing_key_from_jwt(token)
        jwt.decode(token, key.key, algorithms=["RS256"], audience=app["ClientId"], issuer=issuer)
        return jwt.get_unverified_header(token)["kid"]

    def loop():
        while not stop.is_set():
            try:
                t = sign_in(public, app["ClientId"], user, PASSWORD)
                seen.append((time.monotonic(), verify(t["IdToken"])))
                r = public.initiate_auth(AuthFlow="REFRESH_TOKEN_AUTH", ClientId=app["ClientId"],
                                         AuthParameters={"REFRESH_TOKEN": t["RefreshToken"]})
                verify(r["AuthenticationResult"]["IdToken"])
            except Exception as e:  # noqa: BLE001 - every failure counts
                errors.append(repr(e))

    worker = threading.Thread(target=loop)
    worker.start()
    try:
        time.sleep(0.5)
        keys_cli(server, "rotate", arn)
        time.sleep(0.5)
        keys_cli(server, "rotate-sealing", "--pool", pool)  # refresh tokens sealed before still open
        time.sleep(0.5)
        asked_at = time.monotonic()  # the new key cannot sign before asked_at + ACTIVATION_S
        rotated = json.loads(keys_cli(server, "rotate-signing", "--pool", pool))
        time.sleep(ACTIVATION_S + 2)
    finally:
        stop.set()
        worker.join(timeout=30)
    assert not errors, errors[:5]
    new_kid = rotated["Kid"]
    kids = [k for _, k in seen]
    assert old_kid in kids and new_kid in kids, kids
    early = [k for t, k in seen if t < asked_at + ACTIVATION_S - 0.2]
    assert new_kid not in early, "the new key signed before its activation delay"
    published = {j.key_id for j in jwks.get_jwk_set(refresh=True).keys}
    assert {old_kid, new_kid} <= published
    # A token signed before the rotations still validates; a refresh token sealed before the
    # sealing-key rotation still refreshes, and the new ID token carries the new key.
    assert verify(first["IdToken"]) == old_kid
    again = public.initiate_auth(AuthFlow="REFRESH_TOKEN_AUTH", ClientId=app["ClientId"],
                                 AuthParameters={"REFRESH_TOKEN": first["RefreshToken"]})
    assert verify(again["AuthenticationResult"]["IdToken"]) == new_kid
    described = json.loads(keys_cli(server, "describe", arn))["KeyMetadata"]
    assert described["CurrentVersion"] == 2
