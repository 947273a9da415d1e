"""Lambda triggers, called through a real implementation of the Lambda Invoke API
(serverless-offline, lambda_support.py) running Node.js and Python handlers as users write
them. Each test checks the event Janus sent against Cognito's documented shape and that each
response field changes what Cognito says it changes; the failure tests check Cognito's errors,
that nothing is half-written, and that the server stays healthy."""

from __future__ import annotations

import base64
import html
import json
import os
import re
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import boto3
import pytest
import requests
from botocore import UNSIGNED
from botocore.config import Config
from pycognito.aws_srp import AWSSRP

from auth_support import (ALL_FLOWS, Outbox, claims, make_app_client, make_temp_user, make_user, password_auth,
                          sign_in)
from conftest import ACCESS_KEY_ID, JANUS_BIN, SECRET_ACCESS_KEY, start_janus, stop_janus
from kms_support import Moto, kms
from lambda_support import LambdaHost, start_lambda_host, stop_lambda_host
from oauth_support import hosted_login, oauth_client, pkce, redeem
from region_support import EAST, WEST, admin, audit, pair, replicate, wait_until  # noqa: F401
from support import GOOD_PASSWORD, attr_list, attrs, free_port, raises_code, unique

TIMEOUT_MS = 1500  # each attempt's deadline (Cognito's is 5 s; shorter keeps the slow test short)


class Triggers:
    def __init__(self, server, host: LambdaHost):
        self.server, self.host = server, host
        cfg = Config(retries={"max_attempts": 1, "mode": "standard"}, read_timeout=30)
        self.admin = boto3.client("cognito-idp", endpoint_url=server.endpoint, region_name=server.region,
                                  aws_access_key_id=server.access_key_id,
                                  aws_secret_access_key=server.secret_access_key, config=cfg)
        self.public = boto3.client("cognito-idp", endpoint_url=server.endpoint, region_name=server.region,
                                   config=Config(signature_version=UNSIGNED, retries={"max_attempts": 1}))
        self.outbox = Outbox(server.data_dir)

    def pool(self, settings: dict | None = None, **lambda_config) -> tuple[str, str]:
        """A pool (with `settings`) whose LambdaConfig names the host's functions; (pool id, client id)."""
        config = {k: (LambdaHost.arn(v) if isinstance(v, str) and not v.startswith("arn:") else v)
                  for k, v in lambda_config.items()}
        pool = self.admin.create_user_pool(PoolName=unique("trig"), AutoVerifiedAttributes=["email"],
                                           LambdaConfig=config, **(settings or {}))["UserPool"]["Id"]
        return pool, make_app_client(self.admin, pool, flows=[*ALL_FLOWS, "ALLOW_CUSTOM_AUTH"])["ClientId"]


@pytest.fixture(scope="module")
def trig(tmp_path_factory):
    # moto's KMS holds the key the custom senders' codes are encrypted under; the handlers'
    # AWS SDKs reach it through AWS_ENDPOINT_URL_KMS, Janus through JANUS_SENDER_KMS_ENDPOINT.
    moto = Moto(tmp_path_factory.mktemp("moto"))
    key = kms(moto.url).create_key(Description="custom sender codes")["KeyMetadata"]["Arn"]
    host = start_lambda_host(tmp_path_factory.mktemp("lambda"), env={
        "JANUS_TEST_KMS_KEY_ARN": key, "AWS_ENDPOINT_URL_KMS": moto.url, "AWS_REGION": "us-east-1"})
    try:
        server = start_janus(tmp_path_factory.mktemp("janus-triggers"), extra_env={
            "JANUS_LAMBDA_ENDPOINT": host.endpoint, "JANUS_LAMBDA_TIMEOUT_MS": str(TIMEOUT_MS),
            "JANUS_LAMBDA_ATTEMPTS": "2", "JANUS_SENDER_KMS_ENDPOINT": moto.url,
            # Signed calls (moto routes a request by its signature's service).
            "JANUS_LAMBDA_ACCESS_KEY_ID": "testing", "JANUS_LAMBDA_SECRET_ACCESS_KEY": "testing"})
        try:
            t = Triggers(server, host)
            t.moto, t.kms_key = moto.url, key
            yield t
        finally:
            code = stop_janus(server)
            assert code == 0, f"janus exited with {code}:\n{server.log_tail()}"
    finally:
        stop_lambda_host(host)
        moto.stop()


def envelope(event: dict, pool: str, source: str, user: str, client: str | None, version: str = "1"):
    assert event["version"] == version
    assert event["triggerSource"] == source
    assert event["region"] == "us-east-1" and event["userPoolId"] == pool and event["userName"] == user
    assert set(event["callerContext"]) == {"awsSdkVersion", "clientId"}
    if client:
        assert event["callerContext"]["clientId"] == client
    # The custom senders' events carry no `response` (Cognito expects none back).
    sender = source.startswith(("CustomEmailSender_", "CustomSMSSender_"))
    assert set(event) == {"version", "triggerSource", "region", "userPoolId", "userName", "callerContext",
                          "request"} | (set() if sender else {"response"})


# --- PreSignUp -------------------------------------------------------------------------------


def test_pre_sign_up_sees_the_sign_up_and_can_refuse_it(trig):
    pool, client = trig.pool(PreSignUp="presignup")
    user = unique("u")
    with raises_code("UserLambdaValidationException") as e:
        trig.public.sign_up(ClientId=client, Username=user, Password=GOOD_PASSWORD,
                            UserAttributes=attr_list(email=f"{user}@refused.example"),
                            ValidationData=attr_list(invite="abc"), ClientMetadata={"app": "web"})
    assert e.value.response["Error"]["Message"] == "PreSignUp failed with error Registration from this domain is not allowed.."
    [event] = trig.host.events("presignup", userPoolId=pool)
    envelope(event, pool, "PreSignUp_SignUp", user, client)
    assert event["request"] == {"userAttributes": {"email": f"{user}@refused.example"},
                                "validationData": {"invite": "abc"}, "clientMetadata": {"app": "web"}}
    assert event["response"] == {"autoConfirmUser": False, "autoVerifyEmail": False, "autoVerifyPhone": False}
    with raises_code("UserNotFoundException"):
        trig.admin.admin_get_user(UserPoolId=pool, Username=user)


