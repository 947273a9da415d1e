"""App clients: CreateUserPoolClient, DescribeUserPoolClient, UpdateUserPoolClient,
DeleteUserPoolClient, ListUserPoolClients."""

import datetime
import re

from support import raises_code, unique

CLIENT_ID = re.compile(r"^[\w+]+$")
CLIENT_SECRET = re.compile(r"^[\w+]+$")


def test_create_client_without_secret(cognito, pool):
    r = cognito.create_user_pool_client(UserPoolId=pool, ClientName="web")
    c = r["UserPoolClient"]
    assert c["UserPoolId"] == pool
    assert c["ClientName"] == "web"
    assert CLIENT_ID.match(c["ClientId"]) and 1 <= len(c["ClientId"]) <= 128
    assert "ClientSecret" not in c
    assert isinstance(c["CreationDate"], datetime.datetime)
    assert isinstance(c["LastModifiedDate"], datetime.datetime)
    # Cognito's defaults for omitted settings.
    assert c["RefreshTokenValidity"] == 30
    assert c["AllowedOAuthFlowsUserPoolClient"] is False
    assert c["EnableTokenRevocation"] is True
    assert c["AuthSessionValidity"] == 3
    d = cognito.describe_user_pool_client(UserPoolId=pool, ClientId=c["ClientId"])["UserPoolClient"]
    assert "ClientSecret" not in d
    assert d["ClientId"] == c["ClientId"] and d["ClientName"] == "web"


def test_create_client_with_secret(cognito, pool):
    c = cognito.create_user_pool_client(UserPoolId=pool, ClientName="backend",
                                        GenerateSecret=True)["UserPoolClient"]
    secret = c["ClientSecret"]
    assert CLIENT_SECRET.match(secret) and 24 <= len(secret) <= 64
    d = cognito.describe_user_pool_client(UserPoolId=pool, ClientId=c["ClientId"])["UserPoolClient"]
    assert d["ClientSecret"] == secret


def test_generate_secret_false_gives_no_secret(cognito, pool):
    c = cognito.create_user_pool_client(UserPoolId=pool, ClientName="spa",
                                        GenerateSecret=False)["UserPoolClient"]
    assert "ClientSecret" not in c


def test_client_ids_and_secrets_are_unique(cognito, pool):
    clients = [cognito.create_user_pool_client(UserPoolId=pool, ClientName="same",
                                               GenerateSecret=True)["UserPoolClient"]
               for _ in range(3)]
    assert len({c["ClientId"] for c in clients}) == 3
    assert len({c["ClientSecret"] for c in clients}) == 3


def test_create_client_settings_are_echoed(cognito, pool):
    c = cognito.create_user_pool_client(
        UserPoolId=pool,
        ClientName="configured",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        RefreshTokenValidity=10,
        AccessTokenValidity=2,
        IdTokenValidity=3,
        TokenValidityUnits={"AccessToken": "hours", "IdToken": "hours", "RefreshToken": "days"},
        ReadAttributes=["email", "given_name"],
        WriteAttributes=["given_name"],
        PreventUserExistenceErrors="ENABLED",
    )["UserPoolClient"]
    d = cognito.describe_user_pool_client(UserPoolId=pool, ClientId=c["ClientId"])["UserPoolClient"]
    for got in (c, d):
        assert sorted(got["ExplicitAuthFlows"]) == ["ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_PASSWORD_AUTH"]
        assert got["RefreshTokenValidity"] == 10
        assert got["AccessTokenValidity"] == 2
        assert got["IdTokenValidity"] == 3
        assert got["TokenValidityUnits"] == {"AccessToken": "hours", "IdToken": "hours",
                                             "RefreshToken": "days"}
        assert sorted(got["ReadAttributes"]) == ["email", "given_name"]
        assert got["WriteAttributes"] == ["given_name"]
        assert got["PreventUserExistenceErrors"] == "ENABLED"


def test_create_client_in_unknown_pool(cognito, janus):
    with raises_code("ResourceNotFoundException"):
        cognito.create_user_pool_client(UserPoolId=f"{janus.server_region}_doesNotExist0",
                                        ClientName="x")


def test_describe_unknown_client(cognito, pool):
    with raises_code("ResourceNotFoundException"):
        cognito.describe_user_pool_client(UserPoolId=pool, ClientId="a" * 26)


def test_client_belongs_to_its_pool(cognito, pool_factory):
    a, b = pool_factory()["Id"], pool_factory()["Id"]
    c = cognito.create_user_pool_client(UserPoolId=a, ClientName="mine")["UserPoolClient"]
    with raises_code("ResourceNotFoundException"):
        cognito.describe_user_pool_client(UserPoolId=b, ClientId=c["ClientId"])
    with raises_code("ResourceNotFoundException"):
        cognito.delete_user_pool_client(UserPoolId=b, ClientId=c["ClientId"])
    assert cognito.list_user_pool_clients(UserPoolId=b)["UserPoolClients"] == []


