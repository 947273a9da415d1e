"""Choice-based sign-in (AuthFlow USER_AUTH) with boto3: SELECT_CHALLENGE and its
AvailableChallenges, PREFERRED_CHALLENGE, PASSWORD, PASSWORD_SRP, EMAIL_OTP and SMS_OTP as
first factors (codes from the development outbox), AllowedFirstAuthFactors on the pool,
ALLOW_USER_AUTH on the client, users with MFA offered the password only, wrong and reused
codes, and GetUserAuthFactors / AdminGetUserAuthFactors. Amplify v6 drives EMAIL_OTP in
test_browser.py's neighbour, conformance/node/amplify-node.mjs."""

from __future__ import annotations

import pytest
from pycognito.aws_srp import AWSSRP

from auth_support import claims, make_app_client, make_user
from mfa_support import enrol_by_access_token, set_mfa
from support import GOOD_PASSWORD, raises_code, unique

CODES = ["PASSWORD", "EMAIL_OTP", "SMS_OTP"]


@pytest.fixture
def choice(cognito, pool_factory):
    """A pool allowing password and codes as first factors, a USER_AUTH client, a user with
    an email address and a phone number."""
    def make(factors=CODES, **user_attrs):
        pool = pool_factory(Policies={"SignInPolicy": {"AllowedFirstAuthFactors": factors}})["Id"]
        client = make_app_client(cognito, pool, flows=["ALLOW_USER_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])["ClientId"]
        attrs = user_attrs or {"email": f"{unique('ua')}@example.com", "phone_number": "+15555550123"}
        return pool, client, make_user(cognito, pool, **attrs)
    return make


def start(public, client: str, user: str, **params):
    return public.initiate_auth(AuthFlow="USER_AUTH", ClientId=client, AuthParameters={"USERNAME": user, **params})


def respond(public, client: str, name: str, session: str, **answers):
    return public.respond_to_auth_challenge(ClientId=client, ChallengeName=name, Session=session,
                                            ChallengeResponses=answers)


def test_select_challenge_lists_what_the_user_can_use(cognito, public, choice):
    pool, client, user = choice()
    r = start(public, client, user)
    assert r["ChallengeName"] == "SELECT_CHALLENGE" and r["Session"]
    assert r["AvailableChallenges"] == ["PASSWORD", "PASSWORD_SRP", "EMAIL_OTP", "SMS_OTP"]
    assert r["ChallengeParameters"] == {}
    done = respond(public, client, "SELECT_CHALLENGE", r["Session"], USERNAME=user, ANSWER="PASSWORD",
                   PASSWORD=GOOD_PASSWORD)
    assert claims(done["AuthenticationResult"]["AccessToken"])["username"] == user
    only_password = choice(["PASSWORD"])
    r = start(public, only_password[1], only_password[2])
    assert r["AvailableChallenges"] == ["PASSWORD", "PASSWORD_SRP"]


def test_email_otp_as_the_first_factor(cognito, public, outbox, choice):
    pool, client, user = choice()
    r = start(public, client, user, PREFERRED_CHALLENGE="EMAIL_OTP")
    assert r["ChallengeName"] == "EMAIL_OTP"
    assert r["ChallengeParameters"]["CODE_DELIVERY_DELIVERY_MEDIUM"] == "EMAIL"
    code = outbox.code(pool, user)
    with raises_code("CodeMismatchException"):
        respond(public, client, "EMAIL_OTP", r["Session"], USERNAME=user, EMAIL_OTP_CODE=f"{(int(code) + 1) % 10**6:06d}")
    done = respond(public, client, "EMAIL_OTP", r["Session"], USERNAME=user, EMAIL_OTP_CODE=code)
    assert done["AuthenticationResult"]["RefreshToken"]
    with raises_code("NotAuthorizedException"):
        respond(public, client, "EMAIL_OTP", r["Session"], USERNAME=user, EMAIL_OTP_CODE=code)  # once
    attrs = {a["Name"]: a["Value"] for a in cognito.admin_get_user(UserPoolId=pool, Username=user)["UserAttributes"]}
    assert attrs["email_verified"] == "true", "the code proved the address"


def test_sms_otp_chosen_from_select_challenge(public, outbox, choice):
    pool, client, user = choice()
    r = start(public, client, user)
    asked = respond(public, client, "SELECT_CHALLENGE", r["Session"], USERNAME=user, ANSWER="SMS_OTP")
    assert asked["ChallengeName"] == "SMS_OTP"
    assert asked["ChallengeParameters"]["CODE_DELIVERY_DELIVERY_MEDIUM"] == "SMS"
    done = respond(public, client, "SMS_OTP", asked["Session"], USERNAME=user, SMS_OTP_CODE=outbox.code(pool, user))
    assert done["AuthenticationResult"]["AccessToken"]


def test_password_srp_through_user_auth(public, choice):
    pool, client, user = choice()
    srp = AWSSRP(username=user, password=GOOD_PASSWORD, pool_id=pool, client_id=client, client=public)
    params = srp.get_auth_params()
    r = start(public, client, user, PREFERRED_CHALLENGE="PASSWORD_SRP", SRP_A=params["SRP_A"])
    assert r["ChallengeName"] == "PASSWORD_VERIFIER"
    answer = srp.process_challenge(r["ChallengeParameters"], params)
    done = public.respond_to_auth_challenge(ClientId=client, ChallengeName="PASSWORD_VERIFIER",
                                            ChallengeResponses=answer)
    assert done["AuthenticationResult"]["AccessToken"]
    direct = start(public, client, user, PREFERRED_CHALLENGE="PASSWORD", PASSWORD=GOOD_PASSWORD)
    assert direct["AuthenticationResult"]["AccessToken"]


def test_a_factor_the_pool_does_not_allow_is_not_offered(public, choice):
    pool, client, user = choice(["PASSWORD"])
    r = start(public, client, user, PREFERRED_CHALLENGE="EMAIL_OTP")
    assert r["ChallengeName"] == "SELECT_CHALLENGE" and "EMAIL_OTP" not in r["AvailableChallenges"]
    with raises_code("InvalidParameterException"):
        respond(public, client, "SELECT_CHALLENGE", r["Session"], USERNAME=user, ANSWER="EMAIL_OTP")


def test_users_with_mfa_sign_in_with_the_password_only(cognito, public, choice):
    pool, client, user = choice()
    set_mfa(cognito, pool, "OPTIONAL")
    token = start(public, client, user, PREFERRED_CHALLENGE="PASSWORD",
                  PASSWORD=GOOD_PASSWORD)["AuthenticationResult"]["AccessToken"]
    enrol_by_access_token(public, token)
    public.set_user_mfa_preference(AccessToken=token, SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True})
    r = start(public, client, user)
    assert r["AvailableChallenges"] == ["PASSWORD", "PASSWORD_SRP"]
    mfa = respond(public, client, "SELECT_CHALLENGE", r["Session"], USERNAME=user, ANSWER="PASSWORD",
                  PASSWORD=GOOD_PASSWORD)
    assert mfa["ChallengeName"] == "SOFTWARE_TOKEN_MFA", "the password is followed by MFA"


def test_user_auth_needs_allow_user_auth(cognito, public, choice):
    pool, _, user = choice()
    plain = make_app_client(cognito, pool)["ClientId"]
    with raises_code("InvalidParameterException") as e:
        start(public, plain, user)
    assert "USER_AUTH flow not enabled for this client" in e.value.response["Error"]["Message"]
    with raises_code("InvalidParameterException"):
        cognito.update_user_pool(UserPoolId=pool, Policies={"SignInPolicy": {"AllowedFirstAuthFactors": ["WEB_AUTHN"]}})


def test_unknown_users(cognito, public, choice):
    pool, client, _ = choice()
    with raises_code("UserNotFoundException"):
        start(public, client, "nobody-here")
    hiding = make_app_client(cognito, pool, flows=["ALLOW_USER_AUTH"], PreventUserExistenceErrors="ENABLED")["ClientId"]
    r = start(public, hiding, "nobody-here")
    assert r["ChallengeName"] == "SELECT_CHALLENGE" and r["AvailableChallenges"] == ["PASSWORD", "PASSWORD_SRP"]
    with raises_code("NotAuthorizedException"):
        respond(public, hiding, "SELECT_CHALLENGE", r["Session"], USERNAME="nobody-here", ANSWER="PASSWORD",
                PASSWORD=GOOD_PASSWORD)


def test_get_user_auth_factors(cognito, public, choice):
    pool, client, user = choice()
    token = start(public, client, user, PREFERRED_CHALLENGE="PASSWORD",
                  PASSWORD=GOOD_PASSWORD)["AuthenticationResult"]["AccessToken"]
    mine = public.get_user_auth_factors(AccessToken=token)
    assert mine["Username"] == user and mine["ConfiguredUserAuthFactors"] == ["PASSWORD", "EMAIL_OTP", "SMS_OTP"]
    admin = cognito.admin_get_user_auth_factors(UserPoolId=pool, Username=user)
    assert admin["ConfiguredUserAuthFactors"] == mine["ConfiguredUserAuthFactors"]
    with raises_code("UserNotFoundException"):
        cognito.admin_get_user_auth_factors(UserPoolId=pool, Username="nobody-here")


def test_passwordless_sign_up_signs_in_with_the_confirmation_session(cognito, public, outbox, pool_factory):
    """SignUp without a password in a pool that signs users in with codes; ConfirmSignUp's
    Session then signs the new user in once (USER_AUTH with it), as Amplify's autoSignIn does."""
    pool = pool_factory(AutoVerifiedAttributes=["email"],
                        Policies={"SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD", "EMAIL_OTP"]}})["Id"]
    client = make_app_client(cognito, pool, flows=["ALLOW_USER_AUTH"])["ClientId"]
    name = unique("pl")
    up = public.sign_up(ClientId=client, Username=name,
                        UserAttributes=[{"Name": "email", "Value": f"{name}@example.com"}])
    assert up["UserConfirmed"] is False and up["Session"]
    confirmed = public.confirm_sign_up(ClientId=client, Username=name, ConfirmationCode=outbox.code(pool, name),
                                       Session=up["Session"])
    auth = public.initiate_auth(AuthFlow="USER_AUTH", ClientId=client, AuthParameters={"USERNAME": name},
                                Session=confirmed["Session"])
    assert claims(auth["AuthenticationResult"]["AccessToken"])["username"] == name
    with raises_code("NotAuthorizedException"):
        public.initiate_auth(AuthFlow="USER_AUTH", ClientId=client, AuthParameters={"USERNAME": name},
                             Session=confirmed["Session"])
    r = start(public, client, name)
    assert r["AvailableChallenges"] == ["EMAIL_OTP"], "no password: codes only"
    plain = pool_factory()["Id"]
    plain_client = make_app_client(cognito, plain)["ClientId"]
    with raises_code("InvalidParameterException"):
        public.sign_up(ClientId=plain_client, Username=unique("pl"))


