"""Cognito's exact answers where code written against AWS depends on them (issue 15): schema
validation on CreateUserPool and AddCustomAttributes and how custom attributes are described,
boolean attribute values in any case, an email another user holds as an alias, the ListUsers
filter parser's message, one message for every unknown attribute name, ForgotPassword with an
unknown app client, validation messages that leave sensitive values out, SMS MFA without an SMS
configuration, and app clients' Read/WriteAttributes checked against the schema."""

from __future__ import annotations

import pytest

from auth_support import make_app_client
from support import attr_list, raises_code, unique


def refused(call, *needles: str, code: str = "InvalidParameterException"):
    with raises_code(code) as e:
        call()
    message = e.value.response["Error"]["Message"]
    for n in needles:
        assert n in message, message
    return message


@pytest.mark.parametrize("schema,needle", [
    ([{"Name": "plan"}], "Invalid AttributeDataType input, consider using the provided AttributeDataType enum."),
    ([{"Name": "email", "AttributeDataType": "Number"}],
     "You can not change AttributeDataType or set developerOnlyAttribute for standard schema attribute email"),
    ([{"Name": "email", "AttributeDataType": "String", "DeveloperOnlyAttribute": True}],
     "You can not change AttributeDataType or set developerOnlyAttribute for standard schema attribute email"),
    ([{"Name": "n", "AttributeDataType": "Number", "NumberAttributeConstraints": {"MinValue": "x"}}], "MinValue"),
    ([{"Name": "t", "AttributeDataType": "String", "StringAttributeConstraints": {"MaxLength": "ten"}}], "MaxLength"),
    ([{"Name": "t", "AttributeDataType": "String", "StringAttributeConstraints": {"MaxLength": "4096"}}], "2048"),
    ([{"Name": "t", "AttributeDataType": "String", "StringAttributeConstraints": {"MinLength": "9", "MaxLength": "3"}}],
     "MinLength 9 is greater than MaxLength 3"),
    ([{"Name": "n", "AttributeDataType": "Number", "NumberAttributeConstraints": {"MinValue": "5", "MaxValue": "1"}}],
     "MinValue 5 is greater than MaxValue 1"),
    ([{"Name": "d", "AttributeDataType": "String"}, {"Name": "d", "AttributeDataType": "String"}], "custom:d"),
], ids=["no-type", "retyped-standard", "developer-only-standard", "non-numeric-min-value", "non-numeric-max-length",
        "max-length-over-2048", "min-length-above-max", "min-value-above-max", "duplicate"])
def test_create_user_pool_refuses_a_bad_schema_as_cognito_does(cognito, schema, needle):
    refused(lambda: cognito.create_user_pool(PoolName=unique("schema"), Schema=schema), needle)


def test_add_custom_attributes_validates_as_create_does(cognito, pool):
    refused(lambda: cognito.add_custom_attributes(UserPoolId=pool, CustomAttributes=[{"Name": "plan"}]),
            "Invalid AttributeDataType input")
    refused(lambda: cognito.add_custom_attributes(UserPoolId=pool, CustomAttributes=[
        {"Name": "n", "AttributeDataType": "Number", "NumberAttributeConstraints": {"MinValue": "3", "MaxValue": "2"}}]),
        "MinValue 3 is greater than MaxValue 2")


def test_custom_attributes_are_described_as_cognito_describes_them(cognito, pool_factory):
    pool = pool_factory(Schema=[
        {"Name": "n", "AttributeDataType": "Number"},
        {"Name": "t", "AttributeDataType": "String"},
        {"Name": "b", "AttributeDataType": "Number", "NumberAttributeConstraints": {"MinValue": "1", "MaxValue": "9"}},
        {"Name": "updated_at", "AttributeDataType": "Number", "NumberAttributeConstraints": {"MinValue": "5"}},
    ])
    by_name = {a["Name"]: a for a in pool["SchemaAttributes"]}
    assert "NumberAttributeConstraints" not in by_name["custom:n"]
    assert by_name["custom:t"]["StringAttributeConstraints"] == {}
    assert by_name["custom:b"]["NumberAttributeConstraints"] == {"MinValue": "1", "MaxValue": "9"}
    assert by_name["updated_at"]["NumberAttributeConstraints"] == {"MinValue": "5"}, "kept on a standard attribute"


