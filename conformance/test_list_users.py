"""ListUsers: filters on every searchable attribute (exact `=` and prefix `^=`),
AttributesToGet, Limit and PaginationToken, and the errors for bad filters."""

import pytest

from support import GOOD_PASSWORD, attr_list, raises_code, user_attrs

# username -> attributes
PEOPLE = {
    "alice": dict(email="alice@example.com", given_name="Alice", family_name="Archer",
                  name="Alice Archer", phone_number="+12065550101", preferred_username="ali"),
    "alfred": dict(email="alfred@example.org", given_name="Alfred", family_name="Archer",
                   name="Alfred Archer", phone_number="+12065550102", preferred_username="alf"),
    "bob": dict(email="bob@example.com", given_name="Bob", family_name="Baker",
                name="Bob Baker", phone_number="+442071234567", preferred_username="bobby"),
    "carla": dict(email="carla@example.net", given_name="Carla", family_name="Cruz",
                  name="Carla Cruz", phone_number="+12065550104"),
    "dmitri": dict(given_name="Dmitri", family_name="Baker"),
}


@pytest.fixture(scope="module")
def people(cognito, pool_reservoir):
    """A pool holding PEOPLE; alice is CONFIRMED, bob is disabled. Returns (pool, subs).
    Shared by the read-only tests of this module."""
    pool = pool_reservoir.take()["Id"]
    subs = {}
    for username, a in PEOPLE.items():
        u = cognito.admin_create_user(UserPoolId=pool, Username=username, MessageAction="SUPPRESS",
                                      UserAttributes=attr_list(**a))["User"]
        subs[username] = user_attrs(u)["sub"]
    cognito.admin_set_user_password(UserPoolId=pool, Username="alice", Password=GOOD_PASSWORD,
                                    Permanent=True)
    cognito.admin_disable_user(UserPoolId=pool, Username="bob")
    yield pool, subs
    cognito.delete_user_pool(UserPoolId=pool)


def names(cognito, pool, flt=None, **kwargs):
    if flt is not None:
        kwargs["Filter"] = flt
    users = cognito.list_users(UserPoolId=pool, **kwargs)["Users"]
    return sorted(u["Username"] for u in users)


def test_list_all(cognito, people):
    pool, subs = people
    r = cognito.list_users(UserPoolId=pool)
    assert "PaginationToken" not in r
    assert sorted(u["Username"] for u in r["Users"]) == sorted(PEOPLE)
    for u in r["Users"]:
        a = user_attrs(u)
        assert a["sub"] == subs[u["Username"]]
        for k, v in PEOPLE[u["Username"]].items():
            assert a[k] == v
        assert set(u) >= {"Username", "Attributes", "UserCreateDate", "UserLastModifiedDate",
                          "Enabled", "UserStatus"}


def test_empty_filter_lists_all(cognito, people):
    pool, _ = people
    assert names(cognito, pool, "") == sorted(PEOPLE)


@pytest.mark.parametrize("flt,expected", [
    ('username = "alice"', ["alice"]),
    ('username ^= "al"', ["alfred", "alice"]),
    ('username = "al"', []),
    ('email = "bob@example.com"', ["bob"]),
    ('email ^= "al"', ["alfred", "alice"]),
    ('email ^= "carla@"', ["carla"]),
    ('phone_number = "+12065550102"', ["alfred"]),
    ('phone_number ^= "+1206"', ["alfred", "alice", "carla"]),
    ('phone_number ^= "+44"', ["bob"]),
    ('name = "Carla Cruz"', ["carla"]),
    ('name ^= "Al"', ["alfred", "alice"]),
    ('given_name = "Bob"', ["bob"]),
    ('given_name ^= "D"', ["dmitri"]),
    ('family_name = "Baker"', ["bob", "dmitri"]),
    ('family_name ^= "Ar"', ["alfred", "alice"]),
    ('family_name = "Nobody"', []),
    ('preferred_username = "bobby"', ["bob"]),
    ('preferred_username ^= "al"', ["alfred", "alice"]),
    ('cognito:user_status = "CONFIRMED"', ["alice"]),
    ('cognito:user_status = "FORCE_CHANGE_PASSWORD"', ["alfred", "bob", "carla", "dmitri"]),
    ('cognito:user_status ^= "FORCE"', ["alfred", "bob", "carla", "dmitri"]),
    ('status = "Enabled"', ["alfred", "alice", "carla", "dmitri"]),
    ('status = "Disabled"', ["bob"]),
])
def test_filters(cognito, people, flt, expected):
    pool, _ = people
    assert names(cognito, pool, flt) == expected