@pytest.fixture(scope="module")
def amplify_node():
    import json
    import shutil
    import subprocess
    from pathlib import Path

    node = shutil.which("node")
    node_dir = Path(__file__).resolve().parent / "node"
    if node is None or not (node_dir / "node_modules" / "aws-amplify").is_dir():
        pytest.skip("conformance/node has no aws-amplify (run scripts/setup-test-env)")

    def run(**payload) -> dict:
        p = subprocess.run([node, str(node_dir / "amplify-node.mjs")], input=json.dumps(payload),
                           capture_output=True, text=True, timeout=60, cwd=node_dir)
        assert p.returncode == 0, p.stderr
        return json.loads(p.stdout.strip().splitlines()[-1])

    return run


def test_amplify_signs_in_with_an_emailed_code(janus, outbox, choice, amplify_node):
    pool, client, user = choice()
    out = amplify_node(endpoint=janus.endpoint, pool=pool, client=client, username=user, outbox=str(outbox.path),
                       scenario="email-otp")
    assert out.get("signedIn") is True, out
    assert out["steps"] == ["CONFIRM_SIGN_IN_WITH_EMAIL_CODE", "DONE"] and out["username"] == user


def test_amplify_picks_the_password_from_the_first_factor_selection(janus, outbox, choice, amplify_node):
    pool, client, user = choice()
    out = amplify_node(endpoint=janus.endpoint, pool=pool, client=client, username=user, password=GOOD_PASSWORD,
                       outbox=str(outbox.path), scenario="select")
    assert out.get("signedIn") is True, out
    assert out["steps"] == ["CONTINUE_SIGN_IN_WITH_FIRST_FACTOR_SELECTION", "PASSWORD PASSWORD_SRP EMAIL_OTP SMS_OTP",
                            "CONFIRM_SIGN_IN_WITH_PASSWORD", "DONE"], out


