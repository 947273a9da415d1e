"""The measuring half of bench/mfa.sh (see there): set-up with boto3, timed calls over one
keep-alive HTTP connection per region, TOTP codes from pyotp."""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sqlite3
import statistics
import sys
import time
import urllib.parse

import boto3
import pyotp
from botocore.config import Config

TARGET = "AWSCognitoIdentityProviderService."
PASSWORD = "Bench-Passw0rd!"


class Conn:
    """Unsigned Cognito JSON calls on one keep-alive connection; returns (seconds, status, body)."""

    def __init__(self, url: str):
        u = urllib.parse.urlparse(url)
        self.c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)

    def call(self, op: str, body: dict) -> tuple[float, int, dict]:
        data = json.dumps(body)
        t0 = time.perf_counter()
        self.c.request("POST", "/", data, {"x-amz-target": TARGET + op,
                                           "content-type": "application/x-amz-json-1.1"})
        r = self.c.getresponse()
        out = r.read()
        return time.perf_counter() - t0, r.status, json.loads(out or b"{}")


def admin(url: str):
    return boto3.client("cognito-idp", endpoint_url=url, region_name="us-east-1",
                        aws_access_key_id=os.environ["JANUS_ADMIN_ACCESS_KEY_ID"],
                        aws_secret_access_key=os.environ["JANUS_ADMIN_SECRET_ACCESS_KEY"],
                        config=Config(retries={"max_attempts": 1}, read_timeout=60))


def wait_health(url: str) -> None:
    u = urllib.parse.urlparse(url)
    for _ in range(300):
        try:
            c = http.client.HTTPConnection(u.hostname, u.port, timeout=1)
            c.request("GET", "/health")
            if c.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    sys.exit(f"no answer from {url}/health")


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))] * 1000


