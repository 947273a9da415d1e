"""Password sign-in with boto3 and the AWS CLI: InitiateAuth (USER_PASSWORD_AUTH),
AdminInitiateAuth (ADMIN_USER_PASSWORD_AUTH, ADMIN_NO_SRP_AUTH), the app client's
ExplicitAuthFlows and SECRET_HASH, the user-state errors (unknown, disabled, unconfirmed,
reset required), NEW_PASSWORD_REQUIRED through (Admin)RespondToAuthChallenge, the lockout
after repeated failures, and refreshing: REFRESH_TOKEN_AUTH / REFRESH_TOKEN and
GetTokensFromRefreshToken (with and without refresh-token rotation)."""

import json
import time

import pytest
from botocore.exceptions import ClientError

from auth_support import (
    NEW_PASSWORD,
    claims,
    make_app_client,
    make_temp_user,
    make_user,
    password_auth,
    secret_hash,
    sign_in,
)
from conftest import CliError
from support import GOOD_PASSWORD, raises_code, unique

# --- USER_PASSWORD_AUTH and the admin password flows ------------------------------------


def test_user_password_auth_returns_tokens(cognito, public, pool):
    app = make_app_client(cognito, pool)
    user = make_user(cognito, pool, email="pw@example.com")
    r = password_auth(public, app["ClientId"], user)
    assert "ChallengeName" not in r
    assert r.get("ChallengeParameters", {}) == {}
    a = r["AuthenticationResult"]
    assert a["TokenType"] == "Bearer"
    assert a["ExpiresIn"] == 3600
    assert set(a) >= {"AccessToken", "IdToken", "RefreshToken"}
    assert a["IdToken"].count(".") == 2 and a["AccessToken"].count(".") == 2
    id_claims, access = claims(a["IdToken"]), claims(a["AccessToken"])
    assert id_claims["cognito:username"] == user
    assert id_claims["email"] == "pw@example.com"
    assert id_claims["aud"] == app["ClientId"]
    assert access["username"] == user
    assert access["client_id"] == app["ClientId"]
    assert id_claims["sub"] == access["sub"]


@pytest.mark.parametrize("flow", ["ADMIN_USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH"])
def test_admin_initiate_auth_password_flows(cognito, pool, flow):
    app = make_app_client(cognito, pool)
    user = make_user(cognito, pool)
    r = cognito.admin_initiate_auth(UserPoolId=pool, ClientId=app["ClientId"], AuthFlow=flow,
                                    AuthParameters={"USERNAME": user, "PASSWORD": GOOD_PASSWORD})
    a = r["AuthenticationResult"]
    assert claims(a["AccessToken"])["username"] == user
    assert a["RefreshToken"]


def test_admin_initiate_auth_legacy_flow_name_on_client(cognito, pool):
    # The legacy ExplicitAuthFlows value ADMIN_NO_SRP_AUTH allows the admin password flow.
    app = make_app_client(cognito, pool, flows=["ADMIN_NO_SRP_AUTH"])
    user = make_user(cognito, pool)
    r = cognito.admin_initiate_auth(UserPoolId=pool, ClientId=app["ClientId"],
                                    AuthFlow="ADMIN_NO_SRP_AUTH",
                                    AuthParameters={"USERNAME": user, "PASSWORD": GOOD_PASSWORD})
    assert "AuthenticationResult" in r


def test_admin_initiate_auth_needs_signature(public, pool, cognito):
    app = make_app_client(cognito, pool)
    with pytest.raises(Exception) as info:
        public.admin_initiate_auth(UserPoolId=pool, ClientId=app["ClientId"],
                                   AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                                   AuthParameters={"USERNAME": "x", "PASSWORD": GOOD_PASSWORD})
    code = getattr(info.value, "response", {}).get("Error", {}).get("Code")
    assert code in {"MissingAuthenticationTokenException", "UnrecognizedClientException",
                    "NotAuthorizedException", "AccessDeniedException",
                    "InvalidSignatureException", "IncompleteSignatureException"}, code


