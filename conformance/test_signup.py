"""Self-service sign-up and password recovery with boto3 (unsigned, as apps call them):
SignUp, ConfirmSignUp, ResendConfirmationCode, ForgotPassword, ConfirmForgotPassword, and
AdminResetUserPassword. Codes are read from the session server's development outbox
(<data-dir>/outbox.jsonl); test_smtp.py receives them by email instead."""

import re

import pytest
from botocore.exceptions import ClientError

from auth_support import (
    NEW_PASSWORD,
    make_app_client,
    make_temp_user,
    make_user,
    password_auth,
    secret_hash,
    sign_in,
    wrong_code,
)
from support import GOOD_PASSWORD, attr_list, attrs, raises_code, unique

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@pytest.fixture
def email_pool(pool_factory):
    """A pool that verifies email addresses by code (AutoVerifiedAttributes email)."""
    return pool_factory(AutoVerifiedAttributes=["email"])["Id"]


def status(cognito, pool, user):
    return cognito.admin_get_user(UserPoolId=pool, Username=user)["UserStatus"]


# --- SignUp / ConfirmSignUp -------------------------------------------------------------


def test_sign_up_sends_code_and_confirms(cognito, public, email_pool, outbox):
    pool = email_pool
    app = make_app_client(cognito, pool)
    user = unique("signup")
    r = public.sign_up(ClientId=app["ClientId"], Username=user, Password=GOOD_PASSWORD,
                       UserAttributes=attr_list(email="sally@example.com", given_name="Sally"))
    assert r["UserConfirmed"] is False
    assert UUID.match(r["UserSub"])
    assert r["CodeDeliveryDetails"] == {"Destination": "s***@e***", "DeliveryMedium": "EMAIL",
                                        "AttributeName": "email"}
    msg = outbox.last(pool, user)
    assert msg["medium"] == "EMAIL" and msg["destination"] == "sally@example.com"
    assert msg["kind"] == "code"
    code = outbox.code(pool, user)

    u = cognito.admin_get_user(UserPoolId=pool, Username=user)
    assert u["UserStatus"] == "UNCONFIRMED"
    got = attrs(u["UserAttributes"])
    assert got["sub"] == r["UserSub"] and got["given_name"] == "Sally"
    assert got.get("email_verified", "false") == "false"
    with raises_code("UserNotConfirmedException"):
        password_auth(public, app["ClientId"], user)

    with raises_code("CodeMismatchException"):
        public.confirm_sign_up(ClientId=app["ClientId"], Username=user, ConfirmationCode=wrong_code(code))
    public.confirm_sign_up(ClientId=app["ClientId"], Username=user, ConfirmationCode=code)
    u = cognito.admin_get_user(UserPoolId=pool, Username=user)
    assert u["UserStatus"] == "CONFIRMED"
    assert attrs(u["UserAttributes"])["email_verified"] == "true"
    assert "AuthenticationResult" in password_auth(public, app["ClientId"], user)

    with raises_code("NotAuthorizedException") as info:
        public.confirm_sign_up(ClientId=app["ClientId"], Username=user, ConfirmationCode=code)
    assert info.value.response["Error"]["Message"] == \
        "User cannot be confirmed. Current status is CONFIRMED"


def test_sign_up_without_auto_verification(cognito, public, pool, outbox):
    app = make_app_client(cognito, pool)
    user = unique("signup")
    r = public.sign_up(ClientId=app["ClientId"], Username=user, Password=GOOD_PASSWORD,
                       UserAttributes=attr_list(email="quiet@example.com"))
    assert r["UserConfirmed"] is False
    assert "CodeDeliveryDetails" not in r
    assert outbox.count(pool, user) == 0
    assert status(cognito, pool, user) == "UNCONFIRMED"
    cognito.admin_confirm_sign_up(UserPoolId=pool, Username=user)
    assert "AuthenticationResult" in password_auth(public, app["ClientId"], user)


