"""amazon-cognito-identity-js (pinned in conformance/node/package.json) under Node, driven
through conformance/node/identity.js: SRP sign-in (the library's default), USER_PASSWORD_AUTH,
newPasswordRequired → completeNewPasswordChallenge, session refresh, the signed-in user's
operations, sign-up and password recovery. The library talks to Janus through the pool's
`endpoint` option, with fetch and no signature, exactly as in a browser."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from auth_support import NEW_PASSWORD, make_app_client, make_temp_user, make_user, wrong_code
from support import GOOD_PASSWORD, raises_code, unique

NODE_DIR = Path(__file__).resolve().parent / "node"
SCRIPT = NODE_DIR / "identity.js"


@pytest.fixture(scope="session")
def node_exe() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    if not (NODE_DIR / "node_modules" / "amazon-cognito-identity-js").is_dir():
        pytest.skip("conformance/node has no node_modules (run scripts/setup-test-env)")
    return node


@pytest.fixture
def identity_js(node_exe, janus):
    """identity_js(pool, client_id, username, steps) -> {"steps": [...], "error": ... | None}."""

    def run(pool: str, client_id: str, username: str, steps: list[dict]) -> dict:
        payload = {"endpoint": janus.endpoint, "userPoolId": pool, "clientId": client_id,
                   "username": username, "steps": steps}
        p = subprocess.run([node_exe, str(SCRIPT)], input=json.dumps(payload), capture_output=True,
                           text=True, timeout=60, cwd=NODE_DIR)
        assert p.returncode == 0, f"identity.js failed ({p.returncode}):\n{p.stderr}"
        return json.loads(p.stdout)

    return run


def ok(out: dict) -> list[dict]:
    assert out["error"] is None, f"step failed: {out['error']}"
    return out["steps"]


def test_srp_sign_in(cognito, pool, identity_js):
    app = make_app_client(cognito, pool, flows=[])  # Cognito's default flows: SRP
    user = make_user(cognito, pool, email="js@example.com", given_name="Js")
    steps = ok(identity_js(pool, app["ClientId"], user, [
        {"op": "authenticate", "password": GOOD_PASSWORD},
        {"op": "getUserAttributes"},
        {"op": "getSession"},
    ]))
    auth = steps[0]
    assert auth["challenge"] is None
    assert auth["valid"] is True
    assert auth["idPayload"]["cognito:username"] == user
    assert auth["idPayload"]["email"] == "js@example.com"
    assert auth["accessPayload"]["client_id"] == app["ClientId"]
    assert auth["refreshToken"]
    assert steps[1]["attributes"]["given_name"] == "Js"
    assert steps[1]["attributes"]["sub"] == auth["idPayload"]["sub"]
    assert steps[2]["accessToken"] == auth["accessToken"]


def test_user_password_auth_sign_in(cognito, pool, identity_js):
    app = make_app_client(cognito, pool)
    user = make_user(cognito, pool)
    steps = ok(identity_js(pool, app["ClientId"], user, [
        {"op": "authenticate", "password": GOOD_PASSWORD, "flow": "USER_PASSWORD_AUTH"},
        {"op": "refreshSession"},
    ]))
    first, refreshed = steps
    assert first["accessPayload"]["username"] == user
    assert refreshed["accessToken"] != first["accessToken"]
    assert refreshed["accessPayload"]["auth_time"] == first["accessPayload"]["auth_time"]
    # The library keeps the refresh token it had (no rotation).
    assert refreshed["refreshToken"] == first["refreshToken"]


def test_user_password_auth_not_enabled(cognito, pool, identity_js):
    app = make_app_client(cognito, pool, flows=[])
    user = make_user(cognito, pool)
    out = identity_js(pool, app["ClientId"], user, [
        {"op": "authenticate", "password": GOOD_PASSWORD, "flow": "USER_PASSWORD_AUTH"}])
    assert out["error"]["code"] == "InvalidParameterException"


@pytest.mark.parametrize("flow", ["USER_SRP_AUTH", "USER_PASSWORD_AUTH"])
def test_sign_in_errors(cognito, pool, identity_js, flow):
    app = make_app_client(cognito, pool)
    user = make_user(cognito, pool)
    out = identity_js(pool, app["ClientId"], user, [
        {"op": "authenticate", "password": "Wr0ng-Password!", "flow": flow}])
    assert out["error"]["code"] == "NotAuthorizedException"
    assert out["error"]["message"] == "Incorrect username or password."
    out = identity_js(pool, app["ClientId"], "nobody-" + unique(), [
        {"op": "authenticate", "password": GOOD_PASSWORD, "flow": flow}])
    assert out["error"]["code"] == "UserNotFoundException"
    cognito.admin_disable_user(UserPoolId=pool, Username=user)
    out = identity_js(pool, app["ClientId"], user, [
        {"op": "authenticate", "password": GOOD_PASSWORD, "flow": flow}])
    assert out["error"]["code"] == "NotAuthorizedException"
    assert out["error"]["message"] == "User is disabled."


@pytest.mark.parametrize("flow", ["USER_SRP_AUTH", "USER_PASSWORD_AUTH"])
def test_new_password_required(cognito, pool, identity_js, flow):
    app = make_app_client(cognito, pool)
    user = make_temp_user(cognito, pool, email="first@example.com", given_name="First")
    # The library reports the challenge with the attributes parsed from their JSON strings.
    out = ok(identity_js(pool, app["ClientId"], user, [
        {"op": "authenticate", "password": GOOD_PASSWORD, "flow": flow}]))
    ch = out[0]["challenge"]
    assert ch["name"] == "NEW_PASSWORD_REQUIRED"
    assert ch["userAttributes"]["email"] == "first@example.com"
    assert ch["userAttributes"]["given_name"] == "First"
    assert ch["requiredAttributes"] == []
    # completeNewPasswordChallenge, changing an attribute on the way.
    steps = ok(identity_js(pool, app["ClientId"], user, [
        {"op": "authenticate", "password": GOOD_PASSWORD, "flow": flow,
         "newPassword": NEW_PASSWORD, "newAttributes": {"given_name": "Renamed"}},
        {"op": "getUserAttributes"},
    ]))
    assert steps[0]["challenge"]["name"] == "NEW_PASSWORD_REQUIRED"
    assert steps[0]["idPayload"]["cognito:username"] == user
    assert steps[0]["idPayload"]["given_name"] == "Renamed"
    assert steps[1]["attributes"]["given_name"] == "Renamed"
    assert cognito.admin_get_user(UserPoolId=pool, Username=user)["UserStatus"] == "CONFIRMED"
    ok(identity_js(pool, app["ClientId"], user, [
        {"op": "authenticate", "password": NEW_PASSWORD, "flow": flow}]))


def test_new_password_required_weak_password(cognito, pool, identity_js):
    app = make_app_client(cognito, pool)
    user = make_temp_user(cognito, pool)
    out = identity_js(pool, app["ClientId"], user, [
        {"op": "authenticate", "password": GOOD_PASSWORD, "newPassword": "weak"}])
    assert out["error"]["code"] == "InvalidPasswordException"


def test_signed_in_user_operations(cognito, pool, identity_js):
    app = make_app_client(cognito, pool)
    user = make_user(cognito, pool, email="ops@example.com", email_verified="true")
    steps = ok(identity_js(pool, app["ClientId"], user, [
        {"op": "authenticate", "password": GOOD_PASSWORD},
        {"op": "updateAttributes", "attributes": {"given_name": "Updated", "locale": "de"}},
        {"op": "getUserAttributes"},
        {"op": "changePassword", "oldPassword": GOOD_PASSWORD, "newPassword": NEW_PASSWORD},
        {"op": "globalSignOut"},
    ]))
    assert steps[2]["attributes"]["given_name"] == "Updated"
    assert steps[2]["attributes"]["locale"] == "de"
    # The tokens the library held are signed out.
    with raises_code("NotAuthorizedException"):
        cognito.get_user(AccessToken=steps[0]["accessToken"])
    steps = ok(identity_js(pool, app["ClientId"], user, [
        {"op": "authenticate", "password": NEW_PASSWORD},
        {"op": "deleteUser"},
    ]))
    with raises_code("UserNotFoundException"):
        cognito.admin_get_user(UserPoolId=pool, Username=user)


def test_sign_up_and_recovery(cognito, pool_factory, identity_js, outbox):
    pool = pool_factory(AutoVerifiedAttributes=["email"])["Id"]
    app = make_app_client(cognito, pool)
    user = unique("jsup")
    steps = ok(identity_js(pool, app["ClientId"], user, [
        {"op": "signUp", "password": GOOD_PASSWORD, "attributes": {"email": "jsup@example.com"}},
    ]))
    assert steps[0]["userConfirmed"] is False
    assert steps[0]["codeDeliveryDetails"] == {"Destination": "j***@e***", "DeliveryMedium": "EMAIL",
                                               "AttributeName": "email"}
    out = identity_js(pool, app["ClientId"], user, [{"op": "authenticate", "password": GOOD_PASSWORD}])
    assert out["error"]["code"] == "UserNotConfirmedException"
    ok(identity_js(pool, app["ClientId"], user, [
        {"op": "resendConfirmationCode"},
    ]))
    steps = ok(identity_js(pool, app["ClientId"], user, [
        {"op": "confirmRegistration", "code": outbox.code(pool, user)},
        {"op": "authenticate", "password": GOOD_PASSWORD},
    ]))
    assert steps[0]["result"] == "SUCCESS"
    assert steps[1]["idPayload"]["email_verified"] is True

    steps = ok(identity_js(pool, app["ClientId"], user, [{"op": "forgotPassword"}]))
    assert steps[0]["data"]["CodeDeliveryDetails"]["DeliveryMedium"] == "EMAIL"
    out = identity_js(pool, app["ClientId"], user, [
        {"op": "confirmPassword", "code": wrong_code(outbox.code(pool, user)), "newPassword": NEW_PASSWORD}])
    assert out["error"]["code"] == "CodeMismatchException"
    ok(identity_js(pool, app["ClientId"], user, [
        {"op": "confirmPassword", "code": outbox.code(pool, user), "newPassword": NEW_PASSWORD},
        {"op": "authenticate", "password": NEW_PASSWORD},
    ]))


def test_unicode_user_srp(cognito, pool, identity_js):
    app = make_app_client(cognito, pool)
    name, password = "jöhn-ñ-Ωμέγα-名前-🎉", "Pässwörd-Ωμ1!名"
    make_user(cognito, pool, name, password)
    steps = ok(identity_js(pool, app["ClientId"], name, [
        {"op": "authenticate", "password": password},
        {"op": "refreshSession"},
    ]))
    assert steps[0]["idPayload"]["cognito:username"] == name
    out = identity_js(pool, app["ClientId"], name, [
        {"op": "authenticate", "password": password.replace("ä", "a")}])
    assert out["error"]["code"] == "NotAuthorizedException"


def test_email_as_username_srp(cognito, pool_factory, identity_js):
    pool = pool_factory(UsernameAttributes=["email"])["Id"]
    app = make_app_client(cognito, pool)
    cognito.admin_create_user(UserPoolId=pool, Username="js.mail@example.com", MessageAction="SUPPRESS")
    cognito.admin_set_user_password(UserPoolId=pool, Username="js.mail@example.com",
                                    Password=GOOD_PASSWORD, Permanent=True)
    steps = ok(identity_js(pool, app["ClientId"], "js.mail@example.com", [
        {"op": "authenticate", "password": GOOD_PASSWORD},
        {"op": "getUserAttributes"},
        {"op": "refreshSession"},
    ]))
    sub = steps[0]["idPayload"]["sub"]
    assert steps[0]["accessPayload"]["username"] == sub
    assert steps[1]["attributes"]["email"] == "js.mail@example.com"
    assert steps[2]["accessPayload"]["username"] == sub


def test_mfa_setup_then_software_token_mfa(cognito, pool, identity_js):
    # MFA required with software tokens: the library's mfaSetup → associateSoftwareToken →
    # associateSecretCode → verifySoftwareToken (which answers MFA_SETUP), then at the next
    # sign-in totpRequired → sendMFACode(code, callbacks, 'SOFTWARE_TOKEN_MFA').
    from mfa_support import code, set_mfa

    set_mfa(cognito, pool, "ON")
    app = make_app_client(cognito, pool, flows=[])
    user = make_user(cognito, pool)
    steps = ok(identity_js(pool, app["ClientId"], user, [
        {"op": "authenticate", "password": GOOD_PASSWORD, "setupMfa": True},
    ]))
    setup = steps[0]
    assert setup["challenge"]["name"] == "MFA_SETUP"
    secret = setup["challenge"]["secret"]
    assert setup["valid"] and setup["accessPayload"]["username"] == user
    assert cognito.admin_get_user(UserPoolId=pool, Username=user)["UserMFASettingList"] == ["SOFTWARE_TOKEN_MFA"]

    # One code for both sign-ins below, computed once: each run computing its own would give a
    # fresh code whenever a 30-second step ends between them.
    next_code = code(secret, 1)
    steps = ok(identity_js(pool, app["ClientId"], user, [
        {"op": "authenticate", "password": GOOD_PASSWORD, "totpCode": next_code},
        {"op": "getUserAttributes"},
    ]))
    assert steps[0]["challenge"]["name"] == "SOFTWARE_TOKEN_MFA"
    assert steps[0]["challenge"]["parameters"]["FRIENDLY_DEVICE_NAME"] == "node"
    assert steps[0]["valid"]
    # The same code again is refused (used once), through the library's onFailure.
    out = identity_js(pool, app["ClientId"], user, [
        {"op": "authenticate", "password": GOOD_PASSWORD, "totpCode": next_code},
    ])
    assert out["error"]["code"] == "ExpiredCodeException", out
    assert code(secret)  # pyotp agrees the secret is valid base32


# --- Devices -------------------------------------------------------------------------------


def tracked_pool(pool_factory, **device_config):
    config = {"ChallengeRequiredOnNewDevice": False, "DeviceOnlyRememberedOnUserPrompt": False, **device_config}
    return pool_factory(DeviceConfiguration=config)["Id"]


def test_a_device_is_confirmed_and_signs_in_with_device_srp(cognito, pool_factory, identity_js):
    """The library confirms the device NewDeviceMetadata names, then — after a sign-out and
    in a fresh CognitoUser, as a restarted app — signs in through DEVICE_SRP_AUTH: the token
    carries the same device key (a sign-in without the device would get a new one)."""
    pool = tracked_pool(pool_factory)
    app = make_app_client(cognito, pool, flows=[])
    user = make_user(cognito, pool)
    steps = ok(identity_js(pool, app["ClientId"], user, [
        {"op": "authenticate", "password": GOOD_PASSWORD},
        {"op": "getDevice"},
        {"op": "signOut"},
        {"op": "newUser"},
        {"op": "authenticate", "password": GOOD_PASSWORD},
        {"op": "listDevices"},
    ]))
    first, device, _, _, second, listed = steps
    key = first["deviceKey"]
    assert key and key.startswith("us-east-1_") and first["userConfirmationNecessary"] is False
    assert first["accessPayload"]["device_key"] == key
    attrs = {a["Name"]: a["Value"] for a in device["data"]["Device"]["DeviceAttributes"]}
    assert attrs["device_name"] == "nodejs" and attrs["dev:device_remembered_status"] == "remembered"
    assert second["accessPayload"]["device_key"] == key, "the second sign-in proved the same device"
    assert [d["DeviceKey"] for d in listed["data"]["Devices"]] == [key]
    admin = cognito.admin_get_device(UserPoolId=pool, Username=user, DeviceKey=key)["Device"]
    assert admin["DeviceLastAuthenticatedDate"] >= admin["DeviceCreateDate"]


def test_a_device_remembered_on_prompt_skips_totp_once_remembered(cognito, pool_factory, identity_js):
    """User opt-in: the device is confirmed (UserConfirmationNecessary); with TOTP enabled the
    library answers MFA (its tokens carry the device key) until setDeviceStatusRemembered;
    then the device, proven with DEVICE_SRP_AUTH, replaces the TOTP code; forgetDevice ends it."""
    pool = tracked_pool(pool_factory, ChallengeRequiredOnNewDevice=True, DeviceOnlyRememberedOnUserPrompt=True)
    cognito.set_user_pool_mfa_config(UserPoolId=pool, MfaConfiguration="OPTIONAL",
                                     SoftwareTokenMfaConfiguration={"Enabled": True})
    app = make_app_client(cognito, pool, flows=[])
    user = make_user(cognito, pool)
    out = identity_js(pool, app["ClientId"], user, [
        {"op": "authenticate", "password": GOOD_PASSWORD},
        {"op": "enableTotp"},
        {"op": "signOut"},
        {"op": "newUser"},
        {"op": "authenticate", "password": GOOD_PASSWORD, "totpSecretFrom": 1, "totpStepsAhead": 1},
        {"op": "setDeviceStatusRemembered"},
        {"op": "signOut"},
        {"op": "newUser"},
        {"op": "authenticate", "password": GOOD_PASSWORD},
        {"op": "forgetDevice"},
        {"op": "signOut"},
        {"op": "authenticate", "password": GOOD_PASSWORD},
    ])
    first, _, _, _, second, _, _, _, third, _, _, fourth = ok(out)
    key = first["deviceKey"]
    assert first["userConfirmationNecessary"] is True and first["challenge"] is None
    assert second["challenge"]["name"] == "SOFTWARE_TOKEN_MFA", "not remembered yet: MFA"
    assert second["accessPayload"]["device_key"] == key
    assert third["challenge"] is None, "a remembered device signs in without the TOTP code"
    assert third["accessPayload"]["device_key"] == key
    assert fourth["challenge"]["name"] == "SOFTWARE_TOKEN_MFA", "a forgotten device is new again"
    assert cognito.admin_list_devices(UserPoolId=pool, Username=user)["Devices"] == []