def test_update_client(cognito, pool):
    c = cognito.create_user_pool_client(UserPoolId=pool, ClientName="before", GenerateSecret=True,
                                        RefreshTokenValidity=10,
                                        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"])["UserPoolClient"]
    r = cognito.update_user_pool_client(UserPoolId=pool, ClientId=c["ClientId"], ClientName="after",
                                        ExplicitAuthFlows=["ALLOW_USER_SRP_AUTH",
                                                           "ALLOW_REFRESH_TOKEN_AUTH"])
    u = r["UserPoolClient"]
    assert u["ClientId"] == c["ClientId"]
    assert u["ClientName"] == "after"
    assert u["ClientSecret"] == c["ClientSecret"]
    assert sorted(u["ExplicitAuthFlows"]) == ["ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_SRP_AUTH"]
    # Omitted settings return to their defaults, as on Cognito.
    assert u["RefreshTokenValidity"] == 30
    assert u["CreationDate"] == c["CreationDate"]
    assert u["LastModifiedDate"] >= c["LastModifiedDate"]
    d = cognito.describe_user_pool_client(UserPoolId=pool, ClientId=c["ClientId"])["UserPoolClient"]
    assert d["ClientName"] == "after"
    assert d["ClientSecret"] == c["ClientSecret"]
    assert sorted(d["ExplicitAuthFlows"]) == ["ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_SRP_AUTH"]


def test_update_client_keeps_name_when_omitted(cognito, pool):
    c = cognito.create_user_pool_client(UserPoolId=pool, ClientName="keep")["UserPoolClient"]
    u = cognito.update_user_pool_client(UserPoolId=pool, ClientId=c["ClientId"],
                                        RefreshTokenValidity=5)["UserPoolClient"]
    assert u["ClientName"] == "keep"
    assert u["RefreshTokenValidity"] == 5


def test_update_unknown_client(cognito, pool):
    with raises_code("ResourceNotFoundException"):
        cognito.update_user_pool_client(UserPoolId=pool, ClientId="b" * 26, ClientName="x")


def test_delete_client(cognito, pool):
    c = cognito.create_user_pool_client(UserPoolId=pool, ClientName="gone")["UserPoolClient"]
    cognito.delete_user_pool_client(UserPoolId=pool, ClientId=c["ClientId"])
    with raises_code("ResourceNotFoundException"):
        cognito.describe_user_pool_client(UserPoolId=pool, ClientId=c["ClientId"])
    with raises_code("ResourceNotFoundException"):
        cognito.delete_user_pool_client(UserPoolId=pool, ClientId=c["ClientId"])
    assert cognito.list_user_pool_clients(UserPoolId=pool)["UserPoolClients"] == []


def test_list_clients_paginates(cognito, pool):
    made = {}
    for i in range(5):
        c = cognito.create_user_pool_client(UserPoolId=pool, ClientName=f"client-{i}",
                                            GenerateSecret=(i % 2 == 0))["UserPoolClient"]
        made[c["ClientId"]] = c["ClientName"]
    seen = []
    token = None
    pages = 0
    while True:
        kwargs = {"UserPoolId": pool, "MaxResults": 2}
        if token:
            kwargs["NextToken"] = token
        r = cognito.list_user_pool_clients(**kwargs)
        pages += 1
        assert len(r["UserPoolClients"]) <= 2
        for item in r["UserPoolClients"]:
            assert item["UserPoolId"] == pool
            assert "ClientSecret" not in item
            assert made[item["ClientId"]] == item["ClientName"]
            seen.append(item["ClientId"])
        token = r.get("NextToken")
        if not token:
            break
        assert pages < 10
    assert sorted(seen) == sorted(made)
    assert pages == 3


def test_list_clients_default_page_and_paginator(cognito, pool):
    ids = {cognito.create_user_pool_client(UserPoolId=pool, ClientName=unique("c"))
           ["UserPoolClient"]["ClientId"] for _ in range(3)}
    r = cognito.list_user_pool_clients(UserPoolId=pool)
    assert {c["ClientId"] for c in r["UserPoolClients"]} == ids
    assert "NextToken" not in r
    via_paginator = set()
    for page in cognito.get_paginator("list_user_pool_clients").paginate(
            UserPoolId=pool, PaginationConfig={"PageSize": 1}):
        via_paginator.update(c["ClientId"] for c in page["UserPoolClients"])
    assert via_paginator == ids


def test_list_clients_unknown_pool(cognito, janus):
    with raises_code("ResourceNotFoundException"):
        cognito.list_user_pool_clients(UserPoolId=f"{janus.server_region}_doesNotExist0")