def test_pre_sign_up_auto_confirms_and_verifies(trig):
    pool, client = trig.pool(PreSignUp="presignup")
    user = unique("u")
    out = trig.public.sign_up(ClientId=client, Username=user, Password=GOOD_PASSWORD,
                              UserAttributes=attr_list(email=f"{user}@auto.example"))
    assert out["UserConfirmed"] is True and "CodeDeliveryDetails" not in out
    assert trig.outbox.count(pool, user) == 0, "an auto-confirmed user is sent no code"
    got = trig.admin.admin_get_user(UserPoolId=pool, Username=user)
    assert got["UserStatus"] == "CONFIRMED" and attrs(got["UserAttributes"])["email_verified"] == "true"
    assert "AuthenticationResult" in password_auth(trig.public, client, user)
    # Without the function's say-so, the sign-up is the usual unconfirmed one with a code.
    other = unique("u")
    out = trig.public.sign_up(ClientId=client, Username=other, Password=GOOD_PASSWORD,
                              UserAttributes=attr_list(email=f"{other}@example.com"))
    assert out["UserConfirmed"] is False and trig.outbox.count(pool, other) == 1
    # Verifying without confirming is refused, as Cognito refuses it.
    odd = unique("u")
    with raises_code("InvalidParameterException") as e:
        trig.public.sign_up(ClientId=client, Username=odd, Password=GOOD_PASSWORD,
                            UserAttributes=attr_list(email=f"{odd}@verify-only.example"))
    assert e.value.response["Error"]["Message"] == \
        "Phone or email cannot be auto verified, when user is not being auto confirmed."
    with raises_code("UserNotFoundException"):
        trig.admin.admin_get_user(UserPoolId=pool, Username=odd)


def test_pre_sign_up_names_the_stored_user_in_an_email_username_pool(trig):
    pool, client = trig.pool({"UsernameAttributes": ["email"]}, PreSignUp="presignup")
    email = f"{unique('u')}@auto.example"
    out = trig.public.sign_up(ClientId=client, Username=email, Password=GOOD_PASSWORD)
    [event] = trig.host.events("presignup", userPoolId=pool)
    stored = trig.admin.admin_get_user(UserPoolId=pool, Username=email)["Username"]
    assert event["userName"] == stored == out["UserSub"] != email
    assert event["request"]["userAttributes"] == {"email": email}


def test_pre_sign_up_runs_for_admin_create_user(trig):
    pool, _ = trig.pool(PreSignUp="presignup")
    user = unique("u")
    with raises_code("UserLambdaValidationException"):
        trig.admin.admin_create_user(UserPoolId=pool, Username=user, MessageAction="SUPPRESS",
                                     UserAttributes=attr_list(email=f"{user}@refused.example"))
    ok = unique("u")
    trig.admin.admin_create_user(UserPoolId=pool, Username=ok, MessageAction="SUPPRESS",
                                 UserAttributes=attr_list(email=f"{ok}@auto.example"),
                                 ClientMetadata={"source": "import"})
    [event] = trig.host.events("presignup", userPoolId=pool, userName=ok)
    envelope(event, pool, "PreSignUp_AdminCreateUser", ok, None)
    assert event["request"]["clientMetadata"] == {"source": "import"}
    got = trig.admin.admin_get_user(UserPoolId=pool, Username=ok)
    assert got["UserStatus"] == "FORCE_CHANGE_PASSWORD", "autoConfirmUser does not apply to AdminCreateUser"
    assert "email_verified" not in attrs(got["UserAttributes"]), "nor does autoVerifyEmail"


# --- PostConfirmation ------------------------------------------------------------------------


def test_post_confirmation_after_confirm_sign_up_and_forgot_password(trig):
    pool, client = trig.pool(PostConfirmation="postconfirmation")
    user = unique("u")
    trig.public.sign_up(ClientId=client, Username=user, Password=GOOD_PASSWORD,
                        UserAttributes=attr_list(email=f"{user}@example.com"))
    assert trig.host.events("postconfirmation", userPoolId=pool) == [], "not before confirmation"
    trig.public.confirm_sign_up(ClientId=client, Username=user, ConfirmationCode=trig.outbox.code(pool, user),
                                ClientMetadata={"k": "v"})
    [event] = trig.host.events("postconfirmation", userPoolId=pool)
    envelope(event, pool, "PostConfirmation_ConfirmSignUp", user, client)
    a = event["request"]["userAttributes"]
    assert a["cognito:user_status"] == "CONFIRMED" and a["email_verified"] == "true" and len(a["sub"]) == 36
    assert event["request"]["clientMetadata"] == {"k": "v"}
    trig.public.forgot_password(ClientId=client, Username=user)
    trig.public.confirm_forgot_password(ClientId=client, Username=user, Password="N3w-Passw0rd!x",
                                        ConfirmationCode=trig.outbox.code(pool, user))
    later = trig.host.events("postconfirmation", userPoolId=pool)[1]
    envelope(later, pool, "PostConfirmation_ConfirmForgotPassword", user, client)


def test_a_failing_post_confirmation_is_reported_and_the_confirmation_stands(trig):
    pool, client = trig.pool(PostConfirmation="postconfirmation")
    user = unique("postfail")
    trig.public.sign_up(ClientId=client, Username=user, Password=GOOD_PASSWORD,
                        UserAttributes=attr_list(email=f"{user}@example.com"))
    with raises_code("UserLambdaValidationException") as e:
        trig.public.confirm_sign_up(ClientId=client, Username=user, ConfirmationCode=trig.outbox.code(pool, user))
    assert e.value.response["Error"]["Message"] == "PostConfirmation failed with error Could not create the profile."
    assert trig.admin.admin_get_user(UserPoolId=pool, Username=user)["UserStatus"] == "CONFIRMED"
    admin_confirmed = unique("postfail")
    trig.public.sign_up(ClientId=client, Username=admin_confirmed, Password=GOOD_PASSWORD,
                        UserAttributes=attr_list(email=f"{admin_confirmed}@example.com"))
    with raises_code("UserLambdaValidationException"):
        trig.admin.admin_confirm_sign_up(UserPoolId=pool, Username=admin_confirmed)
    [event] = trig.host.events("postconfirmation", userName=admin_confirmed)
    envelope(event, pool, "PostConfirmation_ConfirmSignUp", admin_confirmed, None)


# --- PreAuthentication / PostAuthentication ----------------------------------------------------


def test_pre_authentication_can_refuse_a_sign_in_before_the_password(trig):
    pool, client = trig.pool(PreAuthentication="preauth", PostAuthentication="postauth")
    user = make_user(trig.admin, pool, email="pa@example.com")
    with raises_code("UserLambdaValidationException") as e:
        trig.public.initiate_auth(ClientId=client, AuthFlow="USER_PASSWORD_AUTH", ClientMetadata={"block": "yes"},
                                  AuthParameters={"USERNAME": user, "PASSWORD": GOOD_PASSWORD})
    assert e.value.response["Error"]["Message"] == "PreAuthentication failed with error Sign-in blocked by policy."
    srp = AWSSRP(username=user, password=GOOD_PASSWORD, pool_id=pool, client_id=client, client=trig.public)
    with raises_code("UserLambdaValidationException"):
        trig.public.initiate_auth(ClientId=client, AuthFlow="USER_SRP_AUTH", ClientMetadata={"block": "yes"},
                                  AuthParameters=srp.get_auth_params())
    assert trig.host.events("postauth", userPoolId=pool) == []
    sign_in(trig.public, client, user)
    first = trig.host.events("preauth", userPoolId=pool)[0]
    envelope(first, pool, "PreAuthentication_Authentication", user, client)
    assert first["request"]["validationData"] == {"block": "yes"}
    assert trig.host.events("preauth", userPoolId=pool)[-1]["request"]["validationData"] is None
    assert first["request"]["userAttributes"]["email"] == "pa@example.com" and "userNotFound" not in first["request"]
    [post] = trig.host.events("postauth", userPoolId=pool)
    envelope(post, pool, "PostAuthentication_Authentication", user, client)
    assert post["request"]["newDeviceUsed"] is False and post["request"]["userAttributes"]["sub"]
    assert "clientMetadata" not in post["request"], "InitiateAuth's metadata is PreAuthentication's alone"
    # A wrong password is still checked after PreAuthentication, and PostAuthentication is not called.
    with raises_code("NotAuthorizedException"):
        password_auth(trig.public, client, user, "Wrong-Passw0rd!")
    assert len(trig.host.events("postauth", userPoolId=pool)) == 1


