"""What operators watch: `/metrics` (Prometheus text) counts requests by operation and
outcome, latency histograms, sign-ins by flow and outcome, and lockouts; `/ready` answers
for a single region; and with `--log-format json` and the access log on, every Cognito call
leaves one JSON line whose `request_id` is the `x-amzn-RequestId` boto3 saw, and no secret.

A server of its own (JSON logs), so the counts start from zero."""

from __future__ import annotations

import json
import urllib.request

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from auth_support import make_app_client, make_user
from conftest import JANUS_BIN, start_janus, stop_janus
from support import GOOD_PASSWORD, unique


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if not JANUS_BIN.exists():
        pytest.skip(f"janus binary not found at {JANUS_BIN}")
    s = start_janus(tmp_path_factory.mktemp("observability"),
                    extra_env={"JANUS_LOG_FORMAT": "json", "JANUS_LOG": "info,janus::request=info"})
    yield s
    assert stop_janus(s) == 0


def clients(server):
    cfg = Config(retries={"max_attempts": 1, "mode": "standard"})
    admin = boto3.client("cognito-idp", endpoint_url=server.endpoint, region_name=server.region,
                         aws_access_key_id=server.access_key_id,
                         aws_secret_access_key=server.secret_access_key, config=cfg)
    public = boto3.client("cognito-idp", endpoint_url=server.endpoint, region_name=server.region,
                          config=Config(signature_version=UNSIGNED, retries={"max_attempts": 1}))
    return admin, public


def get(server, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(server.endpoint + path, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def sample(metrics: str, line_prefix: str) -> float:
    for line in metrics.splitlines():
        if line.startswith(line_prefix + " "):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no sample {line_prefix!r} in:\n{metrics}")


def test_metrics_count_requests_sign_ins_and_lockouts(server):
    admin, public = clients(server)
    pool = admin.create_user_pool(PoolName=unique("obs"))["UserPool"]["Id"]
    app = make_app_client(admin, pool)
    user = make_user(admin, pool)
    params = {"USERNAME": user, "PASSWORD": GOOD_PASSWORD}
    for _ in range(3):
        public.initiate_auth(ClientId=app["ClientId"], AuthFlow="USER_PASSWORD_AUTH", AuthParameters=params)
    wrong = dict(params, PASSWORD="Wrong-passw0rd!")
    codes = []
    for _ in range(6):
        try:
            public.initiate_auth(ClientId=app["ClientId"], AuthFlow="USER_PASSWORD_AUTH", AuthParameters=wrong)
        except ClientError as e:
            codes.append((e.response["Error"]["Code"], e.response["Error"]["Message"]))
    assert all(c == "NotAuthorizedException" for c, _ in codes)
    locked = sum(1 for _, m in codes if "attempts exceeded" in m)

    status, text = get(server, "/metrics")
    assert status == 200
    assert sample(text, 'janus_sign_ins_total{flow="USER_PASSWORD_AUTH",outcome="ok"}') == 3
    assert sample(text, 'janus_sign_ins_total{flow="USER_PASSWORD_AUTH",outcome="NotAuthorizedException"}') == 6
    assert sample(text, 'janus_requests_total{operation="InitiateAuth",outcome="ok"}') == 3
    assert sample(text, 'janus_requests_total{operation="CreateUserPool",outcome="ok"}') == 1
    assert sample(text, 'janus_request_duration_seconds_count{operation="InitiateAuth"}') == 9
    assert sample(text, 'janus_request_duration_seconds_bucket{operation="InitiateAuth",le="+Inf"}') == 9
    assert sample(text, "janus_lockouts_total") == locked and locked >= 1, codes
    assert "# TYPE janus_request_duration_seconds histogram" in text
    assert sample(text, f'janus_pool_primary{{pool="{pool}"}}') == 1


def test_ready_on_a_single_region(server):
    status, body = get(server, "/ready")
    assert status == 200, body
    ready = json.loads(body)
    assert ready["Ready"] is True and ready["Available"] is True
    assert all(p["Role"] == "PRIMARY" and p["Ready"] for p in ready["Pools"])
    assert get(server, "/ready?pool=us-east-1_doesNotExist")[0] == 503
    assert get(server, "/ready?pool=not%20a%20pool")[0] == 400


def test_each_call_leaves_one_json_log_line_with_its_request_id(server):
    admin, _ = clients(server)
    pool = admin.create_user_pool(PoolName=unique("logged"))
    request_id = pool["ResponseMetadata"]["RequestId"]
    try:
        admin.describe_user_pool(UserPoolId="us-east-1_missing0")
    except ClientError as e:
        failed_id = e.response["ResponseMetadata"]["RequestId"]
    lines = [json.loads(line) for line in server.stderr_path.read_text().splitlines() if line.startswith("{")]
    mine = [l for l in lines if l.get("fields", {}).get("request_id") == request_id]
    assert len(mine) == 1, f"one access-log line for {request_id}"
    assert mine[0]["target"] == "janus::request"
    assert mine[0]["fields"]["op"] == "CreateUserPool" and mine[0]["fields"]["outcome"] == "ok"
    failed = [l for l in lines if l.get("fields", {}).get("request_id") == failed_id]
    assert failed and failed[0]["fields"]["outcome"] == "ResourceNotFoundException"
    assert GOOD_PASSWORD not in server.stderr_path.read_text(), "no password in the log"
