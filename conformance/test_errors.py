"""The error surface: malformed and hostile requests sent as raw HTTP (signed with botocore's
SigV4 signer where the check under test comes after authentication), authentication failures
through boto3, and the shape of every error (HTTP 400, `__type`, `message`,
`x-amzn-RequestId`). After each test the server must still answer /health."""

import datetime
import json
import time
from unittest import mock

import pytest

from support import (CONTENT_TYPE, TARGET_PREFIX, health, raises_code, raw_call,
                     send_streaming)


@pytest.fixture(autouse=True)
def still_healthy(janus):
    yield
    assert janus.process.poll() is None, f"janus died:\n{janus.log_tail()}"
    assert health(janus.endpoint) == 200


@pytest.fixture
def call(janus):
    """call(target, body, signed=True, **kw) -> RawResponse."""

    def go(target, body, signed=True, **kwargs):
        creds = janus.credentials if signed else None
        return go_raw(janus.endpoint, target, body, creds, **kwargs)

    def go_raw(endpoint, target, body, creds, **kwargs):
        return raw_call(endpoint, target, body, credentials=creds, region=janus.region, **kwargs)

    return go


def assert_error(resp, code, status=400):
    assert resp.status == status, (resp.status, resp.body[:300])
    assert resp.headers.get("x-amzn-requestid"), "no x-amzn-RequestId header"
    assert resp.headers.get("content-type", "").startswith(CONTENT_TYPE)
    body = resp.json
    assert "__type" in body and "message" in body, body
    assert isinstance(body["message"], str) and body["message"]
    assert resp.error_type == code, body


# --- Malformed bodies ------------------------------------------------------------------


@pytest.mark.parametrize("body", [b"{not json", b'{"MaxResults": 1', b"\xff\xfe\x00garbage",
                                  b'{"MaxResults": 1}}'])
def test_malformed_json(call, body):
    r = call("ListUserPools", body)
    assert_error(r, "SerializationException")


@pytest.mark.parametrize("body", [b"[1, 2]", b'"a string"', b"42", b"null"])
def test_body_must_be_an_object(call, body):
    assert_error(call("ListUserPools", body), "SerializationException")


def test_empty_body_means_no_members(call):
    # An empty body is an empty input: the required member is missing.
    r = call("ListUserPools", b"")
    assert_error(r, "InvalidParameterException")


# --- Targets ---------------------------------------------------------------------------


def test_unknown_operation(call):
    r = call("NoSuchOperation", b"{}")
    assert_error(r, "UnknownOperationException")


def test_missing_target(call):
    r = call(None, b"{}")
    assert r.status == 400
    assert r.headers.get("x-amzn-requestid")
    assert r.json["__type"]


def test_target_of_another_service(call):
    r = call("DynamoDB_20120810.ListTables", b"{}")
    assert r.status == 400
    assert r.json["__type"] and r.json["message"]


# --- Validation against the model ------------------------------------------------------


def test_missing_required_member(call):
    r = call("DescribeUserPool", b"{}")
    assert_error(r, "InvalidParameterException")
    assert "userPoolId" in r.json["message"]
    assert "must not be null" in r.json["message"]


def test_missing_required_members_are_all_reported(call):
    r = call("AdminGetUser", b"{}")
    assert_error(r, "InvalidParameterException")
    assert "2 validation errors" in r.json["message"]
    assert "userPoolId" in r.json["message"] and "username" in r.json["message"]


@pytest.mark.parametrize("target,body", [
    ("DescribeUserPool", {"UserPoolId": 12345}),                       # number for a string
    ("ListUserPools", {"MaxResults": "ten"}),                          # string for an integer
    ("ListUserPools", {"MaxResults": 1.5}),                            # fraction for an integer
    ("AdminSetUserPassword", {"UserPoolId": "us-east-1_abc", "Username": "u",
                              "Password": "Passw0rd!", "Permanent": "yes"}),  # string for a bool
    ("AdminCreateUser", {"UserPoolId": "us-east-1_abc", "Username": "u",
                         "UserAttributes": "email=x"}),                # string for a list
    ("AdminCreateUser", {"UserPoolId": "us-east-1_abc", "Username": "u",
                         "UserAttributes": [{"Name": 7, "Value": "x"}]}),  # nested type error
    ("TagResource", {"ResourceArn": "arn:aws:cognito-idp:us-east-1:123456789012:userpool/x_y",
                     "Tags": ["a", "b"]}),                              # list for a map
])
def test_wrong_member_types(call, target, body):
    r = call(target, json.dumps(body))
    assert_error(r, "SerializationException")