def test_pre_authentication_sees_unknown_users_when_existence_is_hidden(trig):
    pool, _ = trig.pool(PreAuthentication="preauth")
    client = make_app_client(trig.admin, pool, PreventUserExistenceErrors="ENABLED")["ClientId"]
    with raises_code("NotAuthorizedException"):
        password_auth(trig.public, client, "nobody-here")
    [event] = trig.host.events("preauth", userPoolId=pool)
    assert event["request"]["userNotFound"] is True and event["request"]["userAttributes"] == {}


# --- PreTokenGeneration ----------------------------------------------------------------------


def test_pre_token_generation_v1_changes_id_token_claims_and_groups(trig):
    pool, client = trig.pool(PreTokenGeneration="tokenv1")
    user = make_user(trig.admin, pool, email="t1@example.com")
    trig.admin.create_group(UserPoolId=pool, GroupName="staff")
    trig.admin.admin_add_user_to_group(UserPoolId=pool, Username=user, GroupName="staff")
    t = sign_in(trig.public, client, user)
    idc, acc = claims(t["IdToken"]), claims(t["AccessToken"])
    assert idc["tenant"] == "acme" and "email" not in idc, "added and suppressed"
    assert idc["sub"] != "forged" and len(idc["sub"]) == 36, "sub cannot be changed"
    assert idc["cognito:groups"] == ["from-lambda"] and acc["cognito:groups"] == ["from-lambda"]
    assert "tenant" not in acc, "V1 does not touch the access token"
    [event] = trig.host.events("tokenv1", userPoolId=pool)
    envelope(event, pool, "TokenGeneration_Authentication", user, client)
    assert event["request"]["groupConfiguration"] == {"groupsToOverride": ["staff"], "iamRolesToOverride": [],
                                                      "preferredRole": None}
    assert event["response"] == {"claimsOverrideDetails": None} and "scopes" not in event["request"]
    refreshed = trig.public.initiate_auth(ClientId=client, AuthFlow="REFRESH_TOKEN_AUTH",
                                          AuthParameters={"REFRESH_TOKEN": t["RefreshToken"]})
    assert claims(refreshed["AuthenticationResult"]["IdToken"])["tenant"] == "acme"
    assert trig.host.events("tokenv1", userPoolId=pool)[1]["triggerSource"] == "TokenGeneration_RefreshTokens"
    # The tokens it shaped are Janus's own: GetUser accepts the access token.
    assert trig.public.get_user(AccessToken=refreshed["AuthenticationResult"]["AccessToken"])["Username"] == user


def test_pre_token_generation_v2_changes_both_tokens_and_scopes(trig):
    v2 = {"LambdaVersion": "V2_0", "LambdaArn": LambdaHost.arn("tokenv2")}
    pool, _ = trig.pool(PreTokenGenerationConfig=v2)
    trig.admin.create_user_pool_domain(UserPoolId=pool, Domain=unique("d").lower().replace("_", "-"))
    web = oauth_client(trig.admin, pool, scopes=("openid", "email", "phone"),
                       ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])
    user = make_user(trig.admin, pool, email="t2@example.com")
    t = sign_in(trig.public, web["ClientId"], user)
    idc, acc = claims(t["IdToken"]), claims(t["AccessToken"])
    assert idc["plan"] == {"tier": "gold", "seats": 5} and idc["tenant"] == "acme"
    assert acc["tenant"] == "acme" and acc["scope"] == "aws.cognito.signin.user.admin orders/read"
    [event] = trig.host.events("tokenv2", userPoolId=pool)
    envelope(event, pool, "TokenGeneration_Authentication", user, web["ClientId"], version="2")
    assert event["request"]["scopes"] == ["aws.cognito.signin.user.admin"]
    assert event["response"] == {"claimsAndScopeOverrideDetails": None}
    base = f"{trig.server.endpoint}/oauth/{pool}"
    verifier, challenge = pkce()
    code = hosted_login(base, web["ClientId"], user, GOOD_PASSWORD, challenge, scope="openid email phone")
    r = redeem(base, web["ClientId"], code, verifier)
    assert r.status_code == 200, r.text
    assert claims(r.json()["access_token"])["scope"] == "openid email orders/read", "phone suppressed"
    hosted = trig.host.events("tokenv2", userPoolId=pool, triggerSource="TokenGeneration_HostedAuth")
    assert hosted and hosted[0]["request"]["scopes"] == ["openid", "email", "phone"]


def test_pre_token_generation_v3_shapes_machine_tokens_and_v2_does_not(trig):
    for version, fn in (("V3_0", "tokenv3"), ("V2_0", "tokenv2")):
        pool, _ = trig.pool(PreTokenGenerationConfig={"LambdaVersion": version, "LambdaArn": LambdaHost.arn(fn)})
        trig.admin.create_resource_server(UserPoolId=pool, Identifier="orders", Name="orders",
                                          Scopes=[{"ScopeName": "read", "ScopeDescription": "r"},
                                                  {"ScopeName": "audit", "ScopeDescription": "a"}])
        m2m = oauth_client(trig.admin, pool, secret=True, flows=("client_credentials",), scopes=("orders/read",))
        t = trig.public.get_client_token(ClientId=m2m["ClientId"], Secret=m2m["ClientSecret"],
                                         Scopes=["orders/read"])["ClientAuthenticationResult"]
        c = claims(t["AccessToken"])
        if version == "V3_0":
            assert c["caller"] == "batch-job" and c["scope"] == "orders/read orders/audit"
            [event] = trig.host.events("tokenv3", userPoolId=pool)
            envelope(event, pool, "TokenGeneration_ClientCredentials", m2m["ClientId"], m2m["ClientId"], "3")
            assert event["request"]["scopes"] == ["orders/read"] and "userAttributes" not in event["request"]
            r = requests.post(f"{trig.server.endpoint}/oauth/{pool}/oauth2/token", timeout=10, data={
                "grant_type": "client_credentials", "client_id": m2m["ClientId"],
                "client_secret": m2m["ClientSecret"], "aws_client_metadata": json.dumps({"job": "nightly"})})
            assert r.status_code == 200, r.text
            assert trig.host.events("tokenv3", userPoolId=pool)[-1]["request"]["clientMetadata"] == {"job": "nightly"}
        else:
            assert "caller" not in c and c["scope"] == "orders/read"
            assert trig.host.events("tokenv2", userPoolId=pool) == []


