"""`janus audit --pool`: the multi-region readiness checklist, run against a well-configured
pair (no FAIL, exit 0) and a deliberately misconfigured one (a FAIL for each of tier,
customer-managed key, issuer, replica, domain failover routing and regional settings; exit 1), and a pair seen through
a proxy that skews one region's clock and changes its callback URLs (FAIL for both)."""

from __future__ import annotations

import json
import os
import subprocess
from types import SimpleNamespace

import pytest

from conftest import ACCESS_KEY_ID, JANUS_BIN, SECRET_ACCESS_KEY
from region_support import (CERT, EAST, SECRET, WEST, admin, free_port, keys_cli, multi_region_key,  # noqa: F401
                            audit, pair, replicate, wait_until)
from support import unique


def test_a_well_configured_pair_passes(pair, tmp_path):
    if not JANUS_BIN.exists():
        pytest.skip("no janus binary")
    witness_port = free_port()
    witness = subprocess.Popen([str(JANUS_BIN), "witness", "--listen", f"127.0.0.1:{witness_port}"],
                               env=dict(os.environ, JANUS_REPLICATION_SECRET=SECRET),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        east, west = pair(west_env={"JANUS_FAILOVER_AUTO": "true",
                                    "JANUS_WITNESS_URL": f"http://127.0.0.1:{witness_port}"})
        a = admin(east.endpoint)
        mrk = multi_region_key(east, west, tmp_path)
        pool = a.create_user_pool(
            PoolName=unique("audited"), UserPoolTier="ESSENTIALS",
            KeyConfiguration={"KeyType": "CUSTOMER_MANAGED_KEY", "KmsKeyArn": mrk},
            EmailConfiguration={"EmailSendingAccount": "DEVELOPER", "From": "east@example.com",
                                "SourceArn": "arn:aws:ses:us-east-1:000000000000:identity/east@example.com"},
        )["UserPool"]["Id"]
        a.create_user_pool_client(UserPoolId=pool, ClientName="web", CallbackURLs=["https://app.example/cb"])
        replicate(east, west, pool)
        custom = f"{unique('auth')}.example.com".lower()
        a.create_user_pool_domain(UserPoolId=pool, Domain=custom, CustomDomainConfig={"CertificateArn": CERT})
        a.update_user_pool_domain(UserPoolId=pool, Domain=custom, CustomDomainConfig={"CertificateArn": CERT},
                                  Routing={"Failover": {"SecondaryRegion": WEST, "PrimaryRoute53HealthCheckId": "hc-east"}})
        west_sender = {"EmailSendingAccount": "DEVELOPER", "From": "west@example.com",
                       "SourceArn": "arn:aws:ses:us-west-2:000000000000:identity/west@example.com"}
        admin(west.endpoint).update_user_pool(UserPoolId=pool, EmailConfiguration=west_sender)
        wait_until("the secondary's own sender", lambda: admin(west.endpoint).describe_user_pool(
            UserPoolId=pool)["UserPool"].get("EmailConfiguration") == west_sender)
        wait_until("the replica to catch up", lambda: audit(east, west, pool)[1]["replica"]["result"] == "PASS")
        code, checks = audit(east, west, pool)
        failed = {k: c for k, c in checks.items() if c["result"] == "FAIL"}
        assert code == 0 and not failed, failed
        for name in ("tier", "issuer and keys", "replica", "domain failover", "app client URLs",
                     "regional settings", "clock skew", "automatic failover"):
            assert checks[name]["result"] == "PASS", checks[name]
        assert checks["customer-managed key"]["result"] == "PASS", checks["customer-managed key"]
    finally:
        witness.kill()
        witness.wait()


def test_a_misconfigured_pair_fails_each_check(pair):
    if not JANUS_BIN.exists():
        pytest.skip("no janus binary")
    east, west = pair(issuers=("http://east.example", "http://west.example"))
    a = admin(east.endpoint)
    sender = {"EmailSendingAccount": "DEVELOPER", "From": "only@example.com",
              "SourceArn": "arn:aws:ses:us-east-1:000000000000:identity/only@example.com"}
    pool = a.create_user_pool(PoolName=unique("careless"), EmailConfiguration=sender)["UserPool"]["Id"]
    a.create_user_pool_domain(UserPoolId=pool, Domain=f"{unique('auth')}.example.com".lower(),
                              CustomDomainConfig={"CertificateArn": CERT})
    replicate(east, west, pool, activate=False)
    code, checks = audit(east, west, pool)
    assert code == 1
    for name in ("customer-managed key", "issuer and keys", "replica", "domain failover", "regional settings"):
        assert checks[name]["result"] == "FAIL", checks[name]
        assert checks[name]["action"], f"{name} says what to do"
    assert "INACTIVE" in checks["replica"]["detail"]
    assert checks["automatic failover"]["result"] == "INFO"

    single = keys_cli(east, "create")["KeyMetadata"]["Arn"]
    lite = a.create_user_pool(PoolName=unique("lite"), UserPoolTier="LITE",
                              KeyConfiguration={"KeyType": "CUSTOMER_MANAGED_KEY", "KmsKeyArn": single})["UserPool"]["Id"]
    code, checks = audit(east, west, lite)
    assert code == 1
    assert checks["tier"]["result"] == "FAIL"
    assert checks["customer-managed key"]["result"] == "FAIL" and "not a multi-region" in checks["customer-managed key"]["detail"]
    assert checks["replica"]["result"] == "FAIL"


class Tamper:
    """A proxy in front of a region that changes what it says: its clock (DescribeReadiness
    ClockMs + `skew_ms`) and its app clients' callback URLs (DescribeUserPoolClient), so
    the audit's clock and client checks can be made to fail without touching the servers."""

    def __init__(self, target: str, skew_ms: int):
        import http.server
        import threading
        import urllib.request

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def forward(self, body: bytes | None):
                headers = {k: v for k, v in self.headers.items() if k.lower() != "content-length"}
                req = urllib.request.Request(target + self.path, data=body, headers=headers, method=self.command)
                try:
                    with urllib.request.urlopen(req, timeout=10) as r:
                        status, data, ctype = r.status, r.read(), r.headers.get("content-type", "")
                except urllib.error.HTTPError as e:
                    status, data, ctype = e.code, e.read(), e.headers.get("content-type", "")
                op = self.headers.get("x-amz-target", "")
                if status == 200 and op.endswith("DescribeReadiness"):
                    v = json.loads(data)
                    v["ClockMs"] += skew_ms
                    data = json.dumps(v).encode()
                if status == 200 and op.endswith("DescribeUserPoolClient"):
                    v = json.loads(data)
                    v["UserPoolClient"]["CallbackURLs"] = ["https://evil.example/cb"]
                    data = json.dumps(v).encode()
                self.send_response(status)
                self.send_header("content-type", ctype)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                self.forward(None)

            def do_POST(self):
                self.forward(self.rfile.read(int(self.headers.get("content-length", 0))))

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_clock_skew_and_diverging_app_clients_fail(pair):
    """The proxy forwards the Host header unchanged, so the secondary verifies the audit's
    SigV4 signature (made for the proxy's host) as it was signed."""
    if not JANUS_BIN.exists():
        pytest.skip("no janus binary")
    east, west = pair()
    a = admin(east.endpoint)
    pool = a.create_user_pool(PoolName=unique("skewed"))["UserPool"]["Id"]
    a.create_user_pool_client(UserPoolId=pool, ClientName="web", CallbackURLs=["https://app.example/cb"])
    replicate(east, west, pool)
    tamper = Tamper(west.endpoint, skew_ms=10_000)
    try:
        code, checks = audit(east, SimpleNamespace(endpoint=tamper.url), pool)
    finally:
        tamper.close()
    assert code == 1
    assert checks["clock skew"]["result"] == "FAIL" and "NTP" in checks["clock skew"]["action"], checks["clock skew"]
    assert checks["app client URLs"]["result"] == "FAIL", checks["app client URLs"]
    code, checks = audit(east, west, pool)
    assert checks["clock skew"]["result"] == "PASS" and checks["app client URLs"]["result"] == "PASS"
