"""User pools: CreateUserPool, DescribeUserPool, UpdateUserPool, DeleteUserPool,
ListUserPools, AddCustomAttributes."""

import datetime
import re

from support import GOOD_PASSWORD, attr_list, raises_code, unique

POOL_ID = re.compile(r"^[\w-]+_[0-9a-zA-Z]+$")


def schema(pool: dict) -> dict:
    return {a["Name"]: a for a in pool["SchemaAttributes"]}


def test_create_user_pool_defaults(cognito, pool_factory, janus):
    name = unique("defaults")
    p = pool_factory(PoolName=name)
    assert POOL_ID.match(p["Id"]) and len(p["Id"]) <= 55
    # The id is <region>_<suffix>; the region is the server's, whatever the client signed for.
    assert p["Id"].startswith(janus.server_region + "_")
    assert p["Name"] == name
    assert p["Arn"] == f"arn:aws:cognito-idp:{janus.server_region}:{janus.account_id}:userpool/{p['Id']}"
    assert p["Policies"]["PasswordPolicy"] == {
        "MinimumLength": 8,
        "RequireUppercase": True,
        "RequireLowercase": True,
        "RequireNumbers": True,
        "RequireSymbols": True,
        "TemporaryPasswordValidityDays": 7,
    }
    assert p["MfaConfiguration"] == "OFF"
    assert p["DeletionProtection"] == "INACTIVE"
    assert p["EstimatedNumberOfUsers"] == 0
    assert isinstance(p["CreationDate"], datetime.datetime)
    assert isinstance(p["LastModifiedDate"], datetime.datetime)
    s = schema(p)
    assert s["sub"]["Required"] is True and s["sub"]["Mutable"] is False
    assert s["sub"]["AttributeDataType"] == "String"
    assert s["email"]["Required"] is False and s["email"]["Mutable"] is True
    assert s["email_verified"]["AttributeDataType"] == "Boolean"
    assert s["updated_at"]["AttributeDataType"] == "Number"
    for standard in ("name", "given_name", "family_name", "phone_number", "preferred_username",
                     "address", "birthdate", "locale", "picture", "website", "zoneinfo"):
        assert standard in s, standard
    assert not any(n.startswith("custom:") for n in s)


def test_create_user_pool_with_settings(cognito, pool_factory):
    p = pool_factory(
        Policies={"PasswordPolicy": {"MinimumLength": 12, "RequireUppercase": False,
                                     "RequireLowercase": True, "RequireNumbers": True,
                                     "RequireSymbols": False,
                                     "TemporaryPasswordValidityDays": 3}},
        Schema=[
            {"Name": "email", "AttributeDataType": "String", "Required": True, "Mutable": True},
            {"Name": "tier", "AttributeDataType": "Number", "Mutable": False,
             "NumberAttributeConstraints": {"MinValue": "1", "MaxValue": "3"}},
            {"Name": "team", "AttributeDataType": "String",
             "StringAttributeConstraints": {"MinLength": "1", "MaxLength": "16"}},
        ],
        AutoVerifiedAttributes=["email"],
        UsernameAttributes=["email"],
        UsernameConfiguration={"CaseSensitive": False},
        UserPoolTags={"env": "test", "owner": "conformance"},
        DeletionProtection="INACTIVE",
    )
    pp = p["Policies"]["PasswordPolicy"]
    assert pp["MinimumLength"] == 12
    assert pp["RequireUppercase"] is False and pp["RequireLowercase"] is True
    assert pp["RequireNumbers"] is True and pp["RequireSymbols"] is False
    assert pp["TemporaryPasswordValidityDays"] == 3
    s = schema(p)
    assert s["email"]["Required"] is True
    assert s["custom:tier"]["AttributeDataType"] == "Number"
    assert s["custom:tier"]["Mutable"] is False
    assert s["custom:tier"]["NumberAttributeConstraints"] == {"MinValue": "1", "MaxValue": "3"}
    assert s["custom:team"]["StringAttributeConstraints"] == {"MinLength": "1", "MaxLength": "16"}
    assert p["AutoVerifiedAttributes"] == ["email"]
    assert p["UsernameAttributes"] == ["email"]
    assert p["UsernameConfiguration"] == {"CaseSensitive": False}
    assert p["UserPoolTags"] == {"env": "test", "owner": "conformance"}

    described = cognito.describe_user_pool(UserPoolId=p["Id"])["UserPool"]
    for key in ("Id", "Name", "Arn", "Policies", "SchemaAttributes", "AutoVerifiedAttributes",
                "UsernameAttributes", "UsernameConfiguration", "UserPoolTags", "MfaConfiguration"):
        assert described[key] == p[key], key


