"""USER_SRP_AUTH → PASSWORD_VERIFIER as pycognito 2024.5.1 does it (AWSSRP and the Cognito
class), with and without a client secret, its NEW_PASSWORD_REQUIRED handling, users whose
name and password are not ASCII, email-as-username pools (USER_ID_FOR_SRP is the sub), and
the errors of the SRP flow. pycognito's Cognito class also verifies the tokens against the
JWKS it fetches from <endpoint>/<pool id>/.well-known/jwks.json."""

import base64

import pytest
from botocore.exceptions import ClientError
from pycognito import Cognito
from pycognito.aws_srp import AWSSRP
from pycognito.exceptions import ForceChangePasswordException

from auth_support import (
    NEW_PASSWORD,
    claims,
    make_app_client,
    make_temp_user,
    make_user,
    password_auth,
)
from support import GOOD_PASSWORD, raises_code, unique

# Letters from several scripts, a combining mark, an emoji; the password also has the ASCII
# classes the default policy requires.
UNICODE_USER = "zoë-ñandú-Ωμέγα-用户-😀"
UNICODE_PASSWORD = "Pässwörd-Ωμ1!用"


@pytest.fixture
def srp(public):
    """srp(pool, client_id, username, password, secret=None) -> pycognito AWSSRP talking to
    Janus through an unsigned boto3 client."""

    def make(pool, client_id, username, password, secret=None):
        return AWSSRP(username=username, password=password, pool_id=pool, client_id=client_id,
                      client=public, client_secret=secret)

    return make


@pytest.fixture
def pyc(janus):
    """pyc(pool, client_id, username, secret=None) -> a pycognito.Cognito for Janus."""

    def make(pool, client_id, username, secret=None):
        return Cognito(pool, client_id, username=username, client_secret=secret,
                       access_key=janus.access_key_id, secret_key=janus.secret_access_key,
                       boto3_client_kwargs={"endpoint_url": janus.endpoint})

    return make


def test_srp_authenticate_user(cognito, pool, srp):
    app = make_app_client(cognito, pool)
    user = make_user(cognito, pool, email="srp@example.com")
    tokens = srp(pool, app["ClientId"], user, GOOD_PASSWORD).authenticate_user()
    a = tokens["AuthenticationResult"]
    assert a["TokenType"] == "Bearer"
    assert a["RefreshToken"]
    assert claims(a["IdToken"])["cognito:username"] == user
    assert claims(a["IdToken"])["email"] == "srp@example.com"
    assert claims(a["AccessToken"])["client_id"] == app["ClientId"]


def test_srp_with_default_client_flows(cognito, pool, srp):
    # A client created without ExplicitAuthFlows allows SRP.
    app = make_app_client(cognito, pool, flows=[])
    user = make_user(cognito, pool)
    tokens = srp(pool, app["ClientId"], user, GOOD_PASSWORD).authenticate_user()
    assert claims(tokens["AuthenticationResult"]["AccessToken"])["username"] == user


def test_srp_with_client_secret(cognito, pool, srp):
    app = make_app_client(cognito, pool, secret=True)
    user = make_user(cognito, pool)
    tokens = srp(pool, app["ClientId"], user, GOOD_PASSWORD,
                 secret=app["ClientSecret"]).authenticate_user()
    assert claims(tokens["AuthenticationResult"]["IdToken"])["aud"] == app["ClientId"]
    # Without the secret the first step is refused.
    with raises_code("NotAuthorizedException"):
        srp(pool, app["ClientId"], user, GOOD_PASSWORD).authenticate_user()
    # With a wrong secret too.
    with raises_code("NotAuthorizedException"):
        srp(pool, app["ClientId"], user, GOOD_PASSWORD, secret="x" * 52).authenticate_user()


def test_srp_wrong_password(cognito, pool, srp):
    app = make_app_client(cognito, pool)
    user = make_user(cognito, pool)
    with raises_code("NotAuthorizedException") as info:
        srp(pool, app["ClientId"], user, "Wr0ng-Password!").authenticate_user()
    assert info.value.response["Error"]["Message"] == "Incorrect username or password."


def test_srp_unknown_user_legacy(cognito, pool, srp):
    app = make_app_client(cognito, pool, PreventUserExistenceErrors="LEGACY")
    with raises_code("UserNotFoundException"):
        srp(pool, app["ClientId"], "nobody-" + unique(), GOOD_PASSWORD).authenticate_user()