def test_filter_by_sub(cognito, people):
    pool, subs = people
    assert names(cognito, pool, f'sub = "{subs["carla"]}"') == ["carla"]


@pytest.mark.parametrize("flt", ['cognito:user_status = "confirmed"',
                                 'cognito:user_status = "Confirmed"'])
def test_user_status_filter_is_case_insensitive(cognito, people, flt):
    # botocore's ListUsers documentation: "cognito:user_status (called Status in the Console)
    # (case-insensitive)".
    pool, _ = people
    assert names(cognito, pool, flt) == ["alice"]


def test_username_filter_is_case_sensitive(cognito, people):
    # "username (case-sensitive)".
    pool, _ = people
    assert names(cognito, pool, 'username = "ALICE"') == []


def test_filter_with_escaped_quote(cognito, pool):
    cognito.admin_create_user(UserPoolId=pool, Username="oconnor", MessageAction="SUPPRESS",
                              UserAttributes=attr_list(family_name='O"Connor'))
    cognito.admin_create_user(UserPoolId=pool, Username="other", MessageAction="SUPPRESS",
                              UserAttributes=attr_list(family_name="Other"))
    assert names(cognito, pool, r'family_name = "O\"Connor"') == ["oconnor"]


def test_attributes_to_get(cognito, people):
    pool, _ = people
    users = cognito.list_users(UserPoolId=pool, Filter='family_name = "Archer"',
                               AttributesToGet=["email", "given_name"])["Users"]
    assert sorted(u["Username"] for u in users) == ["alfred", "alice"]
    for u in users:
        a = user_attrs(u)
        assert a["email"] == PEOPLE[u["Username"]]["email"]
        assert a["given_name"] == PEOPLE[u["Username"]]["given_name"]
        for absent in ("family_name", "phone_number", "name", "preferred_username"):
            assert absent not in a, absent
        assert u["UserStatus"] and "Enabled" in u


def test_pagination_walks_every_user_once(cognito, pool):
    usernames = sorted(f"user{i:02d}" for i in range(11))
    for u in usernames:
        cognito.admin_create_user(UserPoolId=pool, Username=u, MessageAction="SUPPRESS")
    seen = []
    token = None
    sizes = []
    while True:
        kwargs = {"UserPoolId": pool, "Limit": 4}
        if token:
            kwargs["PaginationToken"] = token
        r = cognito.list_users(**kwargs)
        sizes.append(len(r["Users"]))
        seen.extend(u["Username"] for u in r["Users"])
        token = r.get("PaginationToken")
        if not token:
            break
        assert len(sizes) < 20, "pagination does not terminate"
    assert len(seen) == len(set(seen)), f"duplicates across pages: {seen}"
    assert sorted(seen) == usernames
    assert sizes == [4, 4, 3]


def test_pagination_with_filter(cognito, pool):
    for i in range(7):
        cognito.admin_create_user(UserPoolId=pool, Username=f"match{i}", MessageAction="SUPPRESS",
                                  UserAttributes=attr_list(family_name="Same"))
        cognito.admin_create_user(UserPoolId=pool, Username=f"other{i}", MessageAction="SUPPRESS",
                                  UserAttributes=attr_list(family_name="Different"))
    seen = []
    pages = cognito.get_paginator("list_users").paginate(
        UserPoolId=pool, Filter='family_name = "Same"', PaginationConfig={"PageSize": 3})
    for page in pages:
        assert len(page["Users"]) <= 3
        seen.extend(u["Username"] for u in page["Users"])
    assert sorted(seen) == [f"match{i}" for i in range(7)]