def test_over_long_user_pool_id(cognito):
    # botocore does not check maximum lengths; the server must.
    with raises_code("InvalidParameterException") as info:
        cognito.describe_user_pool(UserPoolId="us-east-1_" + "a" * 90)
    assert "failed to satisfy constraint" in info.value.response["Error"]["Message"]


def test_over_long_user_pool_id_raw(call):
    r = call("DescribeUserPool", json.dumps({"UserPoolId": "x" * 100}))
    assert_error(r, "InvalidParameterException")


def test_pattern_violation(cognito):
    with raises_code("InvalidParameterException"):
        cognito.describe_user_pool(UserPoolId="no-underscore-here")


def test_enum_violation(cognito, pool):
    with raises_code("InvalidParameterException"):
        cognito.update_user_pool(UserPoolId=pool, DeletionProtection="SOMETIMES")


def test_number_out_of_range(cognito, pool):
    with raises_code("InvalidParameterException"):
        cognito.list_users(UserPoolId=pool, Limit=1000)


# --- Size limits -----------------------------------------------------------------------


def big_body():
    return json.dumps({"MaxResults": 1, "Padding": "a" * (10 * 1024 * 1024)}).encode()


def target_headers(op="ListUserPools"):
    return {"X-Amz-Target": TARGET_PREFIX + op, "Content-Type": CONTENT_TYPE}


def test_ten_megabyte_body_is_refused_quickly(janus):
    started = time.monotonic()
    r = send_streaming(janus.endpoint, target_headers(), big_body(), timeout=15)
    assert r.status == 400, (r.status, r.body[:200])
    assert r.json["__type"] and r.json["message"]
    assert r.headers.get("x-amzn-requestid")
    assert time.monotonic() - started < 15


def test_ten_megabyte_chunked_body_is_refused(janus):
    r = send_streaming(janus.endpoint, target_headers(), big_body(), chunked=True, timeout=15)
    assert r.status == 400, (r.status, r.body[:200])
    assert r.json["__type"] and r.json["message"]


def test_ten_megabyte_body_with_expect_continue(janus):
    headers = {**target_headers(), "Expect": "100-continue"}
    r = send_streaming(janus.endpoint, headers, big_body(), timeout=15)
    assert r.status == 400, (r.status, r.body[:200])


def test_ten_megabyte_signed_body_through_http_client(janus):
    # A naive client (http.client sends the whole body before reading) must not hang: it gets
    # the 400 or a closed connection, never a stalled socket.
    try:
        r = raw_call(janus.endpoint, "ListUserPools", big_body(), credentials=janus.credentials,
                     region=janus.region, timeout=15)
    except (BrokenPipeError, ConnectionResetError):
        return
    assert r.status == 400, (r.status, r.body[:200])


def test_large_but_acceptable_body(cognito, pool):
    # Well under the limit: a user with many long attribute values is fine.
    cognito.admin_create_user(UserPoolId=pool, Username="big", MessageAction="SUPPRESS",
                              UserAttributes=[{"Name": n, "Value": "v" * 2000} for n in
                                              ("name", "given_name", "family_name", "middle_name",
                                               "nickname", "profile", "website", "address")])


# --- Authentication --------------------------------------------------------------------


def test_unsigned_admin_call(call):
    r = call("ListUserPools", b'{"MaxResults": 1}', signed=False)
    assert_error(r, "MissingAuthenticationTokenException")


def test_wrong_secret_key(make_client):
    bad = make_client(secret_access_key="definitely-not-the-right-secret-key-000")
    with raises_code("InvalidSignatureException"):
        bad.list_user_pools(MaxResults=1)


def test_unknown_access_key(make_client):
    bad = make_client(access_key_id="AKIAUNKNOWNKEY000000")
    with raises_code("UnrecognizedClientException"):
        bad.list_user_pools(MaxResults=1)


def test_tampered_body(janus):
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    body = b'{"MaxResults": 1}'
    req = AWSRequest(method="POST", url=janus.endpoint + "/", data=body,
                     headers=target_headers())
    SigV4Auth(Credentials(*janus.credentials), "cognito-idp", janus.region).add_auth(req)
    headers = dict(req.headers.items())
    r = raw_call(janus.endpoint, "ListUserPools", b'{"MaxResults": 2}', headers=headers)
    assert_error(r, "InvalidSignatureException")