# --- CUSTOM_AUTH -----------------------------------------------------------------------------

CUSTOM = {"DefineAuthChallenge": "define", "CreateAuthChallenge": "create", "VerifyAuthChallengeResponse": "verify"}


def custom_code(trig, pool: str, n: int) -> str:
    """The code of the pool's n-th (from 1) CUSTOM_CHALLENGE."""
    return trig.host.events("create", userPoolId=pool)[n - 1]["response"]["privateChallengeParameters"]["answer"]


def test_custom_auth_one_time_code_sign_in(trig):
    pool, client = trig.pool(**CUSTOM)
    user = make_user(trig.admin, pool, email="c@example.com")
    first = trig.public.initiate_auth(ClientId=client, AuthFlow="CUSTOM_AUTH", AuthParameters={"USERNAME": user})
    assert first["ChallengeName"] == "CUSTOM_CHALLENGE"
    assert first["ChallengeParameters"] == {"hint": "the code we sent", "USERNAME": user}
    sealed_part = first["Session"].split(".", 1)[1]
    opened = base64.urlsafe_b64decode(sealed_part + "=" * (-len(sealed_part) % 4))
    assert custom_code(trig, pool, 1).encode() not in opened and b"answer" not in opened, "sealed, not encoded"
    wrong = trig.public.respond_to_auth_challenge(ClientId=client, ChallengeName="CUSTOM_CHALLENGE",
                                                  Session=first["Session"],
                                                  ChallengeResponses={"USERNAME": user, "ANSWER": "000000"})
    assert wrong["ChallengeName"] == "CUSTOM_CHALLENGE", "a wrong answer gets another try"
    with raises_code("NotAuthorizedException"):
        trig.public.respond_to_auth_challenge(ClientId=client, ChallengeName="CUSTOM_CHALLENGE",
                                              Session=first["Session"],
                                              ChallengeResponses={"USERNAME": user, "ANSWER": custom_code(trig, pool, 1)})
    done = trig.public.respond_to_auth_challenge(ClientId=client, ChallengeName="CUSTOM_CHALLENGE",
                                                 Session=wrong["Session"],
                                                 ChallengeResponses={"USERNAME": user, "ANSWER": custom_code(trig, pool, 2)})
    assert claims(done["AuthenticationResult"]["IdToken"])["cognito:username"] == user
    defines = trig.host.events("define", userPoolId=pool)
    envelope(defines[0], pool, "DefineAuthChallenge_Authentication", user, client)
    assert [d["request"]["session"] for d in defines] == [
        [],
        [{"challengeName": "CUSTOM_CHALLENGE", "challengeResult": False, "challengeMetadata": "CODE-1"}],
        [{"challengeName": "CUSTOM_CHALLENGE", "challengeResult": False, "challengeMetadata": "CODE-1"},
         {"challengeName": "CUSTOM_CHALLENGE", "challengeResult": True, "challengeMetadata": "CODE-2"}],
    ]
    verify = trig.host.events("verify", userPoolId=pool)[0]
    envelope(verify, pool, "VerifyAuthChallengeResponse_Authentication", user, client)
    assert verify["request"]["challengeAnswer"] == "000000"
    assert verify["request"]["privateChallengeParameters"] == {"answer": custom_code(trig, pool, 1)}
    create = trig.host.events("create", userPoolId=pool)[0]
    envelope(create, pool, "CreateAuthChallenge_Authentication", user, client)
    assert create["request"]["challengeName"] == "CUSTOM_CHALLENGE"


def test_a_strangers_custom_sign_in_does_not_cancel_the_users(trig):
    pool, client = trig.pool(**CUSTOM)
    user = make_user(trig.admin, pool)
    start = lambda: trig.public.initiate_auth(  # noqa: E731
        ClientId=client, AuthFlow="CUSTOM_AUTH", AuthParameters={"USERNAME": user})
    answer = lambda step, code: trig.public.respond_to_auth_challenge(  # noqa: E731
        ClientId=client, ChallengeName="CUSTOM_CHALLENGE", Session=step["Session"],
        ChallengeResponses={"USERNAME": user, "ANSWER": code})
    mine = start()
    theirs = start()
    assert answer(theirs, "000000")["ChallengeName"] == "CUSTOM_CHALLENGE"
    assert "AccessToken" in answer(mine, custom_code(trig, pool, 1))["AuthenticationResult"]


def test_custom_auth_fails_after_three_wrong_answers_and_runs_for_admins(trig):
    pool, client = trig.pool(**CUSTOM)
    user = make_user(trig.admin, pool)
    step = trig.public.initiate_auth(ClientId=client, AuthFlow="CUSTOM_AUTH", AuthParameters={"USERNAME": user})
    for attempt in range(3):
        answer = lambda: trig.public.respond_to_auth_challenge(  # noqa: E731
            ClientId=client, ChallengeName="CUSTOM_CHALLENGE", Session=step["Session"],
            ChallengeResponses={"USERNAME": user, "ANSWER": "wrong"})
        if attempt < 2:
            step = answer()
        else:
            with raises_code("NotAuthorizedException") as e:
                answer()
            assert e.value.response["Error"]["Message"] == "Incorrect username or password."
    admin = trig.admin.admin_initiate_auth(UserPoolId=pool, ClientId=client, AuthFlow="CUSTOM_AUTH",
                                           AuthParameters={"USERNAME": user})
    n = len(trig.host.events("create", userPoolId=pool))
    out = trig.admin.admin_respond_to_auth_challenge(
        UserPoolId=pool, ClientId=client, ChallengeName="CUSTOM_CHALLENGE", Session=admin["Session"],
        ChallengeResponses={"USERNAME": user, "ANSWER": custom_code(trig, pool, n)})
    assert "AccessToken" in out["AuthenticationResult"]


def test_custom_auth_hides_unknown_users_when_the_client_does(trig):
    """With PreventUserExistenceErrors an unknown name gets challenges like a real user
    (userNotFound: true), its sessions are used once like a real user's, and it never signs in."""
    pool, _ = trig.pool(**CUSTOM)
    client = make_app_client(trig.admin, pool, flows=["ALLOW_CUSTOM_AUTH"],
                             PreventUserExistenceErrors="ENABLED")["ClientId"]
    real = make_user(trig.admin, pool)
    answers = {}
    for name in (real, unique("ghost")):
        first = trig.public.initiate_auth(ClientId=client, AuthFlow="CUSTOM_AUTH", AuthParameters={"USERNAME": name})
        assert first["ChallengeName"] == "CUSTOM_CHALLENGE"
        assert first["ChallengeParameters"] == {"hint": "the code we sent", "USERNAME": name}
        again = trig.public.respond_to_auth_challenge(ClientId=client, ChallengeName="CUSTOM_CHALLENGE",
                                                      Session=first["Session"],
                                                      ChallengeResponses={"USERNAME": name, "ANSWER": "000000"})
        assert again["ChallengeName"] == "CUSTOM_CHALLENGE"
        with raises_code("NotAuthorizedException") as e:
            trig.public.respond_to_auth_challenge(ClientId=client, ChallengeName="CUSTOM_CHALLENGE",
                                                  Session=first["Session"],
                                                  ChallengeResponses={"USERNAME": name, "ANSWER": "000000"})
        answers[name] = e.value.response["Error"]["Message"]
    assert len(set(answers.values())) == 1, answers
    ghost = [n for n in answers if n != real][0]
    [first_define] = [d for d in trig.host.events("define", userPoolId=pool, userName=ghost)
                      if d["request"]["session"] == []]
    assert first_define["request"]["userNotFound"] is True and first_define["request"]["userAttributes"] == {}
    step = trig.public.initiate_auth(ClientId=client, AuthFlow="CUSTOM_AUTH", AuthParameters={"USERNAME": ghost})
    n = len(trig.host.events("create", userPoolId=pool))
    with raises_code("NotAuthorizedException") as e:
        trig.public.respond_to_auth_challenge(ClientId=client, ChallengeName="CUSTOM_CHALLENGE",
                                              Session=step["Session"],
                                              ChallengeResponses={"USERNAME": ghost, "ANSWER": custom_code(trig, pool, n)})
    assert e.value.response["Error"]["Message"] == "Incorrect username or password."