def test_sign_up_phone_code(cognito, public, pool_factory, outbox):
    pool = pool_factory(AutoVerifiedAttributes=["phone_number"])["Id"]
    app = make_app_client(cognito, pool)
    user = unique("phone")
    r = public.sign_up(ClientId=app["ClientId"], Username=user, Password=GOOD_PASSWORD,
                       UserAttributes=attr_list(phone_number="+12065551234"))
    assert r["CodeDeliveryDetails"] == {"Destination": "+*******1234", "DeliveryMedium": "SMS",
                                        "AttributeName": "phone_number"}
    msg = outbox.last(pool, user)
    assert msg["medium"] == "SMS" and msg["destination"] == "+12065551234"
    public.confirm_sign_up(ClientId=app["ClientId"], Username=user,
                           ConfirmationCode=outbox.code(pool, user))
    u = cognito.admin_get_user(UserPoolId=pool, Username=user)
    assert attrs(u["UserAttributes"])["phone_number_verified"] == "true"


def test_sign_up_errors(cognito, public, pool):
    app = make_app_client(cognito, pool)
    user = unique("dup")
    public.sign_up(ClientId=app["ClientId"], Username=user, Password=GOOD_PASSWORD)
    with raises_code("UsernameExistsException"):
        public.sign_up(ClientId=app["ClientId"], Username=user, Password=GOOD_PASSWORD)
    with raises_code("InvalidPasswordException"):
        public.sign_up(ClientId=app["ClientId"], Username=unique(), Password="weak")
    with raises_code("InvalidParameterException"):
        public.sign_up(ClientId=app["ClientId"], Username=unique(), Password=GOOD_PASSWORD,
                       UserAttributes=attr_list(no_such_attribute="x"))
    with raises_code("ResourceNotFoundException"):
        public.sign_up(ClientId="1example23456789abcdefghij", Username=unique(), Password=GOOD_PASSWORD)


def test_sign_up_required_attribute(cognito, public, pool_factory):
    pool = pool_factory(Schema=[{"Name": "email", "AttributeDataType": "String", "Required": True,
                                 "Mutable": True}])["Id"]
    app = make_app_client(cognito, pool)
    with raises_code("InvalidParameterException"):
        public.sign_up(ClientId=app["ClientId"], Username=unique(), Password=GOOD_PASSWORD)
    public.sign_up(ClientId=app["ClientId"], Username=unique(), Password=GOOD_PASSWORD,
                   UserAttributes=attr_list(email="req@example.com"))


def test_sign_up_admin_only_pool(cognito, public, pool_factory):
    pool = pool_factory(AdminCreateUserConfig={"AllowAdminCreateUserOnly": True})["Id"]
    app = make_app_client(cognito, pool)
    with raises_code("NotAuthorizedException"):
        public.sign_up(ClientId=app["ClientId"], Username=unique(), Password=GOOD_PASSWORD)


def test_sign_up_with_client_secret(cognito, public, email_pool, outbox):
    pool = email_pool
    app = make_app_client(cognito, pool, secret=True)
    cid, secret = app["ClientId"], app["ClientSecret"]
    user = unique("secret")
    with raises_code("NotAuthorizedException"):
        public.sign_up(ClientId=cid, Username=user, Password=GOOD_PASSWORD,
                       UserAttributes=attr_list(email="sec@example.com"))
    public.sign_up(ClientId=cid, Username=user, Password=GOOD_PASSWORD,
                   SecretHash=secret_hash(secret, user, cid),
                   UserAttributes=attr_list(email="sec@example.com"))
    code = outbox.code(pool, user)
    with raises_code("NotAuthorizedException"):
        public.confirm_sign_up(ClientId=cid, Username=user, ConfirmationCode=code)
    public.confirm_sign_up(ClientId=cid, Username=user, ConfirmationCode=code,
                           SecretHash=secret_hash(secret, user, cid))
    assert status(cognito, pool, user) == "CONFIRMED"


def test_sign_up_email_as_username(cognito, public, pool_factory, outbox):
    pool = pool_factory(UsernameAttributes=["email"], AutoVerifiedAttributes=["email"])["Id"]
    app = make_app_client(cognito, pool)
    r = public.sign_up(ClientId=app["ClientId"], Username="ella@example.com", Password=GOOD_PASSWORD)
    assert r["CodeDeliveryDetails"]["Destination"] == "e***@e***"
    sub = r["UserSub"]
    # The user's name is the sub; the outbox names it so.
    code = outbox.code(pool, sub)
    public.confirm_sign_up(ClientId=app["ClientId"], Username="ella@example.com", ConfirmationCode=code)
    a = sign_in(public, app["ClientId"], "ella@example.com")
    assert a["AccessToken"]


