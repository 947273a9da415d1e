"""PreventUserExistenceErrors ENABLED: failed sign-ins must not tell who has an account.
1,000 USER_PASSWORD_AUTH attempts with wrong passwords, half against existing users and
half against names nobody has, run on a small thread pool: every one fails with
NotAuthorizedException, the unknown names always with "Incorrect username or password.", and
a wrong password costs about the same time whether or not the user exists (Janus checks a
decoy hash). The SRP flow hides unknown users behind a simulated first step, which must be
stable for a given name, as Cognito documents."""

from __future__ import annotations

import random
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError
from pycognito.aws_srp import AWSSRP

from auth_support import make_app_client, make_user
from support import raises_code, unique

ATTEMPTS = 1000
KNOWN_USERS = 20
WORKERS = 4
INCORRECT = "Incorrect username or password."
LOCKED = "Password attempts exceeded"


def attempt(client, client_id: str, username: str, known: bool):
    start = time.perf_counter()
    try:
        client.initiate_auth(AuthFlow="USER_PASSWORD_AUTH", ClientId=client_id,
                             AuthParameters={"USERNAME": username, "PASSWORD": "Wr0ng-" + unique()})
    except ClientError as e:
        err = e.response["Error"]
        status = e.response["ResponseMetadata"]["HTTPStatusCode"]
        return known, err["Code"], err.get("Message"), status, time.perf_counter() - start
    return known, "NO ERROR", None, 200, time.perf_counter() - start


def test_wrong_password_errors_do_not_reveal_users(cognito, janus, pool):
    app = make_app_client(cognito, pool, PreventUserExistenceErrors="ENABLED")
    known = [make_user(cognito, pool) for _ in range(KNOWN_USERS)]
    plan = [(random.choice(known), True) for _ in range(ATTEMPTS // 2)]
    plan += [("nobody-" + unique(), False) for _ in range(ATTEMPTS - len(plan))]
    random.shuffle(plan)
    client = boto3.client(
        "cognito-idp", endpoint_url=janus.endpoint, region_name=janus.region,
        config=Config(signature_version=UNSIGNED, retries={"max_attempts": 1, "mode": "standard"},
                      max_pool_connections=WORKERS, read_timeout=30))

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=WORKERS) as ex:
        results = list(ex.map(lambda p: attempt(client, app["ClientId"], *p), plan))
    elapsed = time.monotonic() - started

    assert len(results) == ATTEMPTS
    codes = {(code, status) for _, code, _, status, _ in results}
    assert codes == {("NotAuthorizedException", 400)}, codes
    unknown_messages = {msg for k, _, msg, _, _ in results if not k}
    assert unknown_messages == {INCORRECT}
    known_messages = {msg for k, _, msg, _, _ in results if k}
    assert known_messages <= {INCORRECT, LOCKED}, known_messages
    # A wrong password that was actually checked costs about the same for both kinds.
    checked_known = [t for k, _, msg, _, t in results if k and msg == INCORRECT]
    unknown_times = [t for k, _, _, _, t in results if not k]
    assert len(checked_known) >= KNOWN_USERS * 5
    ratio = statistics.median(unknown_times) / statistics.median(checked_known)
    assert 0.25 < ratio < 4, (f"median unknown {statistics.median(unknown_times):.4f}s vs known "
                              f"{statistics.median(checked_known):.4f}s")
    assert elapsed < 90, f"{ATTEMPTS} sign-ins took {elapsed:.1f}s"
    print(f"{ATTEMPTS} failed sign-ins in {elapsed:.1f}s; median latency unknown "
          f"{statistics.median(unknown_times) * 1000:.1f} ms, known (checked) "
          f"{statistics.median(checked_known) * 1000:.1f} ms, known (locked) "
          f"{len([1 for k, _, m, _, _ in results if k and m == LOCKED])} of {ATTEMPTS // 2}")


def test_admin_flow_does_not_reveal_users(cognito, pool):
    app = make_app_client(cognito, pool, PreventUserExistenceErrors="ENABLED")
    user = make_user(cognito, pool)
    for name in (user, "nobody-" + unique()):
        with raises_code("NotAuthorizedException") as info:
            cognito.admin_initiate_auth(UserPoolId=pool, ClientId=app["ClientId"],
                                        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                                        AuthParameters={"USERNAME": name, "PASSWORD": "Wr0ng-Passw0rd!"})
        assert info.value.response["Error"]["Message"] == INCORRECT


def srp_start(public, client_id, pool, username):
    aws = AWSSRP(username=username, password="Wr0ng-Passw0rd!", pool_id=pool, client_id=client_id,
                 client=public)
    r = public.initiate_auth(AuthFlow="USER_SRP_AUTH", ClientId=client_id,
                             AuthParameters=aws.get_auth_params())
    return aws, r


def test_srp_unknown_and_known_fail_alike(cognito, public, pool):
    app = make_app_client(cognito, pool, PreventUserExistenceErrors="ENABLED")
    user = make_user(cognito, pool)
    shapes = []
    for name in (user, "nobody-" + unique()):
        aws, r = srp_start(public, app["ClientId"], pool, name)
        assert r["ChallengeName"] == "PASSWORD_VERIFIER"
        shapes.append(sorted(r["ChallengeParameters"]))
        with raises_code("NotAuthorizedException") as info:
            aws.authenticate_user()
        assert info.value.response["Error"]["Message"] == INCORRECT
    assert shapes[0] == shapes[1]


def test_srp_simulated_challenge_is_stable(cognito, public, pool):
    # Cognito: for an unknown user the first SRP step returns "the same salt and internal user
    # id ... for the same user name and user pool combination", as it would for a real user.
    app = make_app_client(cognito, pool, PreventUserExistenceErrors="ENABLED")
    user = make_user(cognito, pool)
    _, a = srp_start(public, app["ClientId"], pool, user)
    _, b = srp_start(public, app["ClientId"], pool, user)
    assert a["ChallengeParameters"]["SALT"] == b["ChallengeParameters"]["SALT"]
    nobody = "nobody-" + unique()
    _, a = srp_start(public, app["ClientId"], pool, nobody)
    _, b = srp_start(public, app["ClientId"], pool, nobody)
    assert a["ChallengeParameters"]["USER_ID_FOR_SRP"] == b["ChallengeParameters"]["USER_ID_FOR_SRP"]
    assert a["ChallengeParameters"]["SALT"] == b["ChallengeParameters"]["SALT"], (
        "the salt of an unknown user changes between attempts, while a real user's does not: "
        "two InitiateAuth calls tell whether an account exists")