def test_signature_for_another_service(janus):
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    body = b'{"MaxResults": 1}'
    req = AWSRequest(method="POST", url=janus.endpoint + "/", data=body, headers=target_headers())
    SigV4Auth(Credentials(*janus.credentials), "dynamodb", janus.region).add_auth(req)
    r = raw_call(janus.endpoint, "ListUserPools", body, headers=dict(req.headers.items()))
    assert_error(r, "InvalidSignatureException")


def test_expired_signature(janus):
    stale = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) - datetime.timedelta(minutes=20)
    with mock.patch("botocore.auth.get_current_datetime", return_value=stale):
        r = raw_call(janus.endpoint, "ListUserPools", b'{"MaxResults": 1}',
                     credentials=janus.credentials, region=janus.region)
    assert_error(r, "InvalidSignatureException")
    assert "expired" in r.json["message"].lower()


@pytest.mark.parametrize("authorization", [
    "garbage",
    "AWS4-HMAC-SHA256 Credential=AKIAJANUSCONFORMANCE/20260101/us-east-1/cognito-idp/aws4_request",
])
def test_malformed_authorization_header(call, authorization):
    # AWS answers an Authorization header without Credential/SignedHeaders/Signature with
    # IncompleteSignatureException ("Authorization header requires 'Credential' parameter. ...").
    r = call("ListUserPools", b'{"MaxResults": 1}', signed=False,
             headers={"Authorization": authorization, "X-Amz-Date": "20260101T000000Z"})
    assert_error(r, "IncompleteSignatureException")


def test_malformed_authorization_header_is_refused(call):
    r = call("ListUserPools", b'{"MaxResults": 1}', signed=False,
             headers={"Authorization": "garbage"})
    assert r.status == 400
    assert r.error_type in ("IncompleteSignatureException", "InvalidSignatureException")


# --- Not found -------------------------------------------------------------------------


def test_unknown_pool_is_resource_not_found(cognito, janus):
    missing = f"{janus.server_region}_NoSuchPool1"
    with raises_code("ResourceNotFoundException"):
        cognito.describe_user_pool(UserPoolId=missing)
    with raises_code("ResourceNotFoundException"):
        cognito.list_users(UserPoolId=missing)
    with raises_code("ResourceNotFoundException"):
        cognito.admin_get_user(UserPoolId=missing, Username="x")
    with raises_code("ResourceNotFoundException"):
        cognito.list_groups(UserPoolId=missing)
    with raises_code("ResourceNotFoundException"):
        cognito.delete_user_pool(UserPoolId=missing)


def test_error_response_shape_through_boto3(cognito, janus):
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as info:
        cognito.describe_user_pool(UserPoolId=f"{janus.server_region}_NoSuchPool1")
    resp = info.value.response
    assert resp["ResponseMetadata"]["RequestId"]
    assert resp["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"] == resp["ResponseMetadata"]["RequestId"]
    # The modelled exception class is raised.
    assert isinstance(info.value, cognito.exceptions.ResourceNotFoundException)


def test_request_ids_are_unique(call, cognito):
    ids = set()
    for _ in range(5):
        r = call("ListUserPools", b'{"MaxResults": 1}')
        assert r.status == 200
        ids.add(r.headers["x-amzn-requestid"])
        ids.add(cognito.list_user_pools(MaxResults=1)["ResponseMetadata"]["RequestId"])
    assert len(ids) == 10


def test_success_response_headers(call):
    r = call("ListUserPools", b'{"MaxResults": 1}')
    assert r.status == 200
    assert r.headers["content-type"].startswith(CONTENT_TYPE)
    assert "UserPools" in r.json


def test_health(janus):
    import http.client
    from urllib.parse import urlsplit

    u = urlsplit(janus.endpoint)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=5)
    conn.request("GET", "/health")
    resp = conn.getresponse()
    assert resp.status == 200
    assert json.loads(resp.read())["status"] == "ok"
    conn.close()


def test_server_still_serves_after_abuse(cognito, call, pool):
    for body in (b"{", b"[]", b"\x00" * 100, b'{"UserPoolId": {"nested": [1, 2, {"deep": null}]}}'):
        call("DescribeUserPool", body)
    assert cognito.describe_user_pool(UserPoolId=pool)["UserPool"]["Id"] == pool