def test_pagination_survives_deleting_the_last_user_seen(cognito, pool):
    for i in range(6):
        cognito.admin_create_user(UserPoolId=pool, Username=f"d{i}", MessageAction="SUPPRESS")
    first = cognito.list_users(UserPoolId=pool, Limit=3)
    got = [u["Username"] for u in first["Users"]]
    cognito.admin_delete_user(UserPoolId=pool, Username=got[-1])
    rest = cognito.list_users(UserPoolId=pool, Limit=10, PaginationToken=first["PaginationToken"])
    more = [u["Username"] for u in rest["Users"]]
    assert sorted(got + more) == [f"d{i}" for i in range(6)]


def test_limit_over_60(cognito, pool):
    with raises_code("InvalidParameterException"):
        cognito.list_users(UserPoolId=pool, Limit=61)


@pytest.fixture(scope="module")
def bad_filter_pool(cognito):
    pool = cognito.create_user_pool(PoolName="bad-filters", Schema=[
        {"Name": "tier", "AttributeDataType": "String"}])["UserPool"]["Id"]
    yield pool
    cognito.delete_user_pool(UserPoolId=pool)


@pytest.mark.parametrize("flt", [
    'custom:tier = "1"',        # custom attributes are not searchable
    'nickname = "x"',           # not a searchable standard attribute
    'email = bob@example.com',  # value not quoted
    'email ~ "bob"',            # unknown operator
    'email',                    # no operator
    '= "bob"',                  # no attribute
])
def test_bad_filters(cognito, bad_filter_pool, flt):
    with raises_code("InvalidParameterException"):
        cognito.list_users(UserPoolId=bad_filter_pool, Filter=flt)


def test_list_users_unknown_pool(cognito, janus):
    with raises_code("ResourceNotFoundException"):
        cognito.list_users(UserPoolId=f"{janus.server_region}_doesNotExist0")


def test_list_users_in_email_username_pool(cognito, pool_factory):
    pool = pool_factory(UsernameAttributes=["email"])["Id"]
    created = cognito.admin_create_user(UserPoolId=pool, Username="zoe@example.com",
                                        MessageAction="SUPPRESS")["User"]
    r = cognito.list_users(UserPoolId=pool, Filter='email = "zoe@example.com"')["Users"]
    assert [u["Username"] for u in r] == [created["Username"]]
    r = cognito.list_users(UserPoolId=pool, Filter=f'username = "{created["Username"]}"')["Users"]
    assert [user_attrs(u)["email"] for u in r] == ["zoe@example.com"]


def test_filter_value_containing_equals_sign(cognito, pool):
    cognito.admin_create_user(UserPoolId=pool, Username="eq", MessageAction="SUPPRESS",
                              UserAttributes=attr_list(given_name="x = y"))
    assert names(cognito, pool, 'given_name = "x = y"') == ["eq"]
    assert names(cognito, pool, 'given_name ^= "x ="') == ["eq"]


def test_filter_value_containing_prefix_operator(cognito, pool):
    # The operator is the one after the attribute name; the quoted value is data.
    cognito.admin_create_user(UserPoolId=pool, Username="caret", MessageAction="SUPPRESS",
                              UserAttributes=attr_list(name="a^=b"))
    assert names(cognito, pool, 'name = "a^=b"') == ["caret"]


def test_unicode_values(cognito, pool):
    cognito.admin_create_user(UserPoolId=pool, Username="josé", MessageAction="SUPPRESS",
                              UserAttributes=attr_list(given_name="Zoë", family_name="Ñúñez"))
    assert names(cognito, pool, 'given_name = "Zoë"') == ["josé"]
    assert names(cognito, pool, 'family_name ^= "Ñú"') == ["josé"]
    assert names(cognito, pool, 'username ^= "jos"') == ["josé"]
    assert cognito.admin_get_user(UserPoolId=pool, Username="josé")["Username"] == "josé"
