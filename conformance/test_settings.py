"""A setting Janus accepts is a setting Janus honours (issue 15).

The inventory below names every member botocore models for CreateUserPool, UpdateUserPool,
CreateUserPoolClient and UpdateUserPoolClient, and what Janus does with it:
- HONOURED: it works; the named test shows it (a conformance test, or a Rust test where only
  the manual clock can show it; the test must exist);
- REFUSED: not built yet, so a value that would configure something is refused with
  InvalidParameterException naming the setting (the value is tried here), while the value
  DescribeUserPool answers for "off" passes;
- STORED: kept and returned, with no effect by design (the reason is given);
- GAPS: accepted today without the effect Cognito gives it — the open items of issue 15, listed
  so this file says so rather than hiding them; the list may only shrink.
A botocore upgrade that models a new member fails `test_the_inventory_names_every_setting`
until someone decides what Janus does with it.

Then the settings this issue made real: the verification and invitation message templates (and
the legacy verification members kept in step with them), AccountRecoverySetting in
ForgotPassword, and the legacy UnusedAccountValidityDays."""

from __future__ import annotations

import re
from pathlib import Path

import botocore.session
import pytest

from auth_support import make_app_client
from support import GOOD_PASSWORD, attr_list, raises_code, unique

HERE = Path(__file__).resolve().parent

HONOURED = {
    "DeviceConfiguration": "test_devices.py::test_a_device_remembered_only_on_prompt_asks_for_mfa_until_remembered",
    "PoolName": "test_pools.py::test_describe_user_pool",
    "UserPoolId": "test_pools.py::test_describe_user_pool",
    "Policies": "test_pools.py::test_create_user_pool_with_settings",
    "DeletionProtection": "test_pools.py::test_create_user_pool_defaults",
    "AutoVerifiedAttributes": "test_signup.py::test_sign_up_sends_code_and_confirms",
    "AliasAttributes": "test_pools.py::test_create_user_pool_username_and_alias_attributes_conflict",
    "UsernameAttributes": "test_concurrency.py::test_parallel_creates_of_the_same_email_username",
    "SmsVerificationMessage": "test_settings.py::test_code_messages_follow_the_pools_template_and_its_legacy_members",
    "EmailVerificationMessage": "test_settings.py::test_code_messages_follow_the_pools_template_and_its_legacy_members",
    "EmailVerificationSubject": "test_settings.py::test_code_messages_follow_the_pools_template_and_its_legacy_members",
    "VerificationMessageTemplate": "test_settings.py::test_code_messages_follow_the_pools_template_and_its_legacy_members",
    "SmsAuthenticationMessage": "test_mfa.py::test_sms_mfa_through_the_webhook_and_select_mfa_type",
    "MfaConfiguration": "test_mfa.py::test_sms_mfa_through_the_webhook_and_select_mfa_type",
    "UserPoolTags": "test_tags.py::test_tags_from_create_user_pool",
    "AdminCreateUserConfig": "test_settings.py::test_an_invitation_follows_the_invite_template",
    "Schema": "test_pools.py::test_create_user_pool_with_settings",
    "UsernameConfiguration": "test_groups.py::test_membership_in_case_insensitive_pool",
    "AccountRecoverySetting": "test_settings.py::test_forgot_password_follows_the_account_recovery_setting",
    "EmailConfiguration": "test_smtp.py::test_a_pools_email_configuration_names_the_sender_and_reply_to",
    "KeyConfiguration": "test_kms.py::test_pools_encrypt_under_a_kms_key_and_follow_its_state",
    "ClientId": "test_clients.py::test_update_client",
    "ClientName": "test_clients.py::test_update_client",
    "GenerateSecret": "test_clients.py::test_create_client_with_secret",
    "ClientSecret": "test_clients.py::test_create_client_with_secret",
    "RefreshTokenValidity": "test_tokens.py::test_token_lifetimes_follow_the_app_client",
    "AccessTokenValidity": "test_tokens.py::test_token_lifetimes_follow_the_app_client",
    "IdTokenValidity": "test_tokens.py::test_token_lifetimes_follow_the_app_client",
    "TokenValidityUnits": "test_tokens.py::test_token_lifetimes_follow_the_app_client",
    "ReadAttributes": "test_tokens.py::test_custom_attributes_and_read_attributes",
    "WriteAttributes": "test_settings.py::test_a_client_writes_only_its_write_attributes",
    "ExplicitAuthFlows": "test_clients.py::test_update_client",
    "SupportedIdentityProviders": "test_oauth.py::test_client_oauth_settings_round_trip",
    "CallbackURLs": "test_oauth.py::test_client_oauth_settings_round_trip",
    "LogoutURLs": "test_oauth.py::test_client_oauth_settings_round_trip",
    "DefaultRedirectURI": "test_oauth.py::test_client_oauth_settings_round_trip",
    "AllowedOAuthFlows": "test_oauth.py::test_client_oauth_settings_round_trip",
    "AllowedOAuthScopes": "test_oauth.py::test_client_oauth_settings_round_trip",
    "AllowedOAuthFlowsUserPoolClient": "test_oauth.py::test_client_oauth_settings_round_trip",
    "PreventUserExistenceErrors": "test_existence.py::test_wrong_password_errors_do_not_reveal_users",
    "EnableTokenRevocation": "test_me.py::test_revoke_token_disabled_on_client",
    "RefreshTokenRotation": "test_signin.py::test_rotated_refresh_token_is_invalidated",
    "IssuerConfiguration": "test_issuer.py::test_updated_gives_both_regions_the_primarys_issuer",
    # Minutes of a challenge session: the manual clock of the Rust suite shows it.
    "AuthSessionValidity": "../crates/janus-core/tests/mfa.rs::sessions_expire_after_three_minutes_or_the_clients_validity",
    # Every trigger botocore models but InboundFederation (federation is not built; it is refused
    # by name), and KMSKeyID (test_triggers.py's custom sender tests).
    "LambdaConfig": "test_triggers.py::test_pre_sign_up_sees_the_sign_up_and_can_refuse_it",
}