def test_custom_auth_after_the_password_with_amazon_cognito_identity_js(trig):
    """The library's CUSTOM_AUTH with a password: SRP_A, PASSWORD_VERIFIER, then the code."""
    node_dir = Path(__file__).resolve().parent / "node"
    if shutil.which("node") is None or not (node_dir / "node_modules" / "amazon-cognito-identity-js").is_dir():
        pytest.skip("conformance/node is not installed (scripts/setup-test-env)")
    pool, client = trig.pool(**CUSTOM)
    user = make_user(trig.admin, pool)
    step = {"op": "authenticate", "flow": "CUSTOM_AUTH", "password": GOOD_PASSWORD,
            "customAnswersFrom": {"events": str(trig.host.events_path), "pool": pool}}
    run = lambda s: json.loads(subprocess.run(  # noqa: E731
        ["node", str(node_dir / "identity.js")], capture_output=True, text=True, timeout=60, check=True,
        input=json.dumps({"endpoint": trig.server.endpoint, "userPoolId": pool, "clientId": client,
                          "username": user, "steps": [s]})).stdout)
    out = run(step)
    assert out["error"] is None, out
    assert out["steps"][0]["idPayload"]["cognito:username"] == user
    sessions = [d["request"]["session"] for d in trig.host.events("define", userPoolId=pool)]
    names = lambda h: [(c["challengeName"], c["challengeResult"]) for c in h]  # noqa: E731
    assert [names(h) for h in sessions] == [
        [("SRP_A", True)],
        [("SRP_A", True), ("PASSWORD_VERIFIER", True)],
        [("SRP_A", True), ("PASSWORD_VERIFIER", True), ("CUSTOM_CHALLENGE", True)],
    ]
    wrong = run({**step, "password": "Wrong-Passw0rd!"})
    assert wrong["error"]["code"] == "NotAuthorizedException", wrong


def test_custom_auth_never_skips_what_the_user_state_requires(trig):
    """issueTokens after the challenges leads where a password would: a FORCE_CHANGE_PASSWORD
    user must set a new password (and the pool's MFA would come next) before any token."""
    pool, client = trig.pool(**CUSTOM)
    user = make_temp_user(trig.admin, pool)
    step = trig.public.initiate_auth(ClientId=client, AuthFlow="CUSTOM_AUTH", AuthParameters={"USERNAME": user})
    out = trig.public.respond_to_auth_challenge(
        ClientId=client, ChallengeName="CUSTOM_CHALLENGE", Session=step["Session"],
        ChallengeResponses={"USERNAME": user, "ANSWER": custom_code(trig, pool, 1)})
    assert out["ChallengeName"] == "NEW_PASSWORD_REQUIRED" and "AuthenticationResult" not in out


def test_custom_auth_needs_its_triggers_and_the_flow(trig):
    pool, client = trig.pool(PreSignUp="presignup")
    user = make_user(trig.admin, pool)
    with raises_code("InvalidParameterException") as e:
        trig.public.initiate_auth(ClientId=client, AuthFlow="CUSTOM_AUTH", AuthParameters={"USERNAME": user})
    assert e.value.response["Error"]["Message"] == "Custom auth lambda trigger is not configured for the user pool."
    pool, _ = trig.pool(**CUSTOM)
    no_custom = make_app_client(trig.admin, pool, flows=["ALLOW_USER_PASSWORD_AUTH"])["ClientId"]
    with raises_code("InvalidParameterException"):
        trig.public.initiate_auth(ClientId=no_custom, AuthFlow="CUSTOM_AUTH",
                                  AuthParameters={"USERNAME": make_user(trig.admin, pool)})


# --- UserMigration ---------------------------------------------------------------------------


def test_user_migration_on_first_sign_in(trig):
    pool, client = trig.pool(UserMigration="usermigration")
    user = unique("legacy-")
    t = trig.public.initiate_auth(ClientId=client, AuthFlow="USER_PASSWORD_AUTH", ClientMetadata={"app": "web"},
                                  AuthParameters={"USERNAME": user, "PASSWORD": "legacy-pw"})
    assert claims(t["AuthenticationResult"]["IdToken"])["name"] == "From Legacy"
    [event] = trig.host.events("usermigration", userPoolId=pool)
    envelope(event, pool, "UserMigration_Authentication", user, client)
    assert event["request"] == {"password": "legacy-pw", "validationData": {"app": "web"}}
    got = trig.admin.admin_get_user(UserPoolId=pool, Username=user)
    assert got["UserStatus"] == "CONFIRMED"
    assert attrs(got["UserAttributes"])["email"] == f"{user}@legacy.example"
    assert attrs(got["UserAttributes"])["email_verified"] == "true"
    # Migrated once: the next sign-ins (password and SRP, with the same password) are the pool's own.
    sign_in(trig.public, client, user, "legacy-pw")
    srp = AWSSRP(username=user, password="legacy-pw", pool_id=pool, client_id=client, client=trig.public)
    assert "IdToken" in srp.authenticate_user()["AuthenticationResult"]
    assert len(trig.host.events("usermigration", userPoolId=pool)) == 1
    with raises_code("NotAuthorizedException"):
        password_auth(trig.public, client, user, "wrong-pw")


