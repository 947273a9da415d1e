"""Which `iss` a replicated pool's tokens carry (issue 15). The two regions here have different
issuer URLs (JANUS_ISSUER_URL), as a new user who follows the replication steps ends up with.
With IssuerConfiguration UPDATED the secondary issues as the primary — tokens, the discovery
document and its JWKS URL — so a verifier configured with one issuer accepts both regions;
with ORIGINAL each region issues as itself."""

from __future__ import annotations

import json

import pytest

from auth_support import claims, make_app_client, make_user, sign_in
from conftest import JANUS_BIN, start_janus, stop_janus
from support import unique
from test_cross_region import EAST, SECRET, WEST, Region, activate, boto_clients, fetch, free_port, replicate

ISSUERS = {EAST: "http://east-issuer.example", WEST: "http://west-issuer.example"}


@pytest.fixture(scope="module")
def two(tmp_path_factory):
    if not JANUS_BIN.exists():
        pytest.skip(f"janus binary not found at {JANUS_BIN}")
    root = tmp_path_factory.mktemp("issuer")
    ports = {EAST: free_port(), WEST: free_port()}
    servers = {}
    try:
        for name, other in ((WEST, EAST), (EAST, WEST)):
            servers[name] = start_janus(root / name, listen=f"127.0.0.1:{ports[name]}", extra_env={
                "JANUS_REGION": name, "JANUS_PEERS": f"{other}=http://127.0.0.1:{ports[other]}",
                "JANUS_REPLICATION_SECRET": SECRET, "JANUS_REPLICA_REQUIRES_CMK": "false",
                "JANUS_ISSUER_URL": ISSUERS[name], "JANUS_ADVERTISE_URL": f"http://127.0.0.1:{ports[name]}"})
        yield {name: Region(name, s, *boto_clients(s)) for name, s in servers.items()}
    finally:
        for s in servers.values():
            stop_janus(s, timeout=20)


def replicated_pool(two, issuer: dict) -> tuple[str, str, str]:
    east, west = two[EAST], two[WEST]
    pool = east.admin.create_user_pool(PoolName=unique("iss"), IssuerConfiguration=issuer)["UserPool"]["Id"]
    client = make_app_client(east.admin, pool)["ClientId"]
    user = make_user(east.admin, pool)
    replicate(east, west, pool)
    activate(east, west, pool)
    return pool, client, user


def iss_in(region: Region, client: str, user: str) -> set[str]:
    tokens = sign_in(region.public, client, user)
    return {claims(tokens["IdToken"])["iss"], claims(tokens["AccessToken"])["iss"]}


def test_updated_gives_both_regions_the_primarys_issuer(two):
    pool, client, user = replicated_pool(two, {"Type": "UPDATED"})
    want = f"{ISSUERS[EAST]}/{pool}"
    assert iss_in(two[EAST], client, user) == {want}
    assert iss_in(two[WEST], client, user) == {want}
    status, body = fetch(f"{two[WEST].endpoint}/{pool}/.well-known/openid-configuration")
    assert status == 200
    d = json.loads(body)
    assert d["issuer"] == want and d["jwks_uri"] == f"{want}/.well-known/jwks.json"


def test_original_keeps_each_regions_own_issuer(two):
    pool, client, user = replicated_pool(two, {"Type": "ORIGINAL"})
    assert iss_in(two[EAST], client, user) == {f"{ISSUERS[EAST]}/{pool}"}
    assert iss_in(two[WEST], client, user) == {f"{ISSUERS[WEST]}/{pool}"}
