"""The tokens, judged the way a resource server does it with PyJWT (+ cryptography): find
the JWKS through <issuer>/.well-known/openid-configuration, pick the key by `kid`, verify the
RS256 signature, `iss`, `exp`, `iat`, `token_use`, and `aud` (ID token) or `client_id`
(access token). Also the claim set, lifetimes from the app client, groups, ReadAttributes,
and keys of different pools not validating each other's tokens."""

import json
import time
import urllib.error
import urllib.request

import boto3
import jwt
import pytest
from botocore import UNSIGNED
from botocore.config import Config

from auth_support import claims, header, make_app_client, make_user, sign_in
from conftest import start_janus, stop_janus
from support import raises_code, unique


def fetch_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as resp:
        assert resp.status == 200
        assert resp.headers.get_content_type() == "application/json"
        return json.loads(resp.read())


def issuer(janus, pool: str) -> str:
    return f"{janus.endpoint}/{pool}"


class Verifier:
    """What an API behind Cognito does: discovery → JWKS → PyJWT."""

    def __init__(self, iss: str):
        self.discovery = fetch_json(f"{iss}/.well-known/openid-configuration")
        self.issuer = self.discovery["issuer"]
        self.jwks = jwt.PyJWKClient(self.discovery["jwks_uri"], cache_keys=False)

    def id_token(self, token: str, client_id: str, **kw) -> dict:
        key = self.jwks.get_signing_key_from_jwt(token)
        c = jwt.decode(token, key.key, algorithms=["RS256"], audience=client_id, issuer=self.issuer,
                       options={"require": ["exp", "iat", "iss", "aud", "sub", "token_use"]}, **kw)
        assert c["token_use"] == "id"
        return c

    def access_token(self, token: str, client_id: str, **kw) -> dict:
        key = self.jwks.get_signing_key_from_jwt(token)
        c = jwt.decode(token, key.key, algorithms=["RS256"], issuer=self.issuer,
                       options={"require": ["exp", "iat", "iss", "sub", "token_use"]}, **kw)
        assert c["token_use"] == "access"
        assert c["client_id"] == client_id
        return c


def test_discovery_document(janus, pool):
    iss = issuer(janus, pool)
    d = fetch_json(f"{iss}/.well-known/openid-configuration")
    assert d["issuer"] == iss
    assert d["jwks_uri"] == f"{iss}/.well-known/jwks.json"
    assert "RS256" in d["id_token_signing_alg_values_supported"]
    assert "public" in d["subject_types_supported"]


def test_jwks_document(janus, pool):
    keys = fetch_json(f"{issuer(janus, pool)}/.well-known/jwks.json")["keys"]
    assert keys
    for k in keys:
        assert k["kty"] == "RSA"
        assert k["alg"] == "RS256"
        assert k["use"] == "sig"
        assert k["kid"] and k["n"] and k["e"] == "AQAB"
        # 2048-bit modulus, as Cognito's.
        n = jwt.utils.base64url_decode(k["n"])
        assert len(n) * 8 >= 2048
    assert len({k["kid"] for k in keys}) == len(keys)


def test_discovery_unknown_pool(janus):
    for path in ("openid-configuration", "jwks.json"):
        url = f"{janus.endpoint}/us-east-1_NoSuchPool1/.well-known/{path}"
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(url, timeout=10)
        assert info.value.code == 404


