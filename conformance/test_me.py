"""Operations a signed-in user makes with an access token (boto3, unsigned as the SDKs send
them): GetUser, UpdateUserAttributes, DeleteUserAttributes, ChangePassword, DeleteUser,
GetUserAttributeVerificationCode, VerifyUserAttribute, GlobalSignOut; and ending sessions:
AdminUserGlobalSignOut and RevokeToken."""

import pytest
from botocore.exceptions import ClientError

from auth_support import (
    NEW_PASSWORD,
    claims,
    make_app_client,
    make_user,
    password_auth,
    sign_in,
    wrong_code,
)
from support import GOOD_PASSWORD, attr_list, attrs, raises_code, unique


@pytest.fixture
def signed_in(cognito, public, pool):
    """(app client, user name, AuthenticationResult) of a fresh CONFIRMED user."""
    app = make_app_client(cognito, pool)
    user = make_user(cognito, pool, email="me@example.com", email_verified="true",
                     given_name="Me", family_name="Self")
    return app, user, sign_in(public, app["ClientId"], user)


def refresh(public, client_id, token):
    return public.initiate_auth(AuthFlow="REFRESH_TOKEN_AUTH", ClientId=client_id,
                                AuthParameters={"REFRESH_TOKEN": token})


# --- GetUser ----------------------------------------------------------------------------


def test_get_user(public, signed_in):
    app, user, a = signed_in
    r = public.get_user(AccessToken=a["AccessToken"])
    assert r["Username"] == user
    got = attrs(r["UserAttributes"])
    assert got["sub"] == claims(a["AccessToken"])["sub"]
    assert got["email"] == "me@example.com"
    assert got["email_verified"] == "true"
    assert got["given_name"] == "Me"


def test_get_user_bad_tokens(public, signed_in):
    app, user, a = signed_in
    for token in ("garbage", "a.b.c", a["IdToken"], a["RefreshToken"]):
        with raises_code("NotAuthorizedException"):
            public.get_user(AccessToken=token)


def test_get_user_disabled_and_deleted(cognito, public, pool, signed_in):
    app, user, a = signed_in
    cognito.admin_disable_user(UserPoolId=pool, Username=user)
    with raises_code("NotAuthorizedException"):
        public.get_user(AccessToken=a["AccessToken"])
    cognito.admin_enable_user(UserPoolId=pool, Username=user)
    fresh = sign_in(public, app["ClientId"], user)
    assert public.get_user(AccessToken=fresh["AccessToken"])["Username"] == user
    cognito.admin_delete_user(UserPoolId=pool, Username=user)
    with raises_code("NotAuthorizedException"):
        public.get_user(AccessToken=fresh["AccessToken"])


def test_disable_revokes_access_tokens(cognito, public, pool, signed_in):
    # Cognito: AdminDisableUser "deactivates a user profile and revokes all access tokens".
    app, user, a = signed_in
    cognito.admin_disable_user(UserPoolId=pool, Username=user)
    cognito.admin_enable_user(UserPoolId=pool, Username=user)
    with raises_code("NotAuthorizedException"):
        public.get_user(AccessToken=a["AccessToken"])


def test_access_token_of_recreated_user_does_not_work(cognito, public, pool, signed_in):
    # A user deleted and created again under the same name is a new user (new sub).
    app, user, a = signed_in
    cognito.admin_delete_user(UserPoolId=pool, Username=user)
    make_user(cognito, pool, user)
    with raises_code("NotAuthorizedException"):
        public.get_user(AccessToken=a["AccessToken"])
    with raises_code("NotAuthorizedException"):
        refresh(public, app["ClientId"], a["RefreshToken"])


# --- UpdateUserAttributes / DeleteUserAttributes ---------------------------------------


def test_update_user_attributes(cognito, public, pool, signed_in):
    app, user, a = signed_in
    r = public.update_user_attributes(AccessToken=a["AccessToken"],
                                      UserAttributes=attr_list(given_name="Changed", locale="fr"))
    assert r.get("CodeDeliveryDetailsList", []) == []
    got = attrs(public.get_user(AccessToken=a["AccessToken"])["UserAttributes"])
    assert got["given_name"] == "Changed" and got["locale"] == "fr"
    assert attrs(cognito.admin_get_user(UserPoolId=pool, Username=user)["UserAttributes"])["locale"] == "fr"