# member -> (operation, a value that configures what Janus does not do yet)
REFUSED = {
    "UserAttributeUpdateSettings": ("pool", {"AttributesRequireVerificationBeforeUpdate": ["email"]}),
    "UserPoolAddOns": ("pool", {"AdvancedSecurityMode": "ENFORCED"}),
    "DcrConfiguration": ("pool", {"EnableStatus": "Enabled"}),
    "AcrConfiguration": ("pool", {"Level1": {"AcrValue": "urn:example:acr"}}),
    "AnalyticsConfiguration": ("client", {"ApplicationId": "a" * 32, "UserDataShared": False}),
}

# Refused values inside a member that is otherwise honoured.
REFUSED_VALUES = [
    ("pool", {"Policies": {"SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD", "WEB_AUTHN"]}}}, "WEB_AUTHN"),
    ("pool", {"Policies": {"PasswordPolicy": {"MinimumLength": 8, "PasswordHistorySize": 5}}}, "PasswordHistorySize"),
    ("pool", {"VerificationMessageTemplate": {"DefaultEmailOption": "CONFIRM_WITH_LINK"}}, "CONFIRM_WITH_LINK"),
    ("client", {"ExplicitAuthFlows": ["ALLOW_TOKEN_EXCHANGE_DELEGATION"]}, "ALLOW_TOKEN_EXCHANGE_DELEGATION"),
    ("client", {"SupportedIdentityProviders": ["COGNITO", "Google"]}, "Google"),
]

STORED = {
    "UserPoolTier": "the pricing tier: Janus has no per-tier features to switch",
    "SmsConfiguration": "SNS's caller role: SMS leaves through the region's [sms] webhook (a regional setting)",
    # EmailConfiguration's From and ReplyToEmailAddress are honoured; its SES members
    # (SourceArn, ConfigurationSet, EmailSendingAccount) are not: mail leaves through [smtp].
    "EnablePropagateAdditionalUserContextData": "feeds threat protection only, which is refused (UserPoolAddOns)",
}

GAPS: dict[str, str] = {}  # none left; a new one goes here with the reason, never silently


def modelled_members() -> set[str]:
    m = botocore.session.get_session().get_service_model("cognito-idp")
    ops = ["CreateUserPool", "UpdateUserPool", "CreateUserPoolClient", "UpdateUserPoolClient"]
    return {name for op in ops for name in m.operation_model(op).input_shape.members}


def test_the_inventory_names_every_setting():
    listed = [set(HONOURED), set(REFUSED), set(STORED), set(GAPS)]
    everything = set().union(*listed)
    assert sum(len(s) for s in listed) == len(everything), "a setting is listed twice"
    assert modelled_members() - everything == set(), "botocore models settings the inventory does not name"
    assert everything - modelled_members() == set(), "the inventory names settings botocore does not model"


def test_every_honoured_setting_names_a_test_that_exists():
    for member, ref in HONOURED.items():
        file, name = ref.split("::")
        assert re.search(rf"^(def|fn) {name}\(", (HERE / file).read_text(), re.M), f"{member}: {ref} does not exist"


def call(cognito, pool, where: str, settings: dict):
    if where == "pool":
        return cognito.create_user_pool(PoolName=unique("refused"), **settings)
    return cognito.create_user_pool_client(UserPoolId=pool, ClientName="c", **settings)


