"""Tags on user pools: TagResource, UntagResource, ListTagsForResource (by the pool's ARN),
and UserPoolTags on CreateUserPool / DescribeUserPool."""

import pytest
from botocore.exceptions import ClientError

from support import raises_code


def arn_of(cognito, pool_id):
    return cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"]["Arn"]


def test_tags_round_trip(cognito, pool):
    arn = arn_of(cognito, pool)
    assert cognito.list_tags_for_resource(ResourceArn=arn)["Tags"] == {}
    cognito.tag_resource(ResourceArn=arn, Tags={"env": "test", "team": "identity"})
    assert cognito.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"env": "test",
                                                                       "team": "identity"}
    cognito.tag_resource(ResourceArn=arn, Tags={"env": "prod", "cost": "42"})
    assert cognito.list_tags_for_resource(ResourceArn=arn)["Tags"] == {
        "env": "prod", "team": "identity", "cost": "42"}
    cognito.untag_resource(ResourceArn=arn, TagKeys=["team", "not-there"])
    assert cognito.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"env": "prod", "cost": "42"}
    # DescribeUserPool shows the same tags.
    assert cognito.describe_user_pool(UserPoolId=pool)["UserPool"]["UserPoolTags"] == {
        "env": "prod", "cost": "42"}


def test_tags_from_create_user_pool(cognito, pool_factory):
    p = pool_factory(UserPoolTags={"made-by": "create", "empty": ""})
    assert cognito.list_tags_for_resource(ResourceArn=p["Arn"])["Tags"] == {"made-by": "create",
                                                                            "empty": ""}


def test_untag_everything(cognito, pool_factory):
    p = pool_factory(UserPoolTags={"a": "1", "b": "2"})
    cognito.untag_resource(ResourceArn=p["Arn"], TagKeys=["a", "b"])
    assert cognito.list_tags_for_resource(ResourceArn=p["Arn"])["Tags"] == {}


def test_tags_are_per_pool(cognito, pool_factory):
    a, b = pool_factory(), pool_factory()
    cognito.tag_resource(ResourceArn=a["Arn"], Tags={"only": "a"})
    assert cognito.list_tags_for_resource(ResourceArn=b["Arn"])["Tags"] == {}


def test_tags_of_unknown_pool(cognito, janus):
    arn = (f"arn:aws:cognito-idp:{janus.server_region}:{janus.account_id}:"
           f"userpool/{janus.server_region}_doesNotExist0")
    with raises_code("ResourceNotFoundException"):
        cognito.list_tags_for_resource(ResourceArn=arn)
    with raises_code("ResourceNotFoundException"):
        cognito.tag_resource(ResourceArn=arn, Tags={"k": "v"})
    with raises_code("ResourceNotFoundException"):
        cognito.untag_resource(ResourceArn=arn, TagKeys=["k"])


def test_tags_of_deleted_pool(cognito):
    p = cognito.create_user_pool(PoolName="tag-then-delete")["UserPool"]
    cognito.delete_user_pool(UserPoolId=p["Id"])
    with raises_code("ResourceNotFoundException"):
        cognito.list_tags_for_resource(ResourceArn=p["Arn"])


def test_malformed_arn(cognito):
    with raises_code("InvalidParameterException"):
        cognito.list_tags_for_resource(ResourceArn="this-is-not-an-arn-at-all")


def test_too_many_tags_in_one_call(cognito, pool):
    arn = arn_of(cognito, pool)
    # A pool holds at most 50 tags; TagResource's model lists no LimitExceededException.
    with pytest.raises(ClientError) as info:
        cognito.tag_resource(ResourceArn=arn, Tags={f"k{i}": "v" for i in range(51)})
    assert info.value.response["Error"]["Code"] == "InvalidParameterException"
    assert cognito.list_tags_for_resource(ResourceArn=arn)["Tags"] == {}