def test_update_email_unverifies_it(public, signed_in):
    # The pool does not auto-verify email: no code is sent, the new email is unverified.
    app, user, a = signed_in
    r = public.update_user_attributes(AccessToken=a["AccessToken"],
                                      UserAttributes=attr_list(email="new@example.com"))
    assert r.get("CodeDeliveryDetailsList", []) == []
    got = attrs(public.get_user(AccessToken=a["AccessToken"])["UserAttributes"])
    assert got["email"] == "new@example.com"
    assert got["email_verified"] == "false"


def test_update_email_with_auto_verification(cognito, public, pool_factory, outbox):
    pool = pool_factory(AutoVerifiedAttributes=["email"])["Id"]
    app = make_app_client(cognito, pool)
    user = make_user(cognito, pool, email="old@example.com", email_verified="true")
    a = sign_in(public, app["ClientId"], user)
    r = public.update_user_attributes(AccessToken=a["AccessToken"],
                                      UserAttributes=attr_list(email="next@example.com"))
    assert r["CodeDeliveryDetailsList"] == [
        {"Destination": "n***@e***", "DeliveryMedium": "EMAIL", "AttributeName": "email"}]
    msg = outbox.last(pool, user)
    assert msg["destination"] == "next@example.com" and msg["medium"] == "EMAIL"
    assert msg["kind"] == "code"
    got = attrs(public.get_user(AccessToken=a["AccessToken"])["UserAttributes"])
    assert got["email"] == "next@example.com" and got["email_verified"] == "false"
    code = outbox.code(pool, user)
    with raises_code("CodeMismatchException"):
        public.verify_user_attribute(AccessToken=a["AccessToken"], AttributeName="email",
                                     Code=wrong_code(code))
    public.verify_user_attribute(AccessToken=a["AccessToken"], AttributeName="email", Code=code)
    got = attrs(public.get_user(AccessToken=a["AccessToken"])["UserAttributes"])
    assert got["email_verified"] == "true"


def test_update_user_attributes_errors(public, signed_in):
    app, user, a = signed_in
    with raises_code("InvalidParameterException"):
        public.update_user_attributes(AccessToken=a["AccessToken"],
                                      UserAttributes=attr_list(no_such_attribute="x"))
    with raises_code("NotAuthorizedException"):
        public.update_user_attributes(AccessToken=a["AccessToken"],
                                      UserAttributes=attr_list(email_verified="true"))
    with raises_code("NotAuthorizedException"):
        public.update_user_attributes(AccessToken=a["IdToken"],
                                      UserAttributes=attr_list(given_name="x"))


def test_delete_user_attributes(public, signed_in):
    app, user, a = signed_in
    public.delete_user_attributes(AccessToken=a["AccessToken"], UserAttributeNames=["family_name"])
    got = attrs(public.get_user(AccessToken=a["AccessToken"])["UserAttributes"])
    assert "family_name" not in got and got["given_name"] == "Me"
    with raises_code("InvalidParameterException"):
        public.delete_user_attributes(AccessToken=a["AccessToken"], UserAttributeNames=["sub"])
    with raises_code("InvalidParameterException"):
        public.delete_user_attributes(AccessToken=a["AccessToken"], UserAttributeNames=["no_such"])
    with raises_code("NotAuthorizedException"):
        public.delete_user_attributes(AccessToken="garbage", UserAttributeNames=["given_name"])


# --- Verification codes -----------------------------------------------------------------


def test_attribute_verification_code(cognito, public, pool, outbox):
    app = make_app_client(cognito, pool)
    user = make_user(cognito, pool, email="verify.me@example.com")
    a = sign_in(public, app["ClientId"], user)
    r = public.get_user_attribute_verification_code(AccessToken=a["AccessToken"], AttributeName="email")
    assert r["CodeDeliveryDetails"] == {"Destination": "v***@e***", "DeliveryMedium": "EMAIL",
                                        "AttributeName": "email"}
    msg = outbox.last(pool, user)
    assert msg["destination"] == "verify.me@example.com"
    code = outbox.code(pool, user)
    with raises_code("CodeMismatchException"):
        public.verify_user_attribute(AccessToken=a["AccessToken"], AttributeName="email",
                                     Code=wrong_code(code))
    public.verify_user_attribute(AccessToken=a["AccessToken"], AttributeName="email", Code=code)
    got = attrs(cognito.admin_get_user(UserPoolId=pool, Username=user)["UserAttributes"])
    assert got["email_verified"] == "true"
    # A code works once.
    with pytest.raises(ClientError) as info:
        public.verify_user_attribute(AccessToken=a["AccessToken"], AttributeName="email", Code=code)
    assert info.value.response["Error"]["Code"] in {"CodeMismatchException", "ExpiredCodeException"}


