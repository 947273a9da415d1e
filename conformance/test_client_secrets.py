"""Client-secret rotation: AddUserPoolClientSecret, ListUserPoolClientSecrets,
DeleteUserPoolClientSecret with boto3 and the AWS CLI. A confidential client holds up to two
secrets; both are accepted wherever a secret is checked (SECRET_HASH, /oauth2/token,
RevokeToken, GetTokensFromRefreshToken) until one is deleted, and a client_credentials loop
running through a rotation sees no error. The secondary region is in test_cross_region.py."""

from __future__ import annotations

import re
import threading
import time

import requests

from auth_support import make_app_client, make_user, password_auth, secret_hash, sign_in
from oauth_support import oauth_client
from support import raises_code

SECRET_ID = re.compile(r"^(?P<client>[\w+]+)--(?P<ms>\d+)$")


def confidential(cognito, pool: str) -> dict:
    return make_app_client(cognito, pool, secret=True)


def secrets_of(cognito, pool: str, client_id: str) -> list[dict]:
    return cognito.list_user_pool_client_secrets(UserPoolId=pool, ClientId=client_id)["ClientSecrets"]


def test_a_generated_second_secret_is_returned_once_and_listed_without_values(cognito, pool):
    c = confidential(cognito, pool)
    [first] = secrets_of(cognito, pool, c["ClientId"])
    assert set(first) == {"ClientSecretId", "ClientSecretCreateDate"}
    m = SECRET_ID.match(first["ClientSecretId"])
    assert m and m["client"] == c["ClientId"]
    d = cognito.add_user_pool_client_secret(UserPoolId=pool, ClientId=c["ClientId"])["ClientSecretDescriptor"]
    assert re.fullmatch(r"[\w+]{24,64}", d["ClientSecretValue"]) and d["ClientSecretValue"] != c["ClientSecret"]
    assert SECRET_ID.match(d["ClientSecretId"])["client"] == c["ClientId"]
    assert d["ClientSecretCreateDate"] >= first["ClientSecretCreateDate"]
    listed = secrets_of(cognito, pool, c["ClientId"])
    assert [s["ClientSecretId"] for s in listed] == [first["ClientSecretId"], d["ClientSecretId"]]
    assert all("ClientSecretValue" not in s for s in listed)
    described = cognito.describe_user_pool_client(UserPoolId=pool, ClientId=c["ClientId"])["UserPoolClient"]
    assert described["ClientSecret"] == c["ClientSecret"], "the first secret stays the described one"


def test_a_chosen_secret_is_not_echoed_and_a_third_is_refused(cognito, pool):
    c = confidential(cognito, pool)
    chosen = "Chosen" + "x" * 30
    d = cognito.add_user_pool_client_secret(UserPoolId=pool, ClientId=c["ClientId"],
                                            ClientSecret=chosen)["ClientSecretDescriptor"]
    assert "ClientSecretValue" not in d
    with raises_code("LimitExceededException"):
        cognito.add_user_pool_client_secret(UserPoolId=pool, ClientId=c["ClientId"])
    assert len(secrets_of(cognito, pool, c["ClientId"])) == 2


def test_sign_in_accepts_either_secret_until_one_is_deleted(cognito, public, pool):
    c = confidential(cognito, pool)
    user = make_user(cognito, pool)
    old = c["ClientSecret"]
    new = cognito.add_user_pool_client_secret(UserPoolId=pool, ClientId=c["ClientId"])
    new_secret, new_id = new["ClientSecretDescriptor"]["ClientSecretValue"], new["ClientSecretDescriptor"]["ClientSecretId"]
    for secret in (old, new_secret):
        assert sign_in(public, c["ClientId"], user, secret=secret)["AccessToken"]
    old_id = secrets_of(cognito, pool, c["ClientId"])[0]["ClientSecretId"]
    cognito.delete_user_pool_client_secret(UserPoolId=pool, ClientId=c["ClientId"], ClientSecretId=old_id)
    with raises_code("NotAuthorizedException") as e:
        password_auth(public, c["ClientId"], user, secret=old)
    assert "secret hash" in e.value.response["Error"]["Message"]
    assert sign_in(public, c["ClientId"], user, secret=new_secret)["AccessToken"]
    assert [s["ClientSecretId"] for s in secrets_of(cognito, pool, c["ClientId"])] == [new_id]
    described = cognito.describe_user_pool_client(UserPoolId=pool, ClientId=c["ClientId"])["UserPoolClient"]
    assert described["ClientSecret"] == new_secret


def test_refresh_and_revoke_accept_the_second_secret(cognito, public, pool):
    c = confidential(cognito, pool)
    user = make_user(cognito, pool)
    second = cognito.add_user_pool_client_secret(UserPoolId=pool, ClientId=c["ClientId"])
    second = second["ClientSecretDescriptor"]["ClientSecretValue"]
    tokens = sign_in(public, c["ClientId"], user, secret=c["ClientSecret"])
    fresh = public.get_tokens_from_refresh_token(RefreshToken=tokens["RefreshToken"], ClientId=c["ClientId"],
                                                 ClientSecret=second)["AuthenticationResult"]
    assert fresh["AccessToken"]
    with raises_code("NotAuthorizedException"):
        public.get_tokens_from_refresh_token(RefreshToken=tokens["RefreshToken"], ClientId=c["ClientId"],
                                             ClientSecret="Wrong" + "x" * 30)
    public.revoke_token(Token=tokens["RefreshToken"], ClientId=c["ClientId"], ClientSecret=second)
    with raises_code("NotAuthorizedException"):
        public.initiate_auth(AuthFlow="REFRESH_TOKEN_AUTH", ClientId=c["ClientId"], AuthParameters={
            "REFRESH_TOKEN": tokens["RefreshToken"], "SECRET_HASH": secret_hash(second, user, c["ClientId"])})