def test_user_migration_refusals(trig):
    pool, client = trig.pool(UserMigration="usermigration")
    user = unique("legacy-")
    with raises_code("UserNotFoundException") as e:
        password_auth(trig.public, client, user, "not-the-legacy-pw")
    assert e.value.response["Error"]["Message"] == f"Exception migrating user in app client {client}"
    with raises_code("UserNotFoundException"):
        trig.admin.admin_get_user(UserPoolId=pool, Username=user)
    reset = unique("legacy-reset-")
    with raises_code("PasswordResetRequiredException"):
        password_auth(trig.public, client, reset, "legacy-pw")
    assert trig.admin.admin_get_user(UserPoolId=pool, Username=reset)["UserStatus"] == "RESET_REQUIRED"
    hidden = make_app_client(trig.admin, pool, PreventUserExistenceErrors="ENABLED")["ClientId"]
    with raises_code("NotAuthorizedException") as e:
        password_auth(trig.public, hidden, unique("nobody"), "x")
    assert e.value.response["Error"]["Message"] == "Incorrect username or password."
    # ForgotPassword of a name the legacy store does not know either: the simulated delivery
    # every unknown name gets when existence is hidden, not an error.
    out = trig.public.forgot_password(ClientId=hidden, Username=unique("nobody"))
    assert out["CodeDeliveryDetails"]["DeliveryMedium"] in ("EMAIL", "SMS")
    # The typed passwords are never in the server's log.
    assert "legacy-pw" not in trig.server.log_tail(100000) and "not-the-legacy-pw" not in trig.server.log_tail(100000)


def test_user_migration_on_forgot_password(trig):
    pool, client = trig.pool(UserMigration="usermigration")
    user = unique("legacy-")
    out = trig.public.forgot_password(ClientId=client, Username=user)
    assert out["CodeDeliveryDetails"]["AttributeName"] == "email"
    [event] = trig.host.events("usermigration", userPoolId=pool)
    envelope(event, pool, "UserMigration_ForgotPassword", user, client)
    assert "password" not in event["request"]
    assert trig.admin.admin_get_user(UserPoolId=pool, Username=user)["UserStatus"] == "RESET_REQUIRED"
    trig.public.confirm_forgot_password(ClientId=client, Username=user, Password="N3w-Passw0rd!x",
                                        ConfirmationCode=trig.outbox.code(pool, user))
    sign_in(trig.public, client, user, "N3w-Passw0rd!x")


# --- CustomMessage ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mail_trig(trig, tmp_path_factory):
    """A second Janus on the same Lambda host that sends mail to a real SMTP server."""
    from aiosmtpd.controller import Controller
    from test_smtp import Mailbox

    mailbox, port = Mailbox(), free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        server = start_janus(tmp_path_factory.mktemp("janus-trigger-mail"), extra_env={
            "JANUS_LAMBDA_ENDPOINT": trig.host.endpoint, "JANUS_SMTP_HOST": "127.0.0.1",
            "JANUS_SMTP_PORT": str(port), "JANUS_SMTP_SECURITY": "none", "JANUS_SMTP_FROM": "no-reply@example.com"})
        try:
            yield Triggers(server, trig.host), mailbox
        finally:
            assert stop_janus(server) == 0, server.log_tail()
    finally:
        controller.stop()


def test_custom_message_writes_the_mail_that_arrives(mail_trig):
    t, mailbox = mail_trig
    pool, client = t.pool(CustomMessage="custommessage")
    user = unique("u")
    email = f"{user}@example.com"
    t.public.sign_up(ClientId=client, Username=user, Password=GOOD_PASSWORD, UserAttributes=attr_list(email=email),
                     ClientMetadata={"brand": "acme"})
    mail = mailbox.wait_for(email)
    assert mail.message["Subject"] == "Welcome to Acme"
    code = re.search(r"Your code is (\d{6})\.", mail.body).group(1)
    t.public.confirm_sign_up(ClientId=client, Username=user, ConfirmationCode=code)
    [event] = t.host.events("custommessage", userPoolId=pool, triggerSource="CustomMessage_SignUp")
    envelope(event, pool, "CustomMessage_SignUp", user, client)
    assert event["request"]["codeParameter"] == "{####}" and event["request"]["usernameParameter"] is None
    assert event["request"]["clientMetadata"] == {"brand": "acme"}
    assert event["request"]["userAttributes"]["email"] == email
    assert event["response"] == {"smsMessage": None, "emailMessage": None, "emailSubject": None}
    # The invitation carries the user name and the temporary password where the function put them.
    invited = unique("inv")
    seen = mailbox.count()
    t.admin.admin_create_user(UserPoolId=pool, Username=invited, TemporaryPassword="Temp-Passw0rd!x",
                              DesiredDeliveryMediums=["EMAIL"],
                              UserAttributes=attr_list(email=f"{invited}@example.com"))
    invitation = mailbox.wait_for(f"{invited}@example.com", after=seen)
    assert invitation.body.strip() == f"Hello {invited}, your temporary password is Temp-Passw0rd!x"
    # A message without the code placeholder is not used: the pool's own text carries the code.
    seen = mailbox.count()
    t.public.forgot_password(ClientId=client, Username=user)
    reset = mailbox.wait_for(email, after=seen)
    assert re.search(r"\b\d{6}\b", reset.body) and "Follow the link" not in reset.body


# --- Custom senders ---------------------------------------------------------------------------


def sender_events(trig, function: str, pool: str, source: str, n: int = 1) -> list[tuple[dict, dict]]:
    """The first `n` events of `source` the sender took (it is called asynchronously)."""
    wait_until(f"{function} {source}", lambda: len(trig.host.found(function, userPoolId=pool,
                                                                   triggerSource=source)) >= n)
    return trig.host.found(function, userPoolId=pool, triggerSource=source)


def sender_pool(trig, **settings) -> tuple[str, str]:
    function = {"LambdaVersion": "V1_0"}
    return trig.pool(settings or None, CustomEmailSender={**function, "LambdaArn": LambdaHost.arn("emailsender")},
                     CustomSMSSender={**function, "LambdaArn": LambdaHost.arn("smssender")},
                     KMSKeyID=trig.kms_key, CustomMessage="custommessage")