def test_amplify_signs_up_without_a_password_and_signs_in_automatically(cognito, janus, outbox, pool_factory,
                                                                        amplify_node):
    pool = pool_factory(AutoVerifiedAttributes=["email"],
                        Policies={"SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD", "EMAIL_OTP"]}})["Id"]
    client = make_app_client(cognito, pool, flows=["ALLOW_USER_AUTH"])["ClientId"]
    name = unique("amp")
    out = amplify_node(endpoint=janus.endpoint, pool=pool, client=client, username=name, email=f"{name}@example.com",
                       outbox=str(outbox.path), scenario="sign-up")
    assert out.get("signedIn") is True, out
    assert out["steps"] == ["CONFIRM_SIGN_UP", "COMPLETE_AUTO_SIGN_IN", "DONE"] and out["username"] == name


def test_the_hosted_sign_in_page_sends_a_code(cognito, janus, outbox, choice):
    """The hosted sign-in page offers "Email me a sign-in code" when the pool allows it; the
    code page signs the user in and the application redeems the authorization code."""
    from urllib.parse import parse_qs, urlparse

    import requests

    from oauth_support import REDIRECT, authorize_url, hidden_fields, oauth_client, pkce, redeem

    pool, _, user = choice()
    client = oauth_client(cognito, pool, scopes=("openid", "email"))["ClientId"]
    base = f"{janus.endpoint}/oauth/{pool}"
    verifier, challenge = pkce()
    s = requests.Session()
    page = s.get(authorize_url(base, client, challenge), timeout=10)
    assert "Email me a sign-in code" in page.text and "Text me a sign-in code" in page.text
    r = s.post(f"{base}/login", data=hidden_fields(page.text) | {"username": user, "method": "EMAIL_OTP"}, timeout=10)
    assert r.status_code == 200 and "Enter the code we sent by email." in r.text, r.text[:600]
    form = hidden_fields(r.text) | {"r.EMAIL_OTP_CODE": outbox.code(pool, user)}
    r = s.post(f"{base}/login/challenge", data=form, allow_redirects=False, timeout=10)
    assert r.status_code == 302, r.text[:600]
    loc = urlparse(r.headers["Location"])
    assert f"{loc.scheme}://{loc.netloc}{loc.path}" == REDIRECT
    tokens = redeem(base, client, parse_qs(loc.query)["code"][0], verifier)
    assert tokens.status_code == 200 and claims(tokens.json()["id_token"])["cognito:username"] == user
    only_password = choice(["PASSWORD"])
    other = oauth_client(cognito, only_password[0])["ClientId"]
    assert "sign-in code" not in s.get(authorize_url(f"{janus.endpoint}/oauth/{only_password[0]}", other,
                                                     challenge), timeout=10).text