def test_admin_initiate_auth_wrong_pool(cognito, pool_factory):
    p1, p2 = pool_factory()["Id"], pool_factory()["Id"]
    app = make_app_client(cognito, p1)
    with raises_code("ResourceNotFoundException"):
        cognito.admin_initiate_auth(UserPoolId=p2, ClientId=app["ClientId"],
                                    AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                                    AuthParameters={"USERNAME": "x", "PASSWORD": GOOD_PASSWORD})


def test_unknown_client(public):
    with raises_code("ResourceNotFoundException"):
        public.initiate_auth(AuthFlow="USER_PASSWORD_AUTH", ClientId="1example23456789abcdefghij",
                             AuthParameters={"USERNAME": "x", "PASSWORD": GOOD_PASSWORD})


def test_missing_parameters(cognito, public, pool):
    app = make_app_client(cognito, pool)
    with raises_code("InvalidParameterException"):
        public.initiate_auth(AuthFlow="USER_PASSWORD_AUTH", ClientId=app["ClientId"],
                             AuthParameters={"USERNAME": "someone"})
    with raises_code("InvalidParameterException"):
        public.initiate_auth(AuthFlow="USER_PASSWORD_AUTH", ClientId=app["ClientId"],
                             AuthParameters={"PASSWORD": GOOD_PASSWORD})


def test_unsupported_flow(cognito, public, pool):
    app = make_app_client(cognito, pool)
    with raises_code("InvalidParameterException"):
        public.initiate_auth(AuthFlow="NO_SUCH_FLOW", ClientId=app["ClientId"],
                             AuthParameters={"USERNAME": "x", "PASSWORD": GOOD_PASSWORD})


# --- ExplicitAuthFlows ------------------------------------------------------------------


def test_default_flows_refuse_password_auth(cognito, public, pool):
    # Without ExplicitAuthFlows a client allows SRP, refresh and custom auth only.
    app = make_app_client(cognito, pool, flows=[])
    user = make_user(cognito, pool)
    with raises_code("InvalidParameterException") as info:
        password_auth(public, app["ClientId"], user)
    assert "USER_PASSWORD_AUTH" in info.value.response["Error"]["Message"]
    with raises_code("InvalidParameterException"):
        cognito.admin_initiate_auth(UserPoolId=pool, ClientId=app["ClientId"],
                                    AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                                    AuthParameters={"USERNAME": user, "PASSWORD": GOOD_PASSWORD})
    # SRP is allowed: the first step answers PASSWORD_VERIFIER.
    r = public.initiate_auth(AuthFlow="USER_SRP_AUTH", ClientId=app["ClientId"],
                             AuthParameters={"USERNAME": user, "SRP_A": "0" * 767 + "5"})
    assert r["ChallengeName"] == "PASSWORD_VERIFIER"


def test_flow_not_enabled_for_client(cognito, public, pool):
    app = make_app_client(cognito, pool, flows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])
    user = make_user(cognito, pool)
    assert "AuthenticationResult" in password_auth(public, app["ClientId"], user)
    with raises_code("InvalidParameterException"):
        public.initiate_auth(AuthFlow="USER_SRP_AUTH", ClientId=app["ClientId"],
                             AuthParameters={"USERNAME": user, "SRP_A": "0" * 767 + "5"})
    with raises_code("InvalidParameterException"):
        cognito.admin_initiate_auth(UserPoolId=pool, ClientId=app["ClientId"],
                                    AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                                    AuthParameters={"USERNAME": user, "PASSWORD": GOOD_PASSWORD})


def test_admin_flow_refused_on_public_initiate_auth(cognito, public, pool):
    app = make_app_client(cognito, pool)
    user = make_user(cognito, pool)
    with raises_code("InvalidParameterException"):
        public.initiate_auth(AuthFlow="ADMIN_USER_PASSWORD_AUTH", ClientId=app["ClientId"],
                             AuthParameters={"USERNAME": user, "PASSWORD": GOOD_PASSWORD})


# --- SECRET_HASH ------------------------------------------------------------------------


