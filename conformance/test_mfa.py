"""MFA (issue 6) with real clients: SetUserPoolMfaConfig/GetUserPoolMfaConfig; TOTP enrolment
by access token (pycognito) and at sign-in (MFA_SETUP, boto3); SOFTWARE_TOKEN_MFA after a
password and after SRP (pycognito raises SoftwareTokenMFAChallengeException and answers it);
SELECT_MFA_TYPE; EMAIL_OTP through a real local SMTP server (aiosmtpd) and SMS_MFA through the
SMS webhook (a small local HTTP server); single use of codes; wrong codes and the lockout;
garbage and tampered Sessions; an administrator disabling a lost token and the user enrolling
again. TOTP codes come from pyotp. Session expiry needs a clock that moves: crates/janus-core/
tests/mfa.rs tests it with a ManualClock."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import pytest
from aiosmtpd.controller import Controller
from botocore import UNSIGNED
from botocore.config import Config
from pycognito import Cognito
from pycognito.exceptions import SoftwareTokenMFAChallengeException

from auth_support import CODE, NEW_PASSWORD, make_app_client, make_temp_user, make_user, password_auth, sign_in
from conftest import start_janus, stop_janus
from mfa_support import (TOTP_ONLY, answer_totp, code, enrol_at_sign_in, enrol_by_access_token,
                         finish_setup, set_mfa, wrong)
from support import GOOD_PASSWORD, raises_code, unique
from test_smtp import Mailbox, free_port


def test_pool_mfa_configuration_round_trip(cognito, pool):
    got = cognito.get_user_pool_mfa_config(UserPoolId=pool)
    assert got["MfaConfiguration"] == "OFF"
    with raises_code("InvalidParameterException"):
        cognito.set_user_pool_mfa_config(UserPoolId=pool, MfaConfiguration="ON")
    r = set_mfa(cognito, pool, "OPTIONAL")
    assert r["MfaConfiguration"] == "OPTIONAL"
    assert r["SoftwareTokenMfaConfiguration"] == {"Enabled": True}
    got = cognito.get_user_pool_mfa_config(UserPoolId=pool)
    assert got["MfaConfiguration"] == "OPTIONAL" and got["SoftwareTokenMfaConfiguration"]["Enabled"]
    assert "SmsMfaConfiguration" not in got
    assert cognito.describe_user_pool(UserPoolId=pool)["UserPool"]["MfaConfiguration"] == "OPTIONAL"


def test_enrol_by_access_token_then_totp_after_password_and_after_srp(cognito, public, pool, janus):
    set_mfa(cognito, pool, "OPTIONAL")
    app = make_app_client(cognito, pool)
    pw_user, srp_user = make_user(cognito, pool), make_user(cognito, pool)
    secrets = {}
    for user in (pw_user, srp_user):
        # pycognito signs in (no MFA yet), associates and verifies, then prefers TOTP.
        u = Cognito(pool, app["ClientId"], username=user, boto3_client_kwargs={"endpoint_url": janus.endpoint})
        u.authenticate(password=GOOD_PASSWORD)
        secret = u.associate_software_token()
        assert len(secret) == 52 and secret.isalnum()
        assert u.verify_software_token(code(secret), "authenticator")
        u.set_user_mfa_preference(False, True, "SOFTWARE_TOKEN")
        me = public.get_user(AccessToken=u.access_token)
        assert me["UserMFASettingList"] == ["SOFTWARE_TOKEN_MFA"]
        assert me["PreferredMfaSetting"] == "SOFTWARE_TOKEN_MFA"
        got = cognito.admin_get_user(UserPoolId=pool, Username=user)
        assert got["UserMFASettingList"] == ["SOFTWARE_TOKEN_MFA"]
        assert got["PreferredMfaSetting"] == "SOFTWARE_TOKEN_MFA"
        secrets[user] = secret
    # Password sign-in: SOFTWARE_TOKEN_MFA, then tokens; the code cannot be used twice.
    r = password_auth(public, app["ClientId"], pw_user)
    assert r["ChallengeName"] == "SOFTWARE_TOKEN_MFA"
    assert r["ChallengeParameters"]["FRIENDLY_DEVICE_NAME"] == "authenticator"
    assert 20 <= len(r["Session"]) <= 4096
    used = code(secrets[pw_user], 1)  # the current step's code verified the token
    assert "AccessToken" in answer_totp(public, app["ClientId"], pw_user, r, used)["AuthenticationResult"]
    again = password_auth(public, app["ClientId"], pw_user)
    with raises_code("ExpiredCodeException"):
        answer_totp(public, app["ClientId"], pw_user, again, used)
    # SRP sign-in with pycognito: the challenge exception, then its answer.
    u = Cognito(pool, app["ClientId"], username=srp_user, boto3_client_kwargs={"endpoint_url": janus.endpoint})
    with pytest.raises(SoftwareTokenMFAChallengeException):
        u.authenticate(password=GOOD_PASSWORD)
    u.respond_to_software_token_mfa_challenge(code(secrets[srp_user], 1))
    assert public.get_user(AccessToken=u.access_token)["Username"] == srp_user
    # The secrets never reach the log.
    log = janus.stderr_path.read_text(errors="replace")
    assert not any(s in log for s in secrets.values())


def test_mfa_setup_at_sign_in_when_required(cognito, public, pool):
    set_mfa(cognito, pool, "ON")
    app = make_app_client(cognito, pool)
    user = make_user(cognito, pool)
    r = password_auth(public, app["ClientId"], user)
    assert r["ChallengeName"] == "MFA_SETUP"
    assert json.loads(r["ChallengeParameters"]["MFAS_CAN_SETUP"]) == ["SOFTWARE_TOKEN_MFA"]
    with raises_code("EnableSoftwareTokenMFAException"):
        a = public.associate_software_token(Session=r["Session"])
        public.verify_software_token(Session=a["Session"], UserCode=wrong(a["SecretCode"]))
    secret, tokens = finish_setup(public, app["ClientId"], user, r)
    assert public.get_user(AccessToken=tokens["AccessToken"])["UserMFASettingList"] == ["SOFTWARE_TOKEN_MFA"]
    # From now on, SOFTWARE_TOKEN_MFA (with the administrator's API too).
    r = cognito.admin_initiate_auth(UserPoolId=pool, ClientId=app["ClientId"], AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                                    AuthParameters={"USERNAME": user, "PASSWORD": GOOD_PASSWORD})
    assert r["ChallengeName"] == "SOFTWARE_TOKEN_MFA"
    done = cognito.admin_respond_to_auth_challenge(
        UserPoolId=pool, ClientId=app["ClientId"], ChallengeName="SOFTWARE_TOKEN_MFA", Session=r["Session"],
        ChallengeResponses={"USERNAME": user, "SOFTWARE_TOKEN_MFA_CODE": code(secret, 1)})
    assert "IdToken" in done["AuthenticationResult"]


def test_new_password_then_mfa_setup(cognito, public, pool):
    set_mfa(cognito, pool, "ON")
    app = make_app_client(cognito, pool)
    user = make_temp_user(cognito, pool)
    r = password_auth(public, app["ClientId"], user)
    assert r["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    r = public.respond_to_auth_challenge(ClientId=app["ClientId"], ChallengeName="NEW_PASSWORD_REQUIRED",
                                         Session=r["Session"],
                                         ChallengeResponses={"USERNAME": user, "NEW_PASSWORD": NEW_PASSWORD})
    assert r["ChallengeName"] == "MFA_SETUP"
    finish_setup(public, app["ClientId"], user, r)


def test_wrong_codes_count_toward_the_lockout(cognito, public, pool):
    set_mfa(cognito, pool, "ON")
    app = make_app_client(cognito, pool)
    user = make_user(cognito, pool)
    secret, _ = enrol_at_sign_in(public, app["ClientId"], user)
    for _ in range(5):
        r = password_auth(public, app["ClientId"], user)  # a right password does not reset the count
        with raises_code("CodeMismatchException"):
            answer_totp(public, app["ClientId"], user, r, wrong(secret))
    with raises_code("NotAuthorizedException") as e:
        password_auth(public, app["ClientId"], user)
    assert "attempts exceeded" in e.value.response["Error"]["Message"]


def test_garbage_and_tampered_sessions_are_refused(cognito, public, pool):
    set_mfa(cognito, pool, "ON")
    app = make_app_client(cognito, pool)
    user = make_user(cognito, pool)
    secret, _ = enrol_at_sign_in(public, app["ClientId"], user)
    r = password_auth(public, app["ClientId"], user)
    s = r["Session"]
    tampered = s[:-3] + ("AAA" if not s.endswith("AAA") else "BBB")
    for bad in ("x" * 40, tampered, f"{pool}." + "A" * 60):
        with raises_code("NotAuthorizedException"):
            answer_totp(public, app["ClientId"], user, {"Session": bad}, code(secret, 1))
        with raises_code("NotAuthorizedException"):
            public.associate_software_token(Session=bad)
    # The genuine session still works.
    assert "AuthenticationResult" in answer_totp(public, app["ClientId"], user, r, code(secret, 1))


def test_admin_disables_a_lost_token_and_the_user_enrols_again(cognito, public, pool):
    set_mfa(cognito, pool, "ON")
    app = make_app_client(cognito, pool)
    user = make_user(cognito, pool)
    old, _ = enrol_at_sign_in(public, app["ClientId"], user)
    cognito.admin_set_user_mfa_preference(UserPoolId=pool, Username=user,
                                          SoftwareTokenMfaSettings={"Enabled": False})
    assert "UserMFASettingList" not in cognito.admin_get_user(UserPoolId=pool, Username=user)
    new, _ = enrol_at_sign_in(public, app["ClientId"], user)
    assert new != old
    r = password_auth(public, app["ClientId"], user)
    assert r["ChallengeName"] == "SOFTWARE_TOKEN_MFA"
    if code(old, 1) != code(new, 1):
        with raises_code("CodeMismatchException"):
            answer_totp(public, app["ClientId"], user, r, code(old, 1))
    assert "AuthenticationResult" in answer_totp(public, app["ClientId"], user, r, code(new, 1))
    # AdminDeleteSoftwareToken forgets it entirely: MFA_SETUP again.
    cognito.admin_delete_software_token(UserPoolId=pool, Username=user)
    assert password_auth(public, app["ClientId"], user)["ChallengeName"] == "MFA_SETUP"


def test_own_preference_turns_totp_off_in_an_optional_pool(cognito, public, pool):
    set_mfa(cognito, pool, "OPTIONAL")
    app = make_app_client(cognito, pool)
    user = make_user(cognito, pool)
    access = sign_in(public, app["ClientId"], user)["AccessToken"]
    with raises_code("InvalidParameterException"):
        public.set_user_mfa_preference(AccessToken=access, SoftwareTokenMfaSettings={"Enabled": True})
    enrol_by_access_token(public, access)
    assert password_auth(public, app["ClientId"], user)["ChallengeName"] == "SOFTWARE_TOKEN_MFA"
    public.set_user_mfa_preference(AccessToken=access, SoftwareTokenMfaSettings={"Enabled": False})
    assert "AuthenticationResult" in password_auth(public, app["ClientId"], user)


# --- email and SMS codes: a janus with a real SMTP server and an SMS webhook ------------------

@dataclass
class Texts:
    """What the SMS webhook received."""

    bodies: list[dict] = field(default_factory=list)
    cond: threading.Condition = field(default_factory=threading.Condition)

    def wait_for(self, to: str, after: int, timeout: float = 10.0) -> dict:
        with self.cond:
            ok = self.cond.wait_for(lambda: any(b["to"] == to for b in self.bodies[after:]), timeout)
            assert ok, f"no SMS to {to} (got {self.bodies})"
            return next(b for b in self.bodies[after:] if b["to"] == to)


def webhook(texts: Texts) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["content-length"])))
            body["authorization"] = self.headers.get("authorization")
            with texts.cond:
                texts.bodies.append(body)
                texts.cond.notify_all()
            self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@dataclass
class Messaging:
    admin: object
    public: object
    mailbox: Mailbox
    texts: Texts


@pytest.fixture(scope="module")
def messaging(tmp_path_factory):
    mailbox, texts = Mailbox(), Texts()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    hook = webhook(texts)
    try:
        server = start_janus(tmp_path_factory.mktemp("janus-mfa"), extra_env={
            "JANUS_SMTP_HOST": "127.0.0.1",
            "JANUS_SMTP_PORT": str(controller.port),
            "JANUS_SMTP_SECURITY": "none",
            "JANUS_SMTP_FROM": "no-reply@example.com",
            "JANUS_SMS_WEBHOOK_URL": f"http://127.0.0.1:{hook.server_address[1]}/sms",
            "JANUS_SMS_WEBHOOK_TOKEN": "hook-token",
        })
        try:
            cfg = Config(retries={"max_attempts": 1, "mode": "standard"}, read_timeout=30)
            admin = boto3.client("cognito-idp", endpoint_url=server.endpoint, region_name=server.region,
                                 aws_access_key_id=server.access_key_id,
                                 aws_secret_access_key=server.secret_access_key, config=cfg)
            public = boto3.client("cognito-idp", endpoint_url=server.endpoint, region_name=server.region,
                                  config=Config(signature_version=UNSIGNED, retries={"max_attempts": 1}))
            yield Messaging(admin, public, mailbox, texts)
            log = server.stderr_path.read_text(errors="replace")
            for m in mailbox.mails:  # MFA codes are never logged
                found = CODE.search(m.body)
                assert not found or found.group(1) not in log
        finally:
            code_ = stop_janus(server)
            assert code_ == 0, f"janus exited with {code_}:\n{server.log_tail()}"
    finally:
        controller.stop()
        hook.shutdown()


SMS = {"SmsAuthenticationMessage": "Your Janus code is {####}",
       "SmsConfiguration": {"SnsCallerArn": "arn:aws:iam::123456789012:role/sms", "ExternalId": "janus"}}
EMAIL = {"Message": "Sign in with {####} please", "Subject": "Your sign-in code"}


def test_email_otp_through_smtp(messaging):
    m = messaging
    pool = m.admin.create_user_pool(PoolName=unique("mfa-mail"))["UserPool"]["Id"]
    set_mfa(m.admin, pool, "OPTIONAL", EmailMfaConfiguration=EMAIL)
    assert m.admin.get_user_pool_mfa_config(UserPoolId=pool)["EmailMfaConfiguration"] == EMAIL
    app = make_app_client(m.admin, pool)
    address = f"{unique('otp')}@example.com"
    user = make_user(m.admin, pool, email=address, email_verified="true")
    m.admin.admin_set_user_mfa_preference(UserPoolId=pool, Username=user,
                                          EmailMfaSettings={"Enabled": True, "PreferredMfa": True})
    seen = m.mailbox.count()
    r = password_auth(m.public, app["ClientId"], user)
    assert r["ChallengeName"] == "EMAIL_OTP"
    assert r["ChallengeParameters"]["CODE_DELIVERY_DELIVERY_MEDIUM"] == "EMAIL"
    assert r["ChallengeParameters"]["CODE_DELIVERY_DESTINATION"] == f"{address[0]}***@e***"
    mail = m.mailbox.wait_for(address, after=seen)
    assert mail.message["Subject"] == "Your sign-in code"
    assert mail.body.startswith("Sign in with ")
    otp = CODE.search(mail.body).group(1)
    respond = lambda c: m.public.respond_to_auth_challenge(  # noqa: E731
        ClientId=app["ClientId"], ChallengeName="EMAIL_OTP", Session=r["Session"],
        ChallengeResponses={"USERNAME": user, "EMAIL_OTP_CODE": c})
    with raises_code("CodeMismatchException"):
        respond(f"{(int(otp) + 1) % 1_000_000:06d}")
    assert "AccessToken" in respond(otp)["AuthenticationResult"]
    with raises_code("NotAuthorizedException"):
        respond(otp)  # each code once


def test_sms_mfa_through_the_webhook_and_select_mfa_type(messaging):
    m = messaging
    pool = m.admin.create_user_pool(PoolName=unique("mfa-sms"))["UserPool"]["Id"]
    set_mfa(m.admin, pool, "OPTIONAL", SmsMfaConfiguration=SMS, **TOTP_ONLY)
    app = make_app_client(m.admin, pool)
    phone = "+12065550142"
    user = make_user(m.admin, pool, phone_number=phone, phone_number_verified="true")
    access = sign_in(m.public, app["ClientId"], user)["AccessToken"]
    secret = enrol_by_access_token(m.public, access)
    m.public.set_user_mfa_preference(AccessToken=access, SMSMfaSettings={"Enabled": True})
    me = m.public.get_user(AccessToken=access)
    assert sorted(me["UserMFASettingList"]) == ["SMS_MFA", "SOFTWARE_TOKEN_MFA"]
    assert me["MFAOptions"] == [{"DeliveryMedium": "SMS", "AttributeName": "phone_number"}]
    assert "PreferredMfaSetting" not in me

    # Both enabled, none preferred: the user chooses.
    r = password_auth(m.public, app["ClientId"], user)
    assert r["ChallengeName"] == "SELECT_MFA_TYPE"
    assert sorted(json.loads(r["ChallengeParameters"]["MFAS_CAN_CHOOSE"])) == ["SMS_MFA", "SOFTWARE_TOKEN_MFA"]
    seen = len(m.texts.bodies)
    r = m.public.respond_to_auth_challenge(ClientId=app["ClientId"], ChallengeName="SELECT_MFA_TYPE",
                                           Session=r["Session"],
                                           ChallengeResponses={"USERNAME": user, "ANSWER": "SMS_MFA"})
    assert r["ChallengeName"] == "SMS_MFA"
    assert r["ChallengeParameters"]["CODE_DELIVERY_DESTINATION"] == "+*******0142"
    text = m.texts.wait_for(phone, after=seen)
    assert text["pool"] == pool and text["kind"] == "mfa" and text["authorization"] == "Bearer hook-token"
    assert text["message"].startswith("Your Janus code is ")
    sms_code = CODE.search(text["message"]).group(1)
    done = m.public.respond_to_auth_challenge(ClientId=app["ClientId"], ChallengeName="SMS_MFA",
                                              Session=r["Session"],
                                              ChallengeResponses={"USERNAME": user, "SMS_MFA_CODE": sms_code})
    assert "AccessToken" in done["AuthenticationResult"]

    # Choosing the token instead.
    r = password_auth(m.public, app["ClientId"], user)
    r = m.public.respond_to_auth_challenge(ClientId=app["ClientId"], ChallengeName="SELECT_MFA_TYPE",
                                           Session=r["Session"],
                                           ChallengeResponses={"USERNAME": user, "ANSWER": "SOFTWARE_TOKEN_MFA"})
    assert r["ChallengeName"] == "SOFTWARE_TOKEN_MFA"
    assert "AuthenticationResult" in answer_totp(m.public, app["ClientId"], user, r, code(secret, 1))
