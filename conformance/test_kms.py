"""The AWS KMS key provider (issue 5) against moto's KMS server, an independent implementation of
the KMS API started here on loopback: Janus with JANUS_KEY_PROVIDER=aws-kms creates pools whose
data keys come from GenerateDataKey (wrapped by a moto key) and are opened with Decrypt; users sign
in; the store file holds no password; a key disabled in KMS (boto3's kms client) makes its pool
refuse sign-in with a clear error until it is enabled; `janus keys replicate` replicates a
multi-region key with ReplicateKey."""

from __future__ import annotations

import json
import os
import subprocess
import urllib.request

import pytest
from botocore.exceptions import ClientError

from auth_support import make_app_client, make_user, sign_in
from conftest import ACCESS_KEY_ID, JANUS_BIN, SECRET_ACCESS_KEY, start_janus, stop_janus, store_dump
from kms_support import Moto, kms
from support import unique
from test_cross_region import boto_clients, free_port

PASSWORD = "Kms-Pa55word-Known!"


@pytest.fixture(scope="module")
def moto(tmp_path_factory):
    server = Moto(tmp_path_factory.mktemp("moto"))
    yield server.url
    server.stop()


@pytest.fixture(scope="module")
def janus_kms(moto, tmp_path_factory):
    default = kms(moto).create_key(Description="janus default")["KeyMetadata"]["Arn"]
    server = start_janus(tmp_path_factory.mktemp("janus-kms"), extra_env={
        "JANUS_KEY_PROVIDER": "aws-kms", "JANUS_KMS_ENDPOINT": moto, "JANUS_KMS_DEFAULT_KEY": default,
        "JANUS_KMS_CACHE_SECS": "0", "JANUS_KMS_ACCESS_KEY_ID": "testing",
        "JANUS_KMS_SECRET_ACCESS_KEY": "testing"})
    yield server
    assert stop_janus(server) == 0


def test_pools_encrypt_under_a_kms_key_and_follow_its_state(moto, janus_kms):
    admin, public = boto_clients(janus_kms)
    key = kms(moto).create_key(Description="pool key")["KeyMetadata"]["Arn"]
    pool = admin.create_user_pool(PoolName=unique("kms"), KeyConfiguration={
        "KeyType": "CUSTOMER_MANAGED_KEY", "KmsKeyArn": key})["UserPool"]["Id"]
    app = make_app_client(admin, pool, secret=True)
    user = make_user(admin, pool, password=PASSWORD)
    sign_in(public, app["ClientId"], user, PASSWORD, secret=app["ClientSecret"])
    owned = admin.create_user_pool(PoolName=unique("kms-owned"))["UserPool"]["Id"]
    make_user(admin, owned, password=PASSWORD)
    dump = store_dump(janus_kms.data_dir)
    assert PASSWORD.encode() not in dump and app["ClientSecret"].encode() not in dump
    assert b'"phc":"jenc1:' in dump and key.encode() in dump
    kms(moto).disable_key(KeyId=key.split("/")[-1])  # moto takes ids here, not ARNs
    with pytest.raises(ClientError) as e:
        sign_in(public, app["ClientId"], user, PASSWORD, secret=app["ClientSecret"])
    assert e.value.response["Error"]["Code"] == "InvalidUserPoolConfigurationException"
    assert key in e.value.response["Error"]["Message"], e.value.response["Error"]["Message"]
    metrics = urllib.request.urlopen(f"{janus_kms.endpoint}/metrics", timeout=10).read().decode()
    assert 'janus_key_provider_errors_total{provider="aws-kms",kind="disabled"} 0' not in metrics
    kms(moto).enable_key(KeyId=key.split("/")[-1])
    sign_in(public, app["ClientId"], user, PASSWORD, secret=app["ClientSecret"])
    # Moving the pool to another KMS key re-wraps its data key with Encrypt; still signs in.
    other = kms(moto).create_key(Description="second pool key")["KeyMetadata"]["Arn"]
    admin.update_user_pool(UserPoolId=pool, KeyConfiguration={"KeyType": "CUSTOMER_MANAGED_KEY",
                                                              "KmsKeyArn": other})
    sign_in(public, app["ClientId"], user, PASSWORD, secret=app["ClientSecret"])
    kms(moto).disable_key(KeyId=key.split("/")[-1])  # the old key no longer matters
    sign_in(public, app["ClientId"], user, PASSWORD, secret=app["ClientSecret"])


def test_janus_keys_replicate_uses_replicate_key(moto, janus_kms, tmp_path):
    mrk = kms(moto).create_key(MultiRegion=True)["KeyMetadata"]["Arn"]
    env = dict(os.environ, JANUS_ADMIN_ACCESS_KEY_ID=ACCESS_KEY_ID,
               JANUS_ADMIN_SECRET_ACCESS_KEY=SECRET_ACCESS_KEY)
    r = subprocess.run([str(JANUS_BIN), "keys", "replicate", mrk, "--to-region", "us-west-2",
                        "--transport-key", "aws-kms", "--out", str(tmp_path / "b.json"),
                        "--endpoint", janus_kms.endpoint], capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    replica = kms(moto, "us-west-2").describe_key(KeyId=mrk.replace("us-east-1", "us-west-2"))["KeyMetadata"]
    assert replica["MultiRegionConfiguration"]["MultiRegionKeyType"] == "REPLICA"
    assert json.loads((tmp_path / "b.json").read_text())["Arn"].startswith("arn:aws:kms:us-west-2:")