def test_secret_hash_required_and_checked(cognito, public, pool):
    app = make_app_client(cognito, pool, secret=True)
    cid, secret = app["ClientId"], app["ClientSecret"]
    user = make_user(cognito, pool)
    with raises_code("NotAuthorizedException"):
        password_auth(public, cid, user)
    with raises_code("NotAuthorizedException"):
        password_auth(public, cid, user, secret="not-the-secret")
    with raises_code("NotAuthorizedException"):
        public.initiate_auth(AuthFlow="USER_PASSWORD_AUTH", ClientId=cid, AuthParameters={
            "USERNAME": user, "PASSWORD": GOOD_PASSWORD, "SECRET_HASH": "not base64!"})
    a = sign_in(public, cid, user, secret=secret)
    assert claims(a["IdToken"])["aud"] == cid


def test_secret_hash_admin_flow(cognito, pool):
    app = make_app_client(cognito, pool, secret=True)
    cid, secret = app["ClientId"], app["ClientSecret"]
    user = make_user(cognito, pool)
    params = {"USERNAME": user, "PASSWORD": GOOD_PASSWORD}
    with raises_code("NotAuthorizedException"):
        cognito.admin_initiate_auth(UserPoolId=pool, ClientId=cid,
                                    AuthFlow="ADMIN_USER_PASSWORD_AUTH", AuthParameters=params)
    params["SECRET_HASH"] = secret_hash(secret, user, cid)
    r = cognito.admin_initiate_auth(UserPoolId=pool, ClientId=cid,
                                    AuthFlow="ADMIN_USER_PASSWORD_AUTH", AuthParameters=params)
    assert "AuthenticationResult" in r


# --- User states ------------------------------------------------------------------------


def test_wrong_password(cognito, public, pool):
    app = make_app_client(cognito, pool)
    user = make_user(cognito, pool)
    with raises_code("NotAuthorizedException") as info:
        password_auth(public, app["ClientId"], user, "Wr0ng-Password!")
    assert info.value.response["Error"]["Message"] == "Incorrect username or password."


def test_unknown_user_legacy(cognito, public, pool):
    app = make_app_client(cognito, pool, PreventUserExistenceErrors="LEGACY")
    with raises_code("UserNotFoundException") as info:
        password_auth(public, app["ClientId"], "nobody-" + unique())
    assert info.value.response["Error"]["Message"] == "User does not exist."
    with raises_code("UserNotFoundException"):
        cognito.admin_initiate_auth(UserPoolId=pool, ClientId=app["ClientId"],
                                    AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                                    AuthParameters={"USERNAME": "nobody", "PASSWORD": GOOD_PASSWORD})


def test_unknown_user_prevent_existence_errors(cognito, public, pool):
    app = make_app_client(cognito, pool, PreventUserExistenceErrors="ENABLED")
    with raises_code("NotAuthorizedException") as info:
        password_auth(public, app["ClientId"], "nobody-" + unique())
    assert info.value.response["Error"]["Message"] == "Incorrect username or password."
    with raises_code("NotAuthorizedException"):
        cognito.admin_initiate_auth(UserPoolId=pool, ClientId=app["ClientId"],
                                    AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                                    AuthParameters={"USERNAME": "nobody", "PASSWORD": GOOD_PASSWORD})


def test_disabled_user(cognito, public, pool):
    app = make_app_client(cognito, pool)
    user = make_user(cognito, pool)
    cognito.admin_disable_user(UserPoolId=pool, Username=user)
    with raises_code("NotAuthorizedException") as info:
        password_auth(public, app["ClientId"], user)
    assert info.value.response["Error"]["Message"] == "User is disabled."
    cognito.admin_enable_user(UserPoolId=pool, Username=user)
    assert "AuthenticationResult" in password_auth(public, app["ClientId"], user)


def test_unconfirmed_user(cognito, public, pool):
    app = make_app_client(cognito, pool)
    user = unique("su")
    public.sign_up(ClientId=app["ClientId"], Username=user, Password=GOOD_PASSWORD)
    with raises_code("UserNotConfirmedException"):
        password_auth(public, app["ClientId"], user)
    # A wrong password is just a wrong password.
    with raises_code("NotAuthorizedException"):
        password_auth(public, app["ClientId"], user, "Wr0ng-Password!")
    cognito.admin_confirm_sign_up(UserPoolId=pool, Username=user)
    assert "AuthenticationResult" in password_auth(public, app["ClientId"], user)