def test_create_user_pool_username_and_alias_attributes_conflict(cognito):
    with raises_code("InvalidParameterException"):
        cognito.create_user_pool(PoolName=unique("bad"), UsernameAttributes=["email"],
                                 AliasAttributes=["phone_number"])


def test_describe_user_pool(cognito, pool_factory):
    created = pool_factory()
    d = cognito.describe_user_pool(UserPoolId=created["Id"])
    assert d["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert d["ResponseMetadata"]["RequestId"]
    p = d["UserPool"]
    assert p["Id"] == created["Id"] and p["Name"] == created["Name"] and p["Arn"] == created["Arn"]
    assert p["CreationDate"] == created["CreationDate"]
    assert p["EstimatedNumberOfUsers"] == 0
    cognito.admin_create_user(UserPoolId=p["Id"], Username="someone", MessageAction="SUPPRESS")
    p = cognito.describe_user_pool(UserPoolId=p["Id"])["UserPool"]
    assert p["EstimatedNumberOfUsers"] == 1


def test_describe_unknown_pool(cognito, janus):
    with raises_code("ResourceNotFoundException"):
        cognito.describe_user_pool(UserPoolId=f"{janus.server_region}_doesNotExist0")


def test_update_user_pool(cognito, pool_factory):
    p = pool_factory(Policies={"PasswordPolicy": {"MinimumLength": 12}})
    assert p["Policies"]["PasswordPolicy"]["MinimumLength"] == 12
    cognito.update_user_pool(
        UserPoolId=p["Id"],
        Policies={"PasswordPolicy": {"MinimumLength": 10, "RequireNumbers": True}},
        AutoVerifiedAttributes=["email"],
        UserPoolTags={"stage": "two"},
    )
    u = cognito.describe_user_pool(UserPoolId=p["Id"])["UserPool"]
    assert u["Policies"]["PasswordPolicy"]["MinimumLength"] == 10
    assert u["Policies"]["PasswordPolicy"]["RequireNumbers"] is True
    assert u["AutoVerifiedAttributes"] == ["email"]
    assert u["UserPoolTags"] == {"stage": "two"}
    assert u["Name"] == p["Name"]
    assert u["CreationDate"] == p["CreationDate"]
    assert u["LastModifiedDate"] >= p["LastModifiedDate"]
    # The schema never changes through UpdateUserPool.
    assert u["SchemaAttributes"] == p["SchemaAttributes"]


def test_update_user_pool_resets_omitted_settings_to_defaults(cognito, pool_factory):
    # Cognito: "If you don't provide a value for an attribute, Amazon Cognito sets it to its
    # default value."
    p = pool_factory(Policies={"PasswordPolicy": {"MinimumLength": 14, "RequireUppercase": False}},
                     AutoVerifiedAttributes=["email"])
    cognito.update_user_pool(UserPoolId=p["Id"], MfaConfiguration="OFF")
    u = cognito.describe_user_pool(UserPoolId=p["Id"])["UserPool"]
    assert u["Policies"]["PasswordPolicy"]["MinimumLength"] == 8
    assert "AutoVerifiedAttributes" not in u or u["AutoVerifiedAttributes"] == []


def test_update_user_pool_changes_the_enforced_password_policy(cognito, pool_factory):
    p = pool_factory()
    with raises_code("InvalidPasswordException"):
        cognito.admin_create_user(UserPoolId=p["Id"], Username="weak", TemporaryPassword="abcdef",
                                  MessageAction="SUPPRESS")
    cognito.update_user_pool(UserPoolId=p["Id"], Policies={"PasswordPolicy": {
        "MinimumLength": 6, "RequireUppercase": False, "RequireLowercase": False,
        "RequireNumbers": False, "RequireSymbols": False}})
    u = cognito.admin_create_user(UserPoolId=p["Id"], Username="weak", TemporaryPassword="abcdef",
                                  MessageAction="SUPPRESS")["User"]
    assert u["UserStatus"] == "FORCE_CHANGE_PASSWORD"


def test_update_unknown_pool(cognito, janus):
    with raises_code("ResourceNotFoundException"):
        cognito.update_user_pool(UserPoolId=f"{janus.server_region}_doesNotExist0",
                                 MfaConfiguration="OFF")


def test_delete_user_pool(cognito):
    p = cognito.create_user_pool(PoolName=unique("doomed"))["UserPool"]
    cognito.admin_create_user(UserPoolId=p["Id"], Username="u1", MessageAction="SUPPRESS")
    cognito.create_group(UserPoolId=p["Id"], GroupName="g1")
    cognito.create_user_pool_client(UserPoolId=p["Id"], ClientName="c1")
    cognito.delete_user_pool(UserPoolId=p["Id"])
    with raises_code("ResourceNotFoundException"):
        cognito.describe_user_pool(UserPoolId=p["Id"])
    with raises_code("ResourceNotFoundException"):
        cognito.admin_get_user(UserPoolId=p["Id"], Username="u1")
    with raises_code("ResourceNotFoundException"):
        cognito.list_users(UserPoolId=p["Id"])
    with raises_code("ResourceNotFoundException"):
        cognito.delete_user_pool(UserPoolId=p["Id"])
    ids = set()
    for page in cognito.get_paginator("list_user_pools").paginate(PaginationConfig={"PageSize": 60}):
        ids.update(x["Id"] for x in page["UserPools"])
    assert p["Id"] not in ids


def test_deletion_protection(cognito, pool_factory):
    p = pool_factory(DeletionProtection="ACTIVE")
    assert p["DeletionProtection"] == "ACTIVE"
    with raises_code("InvalidParameterException"):
        cognito.delete_user_pool(UserPoolId=p["Id"])
    # Still there.
    assert cognito.describe_user_pool(UserPoolId=p["Id"])["UserPool"]["DeletionProtection"] == "ACTIVE"
    cognito.update_user_pool(UserPoolId=p["Id"], DeletionProtection="INACTIVE")
    assert cognito.describe_user_pool(UserPoolId=p["Id"])["UserPool"]["DeletionProtection"] == "INACTIVE"
    cognito.delete_user_pool(UserPoolId=p["Id"])
    with raises_code("ResourceNotFoundException"):
        cognito.describe_user_pool(UserPoolId=p["Id"])


def test_list_user_pools_paginates_with_next_token(cognito, pool_factory):
    mine = {pool_factory(PoolName=unique("list"))["Id"] for _ in range(4)}
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        kwargs = {"MaxResults": 1}
        if token:
            kwargs["NextToken"] = token
        r = cognito.list_user_pools(**kwargs)
        pages += 1
        assert len(r["UserPools"]) <= 1
        for item in r["UserPools"]:
            assert set(item) >= {"Id", "Name", "CreationDate", "LastModifiedDate", "ReplicaRegions"}
            assert isinstance(item["ReplicaRegions"], list)
            assert POOL_ID.match(item["Id"])
            seen.append(item["Id"])
        token = r.get("NextToken")
        if not token:
            break
        assert pages < 1000, "pagination does not terminate"
    assert len(seen) == len(set(seen)), "a pool was listed twice"
    assert mine <= set(seen)
    assert pages >= 4


def test_list_user_pools_paginator_and_names(cognito, pool_factory):
    made = {}
    for _ in range(3):
        p = pool_factory(PoolName=unique("named"))
        made[p["Id"]] = p["Name"]
    listed = {}
    for page in cognito.get_paginator("list_user_pools").paginate(PaginationConfig={"PageSize": 2}):
        assert len(page["UserPools"]) <= 2
        listed.update({x["Id"]: x["Name"] for x in page["UserPools"]})
    for pool_id, name in made.items():
        assert listed[pool_id] == name


def test_list_user_pools_max_results_over_limit(cognito):
    with raises_code("InvalidParameterException"):
        cognito.list_user_pools(MaxResults=61)


def test_add_custom_attributes(cognito, pool):
    cognito.add_custom_attributes(UserPoolId=pool, CustomAttributes=[
        {"Name": "tier", "AttributeDataType": "Number", "Mutable": True,
         "NumberAttributeConstraints": {"MinValue": "1", "MaxValue": "3"}},
        {"Name": "nick", "AttributeDataType": "String",
         "StringAttributeConstraints": {"MinLength": "0", "MaxLength": "5"}},
    ])
    s = schema(cognito.describe_user_pool(UserPoolId=pool)["UserPool"])
    assert s["custom:tier"]["AttributeDataType"] == "Number"
    assert s["custom:tier"]["Mutable"] is True
    assert s["custom:tier"]["Required"] is False
    assert s["custom:tier"]["NumberAttributeConstraints"] == {"MinValue": "1", "MaxValue": "3"}
    assert s["custom:nick"]["AttributeDataType"] == "String"
    assert s["custom:nick"]["StringAttributeConstraints"]["MaxLength"] == "5"
    # The new attributes are usable on users at once, within their constraints.
    u = cognito.admin_create_user(UserPoolId=pool, Username="c1", MessageAction="SUPPRESS",
                                  UserAttributes=attr_list(custom__tier="2", custom__nick="abc"))
    assert {"Name": "custom:tier", "Value": "2"} in u["User"]["Attributes"]
    with raises_code("InvalidParameterException"):
        cognito.admin_create_user(UserPoolId=pool, Username="c2", MessageAction="SUPPRESS",
                                  UserAttributes=attr_list(custom__tier="9"))


def test_add_custom_attributes_duplicate(cognito, pool):
    cognito.add_custom_attributes(UserPoolId=pool, CustomAttributes=[
        {"Name": "dup", "AttributeDataType": "String"}])
    with raises_code("InvalidParameterException"):
        cognito.add_custom_attributes(UserPoolId=pool, CustomAttributes=[
            {"Name": "dup", "AttributeDataType": "String"}])
    s = schema(cognito.describe_user_pool(UserPoolId=pool)["UserPool"])
    assert [n for n in s if n == "custom:dup"] == ["custom:dup"]


def test_add_custom_attributes_to_pool_created_with_one(cognito, pool_factory):
    p = pool_factory(Schema=[{"Name": "dept", "AttributeDataType": "String"}])
    with raises_code("InvalidParameterException"):
        cognito.add_custom_attributes(UserPoolId=p["Id"], CustomAttributes=[
            {"Name": "dept", "AttributeDataType": "String"}])


def test_add_custom_attributes_unknown_pool(cognito, janus):
    with raises_code("ResourceNotFoundException"):
        cognito.add_custom_attributes(UserPoolId=f"{janus.server_region}_doesNotExist0",
                                      CustomAttributes=[{"Name": "x", "AttributeDataType": "String"}])


def test_any_signing_region_is_accepted(make_client, pool):
    for region in ("us-east-1", "eu-central-1", "ap-southeast-2", "cn-north-1"):
        c = make_client(region=region)
        assert c.describe_user_pool(UserPoolId=pool)["UserPool"]["Id"] == pool, region


def test_temporary_password_policy_from_create_is_enforced(cognito, pool_factory):
    p = pool_factory(Policies={"PasswordPolicy": {"MinimumLength": 10, "RequireUppercase": True,
                                                  "RequireLowercase": True, "RequireNumbers": True,
                                                  "RequireSymbols": True}})
    with raises_code("InvalidPasswordException"):
        cognito.admin_create_user(UserPoolId=p["Id"], Username="shorty",
                                  TemporaryPassword=GOOD_PASSWORD, MessageAction="SUPPRESS")
    cognito.admin_create_user(UserPoolId=p["Id"], Username="longer",
                              TemporaryPassword=GOOD_PASSWORD + "x1", MessageAction="SUPPRESS")
