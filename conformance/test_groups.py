"""Groups and memberships: CreateGroup, GetGroup, UpdateGroup, DeleteGroup, ListGroups,
AdminAddUserToGroup, AdminRemoveUserFromGroup, AdminListGroupsForUser, ListUsersInGroup."""

import datetime

import pytest

from support import raises_code, user_attrs

ROLE = "arn:aws:iam::123456789012:role/conformance-group-role"


def add_user(cognito, pool, username, **kwargs):
    return cognito.admin_create_user(UserPoolId=pool, Username=username, MessageAction="SUPPRESS",
                                     **kwargs)["User"]


def member_names(cognito, pool, group):
    users = []
    for page in cognito.get_paginator("list_users_in_group").paginate(UserPoolId=pool,
                                                                     GroupName=group):
        users.extend(u["Username"] for u in page["Users"])
    return sorted(users)


def group_names_of(cognito, pool, username):
    groups = []
    for page in cognito.get_paginator("admin_list_groups_for_user").paginate(UserPoolId=pool,
                                                                            Username=username):
        groups.extend(g["GroupName"] for g in page["Groups"])
    return sorted(groups)


def test_create_group(cognito, pool):
    g = cognito.create_group(UserPoolId=pool, GroupName="admins", Description="The admins",
                             Precedence=1, RoleArn=ROLE)["Group"]
    assert g["GroupName"] == "admins"
    assert g["UserPoolId"] == pool
    assert g["Description"] == "The admins"
    assert g["Precedence"] == 1
    assert g["RoleArn"] == ROLE
    assert isinstance(g["CreationDate"], datetime.datetime)
    assert isinstance(g["LastModifiedDate"], datetime.datetime)


def test_create_minimal_group(cognito, pool):
    g = cognito.create_group(UserPoolId=pool, GroupName="plain")["Group"]
    assert g["GroupName"] == "plain" and g["UserPoolId"] == pool
    assert "Description" not in g and "Precedence" not in g and "RoleArn" not in g


def test_create_group_duplicate(cognito, pool):
    cognito.create_group(UserPoolId=pool, GroupName="dup")
    with raises_code("GroupExistsException"):
        cognito.create_group(UserPoolId=pool, GroupName="dup", Description="again")
    assert "Description" not in cognito.get_group(UserPoolId=pool, GroupName="dup")["Group"]


def test_same_group_name_in_two_pools(cognito, pool_factory):
    a, b = pool_factory()["Id"], pool_factory()["Id"]
    cognito.create_group(UserPoolId=a, GroupName="shared", Description="in a")
    cognito.create_group(UserPoolId=b, GroupName="shared", Description="in b")
    assert cognito.get_group(UserPoolId=a, GroupName="shared")["Group"]["Description"] == "in a"
    assert cognito.get_group(UserPoolId=b, GroupName="shared")["Group"]["Description"] == "in b"


def test_create_group_unknown_pool(cognito, janus):
    with raises_code("ResourceNotFoundException"):
        cognito.create_group(UserPoolId=f"{janus.server_region}_doesNotExist0", GroupName="g")


def test_get_group(cognito, pool):
    created = cognito.create_group(UserPoolId=pool, GroupName="readers", Precedence=5)["Group"]
    g = cognito.get_group(UserPoolId=pool, GroupName="readers")["Group"]
    assert g == created


def test_get_missing_group(cognito, pool):
    with raises_code("ResourceNotFoundException"):
        cognito.get_group(UserPoolId=pool, GroupName="missing")


def test_update_group(cognito, pool):
    created = cognito.create_group(UserPoolId=pool, GroupName="editors", Description="old",
                                   Precedence=10)["Group"]
    u = cognito.update_group(UserPoolId=pool, GroupName="editors", Description="new",
                             Precedence=2, RoleArn=ROLE)["Group"]
    assert u["Description"] == "new" and u["Precedence"] == 2 and u["RoleArn"] == ROLE
    assert u["CreationDate"] == created["CreationDate"]
    assert u["LastModifiedDate"] >= created["LastModifiedDate"]
    g = cognito.get_group(UserPoolId=pool, GroupName="editors")["Group"]
    assert g["Description"] == "new" and g["Precedence"] == 2 and g["RoleArn"] == ROLE


def test_update_missing_group(cognito, pool):
    with raises_code("ResourceNotFoundException"):
        cognito.update_group(UserPoolId=pool, GroupName="missing", Description="x")


