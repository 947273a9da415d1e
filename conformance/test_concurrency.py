"""Concurrent administrator calls: uniqueness holds and nothing is lost when many clients
write to one pool at once."""

from concurrent.futures import ThreadPoolExecutor

from botocore.exceptions import ClientError

from support import attr_list


def outcome(fn):
    try:
        fn()
        return "ok"
    except ClientError as e:
        return e.response["Error"]["Code"]


def test_parallel_creates_of_distinct_users(cognito, make_client, pool):
    clients = [make_client() for _ in range(8)]

    def make(i):
        c = clients[i % len(clients)]
        return outcome(lambda: c.admin_create_user(UserPoolId=pool, Username=f"p{i:03d}",
                                                   MessageAction="SUPPRESS"))

    with ThreadPoolExecutor(max_workers=8) as ex:
        results = list(ex.map(make, range(40)))
    assert results == ["ok"] * 40
    seen = []
    for page in cognito.get_paginator("list_users").paginate(UserPoolId=pool):
        seen.extend(u["Username"] for u in page["Users"])
    assert sorted(seen) == [f"p{i:03d}" for i in range(40)]
    assert cognito.describe_user_pool(UserPoolId=pool)["UserPool"]["EstimatedNumberOfUsers"] == 40


def test_parallel_creates_of_the_same_user(make_client, pool):
    clients = [make_client() for _ in range(8)]

    def make(i):
        return outcome(lambda: clients[i].admin_create_user(UserPoolId=pool, Username="racer",
                                                            MessageAction="SUPPRESS"))

    with ThreadPoolExecutor(max_workers=8) as ex:
        results = list(ex.map(make, range(8)))
    assert results.count("ok") == 1, results
    assert results.count("UsernameExistsException") == 7, results


def test_parallel_creates_of_the_same_email_username(make_client, pool_factory):
    pool = pool_factory(UsernameAttributes=["email"])["Id"]
    clients = [make_client() for _ in range(8)]

    def make(i):
        return outcome(lambda: clients[i].admin_create_user(
            UserPoolId=pool, Username="same@example.com", MessageAction="SUPPRESS"))

    with ThreadPoolExecutor(max_workers=8) as ex:
        results = list(ex.map(make, range(8)))
    assert results.count("ok") == 1, results
    assert results.count("UsernameExistsException") == 7, results


def test_parallel_attribute_updates_are_not_lost(cognito, make_client, pool):
    cognito.admin_create_user(UserPoolId=pool, Username="shared", MessageAction="SUPPRESS")
    names = ["given_name", "family_name", "middle_name", "nickname", "locale", "zoneinfo",
             "website", "profile"]
    clients = [make_client() for _ in names]

    def update(i):
        return outcome(lambda: clients[i].admin_update_user_attributes(
            UserPoolId=pool, Username="shared", UserAttributes=attr_list(**{names[i]: f"v{i}"})))

    with ThreadPoolExecutor(max_workers=len(names)) as ex:
        assert list(ex.map(update, range(len(names)))) == ["ok"] * len(names)
    got = {a["Name"]: a["Value"] for a in
           cognito.admin_get_user(UserPoolId=pool, Username="shared")["UserAttributes"]}
    for i, n in enumerate(names):
        assert got[n] == f"v{i}", n