def test_confirm_sign_up_attempt_limit(cognito, public, email_pool, outbox):
    pool = email_pool
    app = make_app_client(cognito, pool)
    user = unique("limit")
    public.sign_up(ClientId=app["ClientId"], Username=user, Password=GOOD_PASSWORD,
                   UserAttributes=attr_list(email="limit@example.com"))
    code = outbox.code(pool, user)
    for _ in range(5):
        with raises_code("CodeMismatchException"):
            public.confirm_sign_up(ClientId=app["ClientId"], Username=user,
                                   ConfirmationCode=wrong_code(code))
    with raises_code("LimitExceededException"):
        public.confirm_sign_up(ClientId=app["ClientId"], Username=user, ConfirmationCode=code)
    assert status(cognito, pool, user) == "UNCONFIRMED"
    # A new code does not start over (issue 13: each resend used to buy five fresh guesses);
    # the user's budget returns when the window ends (crates/janus-core/tests/auth.rs moves the
    # clock), and an administrator can confirm meanwhile.
    public.resend_confirmation_code(ClientId=app["ClientId"], Username=user)
    with raises_code("LimitExceededException"):
        public.confirm_sign_up(ClientId=app["ClientId"], Username=user,
                               ConfirmationCode=outbox.code(pool, user))
    cognito.admin_confirm_sign_up(UserPoolId=pool, Username=user)
    assert status(cognito, pool, user) == "CONFIRMED"


def test_resend_confirmation_code(cognito, public, email_pool, outbox):
    pool = email_pool
    app = make_app_client(cognito, pool)
    user = unique("resend")
    public.sign_up(ClientId=app["ClientId"], Username=user, Password=GOOD_PASSWORD,
                   UserAttributes=attr_list(email="rita@example.com"))
    before = outbox.count(pool, user)
    r = public.resend_confirmation_code(ClientId=app["ClientId"], Username=user)
    assert r["CodeDeliveryDetails"] == {"Destination": "r***@e***", "DeliveryMedium": "EMAIL",
                                        "AttributeName": "email"}
    assert outbox.count(pool, user) == before + 1
    public.confirm_sign_up(ClientId=app["ClientId"], Username=user,
                           ConfirmationCode=outbox.code(pool, user))
    with raises_code("InvalidParameterException"):
        public.resend_confirmation_code(ClientId=app["ClientId"], Username=user)


def test_unknown_user_code_operations_legacy(cognito, public, pool):
    app = make_app_client(cognito, pool, PreventUserExistenceErrors="LEGACY")
    nobody = "nobody-" + unique()
    with raises_code("UserNotFoundException"):
        public.confirm_sign_up(ClientId=app["ClientId"], Username=nobody, ConfirmationCode="123456")
    with raises_code("UserNotFoundException"):
        public.resend_confirmation_code(ClientId=app["ClientId"], Username=nobody)
    with raises_code("UserNotFoundException"):
        public.forgot_password(ClientId=app["ClientId"], Username=nobody)
    with raises_code("UserNotFoundException"):
        public.confirm_forgot_password(ClientId=app["ClientId"], Username=nobody,
                                       ConfirmationCode="123456", Password=NEW_PASSWORD)


def test_unknown_user_sign_up_confirmation_prevent_existence_errors(cognito, public, pool):
    app = make_app_client(cognito, pool, PreventUserExistenceErrors="ENABLED")
    with pytest.raises(ClientError) as info:
        public.confirm_sign_up(ClientId=app["ClientId"], Username="nobody-" + unique(),
                               ConfirmationCode="123456")
    assert info.value.response["Error"]["Code"] in {"CodeMismatchException", "ExpiredCodeException"}