def test_srp_unknown_user_prevent_existence_errors(cognito, public, pool, srp):
    # With PreventUserExistenceErrors the first step answers as for a real user; the proof
    # then fails like a wrong password.
    app = make_app_client(cognito, pool, PreventUserExistenceErrors="ENABLED")
    aws = srp(pool, app["ClientId"], "nobody-" + unique(), GOOD_PASSWORD)
    first = public.initiate_auth(AuthFlow="USER_SRP_AUTH", ClientId=app["ClientId"],
                                 AuthParameters=aws.get_auth_params())
    assert first["ChallengeName"] == "PASSWORD_VERIFIER"
    assert set(first["ChallengeParameters"]) >= {"SALT", "SRP_B", "SECRET_BLOCK", "USER_ID_FOR_SRP"}
    with raises_code("NotAuthorizedException") as info:
        aws.authenticate_user()
    assert info.value.response["Error"]["Message"] == "Incorrect username or password."


def test_srp_challenge_parameters(cognito, public, pool, srp):
    app = make_app_client(cognito, pool)
    user = make_user(cognito, pool)
    aws = srp(pool, app["ClientId"], user, GOOD_PASSWORD)
    r = public.initiate_auth(AuthFlow="USER_SRP_AUTH", ClientId=app["ClientId"],
                             AuthParameters=aws.get_auth_params())
    assert r["ChallengeName"] == "PASSWORD_VERIFIER"
    p = r["ChallengeParameters"]
    assert p["USER_ID_FOR_SRP"] == user
    assert p["USERNAME"] == user
    int(p["SALT"], 16), int(p["SRP_B"], 16)  # hex
    base64.b64decode(p["SECRET_BLOCK"], validate=True)
    assert int(p["SRP_B"], 16) % aws.big_n != 0
    # The salt is the user's: the same on every attempt; B is fresh each time.
    again = public.initiate_auth(AuthFlow="USER_SRP_AUTH", ClientId=app["ClientId"],
                                 AuthParameters=aws.get_auth_params())["ChallengeParameters"]
    assert again["SALT"] == p["SALT"]
    assert again["SRP_B"] != p["SRP_B"]