def test_pyjwt_validates_id_and_access_tokens(cognito, public, janus, pool):
    app = make_app_client(cognito, pool)
    user = make_user(cognito, pool, email="jwt@example.com", email_verified="true",
                     given_name="Jay")
    before = int(time.time())
    a = sign_in(public, app["ClientId"], user)
    after = int(time.time())
    v = Verifier(issuer(janus, pool))

    idc = v.id_token(a["IdToken"], app["ClientId"])
    assert idc["iss"] == issuer(janus, pool)
    assert idc["aud"] == app["ClientId"]
    assert idc["cognito:username"] == user
    assert idc["email"] == "jwt@example.com"
    assert idc["email_verified"] is True  # a JSON boolean, as Cognito issues it
    assert idc["given_name"] == "Jay"
    assert before <= idc["auth_time"] <= after
    assert before <= idc["iat"] <= after
    assert idc["exp"] - idc["iat"] == 3600
    for name in ("jti", "origin_jti", "event_id"):
        assert idc[name]

    ac = v.access_token(a["AccessToken"], app["ClientId"])
    assert ac["username"] == user
    assert ac["scope"] == "aws.cognito.signin.user.admin"
    assert ac["sub"] == idc["sub"]
    assert "aud" not in ac
    assert ac["auth_time"] == idc["auth_time"]
    assert ac["origin_jti"] == idc["origin_jti"]
    assert ac["event_id"] == idc["event_id"]
    assert ac["jti"] != idc["jti"]
    assert ac["exp"] - ac["iat"] == 3600

    # The header names the signing key.
    h = header(a["IdToken"])
    assert h["alg"] == "RS256"
    kids = {k["kid"] for k in fetch_json(v.discovery["jwks_uri"])["keys"]}
    assert h["kid"] in kids and header(a["AccessToken"])["kid"] in kids


def test_pyjwt_rejects_wrong_audience_and_token_use(cognito, public, janus, pool):
    app = make_app_client(cognito, pool)
    other = make_app_client(cognito, pool)
    user = make_user(cognito, pool)
    a = sign_in(public, app["ClientId"], user)
    v = Verifier(issuer(janus, pool))
    with pytest.raises(jwt.InvalidAudienceError):
        v.id_token(a["IdToken"], other["ClientId"])
    # An access token has no aud: a check that requires one fails.
    with pytest.raises(jwt.MissingRequiredClaimError):
        v.id_token(a["AccessToken"], app["ClientId"])
    # An ID token is no access token (it has an aud, and token_use id).
    with pytest.raises((jwt.InvalidAudienceError, AssertionError)):
        v.access_token(a["IdToken"], app["ClientId"])
    with pytest.raises(jwt.InvalidIssuerError):
        key = v.jwks.get_signing_key_from_jwt(a["IdToken"])
        jwt.decode(a["IdToken"], key.key, algorithms=["RS256"], audience=app["ClientId"],
                   issuer=f"{janus.endpoint}/us-east-1_Other")


def test_pyjwt_rejects_tampered_token(cognito, public, janus, pool):
    app = make_app_client(cognito, pool)
    user = make_user(cognito, pool)
    a = sign_in(public, app["ClientId"], user)
    v = Verifier(issuer(janus, pool))
    head, payload, sig = a["IdToken"].split(".")
    forged = dict(claims(a["IdToken"]), **{"cognito:username": "admin"})
    body = jwt.utils.base64url_encode(json.dumps(forged).encode()).decode()
    with pytest.raises(jwt.InvalidSignatureError):
        v.id_token(f"{head}.{body}.{sig}", app["ClientId"])
    # And the server refuses a tampered access token.
    head, payload, sig = a["AccessToken"].split(".")
    forged = dict(claims(a["AccessToken"]), username="admin")
    body = jwt.utils.base64url_encode(json.dumps(forged).encode()).decode()
    with raises_code("NotAuthorizedException"):
        public.get_user(AccessToken=f"{head}.{body}.{sig}")


