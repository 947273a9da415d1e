"""PreventUserExistenceErrors ENABLED: failed sign-ins must not tell who has an account.
1,000 USER_PASSWORD_AUTH attempts with wrong passwords, half against existing users and
half against names nobody has, run on a small thread pool: every one fails with
NotAuthorizedException, the unknown names always with "Incorrect username or password.", and
a wrong password costs about the same time whether or not the user exists (Janus checks a
decoy hash). The SRP flow hides unknown users behind a simulated first step, which must be
stable for a given name, as Cognito documents."""

from __future__ import annotations

import random
import re
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
from support import GOOD_PASSWORD, raises_code, unique

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



# Issue 13: the code operations, and sign-in of disabled or locked users. With the setting on,
# every answer has the same shape for a name with an account and one without, and (30 samples
# each, interleaved, medians compared) takes about the same time.
SAMPLES = 30
MASKED_EMAIL = re.compile(r"^[a-z0-9]\*\*\*@[a-z0-9]\*\*\*$")


def timed(call):
    start = time.perf_counter()
    try:
        out = call()
        return out, time.perf_counter() - start
    except ClientError as e:
        err = e.response["Error"]
        return (err["Code"], err.get("Message")), time.perf_counter() - start


def compare(known_calls, unknown_calls, what: str):
    """Run the calls interleaved; the answers of each side, and assert similar medians."""
    known, unknown = [], []
    for k, u in zip(known_calls, unknown_calls):
        known.append(timed(k))
        unknown.append(timed(u))
    mk = statistics.median(t for _, t in known)
    mu = statistics.median(t for _, t in unknown)
    # Within noise: a simulated answer is padded to the median real one, so the medians agree
    # to a quarter or half a millisecond (without padding a simulated code answer is about half
    # as long as a real one, which writes the store and the outbox).
    assert abs(mk - mu) < 0.0005 or 1 / 1.35 < mu / mk < 1.35, (
        f"{what}: median known {mk * 1000:.2f} ms, unknown {mu * 1000:.2f} ms")
    print(f"{what}: median known {mk * 1000:.1f} ms, unknown {mu * 1000:.1f} ms")
    return [a for a, _ in known], [a for a, _ in unknown]


def delivery_shape(answer) -> tuple:
    d = answer["CodeDeliveryDetails"]
    assert MASKED_EMAIL.match(d["Destination"]), d
    return (d["DeliveryMedium"], d["AttributeName"])


@pytest.fixture
def hidden(cognito, pool_factory):
    """A pool that auto-verifies email, and a client that hides existence."""
    pool = pool_factory(AutoVerifiedAttributes=["email"])["Id"]
    app = make_app_client(cognito, pool, PreventUserExistenceErrors="ENABLED")
    return pool, app["ClientId"]


def verified_users(cognito, pool, n):
    return [make_user(cognito, pool, email=f"{unique('v')}@example.com", email_verified="true") for _ in range(n)]


def signed_up(public, client_id, n):
    names = [unique("s") for _ in range(n)]
    for name in names:
        public.sign_up(ClientId=client_id, Username=name, Password=GOOD_PASSWORD,
                       UserAttributes=[{"Name": "email", "Value": f"{name}@example.com"}])
    return names


def nobodies(n):
    return ["nobody-" + unique() for _ in range(n)]


def test_forgot_password_answers_alike(cognito, public, hidden):
    pool, client_id = hidden
    ready = verified_users(cognito, pool, SAMPLES)
    # Known users whose real answer would give them away: disabled, or nothing verified.
    disabled = verified_users(cognito, pool, 3)
    for u in disabled:
        cognito.admin_disable_user(UserPoolId=pool, Username=u)
    unverified = [make_user(cognito, pool, email=f"{unique('u')}@example.com") for _ in range(3)]
    call = lambda name: lambda: public.forgot_password(ClientId=client_id, Username=name)  # noqa: E731
    known, unknown = compare([call(u) for u in ready], [call(n) for n in nobodies(SAMPLES)], "ForgotPassword")
    shapes = {delivery_shape(a) for a in known + unknown}
    assert shapes == {("EMAIL", "email")}, shapes
    for name in disabled + unverified:
        assert delivery_shape(call(name)()) == ("EMAIL", "email")
    nobody = "nobody-" + unique()
    assert call(nobody)()["CodeDeliveryDetails"] == call(nobody)()["CodeDeliveryDetails"], "stable per name"
    # The limit arrives after as many calls either way.
    answers = {}
    for name in (ready[0], nobody):
        answers[name] = [timed(call(name))[0] for _ in range(6)]
        answers[name] = ["sent" if isinstance(a, dict) else a[0] for a in answers[name]]
    assert answers[ready[0]] == ["sent"] * 4 + ["LimitExceededException"] * 2, answers
    assert answers[nobody] == ["sent"] * 3 + ["LimitExceededException"] * 3, answers