def test_custom_email_sender_gets_the_code_encrypted_for_the_pools_kms_key(trig):
    pool, client = sender_pool(trig)
    user = unique("u")
    email = f"{user}@example.com"
    trig.public.sign_up(ClientId=client, Username=user, Password=GOOD_PASSWORD,
                        UserAttributes=attr_list(email=email), ClientMetadata={"campaign": "winter"})
    [(event, found)] = sender_events(trig, "emailsender", pool, "CustomEmailSender_SignUp")
    envelope(event, pool, "CustomEmailSender_SignUp", user, client)
    request = event["request"]
    assert set(request) == {"type", "code", "clientMetadata", "userAttributes"}
    assert request["type"] == "customEmailSenderRequestV1"
    assert request["clientMetadata"] == {"campaign": "winter"}
    assert request["userAttributes"]["email"] == email
    assert request["userAttributes"]["cognito:user_status"] == "UNCONFIRMED"
    # An AWS Encryption SDK message (version 1, suite 0x0378, as Cognito's codes begin), bound
    # to the pool; Node's @aws-crypto/client-node decrypted it with a KMS keyring.
    assert request["code"].startswith("AYADe") and re.fullmatch(r"\d{6}", found["code"])
    assert found["encryptionContext"]["userpool-id"] == pool
    assert "aws-crypto-public-key" in found["encryptionContext"]
    # Janus sent nothing itself, and CustomMessage was not asked for a text.
    assert not [m for m in trig.outbox.messages() if m.get("username") == user]
    assert not trig.host.events("custommessage", userPoolId=pool)
    trig.public.confirm_sign_up(ClientId=client, Username=user, ConfirmationCode=found["code"])
    # Password reset: a fresh code, decrypted the same way, resets the password.
    trig.public.forgot_password(ClientId=client, Username=user)
    [(reset, found)] = sender_events(trig, "emailsender", pool, "CustomEmailSender_ForgotPassword")
    assert reset["request"]["code"] != request["code"]
    trig.public.confirm_forgot_password(ClientId=client, Username=user, ConfirmationCode=found["code"],
                                        Password=GOOD_PASSWORD + "2")
    tokens = password_auth(trig.public, client, user, GOOD_PASSWORD + "2")["AuthenticationResult"]
    # A new address is verified with a code the sender delivers; the event names the app
    # client of the access token, and (as Cognito documents) no clientMetadata for this source.
    trig.public.update_user_attributes(AccessToken=tokens["AccessToken"], ClientMetadata={"from": "settings"},
                                       UserAttributes=attr_list(email=f"new-{email}"))
    [(update, found)] = sender_events(trig, "emailsender", pool, "CustomEmailSender_UpdateUserAttribute")
    envelope(update, pool, "CustomEmailSender_UpdateUserAttribute", user, client)
    assert update["request"]["clientMetadata"] is None
    assert update["request"]["userAttributes"]["email"] == f"new-{email}"
    trig.public.verify_user_attribute(AccessToken=tokens["AccessToken"], AttributeName="email", Code=found["code"])
    with urllib.request.urlopen(f"{trig.server.endpoint}/metrics", timeout=5) as r:
        assert 'janus_trigger_calls_total{trigger="CustomEmailSender"}' in r.read().decode()


def test_custom_sms_sender_gets_invitations_with_escaped_temporary_passwords(trig):
    pool, client = sender_pool(trig)
    user, temp = unique("u"), "Temp<Pa55>&word"
    trig.admin.admin_create_user(UserPoolId=pool, Username=user, TemporaryPassword=temp,
                                 DesiredDeliveryMediums=["SMS"],
                                 UserAttributes=attr_list(phone_number="+12065550100", phone_number_verified="true"))
    [(event, found)] = sender_events(trig, "smssender", pool, "CustomSMSSender_AdminCreateUser")
    envelope(event, pool, "CustomSMSSender_AdminCreateUser", user, "CLIENT_ID_NOT_APPLICABLE")
    assert event["request"]["type"] == "customSMSSenderRequestV1"
    assert event["request"]["clientMetadata"] is None
    # Python's aws-encryption-sdk (a strict KMS master key provider) decrypted it; Cognito
    # HTML-escapes a temporary password's reserved characters.
    assert found["code"] == "Temp&lt;Pa55&gt;&amp;word"
    assert html.unescape(found["code"]) == temp
    assert not [m for m in trig.outbox.messages() if m.get("username") == user]
    r = trig.public.initiate_auth(ClientId=client, AuthFlow="USER_PASSWORD_AUTH",
                                  AuthParameters={"USERNAME": user, "PASSWORD": temp})
    assert r["ChallengeName"] == "NEW_PASSWORD_REQUIRED"


def test_a_custom_sender_that_cannot_get_a_data_key_refuses_with_cognitos_error(trig):
    # A key KMS has never heard of: GenerateDataKey fails, the caller hears why (by KMS's
    # error's name), and no code is left to reach anybody.
    missing = trig.kms_key.rsplit("/", 1)[0] + "/00000000-0000-4000-8000-000000000000"
    function = {"LambdaVersion": "V1_0", "LambdaArn": LambdaHost.arn("emailsender")}
    pool, client = trig.pool(CustomEmailSender=function, KMSKeyID=missing)
    user = unique("u")
    trig.admin.admin_create_user(UserPoolId=pool, Username=user, MessageAction="SUPPRESS",
                                 UserAttributes=attr_list(email=f"{user}@example.com", email_verified="true"))
    trig.admin.admin_set_user_password(UserPoolId=pool, Username=user, Password=GOOD_PASSWORD, Permanent=True)
    with raises_code("UnexpectedLambdaException") as e:
        trig.public.forgot_password(ClientId=client, Username=user)
    assert e.value.response["Error"]["Message"] == \
        "CustomEmailSender invocation failed due to error KMSNotFoundException."
    # The code is sealed before anything is written: a refused sign-up or invitation leaves
    # no user behind.
    for create in (lambda n: trig.public.sign_up(ClientId=client, Username=n, Password=GOOD_PASSWORD,
                                                 UserAttributes=attr_list(email=f"{n}@example.com")),
                   lambda n: trig.admin.admin_create_user(UserPoolId=pool, Username=n, DesiredDeliveryMediums=["EMAIL"],
                                                          UserAttributes=attr_list(email=f"{n}@example.com"))):
        name = unique("n")
        with raises_code("UnexpectedLambdaException"):
            create(name)
        with raises_code("UserNotFoundException"):
            trig.admin.admin_get_user(UserPoolId=pool, Username=name)
    assert not trig.host.found("emailsender", userPoolId=pool)
    with urllib.request.urlopen(f"{trig.server.endpoint}/health", timeout=5) as r:
        assert r.status == 200


def test_calls_to_aws_are_signed_with_a_shared_credentials_file_profile(trig, tmp_path):
    # No access keys in the environment: the AWS SDKs' chain finds the profile's keys. moto
    # routes an unsigned request to its S3, so a code that reaches the sender proves that
    # GenerateDataKey went out signed.
    creds = tmp_path / "credentials"
    creds.write_text("[default]\naws_access_key_id = wrong\naws_secret_access_key = wrong\n\n"
                     "[janus-triggers]\naws_access_key_id = AKIAJANUSPROFILE\naws_secret_access_key = s3cret\n")
    server = start_janus(tmp_path / "janus", extra_env={
        "JANUS_LAMBDA_ENDPOINT": trig.host.endpoint, "JANUS_SENDER_KMS_ENDPOINT": trig.moto,
        "AWS_SHARED_CREDENTIALS_FILE": str(creds), "AWS_PROFILE": "janus-triggers",
        "AWS_CONFIG_FILE": str(tmp_path / "none"), "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": ""})
    try:
        t = Triggers(server, trig.host)
        t.kms_key = trig.kms_key
        pool, client = sender_pool(t)
        user = unique("u")
        t.public.sign_up(ClientId=client, Username=user, Password=GOOD_PASSWORD,
                         UserAttributes=attr_list(email=f"{user}@example.com"))
        [(_, found)] = sender_events(t, "emailsender", pool, "CustomEmailSender_SignUp")
        t.public.confirm_sign_up(ClientId=client, Username=user, ConfirmationCode=found["code"])
    finally:
        assert stop_janus(server) == 0, server.log_tail()


# --- Failures --------------------------------------------------------------------------------


