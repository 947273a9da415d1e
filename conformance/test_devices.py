"""Devices with boto3 and pycognito's device SRP (its verifier and proof, sent with the
Session Cognito requires): DeviceConfiguration on the pool, NewDeviceMetadata at sign-in,
ConfirmDevice, DEVICE_SRP_AUTH / DEVICE_PASSWORD_VERIFIER, a remembered device skipping
MFA, UpdateDeviceStatus, GetDevice, ListDevices, ForgetDevice and the Admin* variants, and
Cognito's errors. amazon-cognito-identity-js and Amplify v6 drive the same flows in
test_identity_js.py; the secondary region in test_cross_region.py."""

from __future__ import annotations

import datetime

import pytest
from pycognito.aws_srp import generate_hash_device, long_to_hex

from auth_support import claims, make_app_client, make_user
from device_support import ALWAYS, ON_PROMPT, Phone
from mfa_support import code, enrol_by_access_token, set_mfa
from support import raises_code

@pytest.fixture
def tracked(cognito, pool_factory):
    """A pool that always remembers devices, an app client and a user."""
    def make(device_config=ALWAYS, **pool_kwargs):
        pool = pool_factory(DeviceConfiguration=device_config, **pool_kwargs)["Id"]
        client_id = make_app_client(cognito, pool)["ClientId"]
        return pool, client_id, make_user(cognito, pool)
    return make


def test_device_configuration_round_trips(cognito, pool_factory):
    pool = pool_factory(DeviceConfiguration=ON_PROMPT)["Id"]
    assert cognito.describe_user_pool(UserPoolId=pool)["UserPool"]["DeviceConfiguration"] == ON_PROMPT


def test_a_confirmed_device_signs_in_with_device_srp(cognito, public, tracked):
    pool, client_id, user = tracked()
    phone = Phone(public, pool, client_id, user)
    first = phone.sign_in()["AuthenticationResult"]
    meta = first["NewDeviceMetadata"]
    assert meta["DeviceKey"].startswith("us-east-1_") and meta["DeviceGroupKey"]
    assert claims(first["AccessToken"])["device_key"] == meta["DeviceKey"]
    assert phone.confirm(first)["UserConfirmationNecessary"] is False
    again = phone.sign_in()
    assert "NewDeviceMetadata" not in again["AuthenticationResult"], "a known device gets no new key"
    assert claims(again["AuthenticationResult"]["AccessToken"])["device_key"] == phone.key
    d = public.get_device(AccessToken=again["AuthenticationResult"]["AccessToken"], DeviceKey=phone.key)["Device"]
    attrs = {a["Name"]: a["Value"] for a in d["DeviceAttributes"]}
    assert attrs == {"device_status": "valid", "device_name": "test phone",
                     "dev:device_remembered_status": "remembered"}
    assert isinstance(d["DeviceLastAuthenticatedDate"], datetime.datetime)
    assert d["DeviceLastAuthenticatedDate"] >= d["DeviceCreateDate"]


def test_a_wrong_device_secret_is_refused(public, tracked):
    pool, client_id, user = tracked()
    phone = Phone(public, pool, client_id, user)
    phone.confirm(phone.sign_in()["AuthenticationResult"])
    phone.password = "not the device secret"
    with raises_code("NotAuthorizedException"):
        phone.sign_in()


def test_device_challenges_need_their_session(public, tracked):
    """DEVICE_SRP_AUTH without the Session of the password step would let a device key
    alone sign in; it is refused (as Cognito now requires the Session)."""
    pool, client_id, user = tracked()
    phone = Phone(public, pool, client_id, user)
    phone.confirm(phone.sign_in()["AuthenticationResult"])
    srp = phone.srp()
    with raises_code("NotAuthorizedException"):
        phone.respond("DEVICE_SRP_AUTH", {"USERNAME": user, "DEVICE_KEY": phone.key,
                                          "SRP_A": long_to_hex(srp.large_a_value)})


