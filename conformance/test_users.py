"""Administrator user operations: AdminCreateUser, AdminGetUser, AdminDeleteUser,
AdminUpdateUserAttributes, AdminDeleteUserAttributes, AdminSetUserPassword,
AdminDisableUser/AdminEnableUser, AdminConfirmSignUp, AdminResetUserPassword; user-name
case sensitivity and sign-in attributes (UsernameAttributes, AliasAttributes)."""

import datetime
import re

import pytest
from botocore.exceptions import ClientError

from support import GOOD_PASSWORD, attr_list, raises_code, unique, user_attrs

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def create(cognito, pool, username, **kwargs):
    kwargs.setdefault("MessageAction", "SUPPRESS")
    return cognito.admin_create_user(UserPoolId=pool, Username=username, **kwargs)["User"]


def get(cognito, pool, username):
    return cognito.admin_get_user(UserPoolId=pool, Username=username)


# --- AdminCreateUser -------------------------------------------------------------------


def test_admin_create_user(cognito, pool):
    u = cognito.admin_create_user(
        UserPoolId=pool, Username="alice", TemporaryPassword=GOOD_PASSWORD,
        UserAttributes=attr_list(email="alice@example.com", given_name="Alice"),
        MessageAction="SUPPRESS",
    )["User"]
    assert u["Username"] == "alice"
    assert u["Enabled"] is True
    assert u["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    assert isinstance(u["UserCreateDate"], datetime.datetime)
    assert isinstance(u["UserLastModifiedDate"], datetime.datetime)
    a = user_attrs(u)
    assert UUID.match(a["sub"])
    assert a["email"] == "alice@example.com"
    assert a["given_name"] == "Alice"

    g = get(cognito, pool, "alice")
    assert g["Username"] == "alice"
    assert g["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    assert g["Enabled"] is True
    assert user_attrs(g) == a
    assert g["UserCreateDate"] == u["UserCreateDate"]


def test_admin_create_user_without_password_sends_invitation(cognito, pool):
    # No MessageAction: Cognito generates a temporary password and sends the invitation.
    u = cognito.admin_create_user(UserPoolId=pool, Username="invited",
                                  UserAttributes=attr_list(email="invited@example.com"),
                                  DesiredDeliveryMediums=["EMAIL"])["User"]
    assert u["UserStatus"] == "FORCE_CHANGE_PASSWORD"


def test_admin_create_user_suppress(cognito, pool):
    u = create(cognito, pool, "quiet", UserAttributes=attr_list(email="quiet@example.com"))
    assert u["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    assert get(cognito, pool, "quiet")["UserStatus"] == "FORCE_CHANGE_PASSWORD"


@pytest.mark.parametrize("password", [
    "Pw0!",          # too short
    "password0!",    # no uppercase
    "PASSWORD0!",    # no lowercase
    "Password!!",    # no number
    "Password00",    # no symbol
])
def test_admin_create_user_temporary_password_policy(cognito, shared_pool, password):
    with raises_code("InvalidPasswordException"):
        cognito.admin_create_user(UserPoolId=shared_pool, Username="weak",
                                  TemporaryPassword=password, MessageAction="SUPPRESS")
    with raises_code("UserNotFoundException"):
        get(cognito, shared_pool, "weak")


def test_admin_create_user_relaxed_policy(cognito, pool_factory):
    p = pool_factory(Policies={"PasswordPolicy": {"MinimumLength": 6, "RequireUppercase": False,
                                                  "RequireLowercase": False, "RequireNumbers": False,
                                                  "RequireSymbols": False}})["Id"]
    u = create(cognito, p, "relaxed", TemporaryPassword="simple")
    assert u["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    with raises_code("InvalidPasswordException"):
        create(cognito, p, "tooshort", TemporaryPassword="five5")


def test_admin_create_user_resend(cognito, pool):
    first = create(cognito, pool, "again", TemporaryPassword=GOOD_PASSWORD,
                   UserAttributes=attr_list(email="again@example.com"))
    r = cognito.admin_create_user(UserPoolId=pool, Username="again", MessageAction="RESEND",
                                  DesiredDeliveryMediums=["EMAIL"])["User"]
    assert r["Username"] == "again"
    assert r["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    assert user_attrs(r)["sub"] == user_attrs(first)["sub"]


def test_admin_create_user_resend_unknown_user(cognito, pool):
    with raises_code("UserNotFoundException"):
        cognito.admin_create_user(UserPoolId=pool, Username="nobody", MessageAction="RESEND")


def test_admin_create_user_duplicate(cognito, pool):
    create(cognito, pool, "dupe")
    with raises_code("UsernameExistsException"):
        create(cognito, pool, "dupe")
    with raises_code("UsernameExistsException"):
        create(cognito, pool, "dupe", TemporaryPassword=GOOD_PASSWORD)


def test_admin_create_user_required_attribute_missing(cognito, pool_factory):
    p = pool_factory(Schema=[{"Name": "email", "AttributeDataType": "String", "Required": True,
                              "Mutable": True}])["Id"]
    with raises_code("InvalidParameterException"):
        create(cognito, p, "noemail")
    with raises_code("UserNotFoundException"):
        get(cognito, p, "noemail")
    u = create(cognito, p, "withemail", UserAttributes=attr_list(email="w@example.com"))
    assert user_attrs(u)["email"] == "w@example.com"


@pytest.mark.parametrize("name", ["favourite_colour", "custom:undeclared", "sub"])
def test_admin_create_user_unknown_or_forbidden_attribute(cognito, shared_pool, name):
    with raises_code("InvalidParameterException"):
        create(cognito, shared_pool, "odd", UserAttributes=[{"Name": name, "Value": "x"}])
    with raises_code("UserNotFoundException"):
        get(cognito, shared_pool, "odd")


@pytest.fixture(scope="module")
def ranged_pool(cognito):
    pool = cognito.create_user_pool(PoolName="ranged", Schema=[
        {"Name": "level", "AttributeDataType": "Number",
         "NumberAttributeConstraints": {"MinValue": "1", "MaxValue": "10"}},
        {"Name": "code", "AttributeDataType": "String",
         "StringAttributeConstraints": {"MinLength": "3", "MaxLength": "6"}},
        {"Name": "flag", "AttributeDataType": "Boolean"},
    ])["UserPool"]["Id"]
    yield pool
    cognito.delete_user_pool(UserPoolId=pool)


@pytest.mark.parametrize("attribute,value", [
    ("custom:level", "0"),          # below MinValue
    ("custom:level", "11"),         # above MaxValue
    ("custom:level", "ten"),        # not a number
    ("custom:code", "ab"),          # shorter than MinLength
    ("custom:code", "abcdefghi"),   # longer than MaxLength
    ("custom:flag", "maybe"),       # not a boolean
])
def test_admin_create_user_custom_attribute_out_of_range(cognito, ranged_pool, attribute, value):
    with raises_code("InvalidParameterException"):
        create(cognito, ranged_pool, "ranged", UserAttributes=[{"Name": attribute, "Value": value}])
    with raises_code("UserNotFoundException"):
        get(cognito, ranged_pool, "ranged")


def test_admin_create_user_custom_attributes_in_range(cognito, ranged_pool):
    ok = create(cognito, ranged_pool, "inrange",
                UserAttributes=attr_list(custom__level="10", custom__code="abc", custom__flag="true"))
    a = user_attrs(ok)
    assert (a["custom:level"], a["custom:code"], a["custom:flag"]) == ("10", "abc", "true")
    ok = create(cognito, ranged_pool, "inrange2",
                UserAttributes=attr_list(custom__level="1", custom__code="abcdef", custom__flag="false"))
    assert user_attrs(ok)["custom:code"] == "abcdef"


def test_admin_create_user_invalid_email(cognito, pool):
    with raises_code("InvalidParameterException"):
        create(cognito, pool, "bademail", UserAttributes=attr_list(email="not-an-email"))


def test_admin_create_user_unknown_pool(cognito, janus):
    with raises_code("ResourceNotFoundException"):
        create(cognito, f"{janus.server_region}_doesNotExist0", "x")


def test_subs_are_unique(cognito, pool):
    subs = {user_attrs(create(cognito, pool, f"u{i}"))["sub"] for i in range(5)}
    assert len(subs) == 5


# --- AdminGetUser and sign-in attributes -----------------------------------------------


def test_admin_get_user_unknown(cognito, pool):
    with raises_code("UserNotFoundException"):
        get(cognito, pool, "ghost")


def test_admin_get_user_unknown_pool(cognito, janus):
    with raises_code("ResourceNotFoundException"):
        get(cognito, f"{janus.server_region}_doesNotExist0", "ghost")


def test_email_as_username(cognito, pool_factory):
    p = pool_factory(UsernameAttributes=["email"])["Id"]
    u = create(cognito, p, "erin@example.com")
    # The user name becomes a generated UUID; the email is an attribute.
    assert UUID.match(u["Username"])
    a = user_attrs(u)
    assert a["email"] == "erin@example.com"
    assert u["Username"] == a["sub"]
    by_email = get(cognito, p, "erin@example.com")
    assert by_email["Username"] == u["Username"]
    by_name = get(cognito, p, u["Username"])
    assert user_attrs(by_name)["email"] == "erin@example.com"
    # Operations accept the email in place of the user name.
    cognito.admin_disable_user(UserPoolId=p, Username="erin@example.com")
    assert get(cognito, p, u["Username"])["Enabled"] is False


def test_email_as_username_requires_email_format(cognito, pool_factory):
    p = pool_factory(UsernameAttributes=["email"])["Id"]
    with raises_code("InvalidParameterException"):
        create(cognito, p, "plainname")


def test_email_as_username_is_unique(cognito, pool_factory):
    p = pool_factory(UsernameAttributes=["email"])["Id"]
    create(cognito, p, "frank@example.com")
    with raises_code("UsernameExistsException"):
        create(cognito, p, "frank@example.com")
    # Another user cannot take the email by changing theirs either.
    create(cognito, p, "gina@example.com")
    # (Which of the two codes Cognito uses for a clash through an update is not pinned down.)
    with pytest.raises(ClientError) as info:
        cognito.admin_update_user_attributes(UserPoolId=p, Username="gina@example.com",
                                             UserAttributes=attr_list(email="frank@example.com"))
    assert info.value.response["Error"]["Code"] in ("AliasExistsException", "UsernameExistsException")
    assert user_attrs(get(cognito, p, "gina@example.com"))["email"] == "gina@example.com"
    listed = cognito.list_users(UserPoolId=p, Filter='email = "frank@example.com"')["Users"]
    assert len(listed) == 1


def test_email_as_username_after_delete_can_be_reused(cognito, pool_factory):
    p = pool_factory(UsernameAttributes=["email"])["Id"]
    first = create(cognito, p, "henry@example.com")
    cognito.admin_delete_user(UserPoolId=p, Username="henry@example.com")
    second = create(cognito, p, "henry@example.com")
    assert second["Username"] != first["Username"]
    assert get(cognito, p, "henry@example.com")["Username"] == second["Username"]


def test_verified_email_alias(cognito, pool_factory):
    p = pool_factory(AliasAttributes=["email"])["Id"]
    create(cognito, p, "carol", UserAttributes=attr_list(email="carol@example.com",
                                                         email_verified="true"))
    g = get(cognito, p, "carol@example.com")
    assert g["Username"] == "carol"
    # An unverified email is no alias.
    create(cognito, p, "dave", UserAttributes=attr_list(email="dave@example.com"))
    with raises_code("UserNotFoundException"):
        get(cognito, p, "dave@example.com")
    assert get(cognito, p, "dave")["Username"] == "dave"


def test_alias_pool_rejects_email_shaped_username(cognito, pool_factory):
    p = pool_factory(AliasAttributes=["email"])["Id"]
    with raises_code("InvalidParameterException"):
        create(cognito, p, "someone@example.com")


def test_verified_email_alias_is_unique(cognito, pool_factory):
    p = pool_factory(AliasAttributes=["email"])["Id"]
    create(cognito, p, "ivy", UserAttributes=attr_list(email="shared@example.com",
                                                       email_verified="true"))
    with raises_code("AliasExistsException"):
        create(cognito, p, "jack", UserAttributes=attr_list(email="shared@example.com",
                                                            email_verified="true"))


# --- User-name case sensitivity --------------------------------------------------------


def test_case_insensitive_user_names(cognito, pool_factory):
    p = pool_factory(UsernameConfiguration={"CaseSensitive": False})["Id"]
    u = create(cognito, p, "MixedCase")
    for spelling in ("MixedCase", "mixedcase", "MIXEDCASE", "mIxEdCaSe"):
        g = get(cognito, p, spelling)
        assert g["Username"].lower() == "mixedcase"
        assert user_attrs(g)["sub"] == user_attrs(u)["sub"]
    with raises_code("UsernameExistsException"):
        create(cognito, p, "mixedCASE")
    cognito.admin_delete_user(UserPoolId=p, Username="MIXEDCASE")
    with raises_code("UserNotFoundException"):
        get(cognito, p, "MixedCase")


def test_case_sensitive_user_names_by_default(cognito, pool):
    a = create(cognito, pool, "Bob")
    b = create(cognito, pool, "bob")
    assert user_attrs(a)["sub"] != user_attrs(b)["sub"]
    assert get(cognito, pool, "Bob")["Username"] == "Bob"
    assert get(cognito, pool, "bob")["Username"] == "bob"
    with raises_code("UserNotFoundException"):
        get(cognito, pool, "BOB")


def test_case_sensitive_true_explicitly(cognito, pool_factory):
    p = pool_factory(UsernameConfiguration={"CaseSensitive": True})["Id"]
    create(cognito, p, "Zed")
    with raises_code("UserNotFoundException"):
        get(cognito, p, "zed")


# --- AdminDeleteUser -------------------------------------------------------------------


def test_admin_delete_user(cognito, pool):
    create(cognito, pool, "temp")
    cognito.admin_delete_user(UserPoolId=pool, Username="temp")
    with raises_code("UserNotFoundException"):
        get(cognito, pool, "temp")
    with raises_code("UserNotFoundException"):
        cognito.admin_delete_user(UserPoolId=pool, Username="temp")
    assert cognito.list_users(UserPoolId=pool)["Users"] == []
    # The name is free again.
    create(cognito, pool, "temp")


# --- AdminUpdateUserAttributes / AdminDeleteUserAttributes -----------------------------


def test_admin_update_user_attributes(cognito, pool):
    create(cognito, pool, "kim", UserAttributes=attr_list(given_name="Kim"))
    cognito.admin_update_user_attributes(UserPoolId=pool, Username="kim", UserAttributes=attr_list(
        given_name="Kimberly", family_name="Lee", phone_number="+12065550100"))
    a = user_attrs(get(cognito, pool, "kim"))
    assert a["given_name"] == "Kimberly"
    assert a["family_name"] == "Lee"
    assert a["phone_number"] == "+12065550100"


def test_changing_email_unverifies_it(cognito, pool):
    create(cognito, pool, "lou", UserAttributes=attr_list(email="lou@example.com",
                                                          email_verified="true"))
    assert user_attrs(get(cognito, pool, "lou"))["email_verified"] == "true"
    cognito.admin_update_user_attributes(UserPoolId=pool, Username="lou",
                                         UserAttributes=attr_list(email="lou@example.org"))
    a = user_attrs(get(cognito, pool, "lou"))
    assert a["email"] == "lou@example.org"
    assert a["email_verified"] == "false"


def test_changing_email_with_verified_flag_keeps_it_verified(cognito, pool):
    create(cognito, pool, "max", UserAttributes=attr_list(email="max@example.com"))
    cognito.admin_update_user_attributes(UserPoolId=pool, Username="max", UserAttributes=attr_list(
        email="max@example.org", email_verified="true"))
    a = user_attrs(get(cognito, pool, "max"))
    assert (a["email"], a["email_verified"]) == ("max@example.org", "true")


def test_update_immutable_custom_attribute(cognito, pool_factory):
    p = pool_factory(Schema=[{"Name": "badge", "AttributeDataType": "String", "Mutable": False}])["Id"]
    # An immutable attribute can be given a value when the user is created ...
    create(cognito, p, "ned", UserAttributes=attr_list(custom__badge="B-1"))
    # ... but never changed afterwards.
    with raises_code("InvalidParameterException"):
        cognito.admin_update_user_attributes(UserPoolId=p, Username="ned",
                                             UserAttributes=attr_list(custom__badge="B-2"))
    assert user_attrs(get(cognito, p, "ned"))["custom:badge"] == "B-1"


@pytest.mark.parametrize("name,value", [
    ("sub", "11111111-2222-4333-8444-555555555555"),
    ("not_an_attribute", "x"),
    ("custom:undeclared", "x"),
    ("email", "no-at-sign"),
])
def test_update_invalid_attributes(cognito, shared_pool, name, value):
    username = unique("olga")
    create(cognito, shared_pool, username)
    with raises_code("InvalidParameterException"):
        cognito.admin_update_user_attributes(UserPoolId=shared_pool, Username=username,
                                             UserAttributes=[{"Name": name, "Value": value}])


def test_update_attributes_unknown_user(cognito, pool):
    with raises_code("UserNotFoundException"):
        cognito.admin_update_user_attributes(UserPoolId=pool, Username="ghost",
                                             UserAttributes=attr_list(given_name="G"))


def test_admin_delete_user_attributes(cognito, pool):
    create(cognito, pool, "pat", UserAttributes=attr_list(given_name="Pat", family_name="Doe",
                                                          email="pat@example.com"))
    cognito.admin_delete_user_attributes(UserPoolId=pool, Username="pat",
                                         UserAttributeNames=["given_name", "family_name"])
    a = user_attrs(get(cognito, pool, "pat"))
    assert "given_name" not in a and "family_name" not in a
    assert a["email"] == "pat@example.com"
    assert "sub" in a


def test_admin_delete_required_attribute(cognito, pool_factory):
    p = pool_factory(Schema=[{"Name": "email", "AttributeDataType": "String", "Required": True,
                              "Mutable": True}])["Id"]
    create(cognito, p, "quinn", UserAttributes=attr_list(email="quinn@example.com"))
    with raises_code("InvalidParameterException"):
        cognito.admin_delete_user_attributes(UserPoolId=p, Username="quinn",
                                             UserAttributeNames=["email"])
    assert user_attrs(get(cognito, p, "quinn"))["email"] == "quinn@example.com"


def test_admin_delete_attributes_unknown_user(cognito, pool):
    with raises_code("UserNotFoundException"):
        cognito.admin_delete_user_attributes(UserPoolId=pool, Username="ghost",
                                             UserAttributeNames=["given_name"])


# --- AdminSetUserPassword --------------------------------------------------------------


def test_admin_set_user_password_permanent(cognito, pool):
    create(cognito, pool, "rita")
    cognito.admin_set_user_password(UserPoolId=pool, Username="rita", Password=GOOD_PASSWORD,
                                    Permanent=True)
    assert get(cognito, pool, "rita")["UserStatus"] == "CONFIRMED"


def test_admin_set_user_password_temporary(cognito, pool):
    create(cognito, pool, "sam")
    cognito.admin_set_user_password(UserPoolId=pool, Username="sam", Password=GOOD_PASSWORD,
                                    Permanent=True)
    cognito.admin_set_user_password(UserPoolId=pool, Username="sam", Password="N3w-Passw0rd",
                                    Permanent=False)
    assert get(cognito, pool, "sam")["UserStatus"] == "FORCE_CHANGE_PASSWORD"


@pytest.mark.parametrize("password", ["Sh0rt!", "nouppercase1!", "NOLOWERCASE1!", "NoNumbers!!",
                                      "NoSymbols123"])
def test_admin_set_user_password_policy(cognito, shared_pool, password):
    username = unique("tom")
    create(cognito, shared_pool, username)
    with raises_code("InvalidPasswordException"):
        cognito.admin_set_user_password(UserPoolId=shared_pool, Username=username,
                                        Password=password, Permanent=True)
    assert get(cognito, shared_pool, username)["UserStatus"] == "FORCE_CHANGE_PASSWORD"


def test_admin_set_user_password_unknown_user(cognito, pool):
    with raises_code("UserNotFoundException"):
        cognito.admin_set_user_password(UserPoolId=pool, Username="ghost", Password=GOOD_PASSWORD,
                                        Permanent=True)


# --- AdminDisableUser / AdminEnableUser ------------------------------------------------


def test_admin_disable_and_enable_user(cognito, pool):
    create(cognito, pool, "uma")
    cognito.admin_disable_user(UserPoolId=pool, Username="uma")
    g = get(cognito, pool, "uma")
    assert g["Enabled"] is False
    assert g["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    listed = cognito.list_users(UserPoolId=pool, Filter='username = "uma"')["Users"][0]
    assert listed["Enabled"] is False
    # Disabling twice is fine.
    cognito.admin_disable_user(UserPoolId=pool, Username="uma")
    cognito.admin_enable_user(UserPoolId=pool, Username="uma")
    assert get(cognito, pool, "uma")["Enabled"] is True


def test_admin_disable_enable_unknown_user(cognito, pool):
    with raises_code("UserNotFoundException"):
        cognito.admin_disable_user(UserPoolId=pool, Username="ghost")
    with raises_code("UserNotFoundException"):
        cognito.admin_enable_user(UserPoolId=pool, Username="ghost")


# --- AdminConfirmSignUp ----------------------------------------------------------------


def test_admin_confirm_sign_up_on_confirmed_user(cognito, pool):
    create(cognito, pool, "vic")
    cognito.admin_set_user_password(UserPoolId=pool, Username="vic", Password=GOOD_PASSWORD,
                                    Permanent=True)
    with raises_code("NotAuthorizedException"):
        cognito.admin_confirm_sign_up(UserPoolId=pool, Username="vic")
    assert get(cognito, pool, "vic")["UserStatus"] == "CONFIRMED"


def test_admin_confirm_sign_up_unknown_user(cognito, pool):
    with raises_code("UserNotFoundException"):
        cognito.admin_confirm_sign_up(UserPoolId=pool, Username="ghost")


# --- AdminResetUserPassword ------------------------------------------------------------


def test_admin_reset_user_password(cognito, pool):
    create(cognito, pool, "wes", UserAttributes=attr_list(email="wes@example.com",
                                                          email_verified="true"))
    cognito.admin_set_user_password(UserPoolId=pool, Username="wes", Password=GOOD_PASSWORD,
                                    Permanent=True)
    cognito.admin_reset_user_password(UserPoolId=pool, Username="wes")
    assert get(cognito, pool, "wes")["UserStatus"] == "RESET_REQUIRED"


def test_admin_reset_user_password_with_verified_phone(cognito, pool):
    create(cognito, pool, "xia", UserAttributes=attr_list(phone_number="+12065550123",
                                                          phone_number_verified="true"))
    cognito.admin_set_user_password(UserPoolId=pool, Username="xia", Password=GOOD_PASSWORD,
                                    Permanent=True)
    cognito.admin_reset_user_password(UserPoolId=pool, Username="xia")
    assert get(cognito, pool, "xia")["UserStatus"] == "RESET_REQUIRED"


def test_admin_reset_user_password_without_verified_contact(cognito, pool):
    create(cognito, pool, "yan", UserAttributes=attr_list(email="yan@example.com"))
    cognito.admin_set_user_password(UserPoolId=pool, Username="yan", Password=GOOD_PASSWORD,
                                    Permanent=True)
    with raises_code("InvalidParameterException"):
        cognito.admin_reset_user_password(UserPoolId=pool, Username="yan")
    assert get(cognito, pool, "yan")["UserStatus"] == "CONFIRMED"


def test_admin_reset_user_password_unknown_user(cognito, pool):
    with raises_code("UserNotFoundException"):
        cognito.admin_reset_user_password(UserPoolId=pool, Username="ghost")


def test_admin_confirm_sign_up_on_force_change_password_user(cognito, pool):
    create(cognito, pool, "fcp")
    with raises_code("NotAuthorizedException"):
        cognito.admin_confirm_sign_up(UserPoolId=pool, Username="fcp")
    assert get(cognito, pool, "fcp")["UserStatus"] == "FORCE_CHANGE_PASSWORD"


def test_unverifying_email_drops_the_alias(cognito, pool_factory):
    p = pool_factory(AliasAttributes=["email"])["Id"]
    create(cognito, p, "ursula", UserAttributes=attr_list(email="ursula@example.com",
                                                          email_verified="true"))
    assert get(cognito, p, "ursula@example.com")["Username"] == "ursula"
    cognito.admin_update_user_attributes(UserPoolId=p, Username="ursula",
                                         UserAttributes=attr_list(email="ursula@example.org"))
    with raises_code("UserNotFoundException"):
        get(cognito, p, "ursula@example.com")
    # The new address is unverified, so it is no alias either ...
    with raises_code("UserNotFoundException"):
        get(cognito, p, "ursula@example.org")
    # ... until it is verified.
    cognito.admin_update_user_attributes(UserPoolId=p, Username="ursula",
                                         UserAttributes=attr_list(email_verified="true"))
    assert get(cognito, p, "ursula@example.org")["Username"] == "ursula"


def test_verifying_an_email_held_by_another_user(cognito, pool_factory):
    p = pool_factory(AliasAttributes=["email"])["Id"]
    create(cognito, p, "holder", UserAttributes=attr_list(email="taken@example.com",
                                                          email_verified="true"))
    create(cognito, p, "claimer", UserAttributes=attr_list(email="taken@example.com"))
    with raises_code("AliasExistsException"):
        cognito.admin_update_user_attributes(UserPoolId=p, Username="claimer",
                                             UserAttributes=attr_list(email_verified="true"))
    assert get(cognito, p, "taken@example.com")["Username"] == "holder"


def test_force_alias_creation_moves_the_alias(cognito, pool_factory):
    p = pool_factory(AliasAttributes=["email"])["Id"]
    create(cognito, p, "first", UserAttributes=attr_list(email="moving@example.com",
                                                         email_verified="true"))
    create(cognito, p, "second", ForceAliasCreation=True,
           UserAttributes=attr_list(email="moving@example.com", email_verified="true"))
    assert get(cognito, p, "moving@example.com")["Username"] == "second"
    assert get(cognito, p, "first")["Username"] == "first"


def test_preferred_username_alias(cognito, pool_factory):
    p = pool_factory(AliasAttributes=["preferred_username"])["Id"]
    create(cognito, p, "victor", UserAttributes=attr_list(preferred_username="vic"))
    # preferred_username needs no verification to be an alias.
    assert get(cognito, p, "vic")["Username"] == "victor"
    with raises_code("AliasExistsException"):
        create(cognito, p, "vicky", UserAttributes=attr_list(preferred_username="vic"))


def test_add_custom_attribute_required_is_refused(cognito, pool):
    with raises_code("InvalidParameterException"):
        cognito.add_custom_attributes(UserPoolId=pool, CustomAttributes=[
            {"Name": "mandatory", "AttributeDataType": "String", "Required": True}])


@pytest.mark.parametrize("username", ["has space", "x" * 129])
def test_invalid_usernames(cognito, shared_pool, username):
    with raises_code("InvalidParameterException"):
        create(cognito, shared_pool, username)


def test_passwords_never_come_back(cognito, pool):
    secret = "Unl1kely-Secret!"
    r1 = cognito.admin_create_user(UserPoolId=pool, Username="hush", TemporaryPassword=secret,
                                   MessageAction="SUPPRESS")
    r2 = get(cognito, pool, "hush")
    r3 = cognito.list_users(UserPoolId=pool)
    for r in (r1, r2, r3):
        assert secret not in repr(r)


def test_last_modified_date_moves_on_update(cognito, pool):
    u = create(cognito, pool, "clock")
    cognito.admin_update_user_attributes(UserPoolId=pool, Username="clock",
                                         UserAttributes=attr_list(given_name="Tick"))
    g = get(cognito, pool, "clock")
    assert g["UserCreateDate"] == u["UserCreateDate"]
    assert g["UserLastModifiedDate"] >= u["UserLastModifiedDate"]


def test_resend_to_a_confirmed_user(cognito, pool):
    create(cognito, pool, "settled")
    cognito.admin_set_user_password(UserPoolId=pool, Username="settled", Password=GOOD_PASSWORD,
                                    Permanent=True)
    with raises_code("UnsupportedUserStateException"):
        cognito.admin_create_user(UserPoolId=pool, Username="settled", MessageAction="RESEND")


def test_phone_number_as_username(cognito, pool_factory):
    p = pool_factory(UsernameAttributes=["phone_number"])["Id"]
    u = create(cognito, p, "+12065550199")
    assert UUID.match(u["Username"])
    assert user_attrs(u)["phone_number"] == "+12065550199"
    assert get(cognito, p, "+12065550199")["Username"] == u["Username"]
    with raises_code("InvalidParameterException"):
        create(cognito, p, "someone@example.com")


def test_email_or_phone_as_username(cognito, pool_factory):
    p = pool_factory(UsernameAttributes=["email", "phone_number"])["Id"]
    by_email = create(cognito, p, "both@example.com")
    by_phone = create(cognito, p, "+12065550188")
    assert user_attrs(by_email)["email"] == "both@example.com"
    assert user_attrs(by_phone)["phone_number"] == "+12065550188"
    assert get(cognito, p, "+12065550188")["Username"] == by_phone["Username"]
    assert get(cognito, p, "both@example.com")["Username"] == by_email["Username"]


def test_changing_the_email_of_an_email_username_user(cognito, pool_factory):
    p = pool_factory(UsernameAttributes=["email"])["Id"]
    u = create(cognito, p, "old@example.com")
    cognito.admin_update_user_attributes(UserPoolId=p, Username="old@example.com",
                                         UserAttributes=attr_list(email="new@example.com"))
    assert get(cognito, p, "new@example.com")["Username"] == u["Username"]
    with raises_code("UserNotFoundException"):
        get(cognito, p, "old@example.com")
    # The old address is free for someone else.
    create(cognito, p, "old@example.com")


def test_admin_reset_user_password_before_first_sign_in(cognito, pool):
    # Cognito cannot reset a password that was never set: "NotAuthorizedException: User
    # password cannot be reset in the current state."
    create(cognito, pool, "newbie", TemporaryPassword=GOOD_PASSWORD,
           UserAttributes=attr_list(email="newbie@example.com", email_verified="true"))
    with raises_code("NotAuthorizedException"):
        cognito.admin_reset_user_password(UserPoolId=pool, Username="newbie")
    assert get(cognito, pool, "newbie")["UserStatus"] == "FORCE_CHANGE_PASSWORD"


def test_admin_reset_user_password_of_disabled_user(cognito, pool):
    create(cognito, pool, "off", UserAttributes=attr_list(email="off@example.com",
                                                          email_verified="true"))
    cognito.admin_set_user_password(UserPoolId=pool, Username="off", Password=GOOD_PASSWORD,
                                    Permanent=True)
    cognito.admin_disable_user(UserPoolId=pool, Username="off")
    with raises_code("NotAuthorizedException"):
        cognito.admin_reset_user_password(UserPoolId=pool, Username="off")
    assert get(cognito, pool, "off")["UserStatus"] == "CONFIRMED"


def test_admin_reset_user_password_twice(cognito, pool):
    create(cognito, pool, "twice", UserAttributes=attr_list(email="twice@example.com",
                                                            email_verified="true"))
    cognito.admin_set_user_password(UserPoolId=pool, Username="twice", Password=GOOD_PASSWORD,
                                    Permanent=True)
    cognito.admin_reset_user_password(UserPoolId=pool, Username="twice")
    cognito.admin_reset_user_password(UserPoolId=pool, Username="twice")
    assert get(cognito, pool, "twice")["UserStatus"] == "RESET_REQUIRED"