def test_verified_flags_take_true_and_false_in_any_case(cognito, pool):
    user = unique("flags")
    cognito.admin_create_user(UserPoolId=pool, Username=user, MessageAction="SUPPRESS", UserAttributes=attr_list(
        email="flags@example.com", email_verified="True"))
    cognito.admin_update_user_attributes(UserPoolId=pool, Username=user, UserAttributes=attr_list(
        phone_number="+12065550111", phone_number_verified="FALSE"))
    got = {a["Name"]: a["Value"] for a in cognito.admin_get_user(UserPoolId=pool, Username=user)["UserAttributes"]}
    assert got["email_verified"] == "true" and got["phone_number_verified"] == "false"
    refused(lambda: cognito.admin_update_user_attributes(UserPoolId=pool, Username=user,
                                                         UserAttributes=attr_list(email_verified="yes")),
            "email_verified")


def test_an_email_another_user_holds_as_an_alias_is_alias_exists(cognito, pool_factory):
    pool = pool_factory(AliasAttributes=["email"])["Id"]
    for name, email in (("first", "shared@example.com"), ("second", "other@example.com")):
        cognito.admin_create_user(UserPoolId=pool, Username=name, MessageAction="SUPPRESS",
                                  UserAttributes=attr_list(email=email, email_verified="true"))
    refused(lambda: cognito.admin_update_user_attributes(
        UserPoolId=pool, Username="second", UserAttributes=attr_list(email="shared@example.com", email_verified="true")),
        "An account with the given email already exists.", code="AliasExistsException")


@pytest.mark.parametrize("flt", ["bogus", 'email = "unterminated', 'email "x"'])
def test_an_unparsable_list_users_filter_says_so(cognito, shared_pool, flt):
    message = refused(lambda: cognito.list_users(UserPoolId=shared_pool, Filter=flt))
    assert message == "Error while parsing filter."


def test_deleting_unknown_attributes_names_every_one(cognito, shared_pool):
    user = unique("del")
    cognito.admin_create_user(UserPoolId=shared_pool, Username=user, MessageAction="SUPPRESS")
    refused(lambda: cognito.admin_delete_user_attributes(UserPoolId=shared_pool, Username=user,
                                                         UserAttributeNames=["nope1", "custom:nope2", "name"]),
            "nope1, custom:nope2")


def test_forgot_password_with_an_unknown_client_is_resource_not_found(public):
    refused(lambda: public.forgot_password(ClientId="1" * 26, Username="someone"),
            f"User pool client {'1' * 26} does not exist.", code="ResourceNotFoundException")


def test_validation_messages_leave_sensitive_values_out(cognito, public, shared_pool):
    client = make_app_client(cognito, shared_pool)["ClientId"]
    secret = "S3cret!" * 50
    message = refused(lambda: public.sign_up(ClientId=client, Username=unique("long"), Password=secret))
    assert message.startswith("1 validation error detected: Value at 'password' failed to satisfy constraint"), message
    assert "sensitive" not in message and "S3cret" not in message


def test_sms_mfa_needs_an_sms_configuration(cognito, pool_factory):
    pool = pool_factory(Policies={"PasswordPolicy": {"MinimumLength": 8}})["Id"]
    refused(lambda: cognito.set_user_pool_mfa_config(
        UserPoolId=pool, MfaConfiguration="OPTIONAL", SmsMfaConfiguration={"SmsAuthenticationMessage": "{####}"}),
        "SMS configuration is required")
    cognito.update_user_pool(UserPoolId=pool, SmsConfiguration={
        "SnsCallerArn": "arn:aws:iam::123456789012:role/sms", "ExternalId": "x"})
    cognito.set_user_pool_mfa_config(UserPoolId=pool, MfaConfiguration="OPTIONAL",
                                     SmsMfaConfiguration={"SmsAuthenticationMessage": "{####}"})


def test_client_read_and_write_attributes_must_be_in_the_schema(cognito, pool_factory):
    pool = pool_factory(Schema=[{"Name": "plan", "AttributeDataType": "String"}])["Id"]
    refused(lambda: cognito.create_user_pool_client(UserPoolId=pool, ClientName="c", ReadAttributes=["custom:nope"]),
            "Invalid read attributes specified while creating a client")
    refused(lambda: cognito.create_user_pool_client(UserPoolId=pool, ClientName="c", WriteAttributes=["nope"]),
            "Invalid write attributes specified while creating a client")
    client = cognito.create_user_pool_client(UserPoolId=pool, ClientName="c", ReadAttributes=["email", "custom:plan"],
                                             WriteAttributes=["custom:plan"])["UserPoolClient"]["ClientId"]
    refused(lambda: cognito.update_user_pool_client(UserPoolId=pool, ClientId=client, WriteAttributes=["custom:x"]),
            "Invalid write attributes specified while updating a client")
