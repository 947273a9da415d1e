"""Customer-managed keys (issue 5), with two real regions (us-east-1, us-west-2) that require a
customer-managed multi-region key for replicas (the default), driven with boto3 and the
`janus keys` command line.

Checked: a dump of the store file and its WAL holds none of a user's password, sensitive email,
TOTP secret, SRP verifier, an app client's secret or a signing private key; a disabled key makes
its pool refuse sign-in with a Cognito-shaped error (and counts in
janus_key_provider_errors_total) until it is enabled; a key whose policy excludes a pool is
refused; CreateUserPoolReplica fails with a clear error naming key and region for the AWS owned
key, a single-region key, a multi-region key missing in the replica region, and one whose policy
there excludes the pool; with a correct multi-region key the replica signs users in and, after
promotion, still decrypts everything and takes writes.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading
import time
import urllib.error
import urllib.request
from types import SimpleNamespace

import pytest
from botocore.exceptions import ClientError

from auth_support import make_app_client, make_user, sign_in
from conftest import ACCESS_KEY_ID, JANUS_BIN, SECRET_ACCESS_KEY, start_janus, stop_janus, store_dump
from mfa_support import code, set_mfa
from support import GOOD_PASSWORD, unique
from test_cross_region import (EAST, ISSUER_URL, SECRET, WEST, Region, boto_clients, free_port,
                               wait_until)

PASSWORD = "Kn0wn-Pa55word-XYZ!"
EMAIL_LOCAL = "sensitive.alice.zq"


@pytest.fixture(scope="module")
def kr(tmp_path_factory):
    """Two regions that know each other and require CMKs for replicas."""
    if not JANUS_BIN.exists():
        pytest.skip(f"janus binary not found at {JANUS_BIN}")
    root = tmp_path_factory.mktemp("keyregions")
    ports = {EAST: free_port(), WEST: free_port()}
    servers = {}
    try:
        for name, other in ((WEST, EAST), (EAST, WEST)):
            servers[name] = start_janus(root / name, listen=f"127.0.0.1:{ports[name]}", extra_env={
                "JANUS_REGION": name,
                "JANUS_PEERS": f"{other}=http://127.0.0.1:{ports[other]}",
                "JANUS_REPLICATION_SECRET": SECRET,
                "JANUS_ISSUER_URL": ISSUER_URL,
            })
        made = {n: Region(n, s, *boto_clients(s)) for n, s in servers.items()}
        yield SimpleNamespace(east=made[EAST], west=made[WEST], root=root)
    finally:
        for s in servers.values():
            stop_janus(s, timeout=20)


def keys(region: Region, *args: str, ok: bool = True) -> dict | str:
    """Run `janus keys <args> --endpoint <region>`; its JSON output (or stderr when not ok)."""
    env = dict(os.environ, JANUS_ADMIN_ACCESS_KEY_ID=ACCESS_KEY_ID,
               JANUS_ADMIN_SECRET_ACCESS_KEY=SECRET_ACCESS_KEY)
    r = subprocess.run([str(JANUS_BIN), "keys", *args, "--endpoint", region.endpoint],
                       capture_output=True, text=True, env=env, timeout=60)
    if not ok:
        assert r.returncode != 0, r.stdout
        return r.stderr
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def create_key(region: Region, *args: str) -> str:
    return keys(region, "create", *args)["KeyMetadata"]["Arn"]


def replicate_key(kr, arn: str) -> None:
    bundle = kr.root / f"{unique('bundle')}.json"
    keys(kr.east, "replicate", arn, "--to-region", WEST, "--target-endpoint", kr.west.endpoint,
         "--out", str(bundle))
    text = bundle.read_text()
    assert '"root"' not in text and "ciphertext" in text
    assert oct(bundle.stat().st_mode & 0o777) == "0o600"
    assert keys(kr.west, "import", str(bundle))["KeyMetadata"]["Arn"] == arn.replace(EAST, WEST)


def cmk_pool(region: Region, arn: str, **kwargs) -> str:
    return region.admin.create_user_pool(
        PoolName=unique("keys"),
        KeyConfiguration={"KeyType": "CUSTOMER_MANAGED_KEY", "KmsKeyArn": arn}, **kwargs)["UserPool"]["Id"]


def raw_store(data_dir) -> bytes:
    return store_dump(data_dir)


def metric(region: Region, name: str, labels: str) -> float:
    text = urllib.request.urlopen(f"{region.endpoint}/metrics", timeout=10).read().decode()
    m = re.search(rf"^{re.escape(name)}\{{{re.escape(labels)}\}} (\S+)$", text, re.M)
    assert m, f"{name}{{{labels}}} not in /metrics"
    return float(m.group(1))


def ready(region: Region, pool: str) -> tuple[int, dict]:
    """GET /ready?pool=<pool>: (status, body)."""
    try:
        with urllib.request.urlopen(f"{region.endpoint}/ready?pool={pool}", timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def refusal(call) -> ClientError:
    with pytest.raises(ClientError) as e:
        call()
    return e.value


def test_a_store_dump_holds_no_secret(kr):
    east = kr.east
    arn = create_key(east, "--multi-region", "--description", "dump test")
    pool = cmk_pool(east, arn, UsernameAttributes=[], AutoVerifiedAttributes=["email"])
    assert east.admin.describe_user_pool(UserPoolId=pool)["UserPool"]["KeyConfiguration"]["KmsKeyArn"] == arn
    keys(east, "sensitive", "--pool", pool, "email", "phone_number")
    app = make_app_client(east.admin, pool, secret=True)
    email = f"{EMAIL_LOCAL}@example.com"
    user = make_user(east.admin, pool, password=PASSWORD, email=email, email_verified="true")
    set_mfa(east.admin, pool, "OPTIONAL")
    tokens = sign_in(east.public, app["ClientId"], user, PASSWORD, secret=app["ClientSecret"])
    totp = east.public.associate_software_token(AccessToken=tokens["AccessToken"])["SecretCode"]
    east.public.verify_software_token(AccessToken=tokens["AccessToken"], UserCode=code(totp))
    # Everything still reads back in the clear through the API.
    got = east.admin.admin_get_user(UserPoolId=pool, Username=user)
    assert {a["Name"]: a["Value"] for a in got["UserAttributes"]}["email"] == email
    listed = east.admin.list_users(UserPoolId=pool, Filter=f'email = "{email}"')["Users"]
    assert [u["Username"] for u in listed] == [user]
    described = east.admin.describe_user_pool_client(UserPoolId=pool, ClientId=app["ClientId"])
    assert described["UserPoolClient"]["ClientSecret"] == app["ClientSecret"]
    dump = raw_store(east.server.data_dir)
    for secret in (PASSWORD, EMAIL_LOCAL, totp, app["ClientSecret"]):
        assert secret.encode() not in dump, f"{secret!r} is in the store file"
    assert b"$argon2id$" not in dump, "a password hash is in the clear"
    assert not re.search(rb'"srp_verifier":"[0-9a-f]', dump), "an SRP verifier is in the clear"
    assert not re.search(rb'"material":"MII', dump), "a signing private key is in the clear"
    assert b'"phc":"jenc1:' in dump and b'"srp_verifier":"jenc1:' in dump


def test_a_disabled_key_stops_sign_in_until_enabled(kr):
    east = kr.east
    arn = create_key(east)
    pool = cmk_pool(east, arn)
    app = make_app_client(east.admin, pool)
    user = make_user(east.admin, pool, password=PASSWORD)
    sign_in(east.public, app["ClientId"], user, PASSWORD)
    before = metric(east, "janus_key_provider_errors_total", 'provider="keyring",kind="disabled"')
    assert keys(east, "disable", arn)["KeyMetadata"]["Enabled"] is False
    e = refusal(lambda: sign_in(east.public, app["ClientId"], user, PASSWORD))
    assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert e.response["Error"]["Code"] == "InvalidUserPoolConfigurationException"
    assert arn in e.response["Error"]["Message"] and "disabled" in e.response["Error"]["Message"]
    assert metric(east, "janus_key_provider_errors_total", 'provider="keyring",kind="disabled"') > before
    # A load balancer's readiness probe sees it too (issue 8: "keys usable").
    status, body = ready(east, pool)
    assert status == 503 and "keys are not usable" in body["Pools"][0]["Reason"], body
    keys(east, "enable", arn)
    sign_in(east.public, app["ClientId"], user, PASSWORD)
    assert ready(east, pool)[0] == 200


def test_a_key_refuses_pools_outside_its_policy(kr):
    east = kr.east
    arn = create_key(east, "--allow-pool", f"{EAST}_nobody*")
    e = refusal(lambda: cmk_pool(east, arn))
    assert e.response["Error"]["Code"] == "InvalidParameterException"
    assert "policy" in e.response["Error"]["Message"] and arn in e.response["Error"]["Message"]


# CreateUserPool, UpdateUserPool and CreateUserPoolReplica have no
# InvalidUserPoolConfigurationException in their model: a key they cannot use is an
# InvalidParameterException there (sign-in, whose model lists it, keeps it).
def replica_refusal(kr, pool: str) -> str:
    e = refusal(lambda: kr.east.admin.create_user_pool_replica(UserPoolId=pool, RegionName=WEST))
    assert e.response["Error"]["Code"] == "InvalidParameterException", e.response
    assert WEST not in kr.east.replicas(pool)
    return e.response["Error"]["Message"]


def test_a_replica_needs_a_usable_multi_region_key(kr):
    east = kr.east
    owned = east.admin.create_user_pool(PoolName=unique("owned"))["UserPool"]["Id"]
    assert "AWS owned key" in replica_refusal(kr, owned)
    single = create_key(east)
    m = replica_refusal(kr, cmk_pool(east, single))
    assert single in m and "single-region" in m and WEST in m
    missing = create_key(east, "--multi-region")
    m = replica_refusal(kr, cmk_pool(east, missing))
    assert missing.split("/")[-1] in m and "does not exist in region us-west-2" in m
    fenced = create_key(east, "--multi-region")
    replicate_key(kr, fenced)
    keys(kr.west, "policy", fenced, "--allow-pool", "nobody")
    pool = cmk_pool(east, fenced)
    m = replica_refusal(kr, pool)
    assert "policy" in m and pool in m and WEST in m


def test_with_a_multi_region_key_the_replica_signs_in_and_decrypts_after_promotion(kr):
    east, west = kr.east, kr.west
    arn = create_key(east, "--multi-region")
    replicate_key(kr, arn)
    pool = cmk_pool(east, arn)
    keys(east, "sensitive", "--pool", pool, "email")
    app = make_app_client(east.admin, pool, secret=True)
    email = f"{unique('rep')}@example.com"
    user = make_user(east.admin, pool, password=PASSWORD, email=email)
    east.admin.create_user_pool_replica(UserPoolId=pool, RegionName=WEST)
    wait_until("the replica to be INACTIVE", lambda: east.replicas(pool)[WEST]["Status"] == "INACTIVE")
    east.admin.update_user_pool_replica(UserPoolId=pool, RegionName=WEST, Status="ACTIVE")
    wait_until("a sign-in in the replica", lambda: _signs_in(west, app, user))
    # Both rotations while the replica streams: the re-wrapped data key and the new signing key
    # replicate, and the replica keeps signing users in.
    failures: list[str] = []
    stop = threading.Event()

    def traffic():  # sign-ins on the replica and the primary throughout both rotations
        while not stop.is_set():
            for region in (west, east):
                try:
                    sign_in(region.public, app["ClientId"], user, PASSWORD, secret=app["ClientSecret"])
                except ClientError as e:
                    failures.append(f"{region.name}: {e}")

    worker = threading.Thread(target=traffic)
    worker.start()
    try:
        assert keys(east, "rotate", arn)["RewrappedDataKeys"] >= 1
        kid = keys(east, "rotate-signing", "--pool", pool)["Kid"]
        wait_until("the new signing key in the replica's JWKS", lambda: kid in _kids(west, pool))
        time.sleep(0.5)
    finally:
        stop.set()
        worker.join(timeout=30)
    assert not failures, failures[:5]
    single = create_key(east)
    e = refusal(lambda: east.admin.update_user_pool(
        UserPoolId=pool, KeyConfiguration={"KeyType": "CUSTOMER_MANAGED_KEY", "KmsKeyArn": single}))
    assert e.response["Error"]["Code"] == "InvalidParameterException"
    assert WEST in e.response["Error"]["Message"] and single in e.response["Error"]["Message"]
    # Another multi-region key: refused until the replica region holds it, then the pool moves.
    other = create_key(east, "--multi-region")
    move = lambda: east.admin.update_user_pool(  # noqa: E731
        UserPoolId=pool, KeyConfiguration={"KeyType": "CUSTOMER_MANAGED_KEY", "KmsKeyArn": other})
    e = refusal(move)
    assert e.response["Error"]["Code"] == "InvalidParameterException"
    m = e.response["Error"]["Message"]
    assert WEST in m and other.split("/")[-1] in m and "does not exist in region us-west-2" in m, m
    replicate_key(kr, other)
    move()
    wait_until("the replica to follow the new key", lambda: east.digest(pool) == west.digest(pool))
    assert _signs_in(west, app, user)
    env = dict(os.environ, JANUS_ADMIN_ACCESS_KEY_ID=ACCESS_KEY_ID,
               JANUS_ADMIN_SECRET_ACCESS_KEY=SECRET_ACCESS_KEY)
    subprocess.run([str(JANUS_BIN), "replica", "promote", "--pool", pool, "--endpoint", west.endpoint],
                   check=True, capture_output=True, env=env, timeout=60)
    sign_in(west.public, app["ClientId"], user, PASSWORD, secret=app["ClientSecret"])
    got = west.admin.admin_get_user(UserPoolId=pool, Username=user)
    assert {a["Name"]: a["Value"] for a in got["UserAttributes"]}["email"] == email
    west.admin.admin_set_user_password(UserPoolId=pool, Username=user, Password=GOOD_PASSWORD, Permanent=True)
    sign_in(west.public, app["ClientId"], user, GOOD_PASSWORD, secret=app["ClientSecret"])
    assert email.encode() not in raw_store(west.server.data_dir)


def _kids(region: Region, pool: str) -> set[str]:
    url = f"{region.endpoint}/{pool}/.well-known/jwks.json"
    return {k["kid"] for k in json.loads(urllib.request.urlopen(url, timeout=10).read())["keys"]}


def _signs_in(region: Region, app: dict, user: str) -> bool:
    try:
        sign_in(region.public, app["ClientId"], user, PASSWORD, secret=app["ClientSecret"])
        return True
    except ClientError:
        return False


@pytest.mark.parametrize("how", ["AliasAttributes", "UsernameAttributes"])
def test_a_sensitive_email_still_signs_in_as_an_alias(kr, how):
    east = kr.east
    arn = create_key(east)
    pool = cmk_pool(east, arn, **{how: ["email"]})
    keys(east, "sensitive", "--pool", pool, "email")
    app = make_app_client(east.admin, pool)
    email = f"{unique('alias')}@example.com"
    name = unique("u") if how == "AliasAttributes" else email
    make_user(east.admin, pool, username=name, password=PASSWORD, email=email, email_verified="true")
    sign_in(east.public, app["ClientId"], email, PASSWORD)
    assert email.encode() not in raw_store(east.server.data_dir)
    with pytest.raises(ClientError) as e:
        make_user(east.admin, pool, username=unique("v") if how == "AliasAttributes" else email,
                  password=PASSWORD, email=email, email_verified="true")
    assert e.value.response["Error"]["Code"] in ("AliasExistsException", "UsernameExistsException")
