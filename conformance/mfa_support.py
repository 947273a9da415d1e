"""Helpers for the MFA tests (test_mfa.py, test_cross_region.py, test_identity_js.py): pools
with MFA configured, TOTP codes with pyotp, and MFA_SETUP / SOFTWARE_TOKEN_MFA walked through
with boto3 as an app would."""

from __future__ import annotations

import time

import pyotp

from auth_support import password_auth
from support import GOOD_PASSWORD

TOTP_ONLY = {"SoftwareTokenMfaConfiguration": {"Enabled": True}}


def set_mfa(admin, pool: str, mode: str, **factors) -> dict:
    """SetUserPoolMfaConfig(mode, factors or TOTP only) -> the response."""
    return admin.set_user_pool_mfa_config(UserPoolId=pool, MfaConfiguration=mode,
                                          **(factors or TOTP_ONLY))


def code(secret: str, steps_ahead: int = 0) -> str:
    """The TOTP code of `secret` for the step `steps_ahead` steps from now (Janus accepts one
    step either side, and each step's code once)."""
    return pyotp.TOTP(secret).at(time.time() + 30 * steps_ahead)


def wrong(secret: str) -> str:
    """A six-digit code that is none of the codes Janus would accept now."""
    valid = {code(secret, d) for d in (-1, 0, 1)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in valid)


def enrol_by_access_token(public, access_token: str, device: str = "phone") -> str:
    """AssociateSoftwareToken + VerifySoftwareToken with an access token -> the secret."""
    secret = public.associate_software_token(AccessToken=access_token)["SecretCode"]
    r = public.verify_software_token(AccessToken=access_token, UserCode=code(secret),
                                     FriendlyDeviceName=device)
    assert r["Status"] == "SUCCESS"
    return secret


def enrol_at_sign_in(public, client_id: str, username: str, password: str = GOOD_PASSWORD) -> tuple[str, dict]:
    """Password sign-in answered by MFA_SETUP, then Associate/Verify by Session and the
    MFA_SETUP answer -> (secret, AuthenticationResult)."""
    r = password_auth(public, client_id, username, password)
    assert r["ChallengeName"] == "MFA_SETUP", r
    return finish_setup(public, client_id, username, r)


def finish_setup(public, client_id: str, username: str, challenge: dict) -> tuple[str, dict]:
    a = public.associate_software_token(Session=challenge["Session"])
    secret = a["SecretCode"]
    v = public.verify_software_token(Session=a["Session"], UserCode=code(secret), FriendlyDeviceName="phone")
    assert v["Status"] == "SUCCESS"
    done = public.respond_to_auth_challenge(ClientId=client_id, ChallengeName="MFA_SETUP",
                                            Session=v["Session"], ChallengeResponses={"USERNAME": username})
    return secret, done["AuthenticationResult"]


def answer_totp(public, client_id: str, username: str, challenge: dict, totp_code: str) -> dict:
    return public.respond_to_auth_challenge(
        ClientId=client_id, ChallengeName="SOFTWARE_TOKEN_MFA", Session=challenge["Session"],
        ChallengeResponses={"USERNAME": username, "SOFTWARE_TOKEN_MFA_CODE": totp_code})