def test_pyjwt_expiry_is_enforced(cognito, public, janus, pool):
    app = make_app_client(cognito, pool)
    user = make_user(cognito, pool)
    a = sign_in(public, app["ClientId"], user)
    v = Verifier(issuer(janus, pool))
    # Seen from an hour and a bit later (a negative leeway; iat then looks like the future,
    # so only exp is checked), the tokens have expired.
    later = {"verify_iat": False}
    with pytest.raises(jwt.ExpiredSignatureError):
        jwt.decode(a["IdToken"], v.jwks.get_signing_key_from_jwt(a["IdToken"]).key,
                   algorithms=["RS256"], audience=app["ClientId"], leeway=-3605, options=later)
    with pytest.raises(jwt.ExpiredSignatureError):
        jwt.decode(a["AccessToken"], v.jwks.get_signing_key_from_jwt(a["AccessToken"]).key,
                   algorithms=["RS256"], leeway=-3605, options=later)
    # Fifty-nine minutes later they are still good.
    jwt.decode(a["AccessToken"], v.jwks.get_signing_key_from_jwt(a["AccessToken"]).key,
               algorithms=["RS256"], leeway=-3540, options=later)


def test_tokens_of_another_pool_do_not_validate(cognito, public, janus, pool_factory):
    p1, p2 = pool_factory()["Id"], pool_factory()["Id"]
    app = make_app_client(cognito, p1)
    user = make_user(cognito, p1)
    a = sign_in(public, app["ClientId"], user)
    v2 = Verifier(issuer(janus, p2))
    with pytest.raises(jwt.PyJWKClientError):
        v2.id_token(a["IdToken"], app["ClientId"])
    # Even with pool 2's key forced, the signature does not match.
    key = jwt.PyJWK(fetch_json(v2.discovery["jwks_uri"])["keys"][0]).key
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(a["IdToken"], key, algorithms=["RS256"], audience=app["ClientId"])


def test_token_lifetimes_follow_the_app_client(cognito, public, janus, pool):
    app = make_app_client(cognito, pool, AccessTokenValidity=5, IdTokenValidity=2,
                          RefreshTokenValidity=60,
                          TokenValidityUnits={"AccessToken": "minutes", "IdToken": "hours",
                                              "RefreshToken": "minutes"})
    user = make_user(cognito, pool)
    a = sign_in(public, app["ClientId"], user)
    assert a["ExpiresIn"] == 300
    v = Verifier(issuer(janus, pool))
    ac = v.access_token(a["AccessToken"], app["ClientId"])
    idc = v.id_token(a["IdToken"], app["ClientId"])
    assert ac["exp"] - ac["iat"] == 300
    assert idc["exp"] - idc["iat"] == 7200


def test_groups_in_tokens(cognito, public, janus, pool):
    app = make_app_client(cognito, pool)
    user = make_user(cognito, pool)
    for name in ("readers", "writers"):
        cognito.create_group(UserPoolId=pool, GroupName=name)
        cognito.admin_add_user_to_group(UserPoolId=pool, Username=user, GroupName=name)
    a = sign_in(public, app["ClientId"], user)
    v = Verifier(issuer(janus, pool))
    assert sorted(v.id_token(a["IdToken"], app["ClientId"])["cognito:groups"]) == ["readers", "writers"]
    assert sorted(v.access_token(a["AccessToken"], app["ClientId"])["cognito:groups"]) == ["readers", "writers"]
    # A user in no group has no cognito:groups claim.
    loner = make_user(cognito, pool)
    b = sign_in(public, app["ClientId"], loner)
    assert "cognito:groups" not in claims(b["IdToken"])
    assert "cognito:groups" not in claims(b["AccessToken"])


def test_group_roles_in_id_token(cognito, public, pool):
    app = make_app_client(cognito, pool)
    user = make_user(cognito, pool)
    role_a = "arn:aws:iam::123456789012:role/RoleA"
    role_b = "arn:aws:iam::123456789012:role/RoleB"
    cognito.create_group(UserPoolId=pool, GroupName="a", RoleArn=role_a, Precedence=5)
    cognito.create_group(UserPoolId=pool, GroupName="b", RoleArn=role_b, Precedence=1)
    for g in ("a", "b"):
        cognito.admin_add_user_to_group(UserPoolId=pool, Username=user, GroupName=g)
    idc = claims(sign_in(public, app["ClientId"], user)["IdToken"])
    assert sorted(idc["cognito:roles"]) == [role_a, role_b]
    assert idc["cognito:preferred_role"] == role_b  # lowest precedence value wins