def test_reset_required_user(cognito, public, pool):
    app = make_app_client(cognito, pool)
    user = make_user(cognito, pool, email="reset@example.com", email_verified="true")
    cognito.admin_reset_user_password(UserPoolId=pool, Username=user)
    assert cognito.admin_get_user(UserPoolId=pool, Username=user)["UserStatus"] == "RESET_REQUIRED"
    with raises_code("PasswordResetRequiredException"):
        password_auth(public, app["ClientId"], user)


def test_sign_in_with_email_as_username(cognito, public, pool_factory):
    pool = pool_factory(UsernameAttributes=["email"])["Id"]
    app = make_app_client(cognito, pool)
    cognito.admin_create_user(UserPoolId=pool, Username="Mail@Example.com", MessageAction="SUPPRESS")
    cognito.admin_set_user_password(UserPoolId=pool, Username="Mail@Example.com",
                                    Password=GOOD_PASSWORD, Permanent=True)
    a = sign_in(public, app["ClientId"], "mail@example.com")
    c = claims(a["AccessToken"])
    # The user name of an email-as-username pool is the sub.
    assert c["username"] == c["sub"]
    assert claims(a["IdToken"])["email"].lower() == "mail@example.com"


def test_username_case_insensitive_pool(cognito, public, pool_factory):
    pool = pool_factory(UsernameConfiguration={"CaseSensitive": False})["Id"]
    app = make_app_client(cognito, pool)
    make_user(cognito, pool, "CamelCase")
    a = sign_in(public, app["ClientId"], "camelcase")
    assert claims(a["AccessToken"])["username"] == "CamelCase"


# --- NEW_PASSWORD_REQUIRED --------------------------------------------------------------


