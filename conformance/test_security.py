"""Issue 13: the holes found by probing Janus as an attacker would, each driven through the
real clients (boto3, raw HTTP where boto3 would refuse to send the request). Every test here
failed before its fix.

- replication endpoints: `unhost` no longer drops a primary pool; the secret is checked
  before a body is parsed;
- one-time codes: sends and wrong guesses are limited per user and window, across resends;
- access tokens: account operations need aws.cognito.signin.user.admin; a deleted app
  client's tokens stop working;
- SigV4: a signature must cover X-Amz-Target (and host);
- authorization codes: a second redemption revokes the tokens of the first;
- validation: script/data/plain-http CallbackURLs and fragments, null inside lists;
- files: the data directory 0700, the store and outbox 0600;
- /metrics behind a bearer token; quotas on pools and clients.

The user-existence answers are in test_existence.py; the memory-exhaustion attack in
test_limits.py; the secondary-region write paths in test_cross_region.py.
"""

from __future__ import annotations

import json
import stat
import urllib.request

import boto3
import pytest
import requests
from botocore import UNSIGNED
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from auth_support import make_app_client, make_user, sign_in, wrong_code
from conftest import on_postgres, start_janus, stop_janus
from oauth_support import hosted_login, oauth_client, pkce, redeem
from support import GOOD_PASSWORD, attr_list, raises_code, raw_call, unique

SECRET = "issue-13-replication-secret"
SECRET_HEADER = "x-janus-replication-secret"


@pytest.fixture(scope="module")
def hardened(tmp_path_factory):
    """A server of its own with a replication secret, a metrics token and small quotas."""
    server = start_janus(tmp_path_factory.mktemp("hardened"), extra_env={
        "JANUS_REPLICATION_SECRET": SECRET, "JANUS_METRICS_TOKEN": "metrics-token-13",
        "JANUS_QUOTA_USER_POOLS": "3", "JANUS_QUOTA_APP_CLIENTS": "2"})
    yield server
    assert stop_janus(server) == 0


def client_for(server):
    return boto3.client("cognito-idp", endpoint_url=server.endpoint, region_name=server.region,
                        aws_access_key_id=server.access_key_id,
                        aws_secret_access_key=server.secret_access_key,
                        config=Config(retries={"max_attempts": 1, "mode": "standard"}))


def repl(server, pool: str, what: str, body, secret: str | None = SECRET) -> requests.Response:
    headers = {SECRET_HEADER: secret} if secret else {}
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return requests.post(f"{server.endpoint}/replication/v1/pools/{pool}/{what}", data=data,
                         headers={"content-type": "application/json", **headers}, timeout=10)


def test_unhost_cannot_drop_a_primary_pool(hardened):
    idp = client_for(hardened)
    pool = idp.create_user_pool(PoolName=unique("primary"))["UserPool"]["Id"]
    make_user(idp, pool, "alice")
    for body in ({"v": 1, "source": "us-west-2"}, {"v": 1, "source": hardened.server_region}):
        r = repl(hardened, pool, "unhost", body)
        assert r.status_code == 400 and "primary" in r.json()["error"], r.text
    assert idp.admin_get_user(UserPoolId=pool, Username="alice")["Username"] == "alice"
    # Nor can a region host a copy of it from elsewhere.
    r = repl(hardened, pool, "host", {"v": 1, "source": "us-west-2", "url": "http://127.0.0.1:1"})
    assert r.status_code == 400, r.text
    assert "replica_dropped" not in hardened.stderr_path.read_text()
    assert "replication_request_refused" in hardened.stderr_path.read_text(), "refusals are audit events"
    idp.delete_user_pool(UserPoolId=pool)


def test_replication_posts_check_the_secret_before_the_body(hardened):
    for what in ("unhost", "host", "status", "security", "demote", "regional", "key-check", "replica-status"):
        r = repl(hardened, "us-east-1_nothere", what, b"{not json", secret="wrong")
        assert r.status_code == 403, (what, r.status_code, r.text)
        r = repl(hardened, "us-east-1_nothere", what, b"{not json", secret=None)
        assert r.status_code == 403, (what, r.status_code, r.text)
        r = repl(hardened, "us-east-1_nothere", what, b"{not json")
        assert r.status_code == 400, (what, r.status_code, r.text)