def row(name: str, values: list[float]) -> str:
    return f"| {name} | {len(values)} | {pct(values, 50):.2f} | {pct(values, 99):.2f} | {statistics.mean(values) * 1000:.2f} |"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--primary")
    ap.add_argument("--secondary")
    ap.add_argument("--secondary-db")
    ap.add_argument("--samples", type=int, default=200)
    a = ap.parse_args()
    wait_health(a.primary)
    wait_health(a.secondary)
    n = a.samples
    east = admin(a.primary)
    pool = east.create_user_pool(PoolName="bench-mfa")["UserPool"]["Id"]
    east.set_user_pool_mfa_config(UserPoolId=pool, MfaConfiguration="OPTIONAL",
                                  SoftwareTokenMfaConfiguration={"Enabled": True})
    client = east.create_user_pool_client(UserPoolId=pool, ClientName="bench",
                                          ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH",
                                                             "ALLOW_REFRESH_TOKEN_AUTH"])["UserPoolClient"]["ClientId"]
    pa, pb = Conn(a.primary), Conn(a.secondary)

    def auth(conn, user):
        return conn.call("InitiateAuth", {"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": client,
                                          "AuthParameters": {"USERNAME": user, "PASSWORD": PASSWORD}})

    def respond(conn, user, session, code):
        return conn.call("RespondToAuthChallenge", {
            "ChallengeName": "SOFTWARE_TOKEN_MFA", "ClientId": client, "Session": session,
            "ChallengeResponses": {"USERNAME": user, "SOFTWARE_TOKEN_MFA_CODE": code}})

    # Users: `n` without MFA, and 3n with a software token (n for each MFA measurement).
    t0 = time.time()
    plain = [f"plain{i}" for i in range(n)]
    mfa = [f"mfa{i}" for i in range(3 * n)]
    secrets = {}
    for u in plain + mfa:
        east.admin_create_user(UserPoolId=pool, Username=u, MessageAction="SUPPRESS")
        east.admin_set_user_password(UserPoolId=pool, Username=u, Password=PASSWORD, Permanent=True)
    for u in mfa:
        _, _, r = auth(pa, u)
        access = r["AuthenticationResult"]["AccessToken"]
        _, _, s = pa.call("AssociateSoftwareToken", {"AccessToken": access})
        secret = s["SecretCode"]
        _, st, v = pa.call("VerifySoftwareToken", {"AccessToken": access, "UserCode": pyotp.TOTP(secret).now()})
        assert st == 200 and v["Status"] == "SUCCESS", v
        secrets[u] = secret
    print(f"set-up: {len(plain) + len(mfa)} users in {time.time() - t0:.0f} s; replicating", file=sys.stderr)
    east.create_user_pool_replica(UserPoolId=pool, RegionName="us-west-2")
    deadline = time.time() + 120
    def west_status():
        replicas = east.list_user_pool_replicas(UserPoolId=pool)["UserPoolReplicas"]
        return next(r["Status"] for r in replicas if r["RegionName"] == "us-west-2")

    while west_status() != "INACTIVE":
        if time.time() > deadline:
            sys.exit(f"the replica never became INACTIVE: {east.list_user_pool_replicas(UserPoolId=pool)}")
        time.sleep(0.05)
    east.update_user_pool_replica(UserPoolId=pool, RegionName="us-west-2", Status="ACTIVE")
    last = mfa[-1]
    while True:  # until the secondary serves the last enrolled user
        _, st, r = auth(pb, last)
        if st == 200 and r.get("ChallengeName") == "SOFTWARE_TOKEN_MFA":
            break
        if time.time() > deadline:
            sys.exit(f"the secondary never served {last}: {st} {r}")
        time.sleep(0.05)
    setup_s = time.time() - t0

    def code(u):  # the next step's code: the current one verified the token
        return pyotp.TOTP(secrets[u]).at(time.time() + 30)

    password_only, step_east, step_west, refuse, propagate = [], [], [], [], []
    for u in plain:
        dt, st, r = auth(pa, u)
        assert st == 200 and "AuthenticationResult" in r, r
        password_only.append(dt)
    for users, conn, out in ((mfa[:n], pa, step_east), (mfa[n:2 * n], pb, step_west)):
        for u in users:
            _, st, r = auth(conn, u)
            assert r.get("ChallengeName") == "SOFTWARE_TOKEN_MFA", r
            dt, st, r = respond(conn, u, r["Session"], code(u))
            assert st == 200 and "AuthenticationResult" in r, r
            out.append(dt)
    db = sqlite3.connect(f"file:{a.secondary_db}?mode=ro", uri=True)
    for u in mfa[2 * n:]:
        _, _, on_b = auth(pb, u)
        _, _, on_a = auth(pa, u)
        c = code(u)
        before = db.execute("SELECT json_extract(body, '$.security.totp_last_step') FROM users "
                            "WHERE pool = ? AND ukey = ?", (pool, u)).fetchone()[0] or 0
        _, st, r = respond(pa, u, on_a["Session"], c)
        assert st == 200, r
        used_at = time.perf_counter()
        dt, st, r = respond(pb, u, on_b["Session"], c)
        assert st == 400 and r["__type"] == "ExpiredCodeException", r
        refuse.append(time.perf_counter() - used_at)
        while True:
            mark = db.execute("SELECT json_extract(body, '$.security.totp_last_step') FROM users "
                              "WHERE pool = ? AND ukey = ?", (pool, u)).fetchone()[0] or 0
            if mark > before:
                break
            time.sleep(0.001)
        propagate.append(time.perf_counter() - used_at)

    print(f"Settings: SAMPLES={n}; set-up ({len(plain) + len(mfa)} users, {len(mfa)} tokens, replica) took {setup_s:.0f} s")
    print()
    print("| call (one at a time, loopback) | samples | p50 (median) ms | p99 ms | mean ms |")
    print("|---|---:|---:|---:|---:|")
    print(row("password-only sign-in (InitiateAuth USER_PASSWORD_AUTH → tokens), primary", password_only))
    print(row("MFA step (RespondToAuthChallenge SOFTWARE_TOKEN_MFA → tokens), primary", step_east))
    print(row("MFA step on the ACTIVE secondary (asks the primary about the code)", step_west))
    print(row("code used on the primary → refused by the secondary (its first try)", refuse))
    print(row("code used on the primary → used-code mark in the secondary's store", propagate))
    print()
    m_pw, m_e, m_w = (statistics.median(v) * 1000 for v in (password_only, step_east, step_west))
    print(f"Added latency of MFA (median of the extra round trip): primary {m_e:.2f} ms "
          f"({m_e / m_pw * 100:.0f}% of a password sign-in's {m_pw:.2f} ms), secondary {m_w:.2f} ms.")


if __name__ == "__main__":
    main()
