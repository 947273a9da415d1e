"""The measuring half of bench/devices.sh (see there): set-up with boto3, timed calls over one
keep-alive HTTP connection, the client's SRP math (pycognito) outside the timed calls."""

from __future__ import annotations

import argparse
import sys
import time

from pycognito.aws_srp import AWSSRP, generate_hash_device, long_to_hex

from mfa import PASSWORD, Conn, admin, row, wait_health


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url")
    ap.add_argument("--samples", type=int, default=200)
    a = ap.parse_args()
    wait_health(a.url)
    east = admin(a.url)
    pool = east.create_user_pool(PoolName="bench-devices", DeviceConfiguration={
        "ChallengeRequiredOnNewDevice": False, "DeviceOnlyRememberedOnUserPrompt": False})["UserPool"]["Id"]
    client = east.create_user_pool_client(UserPoolId=pool, ClientName="bench",
                                          ExplicitAuthFlows=["ALLOW_USER_SRP_AUTH",
                                                             "ALLOW_REFRESH_TOKEN_AUTH"])["UserPoolClient"]["ClientId"]
    conn = Conn(a.url)

    def call(op: str, body: dict) -> tuple[float, dict]:
        took, status, out = conn.call(op, {"ClientId": client, **body})
        assert status == 200, (op, status, out)
        return took, out

    def sign_in(user: str, device: dict | None) -> tuple[list[float], dict]:
        """One USER_SRP_AUTH sign-in (through the device challenges with `device`): the
        seconds of each call, and the last answer."""
        srp = AWSSRP(username=user, password=PASSWORD, pool_id=pool, client_id=client, client=east,
                     **(device or {}))
        params = srp.get_auth_params()
        t1, r = call("InitiateAuth", {"AuthFlow": "USER_SRP_AUTH", "AuthParameters": params})
        answer = srp.process_challenge(r["ChallengeParameters"], params)
        t2, r = call("RespondToAuthChallenge", {"ChallengeName": "PASSWORD_VERIFIER", "ChallengeResponses": answer})
        if not device:
            return [t1, t2], r
        assert r["ChallengeName"] == "DEVICE_SRP_AUTH", r
        t3, r = call("RespondToAuthChallenge", {"ChallengeName": "DEVICE_SRP_AUTH", "Session": r["Session"],
                                                "ChallengeResponses": {"USERNAME": user, "DEVICE_KEY": device["device_key"],
                                                                       "SRP_A": long_to_hex(srp.large_a_value)}})
        proof = srp.process_device_challenge(r["ChallengeParameters"])
        t4, r = call("RespondToAuthChallenge", {"ChallengeName": "DEVICE_PASSWORD_VERIFIER", "Session": r["Session"],
                                                "ChallengeResponses": proof})
        assert "AuthenticationResult" in r, r
        return [t1, t2, t3, t4], r

    t0 = time.time()
    users = [f"user{i}" for i in range(a.samples)]
    devices = {}
    for u in users:
        east.admin_create_user(UserPoolId=pool, Username=u, MessageAction="SUPPRESS")
        east.admin_set_user_password(UserPoolId=pool, Username=u, Password=PASSWORD, Permanent=True)
        _, r = sign_in(u, None)
        meta = r["AuthenticationResult"]["NewDeviceMetadata"]
        secret, config = generate_hash_device(meta["DeviceGroupKey"], meta["DeviceKey"])
        call("ConfirmDevice", {"AccessToken": r["AuthenticationResult"]["AccessToken"], "DeviceKey": meta["DeviceKey"],
                               "DeviceSecretVerifierConfig": config, "DeviceName": "bench"})
        devices[u] = {"device_key": meta["DeviceKey"], "device_group_key": meta["DeviceGroupKey"],
                      "device_password": secret}
    print(f"set-up: {len(users)} users with a confirmed device in {time.time() - t0:.0f} s", file=sys.stderr)
    plain, with_device, steps = [], [], [[], [], [], []]
    for i, u in enumerate(users):  # interleaved, which one goes first alternating
        for kind in ((None, "device") if i % 2 else ("device", None)):
            times, _ = sign_in(u, devices[u] if kind else None)
            if kind:
                with_device.append(sum(times))
                for s, t in zip(steps, times):
                    s.append(t)
            else:
                plain.append(sum(times))
    print("Server-side latency of one sign-in (the sum of its calls over one keep-alive connection;")
    print("the client's SRP math is not timed), one at a time, ms:\n")
    print("| sign-in | n | p50 | p99 | mean |")
    print("|---|---:|---:|---:|---:|")
    print(row("USER_SRP_AUTH, no device (2 calls)", plain))
    print(row("USER_SRP_AUTH + DEVICE_SRP_AUTH (4 calls)", with_device))
    for name, s in zip(("InitiateAuth", "PASSWORD_VERIFIER", "DEVICE_SRP_AUTH", "DEVICE_PASSWORD_VERIFIER"), steps):
        print(row(f"… {name}", s))
    p50 = lambda v: sorted(v)[len(v) // 2]  # noqa: E731
    print(f"\nDevice sign-in / plain SRP sign-in, p50: {p50(with_device) / p50(plain):.2f}×")


if __name__ == "__main__":
    main()