@pytest.mark.parametrize("member", sorted(REFUSED))
def test_a_setting_not_built_yet_is_refused_naming_itself(cognito, shared_pool, member):
    where, value = REFUSED[member]
    with raises_code("InvalidParameterException") as e:
        call(cognito, shared_pool, where, {member: value})
    assert member in str(e.value)
    if where == "pool":
        with raises_code("InvalidParameterException"):
            cognito.update_user_pool(UserPoolId=shared_pool, **{member: value})


@pytest.mark.parametrize("where,settings,named", REFUSED_VALUES, ids=[v[2] for v in REFUSED_VALUES])
def test_a_value_not_built_yet_is_refused_naming_itself(cognito, shared_pool, where, settings, named):
    with raises_code("InvalidParameterException") as e:
        call(cognito, shared_pool, where, settings)
    assert named in str(e.value)


def test_what_describe_answers_for_off_can_be_sent_back(cognito, pool_factory):
    pool = pool_factory(LambdaConfig={}, UserPoolAddOns={"AdvancedSecurityMode": "OFF"},
                        DcrConfiguration={"EnableStatus": "Disabled"},
                        Policies={"PasswordPolicy": {"MinimumLength": 8},
                                  "SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD"]}})["Id"]
    described = cognito.describe_user_pool(UserPoolId=pool)["UserPool"]
    cognito.update_user_pool(UserPoolId=pool, Policies=described["Policies"],
                             LambdaConfig=described.get("LambdaConfig", {}),
                             VerificationMessageTemplate=described["VerificationMessageTemplate"])
    client = cognito.create_user_pool_client(UserPoolId=pool, ClientName="c",
                                             ExplicitAuthFlows=["ALLOW_USER_SRP_AUTH", "ALLOW_CUSTOM_AUTH",
                                                                "ALLOW_REFRESH_TOKEN_AUTH"],
                                             SupportedIdentityProviders=["COGNITO"])
    assert client["UserPoolClient"]["ExplicitAuthFlows"]


def test_code_messages_follow_the_pools_template_and_its_legacy_members(cognito, public, pool_factory, outbox):
    pool = pool_factory(AutoVerifiedAttributes=["email"], VerificationMessageTemplate={
        "EmailMessage": "Welcome to Example. Your code: {####}", "EmailSubject": "Example sign-up",
        "SmsMessage": "Example code {####}"})["Id"]
    d = cognito.describe_user_pool(UserPoolId=pool)["UserPool"]
    assert d["EmailVerificationMessage"] == "Welcome to Example. Your code: {####}"
    assert d["EmailVerificationSubject"] == "Example sign-up"
    assert d["SmsVerificationMessage"] == "Example code {####}"
    assert d["VerificationMessageTemplate"]["DefaultEmailOption"] == "CONFIRM_WITH_CODE"

    client = make_app_client(cognito, pool)["ClientId"]
    user = unique("tpl")
    public.sign_up(ClientId=client, Username=user, Password=GOOD_PASSWORD,
                   UserAttributes=attr_list(email="tpl@example.com"))
    msg = outbox.last(pool, user)
    assert re.fullmatch(r"Welcome to Example\. Your code: \d{6}", msg["body"]), msg
    assert msg["subject"] == "Example sign-up"

    # The legacy members alone set the template too.
    cognito.update_user_pool(UserPoolId=pool, AutoVerifiedAttributes=["email"],
                             EmailVerificationMessage="Legacy {####}", EmailVerificationSubject="Legacy subject")
    d = cognito.describe_user_pool(UserPoolId=pool)["UserPool"]
    assert d["VerificationMessageTemplate"]["EmailMessage"] == "Legacy {####}"
    assert d["VerificationMessageTemplate"]["EmailSubject"] == "Legacy subject"
    public.resend_confirmation_code(ClientId=client, Username=user)
    assert re.fullmatch(r"Legacy \d{6}", outbox.last(pool, user)["body"])


def test_an_invitation_follows_the_invite_template(cognito, pool_factory, outbox):
    pool = pool_factory(AdminCreateUserConfig={"InviteMessageTemplate": {
        "EmailMessage": "Hello {username}, your first password is {####}", "EmailSubject": "Your Example account",
        "SMSMessage": "{username} / {####}"}})["Id"]
    user = unique("invite")
    cognito.admin_create_user(UserPoolId=pool, Username=user, TemporaryPassword="Temp-Passw0rd!",
                              UserAttributes=attr_list(email="inv@example.com"), DesiredDeliveryMediums=["EMAIL"])
    msg = outbox.last(pool, user)
    assert msg["body"] == f"Hello {user}, your first password is Temp-Passw0rd!"
    assert msg["subject"] == "Your Example account"


def verified(email: bool, phone: bool) -> list[dict]:
    attrs = {}
    if email:
        attrs.update(email="rec@example.com", email_verified="true")
    if phone:
        attrs.update(phone_number="+12065550100", phone_number_verified="true")
    return attr_list(**attrs)


