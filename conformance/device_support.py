"""Helpers of the device tests: one device of one user, signing in with pycognito's device
SRP (its verifier and proof) and boto3, sending the Session Cognito requires."""

from __future__ import annotations

from pycognito.aws_srp import AWSSRP, generate_hash_device, long_to_hex

from support import GOOD_PASSWORD

ALWAYS = {"ChallengeRequiredOnNewDevice": False, "DeviceOnlyRememberedOnUserPrompt": False}
ON_PROMPT = {"ChallengeRequiredOnNewDevice": True, "DeviceOnlyRememberedOnUserPrompt": True}


class Phone:
    """One device of one user: the keys Janus handed out and the secret the client kept."""

    def __init__(self, public, pool: str, client_id: str, username: str):
        self.public, self.pool, self.client_id, self.username = public, pool, client_id, username
        self.key = self.group = self.password = None
        self.last_srp = None
        self.device_srp_used = False

    def srp(self) -> AWSSRP:
        device = {}
        if self.key:
            device = {"device_key": self.key, "device_group_key": self.group, "device_password": self.password}
        return AWSSRP(username=self.username, password=GOOD_PASSWORD, pool_id=self.pool, client_id=self.client_id,
                      client=self.public, **device)

    def sign_in(self) -> dict:
        """USER_SRP_AUTH with this device's key (when it has one), through the device
        challenges when Janus asks for them; the last response."""
        self.last_srp = srp = self.srp()
        params = srp.get_auth_params()
        r = self.public.initiate_auth(AuthFlow="USER_SRP_AUTH", AuthParameters=params, ClientId=self.client_id)
        answer = srp.process_challenge(r["ChallengeParameters"], params)
        return self.prove_device(self.respond("PASSWORD_VERIFIER", answer))

    def answer_mfa(self, challenge: dict, totp_code: str) -> dict:
        """SOFTWARE_TOKEN_MFA, then the device challenges when Janus asks for them."""
        r = self.respond("SOFTWARE_TOKEN_MFA", {"USERNAME": self.username, "SOFTWARE_TOKEN_MFA_CODE": totp_code},
                         challenge["Session"])
        return self.prove_device(r)

    def prove_device(self, r: dict) -> dict:
        if r.get("ChallengeName") != "DEVICE_SRP_AUTH":
            return r
        self.device_srp_used = True
        srp = self.last_srp
        r = self.respond("DEVICE_SRP_AUTH", {"USERNAME": self.username, "DEVICE_KEY": self.key,
                                             "SRP_A": long_to_hex(srp.large_a_value)}, r["Session"])
        assert r["ChallengeName"] == "DEVICE_PASSWORD_VERIFIER", r
        return self.respond("DEVICE_PASSWORD_VERIFIER", srp.process_device_challenge(r["ChallengeParameters"]),
                            r["Session"])

    def respond(self, name: str, answers: dict, session: str | None = None) -> dict:
        extra = {"Session": session} if session else {}
        return self.public.respond_to_auth_challenge(ClientId=self.client_id, ChallengeName=name,
                                                     ChallengeResponses=answers, **extra)

    def confirm(self, result: dict, name: str = "test phone") -> dict:
        """ConfirmDevice for the NewDeviceMetadata of `result` (an AuthenticationResult)."""
        meta = result["NewDeviceMetadata"]
        self.key, self.group = meta["DeviceKey"], meta["DeviceGroupKey"]
        self.password, config = generate_hash_device(self.group, self.key)
        return self.public.confirm_device(AccessToken=result["AccessToken"], DeviceKey=self.key,
                                          DeviceSecretVerifierConfig=config, DeviceName=name)