def test_bad_requests_get_cognitos_errors(cognito, pool):
    c = confidential(cognito, pool)
    spa = make_app_client(cognito, pool)
    with raises_code("InvalidParameterException"):
        cognito.add_user_pool_client_secret(UserPoolId=pool, ClientId=spa["ClientId"])
    with raises_code("InvalidParameterException") as e:
        cognito.add_user_pool_client_secret(UserPoolId=pool, ClientId=c["ClientId"], ClientSecret="not-a-valid-secret-9876543210")
    assert "9876543210" not in e.value.response["Error"]["Message"], "a secret is never echoed"
    with raises_code("InvalidParameterException"):
        cognito.add_user_pool_client_secret(UserPoolId=pool, ClientId=c["ClientId"], ClientSecret=c["ClientSecret"])
    with raises_code("ResourceNotFoundException"):
        cognito.add_user_pool_client_secret(UserPoolId=pool, ClientId="nosuchclient123")
    with raises_code("ResourceNotFoundException"):
        cognito.list_user_pool_client_secrets(UserPoolId=pool, ClientId="nosuchclient123")
    [only] = secrets_of(cognito, pool, c["ClientId"])
    with raises_code("InvalidParameterException") as e:
        cognito.delete_user_pool_client_secret(UserPoolId=pool, ClientId=c["ClientId"],
                                               ClientSecretId=only["ClientSecretId"])
    assert "last" in e.value.response["Error"]["Message"]
    with raises_code("ResourceNotFoundException"):
        cognito.delete_user_pool_client_secret(UserPoolId=pool, ClientId=c["ClientId"],
                                               ClientSecretId=f"{c['ClientId']}--1")
    assert secrets_of(cognito, pool, spa["ClientId"]) == []


def test_the_aws_cli_rotates_a_secret(aws_cli, cognito, pool):
    c = confidential(cognito, pool)
    added = aws_cli("add-user-pool-client-secret", "--user-pool-id", pool,
                    "--client-id", c["ClientId"])["ClientSecretDescriptor"]
    listed = aws_cli("list-user-pool-client-secrets", "--user-pool-id", pool,
                     "--client-id", c["ClientId"])["ClientSecrets"]
    assert [s["ClientSecretId"] for s in listed][1] == added["ClientSecretId"]
    aws_cli("delete-user-pool-client-secret", "--user-pool-id", pool, "--client-id",
            c["ClientId"], "--client-secret-id", listed[0]["ClientSecretId"])
    described = cognito.describe_user_pool_client(UserPoolId=pool, ClientId=c["ClientId"])["UserPoolClient"]
    assert described["ClientSecret"] == added["ClientSecretValue"]


def test_client_credentials_see_no_error_through_a_rotation(cognito, janus, pool):
    cognito.create_resource_server(UserPoolId=pool, Identifier="api", Name="api",
                                   Scopes=[{"ScopeName": "read", "ScopeDescription": "r"}])
    m2m = oauth_client(cognito, pool, secret=True, flows=("client_credentials",), scopes=("api/read",))
    url = f"{janus.endpoint}/oauth/{pool}/oauth2/token"
    state = {"secret": m2m["ClientSecret"], "stop": False}
    outcomes: list[int] = []

    def loop():
        with requests.Session() as s:
            while not state["stop"]:
                r = s.post(url, auth=(m2m["ClientId"], state["secret"]), timeout=10,
                           data={"grant_type": "client_credentials"})
                outcomes.append(r.status_code)

    workers = [threading.Thread(target=loop) for _ in range(2)]
    for w in workers:
        w.start()

    def calls_beyond(n: int) -> None:
        deadline = time.monotonic() + 20
        while len(outcomes) < n and time.monotonic() < deadline:
            time.sleep(0.01)

    try:
        calls_beyond(20)
        added = cognito.add_user_pool_client_secret(UserPoolId=pool, ClientId=m2m["ClientId"])
        calls_beyond(len(outcomes) + 20)
        state["secret"] = added["ClientSecretDescriptor"]["ClientSecretValue"]  # the fleet moves over
        calls_beyond(len(outcomes) + 20)
        old_id = secrets_of(cognito, pool, m2m["ClientId"])[0]["ClientSecretId"]
        cognito.delete_user_pool_client_secret(UserPoolId=pool, ClientId=m2m["ClientId"], ClientSecretId=old_id)
        calls_beyond(len(outcomes) + 20)
    finally:
        state["stop"] = True
        for w in workers:
            w.join(timeout=20)
    assert len(outcomes) >= 80 and set(outcomes) == {200}, {c: outcomes.count(c) for c in set(outcomes)}
    old = requests.post(url, auth=(m2m["ClientId"], m2m["ClientSecret"]), timeout=10,
                        data={"grant_type": "client_credentials"})
    assert old.status_code == 401 and old.json()["error"] == "invalid_client", old.text