def make_recoverable(cognito, pool, email=True, phone=True) -> str:
    user = unique("rec")
    cognito.admin_create_user(UserPoolId=pool, Username=user, MessageAction="SUPPRESS",
                              UserAttributes=verified(email, phone))
    cognito.admin_set_user_password(UserPoolId=pool, Username=user, Password=GOOD_PASSWORD, Permanent=True)
    return user


def test_forgot_password_follows_the_account_recovery_setting(cognito, public, pool_factory):
    mechanisms = lambda *names: {"RecoveryMechanisms": [  # noqa: E731
        {"Priority": i + 1, "Name": n} for i, n in enumerate(names)]}

    # Email first.
    pool = pool_factory(AccountRecoverySetting=mechanisms("verified_email", "verified_phone_number"))["Id"]
    client = make_app_client(cognito, pool)["ClientId"]
    user = make_recoverable(cognito, pool)
    r = public.forgot_password(ClientId=client, Username=user)["CodeDeliveryDetails"]
    assert r["DeliveryMedium"] == "EMAIL" and r["AttributeName"] == "email"
    # The phone first.
    cognito.update_user_pool(UserPoolId=pool, AccountRecoverySetting=mechanisms("verified_phone_number", "verified_email"))
    r = public.forgot_password(ClientId=client, Username=user)["CodeDeliveryDetails"]
    assert r["DeliveryMedium"] == "SMS" and r["AttributeName"] == "phone_number"
    # Only what the setting names: a user with a verified email only, in a phone-only pool.
    cognito.update_user_pool(UserPoolId=pool, AccountRecoverySetting=mechanisms("verified_phone_number"))
    emailed = make_recoverable(cognito, pool, phone=False)
    with raises_code("InvalidParameterException"):
        public.forgot_password(ClientId=client, Username=emailed)
    # Administrators only.
    cognito.update_user_pool(UserPoolId=pool, AccountRecoverySetting=mechanisms("admin_only"))
    with raises_code("NotAuthorizedException") as e:
        public.forgot_password(ClientId=client, Username=user)
    assert "Contact administrator to reset password." in str(e.value)
    cognito.admin_reset_user_password(UserPoolId=pool, Username=user)

    # No setting: Cognito's legacy order, a verified phone before a verified email.
    legacy = pool_factory(Policies={"PasswordPolicy": {"MinimumLength": 8}})["Id"]
    client = make_app_client(cognito, legacy)["ClientId"]
    user = make_recoverable(cognito, legacy)
    r = public.forgot_password(ClientId=client, Username=user)["CodeDeliveryDetails"]
    assert r["DeliveryMedium"] == "SMS"


def test_the_legacy_unused_account_validity_sets_the_temporary_password_validity(cognito, pool_factory):
    pool = pool_factory(AdminCreateUserConfig={"UnusedAccountValidityDays": 3})["Id"]
    d = cognito.describe_user_pool(UserPoolId=pool)["UserPool"]
    assert d["Policies"]["PasswordPolicy"]["TemporaryPasswordValidityDays"] == 3


def test_a_client_writes_only_its_write_attributes(cognito, public, pool_factory):
    pool = pool_factory(Schema=[{"Name": "plan", "AttributeDataType": "String"}])["Id"]
    client = make_app_client(cognito, pool, WriteAttributes=["email", "name"])["ClientId"]
    user = unique("writer")
    with raises_code("NotAuthorizedException") as e:
        public.sign_up(ClientId=client, Username=user, Password=GOOD_PASSWORD,
                       UserAttributes=attr_list(**{"email": "w@example.com", "custom:plan": "gold"}))
    assert "A client attempted to write unauthorized attribute custom:plan" in str(e.value)
    public.sign_up(ClientId=client, Username=user, Password=GOOD_PASSWORD,
                   UserAttributes=attr_list(email="w@example.com"))
    cognito.admin_confirm_sign_up(UserPoolId=pool, Username=user)
    token = public.initiate_auth(ClientId=client, AuthFlow="USER_PASSWORD_AUTH", AuthParameters={
        "USERNAME": user, "PASSWORD": GOOD_PASSWORD})["AuthenticationResult"]["AccessToken"]
    public.update_user_attributes(AccessToken=token, UserAttributes=attr_list(name="Writer"))
    with raises_code("NotAuthorizedException"):
        public.update_user_attributes(AccessToken=token, UserAttributes=attr_list(**{"custom:plan": "gold"}))
    # An administrator is not an app client: AdminUpdateUserAttributes writes anything.
    cognito.admin_update_user_attributes(UserPoolId=pool, Username=user, UserAttributes=attr_list(**{"custom:plan": "gold"}))