@pytest.fixture
def code_pool(cognito, pool_factory):
    pool = pool_factory(AutoVerifiedAttributes=["email"])["Id"]
    app = make_app_client(cognito, pool)
    return pool, app["ClientId"]


def test_forgot_password_is_throttled_per_user(cognito, public, outbox, code_pool):
    pool, client_id = code_pool
    user = make_user(cognito, pool, email="throttle@example.com", email_verified="true")
    answers = []
    for _ in range(50):
        try:
            public.forgot_password(ClientId=client_id, Username=user)
            answers.append("sent")
        except ClientError as e:
            answers.append(e.response["Error"]["Code"])
    assert answers[:5] == ["sent"] * 5, answers
    assert set(answers[5:]) == {"LimitExceededException"}, answers
    assert outbox.count(pool, user) == 5, "no mail flood"


def test_resends_do_not_buy_fresh_guesses(cognito, public, outbox, code_pool):
    """Before the fix each ForgotPassword reset the five-guess limit: 10^6 / 5 resends
    guessed any code. Now every wrong code counts against the user, whatever code it was."""
    pool, client_id = code_pool
    user = make_user(cognito, pool, email="guess@example.com", email_verified="true")
    outcomes = []
    for _ in range(4):
        try:
            public.forgot_password(ClientId=client_id, Username=user)
        except ClientError as e:
            assert e.response["Error"]["Code"] == "LimitExceededException"
        code = outbox.code(pool, user)
        for _ in range(3):
            try:
                public.confirm_forgot_password(ClientId=client_id, Username=user, ConfirmationCode=wrong_code(code),
                                               Password="N3w-Passw0rd!")
            except ClientError as e:
                outcomes.append(e.response["Error"]["Code"])
    assert outcomes.count("CodeMismatchException") == 5, outcomes
    assert set(outcomes[5:]) == {"LimitExceededException"}, outcomes
    # The right code is refused too until the window ends: the budget is the user's.
    with raises_code("LimitExceededException"):
        public.confirm_forgot_password(ClientId=client_id, Username=user, ConfirmationCode=outbox.code(pool, user),
                                       Password="N3w-Passw0rd!")


def openid_only_access_token(cognito, pool: str, janus) -> tuple[str, str]:
    """An access token from the hosted sign-in with scope `openid email` (no user.admin)."""
    client = oauth_client(cognito, pool, scopes=("openid", "email"))
    make_user(cognito, pool, "oauth-user", email="o@example.com")
    verifier, challenge = pkce()
    base = f"{janus.endpoint}/oauth/{pool}"
    code = hosted_login(base, client["ClientId"], "oauth-user", GOOD_PASSWORD, challenge)
    r = redeem(base, client["ClientId"], code, verifier)
    assert r.status_code == 200, r.text
    return r.json()["access_token"], client["ClientId"]


def test_account_operations_need_the_user_admin_scope(cognito, public, janus, pool):
    token, _ = openid_only_access_token(cognito, pool, janus)
    calls = [
        lambda: public.get_user(AccessToken=token),
        lambda: public.update_user_attributes(AccessToken=token, UserAttributes=attr_list(email="evil@example.com")),
        lambda: public.change_password(AccessToken=token, PreviousPassword=GOOD_PASSWORD,
                                       ProposedPassword="Ch4nged-Passw0rd!"),
        lambda: public.associate_software_token(AccessToken=token),
        lambda: public.set_user_mfa_preference(AccessToken=token, SoftwareTokenMfaSettings={"Enabled": False}),
        lambda: public.delete_user_attributes(AccessToken=token, UserAttributeNames=["email"]),
        lambda: public.get_user_attribute_verification_code(AccessToken=token, AttributeName="email"),
        lambda: public.global_sign_out(AccessToken=token),
        lambda: public.delete_user(AccessToken=token),
    ]
    for call in calls:
        with raises_code("NotAuthorizedException") as info:
            call()
        assert info.value.response["Error"]["Message"] == "Access Token does not have required scopes"
    user = cognito.admin_get_user(UserPoolId=pool, Username="oauth-user")
    assert {a["Name"]: a["Value"] for a in user["UserAttributes"]}["email"] == "o@example.com"
    # userInfo is what such a token is for.
    r = requests.get(f"{janus.endpoint}/oauth/{pool}/oauth2/userInfo", headers={"Authorization": f"Bearer {token}"},
                     timeout=10)
    assert r.status_code == 200 and r.json()["email"] == "o@example.com", r.text


