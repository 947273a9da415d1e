"""Amplify v6 in a browser (issue 15): the pinned aws-amplify, bundled with esbuild into a page
that conformance/node/amplify.mjs serves from its own loopback origin, runs in Debian's Chromium
(playwright-core) and signs in against Janus — SRP and USER_PASSWORD_AUTH — then reads its
session, signs out globally. Janus is another origin, so each call needs the CORS preflight and
headers a browser demands; without them the first call throws "Failed to fetch". Also the raw
CORS answers of the Cognito endpoint and the OAuth endpoints a single-page app calls."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import requests

from auth_support import make_app_client, make_user
from support import GOOD_PASSWORD

NODE_DIR = Path(__file__).resolve().parent / "node"
ORIGIN = "http://app.example.test"


@pytest.fixture(scope="module")
def amplify():
    node = shutil.which("node")
    if node is None or not (NODE_DIR / "node_modules" / "aws-amplify").is_dir():
        pytest.skip("conformance/node has no aws-amplify (run scripts/setup-test-env)")

    def run(**payload) -> dict:
        p = subprocess.run([node, str(NODE_DIR / "amplify.mjs")], input=json.dumps(payload), capture_output=True,
                           text=True, timeout=120, cwd=NODE_DIR)
        assert p.returncode == 0, f"amplify.mjs failed ({p.returncode}):\n{p.stdout}\n{p.stderr}"
        return json.loads(p.stdout.strip().splitlines()[-1])

    return run


@pytest.mark.parametrize("flow", ["USER_SRP_AUTH", "USER_PASSWORD_AUTH"])
def test_amplify_signs_in_from_another_origin(cognito, janus, pool, amplify, flow):
    app = make_app_client(cognito, pool)
    user = make_user(cognito, pool, email="browser@example.com")
    out = amplify(endpoint=janus.endpoint, pool=pool, client=app["ClientId"], username=user,
                  password=GOOD_PASSWORD, flow=flow)
    assert "error" not in out, out
    assert out["isSignedIn"] is True and out["step"] == "DONE", out
    assert out["username"] == user and out["iss"].endswith(pool), out
    # The page's origin is not Janus's: without CORS the browser refuses every answer.
    assert out["origin"] != janus.endpoint, out


def test_amplify_remembers_fetches_and_forgets_a_device(cognito, janus, pool_factory, amplify):
    """Amplify confirms the device a sign-in hands out, rememberDevice and fetchDevices see it,
    the next sign-in proves it (DEVICE_SRP_AUTH: its tokens carry the same key, where a new
    device would get a new one), a refresh (GetTokensFromRefreshToken with DeviceKey) keeps it,
    and forgetDevice removes it."""
    pool = pool_factory(DeviceConfiguration={"ChallengeRequiredOnNewDevice": False,
                                             "DeviceOnlyRememberedOnUserPrompt": True})["Id"]
    app = make_app_client(cognito, pool)
    user = make_user(cognito, pool)
    out = amplify(endpoint=janus.endpoint, pool=pool, client=app["ClientId"], username=user,
                  password=GOOD_PASSWORD, scenario="devices")
    assert "error" not in out, out
    key = out["stored"]
    assert key and key.startswith("us-east-1_") and out["first"] == out["second"] == "DONE", out
    assert out["firstDevice"] == out["secondDevice"] == out["refreshedDevice"] == key, out
    assert [d["id"] for d in out["afterRemember"]] == [key] and out["afterRemember"][0]["name"], out
    assert out["afterForget"] == [], out
    assert cognito.admin_list_devices(UserPoolId=pool, Username=user)["Devices"] == []


def test_a_wrong_password_reaches_amplify_as_cognitos_error(cognito, janus, pool, amplify):
    app = make_app_client(cognito, pool)
    user = make_user(cognito, pool)
    out = amplify(endpoint=janus.endpoint, pool=pool, client=app["ClientId"], username=user,
                  password="Wr0ng-Passw0rd!", flow="USER_PASSWORD_AUTH")
    assert out.get("error", "").startswith("NotAuthorizedException"), out  # read from x-amzn-errortype


def test_cognito_endpoint_preflight_and_headers(janus):
    r = requests.options(janus.endpoint + "/", timeout=10, headers={
        "Origin": ORIGIN, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-amz-target,x-amz-user-agent"})
    assert r.status_code in (200, 204), r.status_code
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    allowed = {h.strip() for h in r.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"content-type", "x-amz-target", "x-amz-user-agent", "authorization"} <= allowed
    r = requests.post(janus.endpoint + "/", timeout=10, data="{}", headers={
        "Origin": ORIGIN, "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth"})
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    exposed = {h.strip() for h in r.headers["Access-Control-Expose-Headers"].split(",")}
    assert {"x-amzn-requestid", "x-amzn-errortype"} <= exposed


def test_oauth_endpoints_answer_cors_and_the_pages_do_not(janus, pool):
    base = f"{janus.endpoint}/oauth/{pool}"
    for path in ("/oauth2/token", "/oauth2/userInfo", "/oauth2/revoke"):
        r = requests.options(base + path, timeout=10, headers={
            "Origin": ORIGIN, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type"})
        assert r.status_code in (200, 204) and r.headers["Access-Control-Allow-Origin"] == "*", path
    r = requests.get(f"{janus.endpoint}/{pool}/.well-known/jwks.json", headers={"Origin": ORIGIN}, timeout=10)
    assert r.status_code == 200 and r.headers["Access-Control-Allow-Origin"] == "*"
    r = requests.get(base + "/login", headers={"Origin": ORIGIN}, timeout=10)
    assert "Access-Control-Allow-Origin" not in r.headers, "the hosted pages stay same-origin"