def test_unknown_user_forgot_password_prevent_existence_errors(cognito, public, pool):
    # Cognito answers as if a code had gone to a (simulated) address.
    app = make_app_client(cognito, pool, PreventUserExistenceErrors="ENABLED")
    r = public.forgot_password(ClientId=app["ClientId"], Username="nobody-" + unique())
    d = r["CodeDeliveryDetails"]
    assert d["DeliveryMedium"] in {"EMAIL", "SMS"}
    assert d["Destination"] and d["AttributeName"] in {"email", "phone_number"}


def test_unknown_user_resend_code_prevent_existence_errors(cognito, public, pool):
    app = make_app_client(cognito, pool, PreventUserExistenceErrors="ENABLED")
    r = public.resend_confirmation_code(ClientId=app["ClientId"], Username="nobody-" + unique())
    assert r["CodeDeliveryDetails"]["DeliveryMedium"] in {"EMAIL", "SMS"}


def test_unknown_user_confirm_forgot_password_prevent_existence_errors(cognito, public, pool):
    app = make_app_client(cognito, pool, PreventUserExistenceErrors="ENABLED")
    with raises_code("CodeMismatchException"):
        public.confirm_forgot_password(ClientId=app["ClientId"], Username="nobody-" + unique(),
                                       ConfirmationCode="123456", Password=NEW_PASSWORD)


# --- ForgotPassword / ConfirmForgotPassword ---------------------------------------------


def test_forgot_password(cognito, public, pool, outbox):
    app = make_app_client(cognito, pool)
    user = make_user(cognito, pool, email="forgetful@example.com", email_verified="true")
    r = public.forgot_password(ClientId=app["ClientId"], Username=user)
    assert r["CodeDeliveryDetails"] == {"Destination": "f***@e***", "DeliveryMedium": "EMAIL",
                                        "AttributeName": "email"}
    msg = outbox.last(pool, user)
    assert msg["destination"] == "forgetful@example.com" and msg["kind"] == "code"
    code = outbox.code(pool, user)
    # The user stays CONFIRMED with the old password until the reset is confirmed.
    assert status(cognito, pool, user) == "CONFIRMED"
    assert "AuthenticationResult" in password_auth(public, app["ClientId"], user)

    with raises_code("CodeMismatchException"):
        public.confirm_forgot_password(ClientId=app["ClientId"], Username=user,
                                       ConfirmationCode=wrong_code(code), Password=NEW_PASSWORD)
    with raises_code("InvalidPasswordException"):
        public.confirm_forgot_password(ClientId=app["ClientId"], Username=user,
                                       ConfirmationCode=code, Password="weak")
    public.confirm_forgot_password(ClientId=app["ClientId"], Username=user, ConfirmationCode=code,
                                   Password=NEW_PASSWORD)
    assert "AuthenticationResult" in password_auth(public, app["ClientId"], user, NEW_PASSWORD)
    with raises_code("NotAuthorizedException"):
        password_auth(public, app["ClientId"], user, GOOD_PASSWORD)
    # The code is spent.
    with pytest.raises(ClientError) as info:
        public.confirm_forgot_password(ClientId=app["ClientId"], Username=user, ConfirmationCode=code,
                                       Password="Th1rd-Passw0rd!")
    assert info.value.response["Error"]["Code"] in {"CodeMismatchException", "ExpiredCodeException"}


def test_forgot_password_phone(cognito, public, pool, outbox):
    app = make_app_client(cognito, pool)
    user = make_user(cognito, pool, phone_number="+12065550100", phone_number_verified="true")
    r = public.forgot_password(ClientId=app["ClientId"], Username=user)
    assert r["CodeDeliveryDetails"] == {"Destination": "+*******0100", "DeliveryMedium": "SMS",
                                        "AttributeName": "phone_number"}
    assert outbox.last(pool, user)["medium"] == "SMS"
    public.confirm_forgot_password(ClientId=app["ClientId"], Username=user,
                                   ConfirmationCode=outbox.code(pool, user), Password=NEW_PASSWORD)
    assert "AuthenticationResult" in password_auth(public, app["ClientId"], user, NEW_PASSWORD)


def test_forgot_password_needs_verified_contact(cognito, public, pool):
    app = make_app_client(cognito, pool)
    unverified = make_user(cognito, pool, email="unverified@example.com")
    with raises_code("InvalidParameterException"):
        public.forgot_password(ClientId=app["ClientId"], Username=unverified)
    nothing = make_user(cognito, pool)
    with raises_code("InvalidParameterException"):
        public.forgot_password(ClientId=app["ClientId"], Username=nothing)