def test_tokens_of_a_deleted_app_client_stop_working(cognito, public, pool):
    app = make_app_client(cognito, pool)
    user = make_user(cognito, pool)
    tokens = sign_in(public, app["ClientId"], user)
    assert public.get_user(AccessToken=tokens["AccessToken"])["Username"] == user
    cognito.delete_user_pool_client(UserPoolId=pool, ClientId=app["ClientId"])
    with raises_code("NotAuthorizedException"):
        public.get_user(AccessToken=tokens["AccessToken"])


class HostAndDateOnly(SigV4Auth):
    """A signer that leaves X-Amz-Target (and the content type) out of SignedHeaders."""

    def headers_to_sign(self, request):
        signed = super().headers_to_sign(request)
        for name in list(signed.keys()):
            if name.lower() not in ("host", "x-amz-date"):
                del signed[name]
        return signed


def test_a_signature_must_cover_the_target(janus, cognito, pool):
    body = json.dumps({"UserPoolId": pool}).encode()
    url = janus.endpoint + "/"
    req = AWSRequest(method="POST", url=url, data=body, headers={
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": "AWSCognitoIdentityProviderService.DescribeUserPool"})
    HostAndDateOnly(Credentials(*janus.credentials), "cognito-idp", janus.region).add_auth(req)
    headers = dict(req.headers.items())
    headers["X-Amz-Target"] = "AWSCognitoIdentityProviderService.DeleteUserPool"  # the replay
    r = requests.post(url, data=body, headers=headers, timeout=10)
    assert r.status_code == 400, r.text
    assert r.json()["__type"] == "InvalidSignatureException", r.text
    assert cognito.describe_user_pool(UserPoolId=pool)["UserPool"]["Id"] == pool


def test_a_replayed_code_revokes_the_first_redemptions_tokens(cognito, janus, pool):
    client = oauth_client(cognito, pool, scopes=("openid", "email"))
    user = make_user(cognito, pool, email="r@example.com")
    base = f"{janus.endpoint}/oauth/{pool}"
    verifier, challenge = pkce()
    code = hosted_login(base, client["ClientId"], user, GOOD_PASSWORD, challenge)
    first = redeem(base, client["ClientId"], code, verifier).json()

    def userinfo():
        return requests.get(f"{base}/oauth2/userInfo", headers={"Authorization": f"Bearer {first['access_token']}"},
                            timeout=10).status_code
    assert userinfo() == 200
    again = redeem(base, client["ClientId"], code, verifier)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant", again.text
    assert userinfo() == 401, "the first redemption's access token is revoked"
    r = requests.post(f"{base}/oauth2/token", timeout=10, data={
        "grant_type": "refresh_token", "client_id": client["ClientId"], "refresh_token": first["refresh_token"]})
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant", r.text


@pytest.mark.parametrize("url", [
    "javascript:alert(document.cookie)", "data:text/html,<script>alert(1)</script>",
    "http://app.example.com/callback", "https://app.example.com/callback#fragment", "not a url",
])
def test_unsafe_callback_urls_are_refused(cognito, pool, url):
    with raises_code("InvalidParameterException"):
        cognito.create_user_pool_client(UserPoolId=pool, ClientName=unique("c"), CallbackURLs=[url])
    made = cognito.create_user_pool_client(UserPoolId=pool, ClientName=unique("c"),
                                           CallbackURLs=["https://app.example.com/cb"])["UserPoolClient"]
    with raises_code("InvalidParameterException"):
        cognito.update_user_pool_client(UserPoolId=pool, ClientId=made["ClientId"], LogoutURLs=[url])


def test_safe_callback_urls_are_kept(cognito, pool):
    urls = ["https://app.example.com/cb", "http://localhost:3000/cb", "myapp://callback"]
    made = cognito.create_user_pool_client(UserPoolId=pool, ClientName=unique("c"), CallbackURLs=urls)
    assert made["UserPoolClient"]["CallbackURLs"] == urls


def test_null_inside_a_list_is_refused(janus, cognito, pool):
    body = json.dumps({"UserPoolId": pool, "ClientName": "c", "CallbackURLs": ["https://a.example/cb", None]})
    r = raw_call(janus.endpoint, "CreateUserPoolClient", body, credentials=janus.credentials)
    assert r.status == 400 and r.error_type == "InvalidParameterException", r.body
    assert "Member must not be null" in r.json["message"]
    assert cognito.list_user_pool_clients(UserPoolId=pool, MaxResults=10)["UserPoolClients"] == []


def test_the_data_directory_and_its_files_are_private(janus, cognito, outbox, code_pool):
    pool, client_id = code_pool
    boto3.client("cognito-idp", endpoint_url=janus.endpoint, region_name=janus.region,
                 config=Config(signature_version=UNSIGNED)).sign_up(
        ClientId=client_id, Username=unique("u"), Password=GOOD_PASSWORD,
        UserAttributes=attr_list(email="perm@example.com"))
    mode = lambda p: stat.S_IMODE(p.stat().st_mode)  # noqa: E731
    assert mode(janus.data_dir) == 0o700
    # On PostgreSQL the store and the sealed keyring are in the database, not the directory.
    for name in ("outbox.jsonl",) + (() if on_postgres() else ("janus.db", "keyring.json")):
        assert mode(janus.data_dir / name) == 0o600, name
    log = janus.stderr_path.read_text()
    for message in outbox.messages(pool):
        assert message["body"] not in log, "codes never reach the log"


def test_metrics_need_the_bearer_token_when_one_is_set(hardened):
    def get(headers):
        req = urllib.request.Request(f"{hardened.endpoint}/metrics", headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()
    assert get({})[0] == 401
    assert get({"Authorization": "Bearer wrong"})[0] == 401
    status, text = get({"Authorization": "Bearer metrics-token-13"})
    assert status == 200 and "janus_region_available" in text


def test_quotas_refuse_with_limit_exceeded(hardened):
    idp = client_for(hardened)
    held = len(idp.list_user_pools(MaxResults=60)["UserPools"])
    made = [idp.create_user_pool(PoolName=unique("q"))["UserPool"]["Id"] for _ in range(3 - held)]
    with raises_code("LimitExceededException"):
        idp.create_user_pool(PoolName=unique("q"))
    pool = made[0] if made else idp.list_user_pools(MaxResults=1)["UserPools"][0]["Id"]
    existing = len(idp.list_user_pool_clients(UserPoolId=pool, MaxResults=60)["UserPoolClients"])
    for _ in range(2 - existing):
        idp.create_user_pool_client(UserPoolId=pool, ClientName=unique("c"))
    with raises_code("LimitExceededException"):
        idp.create_user_pool_client(UserPoolId=pool, ClientName=unique("c"))
    idp.delete_user_pool(UserPoolId=made[-1] if made else pool)
    idp.create_user_pool(PoolName=unique("q"))  # room again


def test_the_csrf_cookie_is_secure_behind_https(cognito, janus, pool):
    from oauth_support import authorize_url

    client = oauth_client(cognito, pool)
    url = authorize_url(f"{janus.endpoint}/oauth/{pool}", client["ClientId"], pkce()[1])
    plain = requests.get(url, timeout=10).headers["Set-Cookie"]
    assert plain.startswith("janus-csrf=") and "Secure" not in plain, plain
    behind_tls = requests.get(url, headers={"X-Forwarded-Proto": "https"}, timeout=10).headers["Set-Cookie"]
    assert behind_tls.startswith("__Host-janus-csrf=") and "; Secure" in behind_tls and "Domain" not in behind_tls
    assert "HttpOnly" in behind_tls and "Path=/" in behind_tls, behind_tls