def test_delete_group(cognito, pool):
    cognito.create_group(UserPoolId=pool, GroupName="temp")
    cognito.delete_group(UserPoolId=pool, GroupName="temp")
    with raises_code("ResourceNotFoundException"):
        cognito.get_group(UserPoolId=pool, GroupName="temp")
    with raises_code("ResourceNotFoundException"):
        cognito.delete_group(UserPoolId=pool, GroupName="temp")
    # The name can be used again.
    cognito.create_group(UserPoolId=pool, GroupName="temp")


def test_list_groups_paginates(cognito, pool):
    made = sorted(f"group-{i}" for i in range(5))
    for name in made:
        cognito.create_group(UserPoolId=pool, GroupName=name)
    seen, token, sizes = [], None, []
    while True:
        kwargs = {"UserPoolId": pool, "Limit": 2}
        if token:
            kwargs["NextToken"] = token
        r = cognito.list_groups(**kwargs)
        sizes.append(len(r["Groups"]))
        for g in r["Groups"]:
            assert g["UserPoolId"] == pool
            seen.append(g["GroupName"])
        token = r.get("NextToken")
        if not token:
            break
        assert len(sizes) < 10
    assert sorted(seen) == made and len(seen) == len(set(seen))
    assert sizes == [2, 2, 1]
    assert [g["GroupName"] for g in cognito.list_groups(UserPoolId=pool)["Groups"]] != []


def test_list_groups_empty_and_unknown_pool(cognito, pool, janus):
    assert cognito.list_groups(UserPoolId=pool)["Groups"] == []
    with raises_code("ResourceNotFoundException"):
        cognito.list_groups(UserPoolId=f"{janus.server_region}_doesNotExist0")


def test_membership(cognito, pool):
    for g in ("red", "green", "blue"):
        cognito.create_group(UserPoolId=pool, GroupName=g)
    add_user(cognito, pool, "ann")
    add_user(cognito, pool, "ben")
    cognito.admin_add_user_to_group(UserPoolId=pool, Username="ann", GroupName="red")
    cognito.admin_add_user_to_group(UserPoolId=pool, Username="ann", GroupName="blue")
    cognito.admin_add_user_to_group(UserPoolId=pool, Username="ben", GroupName="red")
    # Adding again is harmless.
    cognito.admin_add_user_to_group(UserPoolId=pool, Username="ann", GroupName="red")

    groups = cognito.admin_list_groups_for_user(UserPoolId=pool, Username="ann")["Groups"]
    assert sorted(g["GroupName"] for g in groups) == ["blue", "red"]
    assert all(g["UserPoolId"] == pool for g in groups)
    assert member_names(cognito, pool, "red") == ["ann", "ben"]
    assert member_names(cognito, pool, "green") == []
    users = cognito.list_users_in_group(UserPoolId=pool, GroupName="red")["Users"]
    for u in users:
        assert set(u) >= {"Username", "Attributes", "Enabled", "UserStatus"}
        assert "sub" in user_attrs(u)

    cognito.admin_remove_user_from_group(UserPoolId=pool, Username="ann", GroupName="red")
    assert group_names_of(cognito, pool, "ann") == ["blue"]
    assert member_names(cognito, pool, "red") == ["ben"]


def test_membership_errors(cognito, pool):
    cognito.create_group(UserPoolId=pool, GroupName="real")
    add_user(cognito, pool, "real-user")
    with raises_code("ResourceNotFoundException"):
        cognito.admin_add_user_to_group(UserPoolId=pool, Username="real-user", GroupName="nope")
    with raises_code("UserNotFoundException"):
        cognito.admin_add_user_to_group(UserPoolId=pool, Username="nobody", GroupName="real")
    with raises_code("ResourceNotFoundException"):
        cognito.admin_remove_user_from_group(UserPoolId=pool, Username="real-user", GroupName="nope")
    with raises_code("UserNotFoundException"):
        cognito.admin_remove_user_from_group(UserPoolId=pool, Username="nobody", GroupName="real")
    with raises_code("UserNotFoundException"):
        cognito.admin_list_groups_for_user(UserPoolId=pool, Username="nobody")
    with raises_code("ResourceNotFoundException"):
        cognito.list_users_in_group(UserPoolId=pool, GroupName="nope")


def test_deleting_a_user_removes_its_memberships(cognito, pool):
    cognito.create_group(UserPoolId=pool, GroupName="team")
    cognito.create_group(UserPoolId=pool, GroupName="club")
    add_user(cognito, pool, "leaver")
    add_user(cognito, pool, "stayer")
    for g in ("team", "club"):
        cognito.admin_add_user_to_group(UserPoolId=pool, Username="leaver", GroupName=g)
    cognito.admin_add_user_to_group(UserPoolId=pool, Username="stayer", GroupName="team")
    cognito.admin_delete_user(UserPoolId=pool, Username="leaver")
    assert member_names(cognito, pool, "team") == ["stayer"]
    assert member_names(cognito, pool, "club") == []
    # A new user with the same name does not inherit the old memberships.
    add_user(cognito, pool, "leaver")
    assert group_names_of(cognito, pool, "leaver") == []
    assert member_names(cognito, pool, "team") == ["stayer"]