def test_attribute_verification_code_errors(cognito, public, pool):
    app = make_app_client(cognito, pool)
    user = make_user(cognito, pool)  # no email, no phone
    a = sign_in(public, app["ClientId"], user)
    with raises_code("InvalidParameterException"):
        public.get_user_attribute_verification_code(AccessToken=a["AccessToken"], AttributeName="email")
    with raises_code("NotAuthorizedException"):
        public.get_user_attribute_verification_code(AccessToken="garbage", AttributeName="email")
    # Nothing was asked for: any code is refused.
    with pytest.raises(ClientError) as info:
        public.verify_user_attribute(AccessToken=a["AccessToken"], AttributeName="email", Code="123456")
    assert info.value.response["Error"]["Code"] in {"CodeMismatchException", "ExpiredCodeException"}


def test_verification_code_attempt_limit(cognito, public, pool, outbox):
    app = make_app_client(cognito, pool)
    user = make_user(cognito, pool, email="limit@example.com")
    a = sign_in(public, app["ClientId"], user)
    public.get_user_attribute_verification_code(AccessToken=a["AccessToken"], AttributeName="email")
    code = outbox.code(pool, user)
    for _ in range(5):
        with raises_code("CodeMismatchException"):
            public.verify_user_attribute(AccessToken=a["AccessToken"], AttributeName="email",
                                         Code=wrong_code(code))
    with raises_code("LimitExceededException"):
        public.verify_user_attribute(AccessToken=a["AccessToken"], AttributeName="email", Code=code)


# --- ChangePassword / DeleteUser --------------------------------------------------------


def test_change_password(cognito, public, pool, signed_in):
    app, user, a = signed_in
    with raises_code("NotAuthorizedException") as info:
        public.change_password(AccessToken=a["AccessToken"], PreviousPassword="Wr0ng-Password!",
                               ProposedPassword=NEW_PASSWORD)
    assert info.value.response["Error"]["Message"] == "Incorrect username or password."
    with raises_code("InvalidPasswordException"):
        public.change_password(AccessToken=a["AccessToken"], PreviousPassword=GOOD_PASSWORD,
                               ProposedPassword="weak")
    public.change_password(AccessToken=a["AccessToken"], PreviousPassword=GOOD_PASSWORD,
                           ProposedPassword=NEW_PASSWORD)
    assert "AuthenticationResult" in password_auth(public, app["ClientId"], user, NEW_PASSWORD)
    with raises_code("NotAuthorizedException"):
        password_auth(public, app["ClientId"], user, GOOD_PASSWORD)
    with raises_code("NotAuthorizedException"):
        public.change_password(AccessToken="garbage", PreviousPassword=NEW_PASSWORD,
                               ProposedPassword=GOOD_PASSWORD)


def test_delete_user(cognito, public, pool, signed_in):
    app, user, a = signed_in
    public.delete_user(AccessToken=a["AccessToken"])
    with raises_code("UserNotFoundException"):
        cognito.admin_get_user(UserPoolId=pool, Username=user)
    with raises_code("NotAuthorizedException"):
        public.get_user(AccessToken=a["AccessToken"])
    with raises_code("NotAuthorizedException"):
        public.delete_user(AccessToken=a["AccessToken"])
    with raises_code("UserNotFoundException"):
        password_auth(public, app["ClientId"], user)


# --- GlobalSignOut / AdminUserGlobalSignOut --------------------------------------------


def test_global_sign_out(cognito, public, pool, signed_in):
    app, user, a = signed_in
    second = sign_in(public, app["ClientId"], user)  # another device
    public.global_sign_out(AccessToken=a["AccessToken"])
    for tokens in (a, second):
        with raises_code("NotAuthorizedException"):
            public.get_user(AccessToken=tokens["AccessToken"])
        with raises_code("NotAuthorizedException"):
            refresh(public, app["ClientId"], tokens["RefreshToken"])
    with raises_code("NotAuthorizedException"):
        public.global_sign_out(AccessToken=a["AccessToken"])
    # Signing in again gives tokens that work.
    fresh = sign_in(public, app["ClientId"], user)
    assert public.get_user(AccessToken=fresh["AccessToken"])["Username"] == user
    assert "AuthenticationResult" in refresh(public, app["ClientId"], fresh["RefreshToken"])