@pytest.mark.parametrize("function, code, message", [
    ("malformed", "InvalidLambdaResponseException", "Unrecognizable lambda output"),
    ("slow", "UnexpectedLambdaException",
     "PreSignUp invocation failed due to error Socket timeout while invoking Lambda function."),
    ("not-deployed", "UnexpectedLambdaException",
     "PreSignUp invocation failed due to error ResourceNotFoundException."),
])
def test_a_broken_function_refuses_cleanly_and_writes_nothing(trig, function, code, message):
    pool, client = trig.pool(PreSignUp=function)
    user = unique("u")
    started = time.monotonic()
    with raises_code(code) as e:
        trig.public.sign_up(ClientId=client, Username=user, Password=GOOD_PASSWORD,
                            UserAttributes=attr_list(email=f"{user}@example.com"))
    took = time.monotonic() - started
    assert e.value.response["Error"]["Message"] == message
    assert took < 2 * TIMEOUT_MS / 1000 + 3, f"bounded by the attempts' deadlines ({took:.1f}s)"
    with raises_code("UserNotFoundException"):
        trig.admin.admin_get_user(UserPoolId=pool, Username=user)
    if function == "slow":
        assert len(trig.host.events("slow", userPoolId=pool)) == 2, "a timed-out call is tried again, once"
    with urllib.request.urlopen(f"{trig.server.endpoint}/health", timeout=5) as r:
        assert r.status == 200


def test_metrics_count_trigger_calls(trig):
    pool, client = trig.pool(PreSignUp="presignup")
    trig.public.sign_up(ClientId=client, Username=unique("u"), Password=GOOD_PASSWORD,
                        UserAttributes=attr_list(email="m@auto.example"))
    with urllib.request.urlopen(f"{trig.server.endpoint}/metrics", timeout=5) as r:
        text = r.read().decode()
    calls = [line for line in text.splitlines() if line.startswith('janus_trigger_calls_total{trigger="PreSignUp"}')]
    assert calls and float(calls[0].split()[-1]) >= 1
    assert 'janus_trigger_seconds_total{trigger="PreSignUp"}' in text


def test_lambda_config_is_checked(trig):
    arn = LambdaHost.arn("presignup")
    for bad, why in (({"CustomSMSSender": {"LambdaVersion": "V1_0", "LambdaArn": arn}}, "KMSKeyID"),
                     ({"CustomSMSSender": {"LambdaVersion": "V1_0", "LambdaArn": arn}, "KMSKeyID": "alias/custom-sender-codes"},
                      "lambdaConfig.kMSKeyID"),
                     # The model's pattern allows this; its "region" would send KMS calls to
                     # the instance metadata address.
                     ({"CustomSMSSender": {"LambdaVersion": "V1_0", "LambdaArn": arn},
                       "KMSKeyID": "arn:aws:kms:169.254.169.254/latest:123456789012:key/1234abcd-12ab"},
                      "KMSKeyID must name a KMS key"),
                     ({"PreSignUp": "arn:aws:sqs:us-east-1:123456789012:queue"}, None),
                     ({"PreTokenGeneration": arn, "PreTokenGenerationConfig": {"LambdaVersion": "V2_0",
                                                                               "LambdaArn": arn + "x"}}, None)):
        with raises_code("InvalidParameterException") as e:
            trig.admin.create_user_pool(PoolName=unique("bad"), LambdaConfig=bad)
        assert why is None or why in e.value.response["Error"]["Message"]
    pool, _ = trig.pool(PreSignUp="presignup")
    assert trig.admin.describe_user_pool(UserPoolId=pool)["UserPool"]["LambdaConfig"] == {"PreSignUp": arn}


# --- Two regions -----------------------------------------------------------------------------


def test_each_region_calls_its_own_functions_and_the_audit_sees_drift(trig, pair):
    east, west = pair(env={"JANUS_LAMBDA_ENDPOINT": trig.host.endpoint})
    a, w = admin(east.endpoint), admin(west.endpoint)
    pool = a.create_user_pool(PoolName=unique("regional"),
                              LambdaConfig={"PreSignUp": LambdaHost.arn("presignup")})["UserPool"]["Id"]
    client = make_app_client(a, pool)["ClientId"]
    replicate(east, west, pool)
    code, checks = audit(east, west, pool)
    assert checks["triggers"]["result"] == "WARN", "the secondary would call the primary's function"
    w.update_user_pool(UserPoolId=pool, LambdaConfig={})
    wait_until("the secondary's own (empty) triggers",
               lambda: audit(east, west, pool)[1]["triggers"]["result"] == "FAIL")
    code, checks = audit(east, west, pool)
    assert code == 1 and "PreSignUp" in checks["triggers"]["detail"] and checks["triggers"]["action"]
    west_fn = LambdaHost.arn("presignup-west", WEST)
    w.update_user_pool(UserPoolId=pool, LambdaConfig={"PreSignUp": west_fn})
    wait_until("the secondary's own function", lambda: audit(east, west, pool)[1]["triggers"]["result"] == "PASS")
    code, checks = audit(east, west, pool, "--probe-triggers")
    assert checks["trigger answers"]["result"] == "PASS", checks["trigger answers"]
    # (presignup-west runs presignup's handler, which records itself as "presignup".)
    probes = trig.host.events("presignup", userPoolId=pool, userName="janus-audit-probe", region=WEST)
    assert probes and probes[0]["request"]["clientMetadata"] == {"janus:probe": "true"}
    drifted = LambdaHost.arn("presignup-drifted", WEST)
    w.update_user_pool(UserPoolId=pool, LambdaConfig={"PreSignUp": drifted})
    wait_until("the drifted function", lambda: audit(east, west, pool, "--probe-triggers")[1]
               ["trigger answers"]["result"] == "FAIL")
    w.update_user_pool(UserPoolId=pool, LambdaConfig={"PreSignUp": west_fn})
    # The primary region is lost; after the failover the new primary calls its own function.
    stop_janus(east, timeout=20)
    env = dict(os.environ, JANUS_ADMIN_ACCESS_KEY_ID=ACCESS_KEY_ID, JANUS_ADMIN_SECRET_ACCESS_KEY=SECRET_ACCESS_KEY)
    subprocess.run([str(JANUS_BIN), "replica", "promote", "--pool", pool, "--endpoint", west.endpoint],
                   env=env, check=True, capture_output=True, timeout=60)
    user = unique("u")
    public = boto3.client("cognito-idp", endpoint_url=west.endpoint, region_name=WEST,
                          config=Config(signature_version=UNSIGNED, retries={"max_attempts": 1}))
    wait_until("the promoted secondary takes sign-ups", lambda: _signs_up(public, client, user))
    [event] = trig.host.events("presignup", userPoolId=pool, userName=user)
    assert event["region"] == WEST
    assert trig.host.functions("presignup", userPoolId=pool, userName=user) == ["janus-triggers-test-presignup-west"], \
        "the promoted region's own function ran"


def _signs_up(public, client: str, user: str) -> bool:
    try:
        public.sign_up(ClientId=client, Username=user, Password=GOOD_PASSWORD,
                       UserAttributes=attr_list(email=f"{user}@auto.example"))
        return True
    except public.exceptions.ClientError:
        return False