def test_deleting_a_group_removes_it_from_users(cognito, pool):
    cognito.create_group(UserPoolId=pool, GroupName="doomed")
    cognito.create_group(UserPoolId=pool, GroupName="kept")
    add_user(cognito, pool, "member")
    cognito.admin_add_user_to_group(UserPoolId=pool, Username="member", GroupName="doomed")
    cognito.admin_add_user_to_group(UserPoolId=pool, Username="member", GroupName="kept")
    cognito.delete_group(UserPoolId=pool, GroupName="doomed")
    assert group_names_of(cognito, pool, "member") == ["kept"]
    # A new group with the same name starts empty.
    cognito.create_group(UserPoolId=pool, GroupName="doomed")
    assert member_names(cognito, pool, "doomed") == []
    assert group_names_of(cognito, pool, "member") == ["kept"]


def test_list_users_in_group_paginates(cognito, pool):
    cognito.create_group(UserPoolId=pool, GroupName="many")
    names = sorted(f"m{i:02d}" for i in range(7))
    for n in names:
        add_user(cognito, pool, n)
        cognito.admin_add_user_to_group(UserPoolId=pool, Username=n, GroupName="many")
    add_user(cognito, pool, "outsider")
    seen, token, sizes = [], None, []
    while True:
        kwargs = {"UserPoolId": pool, "GroupName": "many", "Limit": 3}
        if token:
            kwargs["NextToken"] = token
        r = cognito.list_users_in_group(**kwargs)
        sizes.append(len(r["Users"]))
        seen.extend(u["Username"] for u in r["Users"])
        token = r.get("NextToken")
        if not token:
            break
        assert len(sizes) < 10
    assert sorted(seen) == names and len(seen) == len(set(seen))
    assert sizes == [3, 3, 1]


def test_admin_list_groups_for_user_paginates(cognito, pool):
    add_user(cognito, pool, "joiner")
    groups = sorted(f"g{i}" for i in range(5))
    for g in groups:
        cognito.create_group(UserPoolId=pool, GroupName=g)
        cognito.admin_add_user_to_group(UserPoolId=pool, Username="joiner", GroupName=g)
    seen, token, sizes = [], None, []
    while True:
        kwargs = {"UserPoolId": pool, "Username": "joiner", "Limit": 2}
        if token:
            kwargs["NextToken"] = token
        r = cognito.admin_list_groups_for_user(**kwargs)
        sizes.append(len(r["Groups"]))
        seen.extend(g["GroupName"] for g in r["Groups"])
        token = r.get("NextToken")
        if not token:
            break
        assert len(sizes) < 10
    assert sorted(seen) == groups
    assert sizes == [2, 2, 1]


def test_membership_by_email_in_email_username_pool(cognito, pool_factory):
    pool = pool_factory(UsernameAttributes=["email"])["Id"]
    u = add_user(cognito, pool, "grouped@example.com")
    cognito.create_group(UserPoolId=pool, GroupName="byemail")
    cognito.admin_add_user_to_group(UserPoolId=pool, Username="grouped@example.com",
                                    GroupName="byemail")
    assert member_names(cognito, pool, "byemail") == [u["Username"]]
    assert group_names_of(cognito, pool, u["Username"]) == ["byemail"]
    assert group_names_of(cognito, pool, "grouped@example.com") == ["byemail"]


def test_membership_in_case_insensitive_pool(cognito, pool_factory):
    pool = pool_factory(UsernameConfiguration={"CaseSensitive": False})["Id"]
    add_user(cognito, pool, "CamelUser")
    cognito.create_group(UserPoolId=pool, GroupName="cased")
    cognito.admin_add_user_to_group(UserPoolId=pool, Username="cameluser", GroupName="cased")
    assert group_names_of(cognito, pool, "CAMELUSER") == ["cased"]
    cognito.admin_remove_user_from_group(UserPoolId=pool, Username="CamelUser", GroupName="cased")
    assert group_names_of(cognito, pool, "CamelUser") == []


@pytest.mark.parametrize("name", ["with space", "x" * 129])
def test_invalid_group_names(cognito, pool, name):
    with raises_code("InvalidParameterException"):
        cognito.create_group(UserPoolId=pool, GroupName=name)