def test_admin_user_global_sign_out(cognito, public, pool, signed_in):
    app, user, a = signed_in
    cognito.admin_user_global_sign_out(UserPoolId=pool, Username=user)
    with raises_code("NotAuthorizedException"):
        public.get_user(AccessToken=a["AccessToken"])
    with raises_code("NotAuthorizedException"):
        refresh(public, app["ClientId"], a["RefreshToken"])
    fresh = cognito.admin_initiate_auth(
        UserPoolId=pool, ClientId=app["ClientId"], AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": user, "PASSWORD": GOOD_PASSWORD})["AuthenticationResult"]
    assert public.get_user(AccessToken=fresh["AccessToken"])["Username"] == user
    with raises_code("UserNotFoundException"):
        cognito.admin_user_global_sign_out(UserPoolId=pool, Username="nobody-" + unique())


def test_global_sign_out_leaves_other_users_alone(cognito, public, pool, signed_in):
    app, user, a = signed_in
    other = make_user(cognito, pool)
    b = sign_in(public, app["ClientId"], other)
    public.global_sign_out(AccessToken=a["AccessToken"])
    assert public.get_user(AccessToken=b["AccessToken"])["Username"] == other


# --- RevokeToken ------------------------------------------------------------------------


def test_revoke_token(cognito, public, pool, signed_in):
    app, user, a = signed_in
    other_session = sign_in(public, app["ClientId"], user)
    derived = refresh(public, app["ClientId"], a["RefreshToken"])["AuthenticationResult"]
    public.revoke_token(Token=a["RefreshToken"], ClientId=app["ClientId"])
    with raises_code("NotAuthorizedException"):
        refresh(public, app["ClientId"], a["RefreshToken"])
    # The access tokens issued from that refresh token (at sign-in and on refresh) stop working.
    for token in (a["AccessToken"], derived["AccessToken"]):
        with raises_code("NotAuthorizedException"):
            public.get_user(AccessToken=token)
    # Another session of the same user is untouched.
    assert public.get_user(AccessToken=other_session["AccessToken"])["Username"] == user
    assert "AuthenticationResult" in refresh(public, app["ClientId"], other_session["RefreshToken"])
    # Revoking again is not an error.
    public.revoke_token(Token=a["RefreshToken"], ClientId=app["ClientId"])


def test_revoke_token_errors(cognito, public, pool, signed_in):
    app, user, a = signed_in
    with pytest.raises(ClientError) as info:
        public.revoke_token(Token=a["AccessToken"], ClientId=app["ClientId"])
    assert info.value.response["Error"]["Code"] in {"UnsupportedTokenTypeException",
                                                    "InvalidParameterException"}
    other = make_app_client(cognito, pool)
    with pytest.raises(ClientError):
        public.revoke_token(Token=a["RefreshToken"], ClientId=other["ClientId"])
    # The failed attempt from another client revoked nothing.
    assert "AuthenticationResult" in refresh(public, app["ClientId"], a["RefreshToken"])


def test_revoke_token_with_client_secret(cognito, public, pool):
    app = make_app_client(cognito, pool, secret=True)
    cid, secret = app["ClientId"], app["ClientSecret"]
    user = make_user(cognito, pool)
    a = sign_in(public, cid, user, secret=secret)
    with raises_code("UnauthorizedException"):  # RevokeToken's model has no NotAuthorizedException
        public.revoke_token(Token=a["RefreshToken"], ClientId=cid)
    public.revoke_token(Token=a["RefreshToken"], ClientId=cid, ClientSecret=secret)
    with raises_code("NotAuthorizedException"):
        public.get_user(AccessToken=a["AccessToken"])


def test_revoke_token_disabled_on_client(cognito, public, pool):
    app = make_app_client(cognito, pool, EnableTokenRevocation=False)
    user = make_user(cognito, pool)
    a = sign_in(public, app["ClientId"], user)
    with raises_code("UnsupportedOperationException"):
        public.revoke_token(Token=a["RefreshToken"], ClientId=app["ClientId"])