def test_resend_confirmation_code_answers_alike(cognito, public, hidden):
    pool, client_id = hidden
    waiting = signed_up(public, client_id, SAMPLES)
    call = lambda name: lambda: public.resend_confirmation_code(ClientId=client_id, Username=name)  # noqa: E731
    known, unknown = compare([call(u) for u in waiting], [call(n) for n in nobodies(SAMPLES)], "ResendConfirmationCode")
    assert {delivery_shape(a) for a in known + unknown} == {("EMAIL", "email")}
    # Cognito itself says "User is already confirmed." here; Janus answers as for anyone.
    confirmed = verified_users(cognito, pool, 1)[0]
    assert delivery_shape(call(confirmed)()) == ("EMAIL", "email")


def test_confirm_sign_up_answers_alike(cognito, public, hidden):
    pool, client_id = hidden
    waiting = signed_up(public, client_id, SAMPLES)
    call = lambda name: lambda: public.confirm_sign_up(  # noqa: E731
        ClientId=client_id, Username=name, ConfirmationCode="000000")
    known, unknown = compare([call(u) for u in waiting], [call(n) for n in nobodies(SAMPLES)], "ConfirmSignUp")
    assert {a[0] for a in known + unknown} == {"CodeMismatchException"}, set(known + unknown)
    # Cognito itself says "User cannot be confirmed. Current status is CONFIRMED".
    confirmed = verified_users(cognito, pool, 1)[0]
    assert timed(call(confirmed))[0][0] == "CodeMismatchException"


def test_confirm_forgot_password_answers_alike(cognito, public, hidden):
    pool, client_id = hidden
    users = verified_users(cognito, pool, SAMPLES)
    call = lambda name, pw="N3w-Passw0rd!": lambda: public.confirm_forgot_password(  # noqa: E731
        ClientId=client_id, Username=name, ConfirmationCode="000000", Password=pw)
    known, unknown = compare([call(u) for u in users], [call(n) for n in nobodies(SAMPLES)], "ConfirmForgotPassword")
    assert {a[0] for a in known + unknown} == {"CodeMismatchException"}, set(known + unknown)
    # A password the policy refuses is refused first, for both.
    for name in (users[0], "nobody-" + unique()):
        assert timed(call(name, "short"))[0][0] == "InvalidPasswordException"


def test_disabled_and_locked_users_sign_in_like_unknown_ones(cognito, public, hidden):
    pool, client_id = hidden
    disabled = [make_user(cognito, pool) for _ in range(SAMPLES // 2)]
    for u in disabled:
        cognito.admin_disable_user(UserPoolId=pool, Username=u)
    locked = [make_user(cognito, pool) for _ in range(SAMPLES // 2)]
    for u in locked:
        for _ in range(6):
            try:
                public.initiate_auth(AuthFlow="USER_PASSWORD_AUTH", ClientId=client_id,
                                     AuthParameters={"USERNAME": u, "PASSWORD": "Wr0ng-Passw0rd!"})
            except ClientError:
                pass
    call = lambda name: lambda: public.initiate_auth(  # noqa: E731
        AuthFlow="USER_PASSWORD_AUTH", ClientId=client_id,
        AuthParameters={"USERNAME": name, "PASSWORD": "Wr0ng-Passw0rd!"})
    known, unknown = compare([call(u) for u in disabled + locked], [call(n) for n in nobodies(SAMPLES)], "InitiateAuth")
    assert set(known + unknown) == {("NotAuthorizedException", INCORRECT)}, set(known + unknown)
    # The right password still learns that the account is disabled (it is the owner asking).
    assert timed(call_with(public, client_id, disabled[0], GOOD_PASSWORD))[0] == (
        "NotAuthorizedException", "User is disabled.")
    # SRP hides the same states.
    for name in (disabled[1], locked[1]):
        aws, r = srp_start(public, client_id, pool, name)
        assert r["ChallengeName"] == "PASSWORD_VERIFIER"
        with raises_code("NotAuthorizedException") as info:
            aws.authenticate_user()
        assert info.value.response["Error"]["Message"] == INCORRECT


def call_with(public, client_id, name, password):
    return lambda: public.initiate_auth(AuthFlow="USER_PASSWORD_AUTH", ClientId=client_id,
                                        AuthParameters={"USERNAME": name, "PASSWORD": password})


def test_forgot_password_with_email_usernames_masks_the_typed_address(cognito, public, pool_factory):
    """Where people sign in with their email, a real delivery masks that very address; a
    simulated one must too, or the mask would tell a real account from a made-up one."""
    pool = pool_factory(UsernameAttributes=["email"], AutoVerifiedAttributes=["email"])["Id"]
    client_id = make_app_client(cognito, pool, PreventUserExistenceErrors="ENABLED")["ClientId"]
    cognito.admin_create_user(UserPoolId=pool, Username="alice@example.com", MessageAction="SUPPRESS",
                              UserAttributes=[{"Name": "email", "Value": "alice@example.com"},
                                              {"Name": "email_verified", "Value": "true"}])
    real = public.forgot_password(ClientId=client_id, Username="alice@example.com")["CodeDeliveryDetails"]
    fake = public.forgot_password(ClientId=client_id, Username="alan@example.com")["CodeDeliveryDetails"]
    assert real == fake == {"Destination": "a***@e***", "DeliveryMedium": "EMAIL", "AttributeName": "email"}, (real, fake)