def first_sign_in_with_totp(public, phone: Phone) -> tuple[dict, str]:
    """The phone's first sign-in (its AuthenticationResult), and a software token the user
    then enrols and prefers (its secret)."""
    first = phone.sign_in()["AuthenticationResult"]
    secret = enrol_by_access_token(public, first["AccessToken"])
    public.set_user_mfa_preference(AccessToken=first["AccessToken"],
                                   SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True})
    return first, secret


def test_a_remembered_device_skips_mfa_and_a_forgotten_one_does_not(cognito, public, tracked):
    pool, client_id, user = tracked()
    set_mfa(cognito, pool, "OPTIONAL")
    phone = Phone(public, pool, client_id, user)
    first, secret = first_sign_in_with_totp(public, phone)
    phone.confirm(first)
    skipped = phone.sign_in()
    assert "AuthenticationResult" in skipped, f"a remembered device skips MFA: {skipped}"
    assert phone.device_srp_used
    cognito.admin_forget_device(UserPoolId=pool, Username=user, DeviceKey=phone.key)
    asked = phone.sign_in()
    assert asked["ChallengeName"] == "SOFTWARE_TOKEN_MFA", "a forgotten device is a new device"
    done = phone.answer_mfa(asked, code(secret, 1))
    assert done["AuthenticationResult"]["NewDeviceMetadata"]["DeviceKey"] != phone.key


def test_a_device_remembered_only_on_prompt_asks_for_mfa_until_remembered(cognito, public, tracked):
    pool, client_id, user = tracked(ON_PROMPT)
    set_mfa(cognito, pool, "OPTIONAL")
    phone = Phone(public, pool, client_id, user)
    first, secret = first_sign_in_with_totp(public, phone)
    assert phone.confirm(first)["UserConfirmationNecessary"] is True
    listed = cognito.admin_list_devices(UserPoolId=pool, Username=user)["Devices"]
    status = {a["Name"]: a["Value"] for a in listed[0]["DeviceAttributes"]}["dev:device_remembered_status"]
    assert status == "not_remembered"
    asked = phone.sign_in()
    assert asked["ChallengeName"] == "SOFTWARE_TOKEN_MFA", "a device not remembered still answers MFA"
    phone.device_srp_used = False
    done = phone.answer_mfa(asked, code(secret, 1))["AuthenticationResult"]
    assert not phone.device_srp_used, "MFA proved the sign-in; the device is not asked again"
    assert "NewDeviceMetadata" not in done and claims(done["AccessToken"])["device_key"] == phone.key
    public.update_device_status(AccessToken=done["AccessToken"], DeviceKey=phone.key,
                                DeviceRememberedStatus="remembered")
    assert "AuthenticationResult" in phone.sign_in(), "remembered now, MFA is skipped"
    cognito.admin_update_device_status(UserPoolId=pool, Username=user, DeviceKey=phone.key,
                                       DeviceRememberedStatus="not_remembered")
    assert phone.sign_in()["ChallengeName"] == "SOFTWARE_TOKEN_MFA"


def test_list_get_and_forget_devices(cognito, public, tracked):
    pool, client_id, user = tracked()
    phones = [Phone(public, pool, client_id, user) for _ in range(3)]
    for i, p in enumerate(phones):
        p.confirm(p.sign_in()["AuthenticationResult"], name=f"phone {i}")
    token = phones[0].sign_in()["AuthenticationResult"]["AccessToken"]
    keys = sorted(p.key for p in phones)
    first = public.list_devices(AccessToken=token, Limit=2)
    assert [d["DeviceKey"] for d in first["Devices"]] == keys[:2]
    rest = public.list_devices(AccessToken=token, Limit=2, PaginationToken=first["PaginationToken"])
    assert [d["DeviceKey"] for d in rest["Devices"]] == keys[2:] and "PaginationToken" not in rest
    admin_view = cognito.admin_get_device(UserPoolId=pool, Username=user, DeviceKey=phones[1].key)["Device"]
    assert {"Name": "device_name", "Value": "phone 1"} in admin_view["DeviceAttributes"]
    public.forget_device(AccessToken=token, DeviceKey=phones[1].key)
    left = cognito.admin_list_devices(UserPoolId=pool, Username=user)["Devices"]
    assert sorted(d["DeviceKey"] for d in left) == sorted([phones[0].key, phones[2].key])
    with raises_code("ResourceNotFoundException"):
        cognito.admin_get_device(UserPoolId=pool, Username=user, DeviceKey=phones[1].key)
    assert "NewDeviceMetadata" in phones[1].sign_in()["AuthenticationResult"], "a forgotten key is unknown"