def test_new_password_required_challenge(cognito, public, pool):
    app = make_app_client(cognito, pool)
    user = make_temp_user(cognito, pool, email="np@example.com", given_name="Np")
    r = password_auth(public, app["ClientId"], user)
    assert r["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    assert "AuthenticationResult" not in r
    assert r["Session"]
    p = r["ChallengeParameters"]
    assert p["USER_ID_FOR_SRP"] == user
    assert json.loads(p["requiredAttributes"]) == []
    shown = json.loads(p["userAttributes"])
    assert shown["email"] == "np@example.com"
    assert shown["given_name"] == "Np"

    done = public.respond_to_auth_challenge(
        ClientId=app["ClientId"], ChallengeName="NEW_PASSWORD_REQUIRED", Session=r["Session"],
        ChallengeResponses={"USERNAME": user, "NEW_PASSWORD": NEW_PASSWORD})
    a = done["AuthenticationResult"]
    assert claims(a["IdToken"])["cognito:username"] == user
    assert a["RefreshToken"]
    assert cognito.admin_get_user(UserPoolId=pool, Username=user)["UserStatus"] == "CONFIRMED"
    # The new password works, the temporary one does not.
    assert "AuthenticationResult" in password_auth(public, app["ClientId"], user, NEW_PASSWORD)
    with raises_code("NotAuthorizedException"):
        password_auth(public, app["ClientId"], user, GOOD_PASSWORD)
    # The challenge session is spent.
    with raises_code("NotAuthorizedException"):
        public.respond_to_auth_challenge(
            ClientId=app["ClientId"], ChallengeName="NEW_PASSWORD_REQUIRED", Session=r["Session"],
            ChallengeResponses={"USERNAME": user, "NEW_PASSWORD": "An0ther-Passw0rd!"})


def test_new_password_required_errors(cognito, public, pool):
    app = make_app_client(cognito, pool)
    user = make_temp_user(cognito, pool)
    r = password_auth(public, app["ClientId"], user)
    respond = public.respond_to_auth_challenge
    with raises_code("InvalidPasswordException"):
        respond(ClientId=app["ClientId"], ChallengeName="NEW_PASSWORD_REQUIRED", Session=r["Session"],
                ChallengeResponses={"USERNAME": user, "NEW_PASSWORD": "short"})
    with raises_code("NotAuthorizedException"):
        respond(ClientId=app["ClientId"], ChallengeName="NEW_PASSWORD_REQUIRED",
                Session="x" * 64, ChallengeResponses={"USERNAME": user, "NEW_PASSWORD": NEW_PASSWORD})
    with raises_code("InvalidParameterException"):
        respond(ClientId=app["ClientId"], ChallengeName="NEW_PASSWORD_REQUIRED", Session=r["Session"],
                ChallengeResponses={"USERNAME": user})
    # A session is bound to its app client.
    other = make_app_client(cognito, pool)
    with raises_code("NotAuthorizedException"):
        respond(ClientId=other["ClientId"], ChallengeName="NEW_PASSWORD_REQUIRED", Session=r["Session"],
                ChallengeResponses={"USERNAME": user, "NEW_PASSWORD": NEW_PASSWORD})
    # After the failures the same session still completes.
    done = respond(ClientId=app["ClientId"], ChallengeName="NEW_PASSWORD_REQUIRED", Session=r["Session"],
                   ChallengeResponses={"USERNAME": user, "NEW_PASSWORD": NEW_PASSWORD})
    assert "AuthenticationResult" in done


def test_new_password_required_sets_attributes(cognito, public, pool_factory):
    # userAttributes.<name> in the answer sets writable attributes on the way.
    pool = pool_factory(Schema=[{"Name": "name", "AttributeDataType": "String", "Required": True,
                                 "Mutable": True}])["Id"]
    app = make_app_client(cognito, pool)
    user = make_temp_user(cognito, pool, name="Temp Name")
    r = password_auth(public, app["ClientId"], user)
    assert r["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    assert json.loads(r["ChallengeParameters"]["requiredAttributes"]) == []
    done = public.respond_to_auth_challenge(
        ClientId=app["ClientId"], ChallengeName="NEW_PASSWORD_REQUIRED", Session=r["Session"],
        ChallengeResponses={"USERNAME": user, "NEW_PASSWORD": NEW_PASSWORD,
                            "userAttributes.given_name": "Chosen"})
    idc = claims(done["AuthenticationResult"]["IdToken"])
    assert idc["given_name"] == "Chosen" and idc["name"] == "Temp Name"


def test_new_password_required_cannot_modify_provided_required_attribute(cognito, public, pool_factory):
    pool = pool_factory(Schema=[{"Name": "name", "AttributeDataType": "String", "Required": True,
                                 "Mutable": True}])["Id"]
    app = make_app_client(cognito, pool)
    user = make_temp_user(cognito, pool, name="Temp Name")
    r = password_auth(public, app["ClientId"], user)
    with raises_code("InvalidParameterException"):
        public.respond_to_auth_challenge(
            ClientId=app["ClientId"], ChallengeName="NEW_PASSWORD_REQUIRED", Session=r["Session"],
            ChallengeResponses={"USERNAME": user, "NEW_PASSWORD": NEW_PASSWORD,
                                "userAttributes.name": "Chosen Name"})


def test_admin_respond_to_new_password_challenge(cognito, pool):
    app = make_app_client(cognito, pool, secret=True)
    cid, secret = app["ClientId"], app["ClientSecret"]
    user = make_temp_user(cognito, pool)
    r = cognito.admin_initiate_auth(
        UserPoolId=pool, ClientId=cid, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": user, "PASSWORD": GOOD_PASSWORD,
                        "SECRET_HASH": secret_hash(secret, user, cid)})
    assert r["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    with raises_code("NotAuthorizedException"):  # no SECRET_HASH
        cognito.admin_respond_to_auth_challenge(
            UserPoolId=pool, ClientId=cid, ChallengeName="NEW_PASSWORD_REQUIRED",
            Session=r["Session"], ChallengeResponses={"USERNAME": user, "NEW_PASSWORD": NEW_PASSWORD})
    done = cognito.admin_respond_to_auth_challenge(
        UserPoolId=pool, ClientId=cid, ChallengeName="NEW_PASSWORD_REQUIRED", Session=r["Session"],
        ChallengeResponses={"USERNAME": user, "NEW_PASSWORD": NEW_PASSWORD,
                            "SECRET_HASH": secret_hash(secret, user, cid)})
    assert claims(done["AuthenticationResult"]["AccessToken"])["username"] == user


def test_unsupported_challenge(cognito, public, pool):
    app = make_app_client(cognito, pool)
    with raises_code("InvalidParameterException"):
        public.respond_to_auth_challenge(ClientId=app["ClientId"], ChallengeName="NO_SUCH_CHALLENGE",
                                         ChallengeResponses={"USERNAME": "x"})


# --- Lockout ----------------------------------------------------------------------------


def test_lockout_after_five_failures(cognito, public, pool):
    app = make_app_client(cognito, pool)
    user = make_user(cognito, pool)
    for _ in range(5):
        with raises_code("NotAuthorizedException") as info:
            password_auth(public, app["ClientId"], user, "Wr0ng-Password!")
        assert info.value.response["Error"]["Message"] == "Incorrect username or password."
    # Locked now: even the right password is refused, with Cognito's message.
    with raises_code("NotAuthorizedException") as info:
        password_auth(public, app["ClientId"], user)
    assert info.value.response["Error"]["Message"] == "Password attempts exceeded"
    time.sleep(1.2)
    # One second later the right password works again (and clears the count).
    assert "AuthenticationResult" in password_auth(public, app["ClientId"], user)
    with raises_code("NotAuthorizedException") as info:
        password_auth(public, app["ClientId"], user, "Wr0ng-Password!")
    assert info.value.response["Error"]["Message"] == "Incorrect username or password."


# --- Refreshing -------------------------------------------------------------------------


@pytest.mark.parametrize("flow", ["REFRESH_TOKEN_AUTH", "REFRESH_TOKEN"])
def test_refresh_token_auth(cognito, public, pool, flow):
    app = make_app_client(cognito, pool)
    user = make_user(cognito, pool)
    first = sign_in(public, app["ClientId"], user)
    time.sleep(1.05)  # so iat differs
    r = public.initiate_auth(AuthFlow=flow, ClientId=app["ClientId"],
                             AuthParameters={"REFRESH_TOKEN": first["RefreshToken"]})
    a = r["AuthenticationResult"]
    assert "RefreshToken" not in a  # no rotation: the old refresh token stays in use
    assert a["TokenType"] == "Bearer" and a["ExpiresIn"] == 3600
    old, new = claims(first["AccessToken"]), claims(a["AccessToken"])
    assert new["sub"] == old["sub"]
    assert new["auth_time"] == old["auth_time"]
    assert new["iat"] > old["iat"]
    assert new["jti"] != old["jti"]
    assert new["origin_jti"] == old["origin_jti"]
    assert claims(a["IdToken"])["auth_time"] == claims(first["IdToken"])["auth_time"]
    # The refresh token can be used again.
    again = public.initiate_auth(AuthFlow=flow, ClientId=app["ClientId"],
                                 AuthParameters={"REFRESH_TOKEN": first["RefreshToken"]})
    assert "AuthenticationResult" in again


def test_admin_refresh_token_auth(cognito, pool):
    app = make_app_client(cognito, pool)
    user = make_user(cognito, pool)
    first = cognito.admin_initiate_auth(
        UserPoolId=pool, ClientId=app["ClientId"], AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": user, "PASSWORD": GOOD_PASSWORD})["AuthenticationResult"]
    r = cognito.admin_initiate_auth(UserPoolId=pool, ClientId=app["ClientId"],
                                    AuthFlow="REFRESH_TOKEN_AUTH",
                                    AuthParameters={"REFRESH_TOKEN": first["RefreshToken"]})
    assert claims(r["AuthenticationResult"]["AccessToken"])["username"] == user


def test_refresh_with_secret_hash(cognito, public, pool):
    app = make_app_client(cognito, pool, secret=True)
    cid, secret = app["ClientId"], app["ClientSecret"]
    user = make_user(cognito, pool)
    first = sign_in(public, cid, user, secret=secret)
    with raises_code("NotAuthorizedException"):
        public.initiate_auth(AuthFlow="REFRESH_TOKEN_AUTH", ClientId=cid,
                             AuthParameters={"REFRESH_TOKEN": first["RefreshToken"]})
    r = public.initiate_auth(AuthFlow="REFRESH_TOKEN_AUTH", ClientId=cid, AuthParameters={
        "REFRESH_TOKEN": first["RefreshToken"], "SECRET_HASH": secret_hash(secret, user, cid)})
    assert "AuthenticationResult" in r
    # Cognito also accepts the hash computed with the user's sub (the documented workaround
    # for pools whose users sign in with an alias).
    sub = claims(first["AccessToken"])["sub"]
    r = public.initiate_auth(AuthFlow="REFRESH_TOKEN_AUTH", ClientId=cid, AuthParameters={
        "REFRESH_TOKEN": first["RefreshToken"], "SECRET_HASH": secret_hash(secret, sub, cid)})
    assert "AuthenticationResult" in r


def test_refresh_errors(cognito, public, pool):
    app = make_app_client(cognito, pool)
    other = make_app_client(cognito, pool)
    user = make_user(cognito, pool)
    first = sign_in(public, app["ClientId"], user)
    with raises_code("NotAuthorizedException"):
        public.initiate_auth(AuthFlow="REFRESH_TOKEN_AUTH", ClientId=app["ClientId"],
                             AuthParameters={"REFRESH_TOKEN": "not-a-refresh-token"})
    with raises_code("NotAuthorizedException"):  # an access token is no refresh token
        public.initiate_auth(AuthFlow="REFRESH_TOKEN_AUTH", ClientId=app["ClientId"],
                             AuthParameters={"REFRESH_TOKEN": first["AccessToken"]})
    with raises_code("NotAuthorizedException"):  # issued to another client
        public.initiate_auth(AuthFlow="REFRESH_TOKEN_AUTH", ClientId=other["ClientId"],
                             AuthParameters={"REFRESH_TOKEN": first["RefreshToken"]})
    with raises_code("InvalidParameterException"):
        public.initiate_auth(AuthFlow="REFRESH_TOKEN_AUTH", ClientId=app["ClientId"],
                             AuthParameters={})
    # A disabled user cannot refresh.
    cognito.admin_disable_user(UserPoolId=pool, Username=user)
    with raises_code("NotAuthorizedException"):
        public.initiate_auth(AuthFlow="REFRESH_TOKEN_AUTH", ClientId=app["ClientId"],
                             AuthParameters={"REFRESH_TOKEN": first["RefreshToken"]})


def test_refresh_after_user_deleted(cognito, public, pool):
    app = make_app_client(cognito, pool)
    user = make_user(cognito, pool)
    first = sign_in(public, app["ClientId"], user)
    cognito.admin_delete_user(UserPoolId=pool, Username=user)
    with raises_code("NotAuthorizedException"):
        public.initiate_auth(AuthFlow="REFRESH_TOKEN_AUTH", ClientId=app["ClientId"],
                             AuthParameters={"REFRESH_TOKEN": first["RefreshToken"]})


def test_get_tokens_from_refresh_token(cognito, public, pool):
    app = make_app_client(cognito, pool)
    user = make_user(cognito, pool)
    first = sign_in(public, app["ClientId"], user)
    r = public.get_tokens_from_refresh_token(RefreshToken=first["RefreshToken"],
                                             ClientId=app["ClientId"])
    a = r["AuthenticationResult"]
    assert claims(a["AccessToken"])["username"] == user
    assert claims(a["IdToken"])["auth_time"] == claims(first["IdToken"])["auth_time"]
    with raises_code("NotAuthorizedException"):
        public.get_tokens_from_refresh_token(RefreshToken="garbage", ClientId=app["ClientId"])


def test_get_tokens_from_refresh_token_client_secret(cognito, public, pool):
    app = make_app_client(cognito, pool, secret=True)
    cid, secret = app["ClientId"], app["ClientSecret"]
    user = make_user(cognito, pool)
    first = sign_in(public, cid, user, secret=secret)
    with raises_code("NotAuthorizedException"):
        public.get_tokens_from_refresh_token(RefreshToken=first["RefreshToken"], ClientId=cid)
    with raises_code("NotAuthorizedException"):
        public.get_tokens_from_refresh_token(RefreshToken=first["RefreshToken"], ClientId=cid,
                                             ClientSecret="w" * 52)
    r = public.get_tokens_from_refresh_token(RefreshToken=first["RefreshToken"], ClientId=cid,
                                             ClientSecret=secret)
    assert "AccessToken" in r["AuthenticationResult"]


def test_get_tokens_from_refresh_token_rotation(cognito, public, pool):
    app = make_app_client(cognito, pool, RefreshTokenRotation={"Feature": "ENABLED",
                                                               "RetryGracePeriodSeconds": 0})
    user = make_user(cognito, pool)
    first = sign_in(public, app["ClientId"], user)
    r = public.get_tokens_from_refresh_token(RefreshToken=first["RefreshToken"],
                                             ClientId=app["ClientId"])
    a = r["AuthenticationResult"]
    assert a["RefreshToken"] and a["RefreshToken"] != first["RefreshToken"]
    # The new refresh token works.
    again = public.get_tokens_from_refresh_token(RefreshToken=a["RefreshToken"],
                                                 ClientId=app["ClientId"])
    assert again["AuthenticationResult"]["RefreshToken"]


def test_rotated_refresh_token_is_invalidated(cognito, public, pool):
    # Cognito: with rotation, the refresh token that was exchanged stays valid only for
    # RetryGracePeriodSeconds (here 0) after the exchange.
    app = make_app_client(cognito, pool, RefreshTokenRotation={"Feature": "ENABLED",
                                                               "RetryGracePeriodSeconds": 0})
    user = make_user(cognito, pool)
    first = sign_in(public, app["ClientId"], user)
    public.get_tokens_from_refresh_token(RefreshToken=first["RefreshToken"], ClientId=app["ClientId"])
    with raises_code("NotAuthorizedException"):
        public.get_tokens_from_refresh_token(RefreshToken=first["RefreshToken"],
                                             ClientId=app["ClientId"])


def test_rotation_requires_get_tokens_from_refresh_token(cognito, public, pool):
    # Cognito: "Refresh token rotation must be completed with GetTokensFromRefreshToken. With
    # refresh token rotation disabled, you can complete token refresh with ... REFRESH_TOKEN_AUTH".
    app = make_app_client(cognito, pool, RefreshTokenRotation={"Feature": "ENABLED",
                                                               "RetryGracePeriodSeconds": 0})
    user = make_user(cognito, pool)
    first = sign_in(public, app["ClientId"], user)
    with pytest.raises(ClientError) as info:
        public.initiate_auth(AuthFlow="REFRESH_TOKEN_AUTH", ClientId=app["ClientId"],
                             AuthParameters={"REFRESH_TOKEN": first["RefreshToken"]})
    assert info.value.response["Error"]["Code"] in {"InvalidParameterException",
                                                    "NotAuthorizedException"}


# --- The AWS CLI ------------------------------------------------------------------------


def test_cli_initiate_auth(cognito, aws_cli, pool):
    app = make_app_client(cognito, pool)
    user = make_user(cognito, pool)
    out = aws_cli("initiate-auth", "--auth-flow", "USER_PASSWORD_AUTH",
                  "--client-id", app["ClientId"],
                  "--auth-parameters", f"USERNAME={user},PASSWORD={GOOD_PASSWORD}")
    a = out["AuthenticationResult"]
    assert a["TokenType"] == "Bearer"
    assert claims(a["AccessToken"])["username"] == user
    # Refresh through the CLI too.
    out = aws_cli("initiate-auth", "--auth-flow", "REFRESH_TOKEN_AUTH",
                  "--client-id", app["ClientId"],
                  "--auth-parameters", f"REFRESH_TOKEN={a['RefreshToken']}")
    assert claims(out["AuthenticationResult"]["IdToken"])["cognito:username"] == user
    # The CLI reports Cognito's error code for a wrong password.
    with pytest.raises(CliError) as info:
        aws_cli("initiate-auth", "--auth-flow", "USER_PASSWORD_AUTH",
                "--client-id", app["ClientId"],
                "--auth-parameters", f"USERNAME={user},PASSWORD=Wr0ng-Password!")
    assert "NotAuthorizedException" in info.value.stderr
    assert "Incorrect username or password." in info.value.stderr


def test_cli_admin_initiate_auth(cognito, aws_cli, pool):
    app = make_app_client(cognito, pool)
    user = make_user(cognito, pool)
    out = aws_cli("admin-initiate-auth", "--user-pool-id", pool, "--client-id", app["ClientId"],
                  "--auth-flow", "ADMIN_USER_PASSWORD_AUTH",
                  "--auth-parameters", f"USERNAME={user},PASSWORD={GOOD_PASSWORD}")
    assert claims(out["AuthenticationResult"]["AccessToken"])["username"] == user