def test_srp_tampered_secret_block(cognito, public, pool, srp):
    app = make_app_client(cognito, pool)
    user = make_user(cognito, pool)
    aws = srp(pool, app["ClientId"], user, GOOD_PASSWORD)
    params = aws.get_auth_params()
    r = public.initiate_auth(AuthFlow="USER_SRP_AUTH", ClientId=app["ClientId"], AuthParameters=params)
    block = bytearray(base64.b64decode(r["ChallengeParameters"]["SECRET_BLOCK"]))
    block[len(block) // 2] ^= 1
    cp = dict(r["ChallengeParameters"], SECRET_BLOCK=base64.b64encode(bytes(block)).decode())
    responses = aws.process_challenge(cp, params)
    with raises_code("NotAuthorizedException"):
        public.respond_to_auth_challenge(ClientId=app["ClientId"], ChallengeName="PASSWORD_VERIFIER",
                                         ChallengeResponses=responses)
    # The untouched block still completes.
    responses = aws.process_challenge(r["ChallengeParameters"], params)
    done = public.respond_to_auth_challenge(ClientId=app["ClientId"], ChallengeName="PASSWORD_VERIFIER",
                                            ChallengeResponses=responses)
    assert "AuthenticationResult" in done


def test_srp_secret_block_bound_to_client(cognito, public, pool, srp):
    app = make_app_client(cognito, pool)
    other = make_app_client(cognito, pool)
    user = make_user(cognito, pool)
    aws = srp(pool, app["ClientId"], user, GOOD_PASSWORD)
    params = aws.get_auth_params()
    r = public.initiate_auth(AuthFlow="USER_SRP_AUTH", ClientId=app["ClientId"], AuthParameters=params)
    responses = aws.process_challenge(r["ChallengeParameters"], params)
    with raises_code("NotAuthorizedException"):
        public.respond_to_auth_challenge(ClientId=other["ClientId"], ChallengeName="PASSWORD_VERIFIER",
                                         ChallengeResponses=responses)


def test_srp_missing_srp_a(cognito, public, pool):
    app = make_app_client(cognito, pool)
    with raises_code("InvalidParameterException"):
        public.initiate_auth(AuthFlow="USER_SRP_AUTH", ClientId=app["ClientId"],
                             AuthParameters={"USERNAME": "someone"})


def test_srp_disabled_user(cognito, pool, srp):
    app = make_app_client(cognito, pool)
    user = make_user(cognito, pool)
    cognito.admin_disable_user(UserPoolId=pool, Username=user)
    with raises_code("NotAuthorizedException") as info:
        srp(pool, app["ClientId"], user, GOOD_PASSWORD).authenticate_user()
    assert info.value.response["Error"]["Message"] == "User is disabled."


def test_srp_unconfirmed_user(cognito, public, pool, srp):
    app = make_app_client(cognito, pool)
    user = unique("su")
    public.sign_up(ClientId=app["ClientId"], Username=user, Password=GOOD_PASSWORD)
    with raises_code("UserNotConfirmedException"):
        srp(pool, app["ClientId"], user, GOOD_PASSWORD).authenticate_user()


def test_srp_lockout(cognito, pool, srp):
    app = make_app_client(cognito, pool)
    user = make_user(cognito, pool)
    for _ in range(5):
        with raises_code("NotAuthorizedException"):
            srp(pool, app["ClientId"], user, "Wr0ng-Password!").authenticate_user()
    with raises_code("NotAuthorizedException") as info:
        srp(pool, app["ClientId"], user, GOOD_PASSWORD).authenticate_user()
    assert info.value.response["Error"]["Message"] == "Password attempts exceeded"


def test_srp_after_password_change(cognito, pool, srp):
    # The SRP verifier follows the password (AdminSetUserPassword).
    app = make_app_client(cognito, pool)
    user = make_user(cognito, pool)
    cognito.admin_set_user_password(UserPoolId=pool, Username=user, Password=NEW_PASSWORD,
                                    Permanent=True)
    with raises_code("NotAuthorizedException"):
        srp(pool, app["ClientId"], user, GOOD_PASSWORD).authenticate_user()
    assert "AuthenticationResult" in srp(pool, app["ClientId"], user, NEW_PASSWORD).authenticate_user()


# --- NEW_PASSWORD_REQUIRED through SRP ---------------------------------------------------


def test_srp_force_change_password_raises(cognito, pool, srp):
    app = make_app_client(cognito, pool)
    user = make_temp_user(cognito, pool)
    with pytest.raises(ForceChangePasswordException):
        srp(pool, app["ClientId"], user, GOOD_PASSWORD).authenticate_user()


def test_srp_set_new_password_challenge(cognito, pool, srp):
    app = make_app_client(cognito, pool)
    user = make_temp_user(cognito, pool, email="fc@example.com")
    done = srp(pool, app["ClientId"], user, GOOD_PASSWORD).set_new_password_challenge(NEW_PASSWORD)
    a = done["AuthenticationResult"]
    assert claims(a["IdToken"])["cognito:username"] == user
    assert cognito.admin_get_user(UserPoolId=pool, Username=user)["UserStatus"] == "CONFIRMED"
    assert "AuthenticationResult" in srp(pool, app["ClientId"], user, NEW_PASSWORD).authenticate_user()


def test_srp_set_new_password_challenge_with_secret(cognito, pool, srp):
    app = make_app_client(cognito, pool, secret=True)
    user = make_temp_user(cognito, pool)
    done = srp(pool, app["ClientId"], user, GOOD_PASSWORD,
               secret=app["ClientSecret"]).set_new_password_challenge(NEW_PASSWORD)
    assert claims(done["AuthenticationResult"]["AccessToken"])["username"] == user


def test_pycognito_new_password_challenge(cognito, pool, pyc):
    app = make_app_client(cognito, pool)
    user = make_temp_user(cognito, pool, email="pyc@example.com")
    u = pyc(pool, app["ClientId"], user)
    u.new_password_challenge(GOOD_PASSWORD, NEW_PASSWORD)
    # pycognito verified both tokens (signature, iss, aud, token_use) with the pool's JWKS.
    assert u.id_claims["cognito:username"] == user
    assert u.access_claims["token_use"] == "access"
    assert u.refresh_token
    u2 = pyc(pool, app["ClientId"], user)
    u2.authenticate(password=NEW_PASSWORD)
    assert u2.access_claims["username"] == user


# --- pycognito's Cognito class end to end ----------------------------------------------


def test_pycognito_session(cognito, pool, pyc):
    app = make_app_client(cognito, pool, secret=True)
    user = make_user(cognito, pool, email="flow@example.com", given_name="Flo")
    u = pyc(pool, app["ClientId"], user, secret=app["ClientSecret"])
    u.authenticate(password=GOOD_PASSWORD)
    assert u.id_claims["email"] == "flow@example.com"
    assert u.token_type == "Bearer"
    # GetUser through the access token.
    me = u.get_user()
    assert me.given_name == "Flo"
    assert me.sub == u.id_claims["sub"]
    # Refresh (REFRESH_TOKEN_AUTH with SECRET_HASH), verified again by pycognito.
    old_access = u.access_token
    u.renew_access_token()
    assert u.access_token != old_access
    assert u.access_claims["auth_time"] == claims(old_access)["auth_time"]
    # UpdateUserAttributes, ChangePassword.
    u.update_profile({"given_name": "Florence"})
    assert u.get_user().given_name == "Florence"
    u.change_password(GOOD_PASSWORD, NEW_PASSWORD)
    u2 = pyc(pool, app["ClientId"], user, secret=app["ClientSecret"])
    u2.authenticate(password=NEW_PASSWORD)
    # GlobalSignOut: the access token stops working.
    token = u2.access_token
    u2.logout()
    with raises_code("NotAuthorizedException"):
        cognito.get_user(AccessToken=token)


# --- Users whose name and password are not ASCII ----------------------------------------


def test_unicode_username_and_password(cognito, public, pool, srp, pyc):
    app = make_app_client(cognito, pool, secret=True)
    user = make_user(cognito, pool, UNICODE_USER, UNICODE_PASSWORD)
    tokens = srp(pool, app["ClientId"], user, UNICODE_PASSWORD,
                 secret=app["ClientSecret"]).authenticate_user()
    assert claims(tokens["AuthenticationResult"]["IdToken"])["cognito:username"] == UNICODE_USER
    with raises_code("NotAuthorizedException"):
        srp(pool, app["ClientId"], user, UNICODE_PASSWORD[:-1] + "X",
            secret=app["ClientSecret"]).authenticate_user()
    # The same user and password through USER_PASSWORD_AUTH and pycognito's Cognito class.
    r = password_auth(public, app["ClientId"], user, UNICODE_PASSWORD, secret=app["ClientSecret"])
    assert claims(r["AuthenticationResult"]["AccessToken"])["username"] == UNICODE_USER
    u = pyc(pool, app["ClientId"], user, secret=app["ClientSecret"])
    u.authenticate(password=UNICODE_PASSWORD)
    assert u.access_claims["username"] == UNICODE_USER


def test_unicode_new_password_challenge(cognito, pool, srp):
    app = make_app_client(cognito, pool)
    user = make_temp_user(cognito, pool, UNICODE_USER, UNICODE_PASSWORD)
    new = "Ñéw-Pässwörd-2€"
    done = srp(pool, app["ClientId"], user, UNICODE_PASSWORD).set_new_password_challenge(new)
    assert claims(done["AuthenticationResult"]["IdToken"])["cognito:username"] == UNICODE_USER
    assert "AuthenticationResult" in srp(pool, app["ClientId"], user, new).authenticate_user()


# --- Sign-in attributes -----------------------------------------------------------------


def test_srp_email_as_username(cognito, pool_factory, srp):
    # In an email-as-username pool the user name is the sub; the SRP challenge says so in
    # USER_ID_FOR_SRP and USERNAME, and the client computes its proof with it.
    pool = pool_factory(UsernameAttributes=["email"])["Id"]
    app = make_app_client(cognito, pool, secret=True)
    cognito.admin_create_user(UserPoolId=pool, Username="srp.mail@example.com", MessageAction="SUPPRESS")
    cognito.admin_set_user_password(UserPoolId=pool, Username="srp.mail@example.com",
                                    Password=GOOD_PASSWORD, Permanent=True)
    sub = cognito.admin_get_user(UserPoolId=pool, Username="srp.mail@example.com")["Username"]
    tokens = srp(pool, app["ClientId"], "srp.mail@example.com", GOOD_PASSWORD,
                 secret=app["ClientSecret"]).authenticate_user()
    c = claims(tokens["AuthenticationResult"]["AccessToken"])
    assert c["username"] == sub == c["sub"]


def test_srp_case_insensitive_username(cognito, pool_factory, srp):
    # The client may type any case; the challenge names the stored user, whose name the proof uses.
    pool = pool_factory(UsernameConfiguration={"CaseSensitive": False})["Id"]
    app = make_app_client(cognito, pool, secret=True)
    make_user(cognito, pool, "MixedCase")
    tokens = srp(pool, app["ClientId"], "mixedcase", GOOD_PASSWORD,
                 secret=app["ClientSecret"]).authenticate_user()
    assert claims(tokens["AuthenticationResult"]["AccessToken"])["username"] == "MixedCase"


def test_srp_preferred_username_alias(cognito, pool_factory, srp):
    pool = pool_factory(AliasAttributes=["preferred_username"])["Id"]
    app = make_app_client(cognito, pool)
    user = make_user(cognito, pool, "alias-owner", preferred_username="nick")
    tokens = srp(pool, app["ClientId"], "nick", GOOD_PASSWORD).authenticate_user()
    assert claims(tokens["AuthenticationResult"]["AccessToken"])["username"] == user


def test_respond_password_verifier_missing_fields(cognito, public, pool):
    app = make_app_client(cognito, pool)
    with pytest.raises(ClientError) as info:
        public.respond_to_auth_challenge(ClientId=app["ClientId"], ChallengeName="PASSWORD_VERIFIER",
                                         ChallengeResponses={"USERNAME": "x"})
    assert info.value.response["Error"]["Code"] in {"InvalidParameterException",
                                                    "NotAuthorizedException"}