def test_custom_attributes_and_read_attributes(cognito, public, pool_factory):
    pool = pool_factory(Schema=[{"Name": "tier", "AttributeDataType": "String", "Mutable": True}])["Id"]
    everything = make_app_client(cognito, pool)
    limited = make_app_client(cognito, pool, ReadAttributes=["email", "custom:tier"])
    user = make_user(cognito, pool, email="ra@example.com", given_name="Ra", custom__tier="gold")
    idc = claims(sign_in(public, everything["ClientId"], user)["IdToken"])
    assert idc["custom:tier"] == "gold" and idc["given_name"] == "Ra"
    idc = claims(sign_in(public, limited["ClientId"], user)["IdToken"])
    assert idc["custom:tier"] == "gold" and idc["email"] == "ra@example.com"
    assert "given_name" not in idc
    # The standard claims are there whatever the client may read.
    assert idc["sub"] and idc["cognito:username"] == user


def test_auth_time_survives_refresh_pyjwt(cognito, public, janus, pool):
    app = make_app_client(cognito, pool)
    user = make_user(cognito, pool)
    first = sign_in(public, app["ClientId"], user)
    time.sleep(1.05)
    r = public.initiate_auth(AuthFlow="REFRESH_TOKEN_AUTH", ClientId=app["ClientId"],
                             AuthParameters={"REFRESH_TOKEN": first["RefreshToken"]})
    a = r["AuthenticationResult"]
    v = Verifier(issuer(janus, pool))
    old = v.id_token(first["IdToken"], app["ClientId"])
    new = v.id_token(a["IdToken"], app["ClientId"])
    assert new["auth_time"] == old["auth_time"] < new["iat"]
    assert v.access_token(a["AccessToken"], app["ClientId"])["auth_time"] == old["auth_time"]


def test_tokens_after_global_sign_out_are_valid_now(cognito, public, janus, pool):
    app = make_app_client(cognito, pool)
    user = make_user(cognito, pool)
    first = sign_in(public, app["ClientId"], user)
    public.global_sign_out(AccessToken=first["AccessToken"])
    a = sign_in(public, app["ClientId"], user)
    now = int(time.time())
    v = Verifier(issuer(janus, pool))
    c = v.access_token(a["AccessToken"], app["ClientId"])  # leeway 0: iat must not be ahead
    assert c["iat"] <= now
    assert v.id_token(a["IdToken"], app["ClientId"])["iat"] <= now


def test_issuer_follows_janus_issuer_url(tmp_path):
    # With JANUS_ISSUER_URL the tokens and discovery name that base, not the listen address.
    base = "https://id.example.test/janus"
    server = start_janus(tmp_path / "iss", extra_env={"JANUS_ISSUER_URL": base})
    try:
        admin = boto3.client("cognito-idp", endpoint_url=server.endpoint, region_name=server.region,
                             aws_access_key_id=server.access_key_id,
                             aws_secret_access_key=server.secret_access_key,
                             config=Config(retries={"max_attempts": 1}))
        anon = boto3.client("cognito-idp", endpoint_url=server.endpoint, region_name=server.region,
                            config=Config(signature_version=UNSIGNED, retries={"max_attempts": 1}))
        pool = admin.create_user_pool(PoolName=unique("iss"))["UserPool"]["Id"]
        app = make_app_client(admin, pool)
        user = make_user(admin, pool)
        a = sign_in(anon, app["ClientId"], user)
        assert claims(a["IdToken"])["iss"] == f"{base}/{pool}"
        d = fetch_json(f"{server.endpoint}/{pool}/.well-known/openid-configuration")
        assert d["issuer"] == f"{base}/{pool}"
        assert d["jwks_uri"] == f"{base}/{pool}/.well-known/jwks.json"
        # The server still accepts its own tokens.
        assert anon.get_user(AccessToken=a["AccessToken"])["Username"] == user
    finally:
        assert stop_janus(server) == 0
