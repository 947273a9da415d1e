"""Two regions on loopback for the tests that need a pair: start them naming each other,
replicate a pool from east to west, and the administrator calls and waits they share
(test_audit.py, test_triggers.py)."""

from __future__ import annotations

import json
import os
import subprocess
import time

import boto3
import pytest
from botocore.config import Config

from conftest import ACCESS_KEY_ID, JANUS_BIN, SECRET_ACCESS_KEY, start_janus, stop_janus
from support import free_port, unique

EAST, WEST = "us-east-1", "us-west-2"
SECRET = "audit-secret"
CERT = "arn:aws:acm:us-east-1:000000000000:certificate/00000000-0000-0000-0000-000000000000"


def keys_cli(server, *args: str) -> dict:
    env = dict(os.environ, JANUS_ADMIN_ACCESS_KEY_ID=ACCESS_KEY_ID, JANUS_ADMIN_SECRET_ACCESS_KEY=SECRET_ACCESS_KEY)
    r = subprocess.run([str(JANUS_BIN), "keys", *args, "--endpoint", server.endpoint], env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def multi_region_key(east, west, tmp_path) -> str:
    """A multi-region key made in east and replicated to west (janus keys)."""
    arn = keys_cli(east, "create", "--multi-region")["KeyMetadata"]["Arn"]
    keys_cli(east, "replicate", arn, "--to-region", WEST, "--target-endpoint", west.endpoint,
             "--out", str(tmp_path / "key.bundle"))
    keys_cli(west, "import", str(tmp_path / "key.bundle"))
    return arn


def admin(endpoint: str):
    return boto3.client("cognito-idp", endpoint_url=endpoint, region_name=EAST,
                        aws_access_key_id=ACCESS_KEY_ID, aws_secret_access_key=SECRET_ACCESS_KEY,
                        config=Config(retries={"max_attempts": 1, "mode": "standard"}))


def wait_until(what, probe, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if probe():
            return
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


@pytest.fixture
def pair(tmp_path):
    """Start two regions; `issuers`, `env` (both) and `west_env` say how."""
    started = []

    def start(issuers=("http://issuer.example", "http://issuer.example"), west_env=None, env=None):
        both_env = env or {}
        ports = {EAST: free_port(), WEST: free_port()}
        servers = {}
        for (name, other), issuer in zip(((WEST, EAST), (EAST, WEST)), (issuers[1], issuers[0])):
            env = {"JANUS_REGION": name, "JANUS_PEERS": f"{other}=http://127.0.0.1:{ports[other]}",
                   "JANUS_REPLICATION_SECRET": SECRET, "JANUS_REPLICA_REQUIRES_CMK": "false", "JANUS_ISSUER_URL": issuer,
                   **both_env}
            if name == WEST:
                env.update(west_env or {})
            servers[name] = start_janus(tmp_path / unique(name), listen=f"127.0.0.1:{ports[name]}", extra_env=env)
            started.append(servers[name])
        return servers[EAST], servers[WEST]

    yield start
    for s in started:
        stop_janus(s, timeout=20)


def replicate(east, west, pool: str, activate: bool = True):
    a = admin(east.endpoint)
    a.create_user_pool_replica(UserPoolId=pool, RegionName=WEST)
    wait_until("INACTIVE", lambda: a.list_user_pool_replicas(UserPoolId=pool)["UserPoolReplicas"][1]["Status"]
               == "INACTIVE")
    if activate:
        a.update_user_pool_replica(UserPoolId=pool, RegionName=WEST, Status="ACTIVE")


def audit(east, west, pool: str, *args: str) -> tuple[int, dict]:
    """`janus audit --json` of `pool` (and `args`); (exit code, checks by name)."""
    env = dict(os.environ, JANUS_ADMIN_ACCESS_KEY_ID=ACCESS_KEY_ID, JANUS_ADMIN_SECRET_ACCESS_KEY=SECRET_ACCESS_KEY)
    run = subprocess.run([str(JANUS_BIN), "audit", "--pool", pool, "--primary", east.endpoint,
                          "--secondary", west.endpoint, "--json", *args], env=env, capture_output=True, text=True,
                         timeout=60)
    assert run.stdout, run.stderr
    report = json.loads(run.stdout)
    return run.returncode, {c["check"]: c for c in report["checks"]}