def test_refresh_with_the_device_key_keeps_it_in_the_token(public, tracked):
    pool, client_id, user = tracked()
    phone = Phone(public, pool, client_id, user)
    first = phone.sign_in()["AuthenticationResult"]
    phone.confirm(first)
    r = public.initiate_auth(AuthFlow="REFRESH_TOKEN_AUTH", ClientId=client_id,
                             AuthParameters={"REFRESH_TOKEN": first["RefreshToken"], "DEVICE_KEY": phone.key})
    assert claims(r["AuthenticationResult"]["AccessToken"])["device_key"] == phone.key
    assert "NewDeviceMetadata" not in r["AuthenticationResult"]


def test_devices_are_the_users_own(cognito, public, tracked):
    pool, client_id, user = tracked()
    mine = Phone(public, pool, client_id, user)
    mine.confirm(mine.sign_in()["AuthenticationResult"])
    other = make_user(cognito, pool)
    theirs = Phone(public, pool, client_id, other).sign_in()["AuthenticationResult"]
    with raises_code("ResourceNotFoundException"):
        public.get_device(AccessToken=theirs["AccessToken"], DeviceKey=mine.key)
    with raises_code("ResourceNotFoundException"):
        public.forget_device(AccessToken=theirs["AccessToken"], DeviceKey=mine.key)
    with raises_code("ResourceNotFoundException"):
        cognito.admin_get_device(UserPoolId=pool, Username=other, DeviceKey=mine.key)
    # A device key is confirmed only with the access token it was issued with.
    _, config = generate_hash_device("-group", mine.key)
    with raises_code("ResourceNotFoundException"):
        public.confirm_device(AccessToken=theirs["AccessToken"], DeviceKey=mine.key, DeviceSecretVerifierConfig=config)


def test_bad_requests_get_cognitos_errors(cognito, public, pool_factory, tracked):
    pool, client_id, user = tracked()
    phone = Phone(public, pool, client_id, user)
    first = phone.sign_in()["AuthenticationResult"]
    phone.confirm(first)
    _, config = generate_hash_device(phone.group, phone.key)
    with raises_code("DeviceKeyExistsException"):
        public.confirm_device(AccessToken=first["AccessToken"], DeviceKey=phone.key, DeviceSecretVerifierConfig=config)
    with raises_code("InvalidParameterException"):
        public.update_device_status(AccessToken=first["AccessToken"], DeviceKey="bad key!")
    with raises_code("UserNotFoundException"):
        cognito.admin_forget_device(UserPoolId=pool, Username="nobody-at-all", DeviceKey=phone.key)
    with raises_code("NotAuthorizedException"):
        public.list_devices(AccessToken="not-a-token")
    untracked = pool_factory()["Id"]
    plain = make_app_client(cognito, untracked)["ClientId"]
    other = make_user(cognito, untracked)
    result = Phone(public, untracked, plain, other).sign_in()["AuthenticationResult"]
    assert "NewDeviceMetadata" not in result and "device_key" not in claims(result["AccessToken"])
    with raises_code("InvalidUserPoolConfigurationException"):
        public.confirm_device(AccessToken=result["AccessToken"], DeviceKey=phone.key, DeviceSecretVerifierConfig=config)


def test_deleting_the_user_deletes_its_devices(cognito, public, tracked):
    pool, client_id, user = tracked()
    phone = Phone(public, pool, client_id, user)
    phone.confirm(phone.sign_in()["AuthenticationResult"])
    cognito.admin_delete_user(UserPoolId=pool, Username=user)
    make_user(cognito, pool, username=user)
    assert cognito.admin_list_devices(UserPoolId=pool, Username=user)["Devices"] == []
