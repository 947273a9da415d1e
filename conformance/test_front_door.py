"""The front door end to end: two regions with automatic failover on, and Debian's HAProxy
in front of them with the shipped configuration (deploy/haproxy/janus.cfg), all on loopback.

1. A client loop signs in through HAProxy (boto3, unsigned, as an app does) while the primary
   is killed with SIGKILL: sign-ins resume through the front door, the watcher promotes the
   secondary, and no token issued before the kill is rejected (GetUser and refresh with each).
2. `janus drill` against a fresh pair in synchronous mode passes with RTO < 15 s and RPO = 0,
   and fails back.

The measured RTOs are printed (pytest -s) and written to conformance/.front-door.json."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError, EndpointConnectionError

from auth_support import make_app_client, make_user
from conftest import ACCESS_KEY_ID, JANUS_BIN, REPO, SECRET_ACCESS_KEY, start_janus, stop_janus
from oauth_support import oauth_client
from support import GOOD_PASSWORD, raw_call, unique

EAST, WEST = "us-east-1", "us-west-2"
SECRET = "front-door-secret"
CHECK_INTER = "300ms"
CONFIG = REPO / "deploy" / "haproxy" / "janus.cfg"

pytestmark = pytest.mark.skipif(shutil.which("haproxy") is None, reason="haproxy is not installed")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(what, probe, timeout=30.0, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = probe()
        if got:
            return got
        time.sleep(interval)
    pytest.fail(f"timed out waiting for {what}")


def ready(endpoint: str, query: str) -> int:
    import urllib.error
    import urllib.request
    try:
        with urllib.request.urlopen(f"{endpoint}/ready{query}", timeout=2) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return 0


def admin_client(endpoint: str):
    return boto3.client("cognito-idp", endpoint_url=endpoint, region_name=EAST,
                        aws_access_key_id=ACCESS_KEY_ID, aws_secret_access_key=SECRET_ACCESS_KEY,
                        config=Config(retries={"max_attempts": 1, "mode": "standard"}))


def public_client(endpoint: str):
    return boto3.client("cognito-idp", endpoint_url=endpoint, region_name=EAST,
                        config=Config(signature_version=UNSIGNED, connect_timeout=2, read_timeout=5,
                                      retries={"max_attempts": 1, "mode": "standard"}))


def janus_admin(endpoint: str, op: str, body: dict) -> dict:
    r = raw_call(endpoint, f"JanusAdmin.{op}", json.dumps(body),
                 credentials=(ACCESS_KEY_ID, SECRET_ACCESS_KEY))
    assert r.status == 200, f"{op}: {r.status} {r.body!r}"
    return r.json


class Deployment:
    """Two regions (us-west-2 with the watcher on) and HAProxy in front."""

    def __init__(self, root: Path):
        self.ports = {EAST: free_port(), WEST: free_port()}
        self.servers = {}
        for name, other in ((WEST, EAST), (EAST, WEST)):
            self.servers[name] = start_janus(root / name, listen=f"127.0.0.1:{self.ports[name]}", extra_env={
                "JANUS_REGION": name,
                "JANUS_PEERS": f"{other}=http://127.0.0.1:{self.ports[other]}",
                "JANUS_REPLICATION_SECRET": SECRET, "JANUS_REPLICA_REQUIRES_CMK": "false",
                "JANUS_ISSUER_URL": "http://issuer.example",
                "JANUS_FAILOVER_AUTO": "true" if name == WEST else "false",
                "JANUS_FAILOVER_INTERVAL_MS": "500",
                "JANUS_FAILOVER_FAILURES": "3",
            })
        self.front_port = free_port()
        env = dict(os.environ, JANUS_FRONT_BIND=f"127.0.0.1:{self.front_port}",
                   JANUS_REGION_A=f"127.0.0.1:{self.ports[EAST]}",
                   JANUS_REGION_B=f"127.0.0.1:{self.ports[WEST]}", JANUS_CHECK_INTER=CHECK_INTER)
        self.haproxy_log = open(root / "haproxy.log", "wb")
        self.haproxy = subprocess.Popen(["haproxy", "-db", "-f", str(CONFIG)], env=env,
                                        stdout=self.haproxy_log, stderr=subprocess.STDOUT)
        self.front = f"http://127.0.0.1:{self.front_port}"
        self.east, self.west = self.servers[EAST], self.servers[WEST]

    def replicated_pool(self, sync: bool = False) -> tuple[str, str, str]:
        east = admin_client(self.east.endpoint)
        pool = east.create_user_pool(PoolName=unique("front"))["UserPool"]["Id"]
        app = make_app_client(east, pool)
        user = make_user(east, pool)
        east.create_user_pool_replica(UserPoolId=pool, RegionName=WEST)
        wait_until("INACTIVE", lambda: east.list_user_pool_replicas(UserPoolId=pool)
                   ["UserPoolReplicas"][1]["Status"] == "INACTIVE")
        east.update_user_pool_replica(UserPoolId=pool, RegionName=WEST, Status="ACTIVE")
        wait_until("ACTIVE in us-west-2", lambda: ready(self.west.endpoint, f"?pool={pool}") == 200)
        if sync:
            janus_admin(self.east.endpoint, "SetReplicationMode",
                        {"UserPoolId": pool, "Mode": "SYNC", "TimeoutMs": 2000})
        wait_until("HAProxy to route to the primary",
                   lambda: sign_in(public_client(self.front), app["ClientId"], user) is not None)
        return pool, app["ClientId"], user

    def close(self):
        self.haproxy.terminate()
        self.haproxy.wait(timeout=10)
        self.haproxy_log.close()
        for s in self.servers.values():
            if s.process.poll() is None:
                stop_janus(s, timeout=20)


@pytest.fixture
def deployment(tmp_path):
    if not JANUS_BIN.exists():
        pytest.skip(f"janus binary not found at {JANUS_BIN}")
    d = Deployment(tmp_path)
    try:
        yield d
    finally:
        d.close()


def sign_in(client, client_id: str, user: str):
    try:
        return client.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                                    AuthParameters={"USERNAME": user, "PASSWORD": GOOD_PASSWORD}
                                    )["AuthenticationResult"]
    except (ClientError, EndpointConnectionError, Exception):  # noqa: BLE001 - any failure counts
        return None


def record(name: str, value) -> None:
    path = REPO / "conformance" / ".front-door.json"
    data = json.loads(path.read_text()) if path.exists() else {}
    data[name] = value
    path.write_text(json.dumps(data, indent=2))
    print(f"{name}: {value}")


def test_sign_ins_resume_through_haproxy_when_the_primary_is_killed(deployment):
    d = deployment
    pool, client_id, user = d.replicated_pool()
    front = public_client(d.front)
    before = [sign_in(front, client_id, user) for _ in range(5)]
    assert all(before), "sign-in through the front door before the kill"

    outcomes: list[tuple[float, bool]] = []
    stop = threading.Event()

    def loop():
        c = public_client(d.front)
        while not stop.is_set():
            outcomes.append((time.monotonic(), sign_in(c, client_id, user) is not None))
            time.sleep(0.05)

    t = threading.Thread(target=loop)
    t.start()
    time.sleep(1)
    d.east.process.send_signal(signal.SIGKILL)
    killed = time.monotonic()
    d.east.process.wait()
    wait_until("a sign-in through the front door after the kill",
               lambda: any(ok for at, ok in outcomes if at > killed + 0.05), timeout=20)
    wait_until("the watcher to promote us-west-2",
               lambda: ready(d.west.endpoint, f"?pool={pool}&role=primary") == 200, timeout=20)
    time.sleep(1)
    stop.set()
    t.join()
    first_ok = min(at for at, ok in outcomes if at > killed + 0.05 and ok)
    rto = first_ok - killed
    record("kill9_rto_seconds", round(rto, 2))
    assert rto < 15, f"sign-ins resumed {rto:.1f} s after the kill"
    after = [ok for at, ok in outcomes if at > first_ok]
    assert after and all(after), "once resumed, every sign-in through the front door succeeds"

    # No token issued before the kill is rejected: each still reads the user and refreshes.
    for tokens in before:
        assert front.get_user(AccessToken=tokens["AccessToken"])["Username"] == user
        front.initiate_auth(ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH",
                            AuthParameters={"REFRESH_TOKEN": tokens["RefreshToken"]})
    # And the new primary takes sign-ups through the same front door.
    name = unique("after")
    front.sign_up(ClientId=client_id, Username=name, Password=GOOD_PASSWORD)
    admin_client(d.front).admin_confirm_sign_up(UserPoolId=pool, Username=name)
    assert sign_in(front, client_id, name)


def test_janus_drill_passes_in_synchronous_mode_and_fails_back(deployment):
    d = deployment
    pool, client_id, _ = d.replicated_pool(sync=True)
    # Software tokens on offer, so the drill also signs a TOTP user in after the failover.
    admin_client(d.east.endpoint).set_user_pool_mfa_config(
        UserPoolId=pool, MfaConfiguration="OPTIONAL", SoftwareTokenMfaConfiguration={"Enabled": True})
    # And an OAuth client, so it signs in on the hosted page: a code from before the outage is
    # redeemed after it, through the front door.
    hosted = oauth_client(admin_client(d.east.endpoint), pool)["ClientId"]
    env = dict(os.environ, JANUS_ADMIN_ACCESS_KEY_ID=ACCESS_KEY_ID, JANUS_ADMIN_SECRET_ACCESS_KEY=SECRET_ACCESS_KEY)
    run = subprocess.run(
        [str(JANUS_BIN), "drill", "--pool", pool, "--client-id", client_id, "--hosted-client-id", hosted,
         "--primary", d.east.endpoint, "--secondary", d.west.endpoint, "--front-door", d.front,
         "--outage", "flag", "--max-rto-secs", "15", "--max-rpo", "0", "--failback", "--json"],
        env=env, capture_output=True, text=True, timeout=180)
    assert run.stdout, run.stderr
    report = json.loads(run.stdout)
    failed = [s for s in report["steps"] if s["result"] == "FAIL"]
    assert run.returncode == 0 and report["passed"], f"{failed}\n{run.stderr[-2000:]}"
    steps = {s["step"]: s for s in report["steps"]}
    for step in ("readiness", "write markers", "RTO", "promotion", "RPO", "tokens from before", "SRP sign-in",
                 "sign-up after", "TOTP sign-in", "hosted sign-in", "failback"):
        assert steps[step]["result"] == "PASS", steps[step]
    assert report["rpo_missing"] == 0
    assert report["rto_seconds"] < 15
    record("drill_rto_seconds", round(report["rto_seconds"], 2))
    assert ready(d.east.endpoint, f"?pool={pool}&role=primary") == 200, "failed back"

    # The drill fails (exit 1) when a threshold is not met.
    strict = subprocess.run(
        [str(JANUS_BIN), "drill", "--pool", pool, "--client-id", client_id,
         "--primary", d.east.endpoint, "--secondary", d.west.endpoint, "--front-door", d.front,
         "--outage", "flag", "--promote", "--max-rto-secs", "0.001", "--failback"],
        env=env, capture_output=True, text=True, timeout=180)
    assert strict.returncode == 1, strict.stdout
    assert "FAIL  RTO" in strict.stdout and "FAILED" in strict.stdout, strict.stdout