def test_confirm_forgot_password_without_request(cognito, public, pool):
    app = make_app_client(cognito, pool)
    user = make_user(cognito, pool, email="never@example.com", email_verified="true")
    with raises_code("ExpiredCodeException"):
        public.confirm_forgot_password(ClientId=app["ClientId"], Username=user,
                                       ConfirmationCode="123456", Password=NEW_PASSWORD)


def test_confirm_forgot_password_clears_lockout(cognito, public, pool, outbox):
    app = make_app_client(cognito, pool)
    user = make_user(cognito, pool, email="locked@example.com", email_verified="true")
    for _ in range(5):
        with raises_code("NotAuthorizedException"):
            password_auth(public, app["ClientId"], user, "Wr0ng-Password!")
    with raises_code("NotAuthorizedException") as info:
        password_auth(public, app["ClientId"], user)
    assert info.value.response["Error"]["Message"] == "Password attempts exceeded"
    public.forgot_password(ClientId=app["ClientId"], Username=user)
    public.confirm_forgot_password(ClientId=app["ClientId"], Username=user,
                                   ConfirmationCode=outbox.code(pool, user), Password=NEW_PASSWORD)
    assert "AuthenticationResult" in password_auth(public, app["ClientId"], user, NEW_PASSWORD)


def test_forgot_password_with_client_secret(cognito, public, pool, outbox):
    app = make_app_client(cognito, pool, secret=True)
    cid, secret = app["ClientId"], app["ClientSecret"]
    user = make_user(cognito, pool, email="s@example.com", email_verified="true")
    with raises_code("NotAuthorizedException"):
        public.forgot_password(ClientId=cid, Username=user)
    public.forgot_password(ClientId=cid, Username=user, SecretHash=secret_hash(secret, user, cid))
    public.confirm_forgot_password(ClientId=cid, Username=user, SecretHash=secret_hash(secret, user, cid),
                                   ConfirmationCode=outbox.code(pool, user), Password=NEW_PASSWORD)
    assert "AuthenticationResult" in password_auth(public, cid, user, NEW_PASSWORD, secret=secret)


def test_forgot_password_force_change_password_user(cognito, public, pool, outbox):
    app = make_app_client(cognito, pool)
    user = make_temp_user(cognito, pool, email="temp@example.com", email_verified="true")
    with raises_code("NotAuthorizedException"):
        public.forgot_password(ClientId=app["ClientId"], Username=user)
    assert outbox.count(pool, user) == 0


# --- AdminResetUserPassword -------------------------------------------------------------


def test_admin_reset_user_password(cognito, public, pool, outbox):
    app = make_app_client(cognito, pool)
    user = make_user(cognito, pool, email="reset.me@example.com", email_verified="true")
    cognito.admin_reset_user_password(UserPoolId=pool, Username=user)
    assert status(cognito, pool, user) == "RESET_REQUIRED"
    msg = outbox.last(pool, user)
    assert msg["destination"] == "reset.me@example.com" and msg["kind"] == "code"
    with raises_code("PasswordResetRequiredException"):
        password_auth(public, app["ClientId"], user)
    public.confirm_forgot_password(ClientId=app["ClientId"], Username=user,
                                   ConfirmationCode=outbox.code(pool, user), Password=NEW_PASSWORD)
    assert status(cognito, pool, user) == "CONFIRMED"
    assert "AuthenticationResult" in password_auth(public, app["ClientId"], user, NEW_PASSWORD)


def test_admin_reset_user_password_errors(cognito, pool):
    nothing = make_user(cognito, pool)
    with raises_code("InvalidParameterException"):
        cognito.admin_reset_user_password(UserPoolId=pool, Username=nothing)
    with raises_code("UserNotFoundException"):
        cognito.admin_reset_user_password(UserPoolId=pool, Username="nobody-" + unique())
    temp = make_temp_user(cognito, pool, email="t@example.com", email_verified="true")
    with raises_code("NotAuthorizedException"):
        cognito.admin_reset_user_password(UserPoolId=pool, Username=temp)
