"""The AWS CLI (v1, pinned in requirements.txt) against Janus with --endpoint-url."""

import pytest

from conftest import CliError
from support import attrs, unique


@pytest.fixture
def cli_pool(aws_cli, cognito):
    """A pool created through the CLI; deleted (through boto3) after the test."""
    made = aws_cli("create-user-pool", "--pool-name", unique("cli"))
    pool_id = made["UserPool"]["Id"]
    yield made["UserPool"]
    try:
        cognito.delete_user_pool(UserPoolId=pool_id)
    except cognito.exceptions.ResourceNotFoundException:
        pass


def test_create_and_describe_user_pool(aws_cli, cli_pool, janus):
    assert cli_pool["Id"].startswith(janus.server_region + "_")
    assert cli_pool["Arn"].endswith(":userpool/" + cli_pool["Id"])
    d = aws_cli("describe-user-pool", "--user-pool-id", cli_pool["Id"])["UserPool"]
    assert d["Id"] == cli_pool["Id"]
    assert d["Name"] == cli_pool["Name"]
    assert d["Policies"]["PasswordPolicy"]["MinimumLength"] == 8


def test_create_user_pool_with_options(aws_cli, cognito):
    p = aws_cli("create-user-pool", "--pool-name", unique("cli-opts"),
                "--username-attributes", "email",
                "--auto-verified-attributes", "email",
                "--policies", "PasswordPolicy={MinimumLength=10,RequireSymbols=false}",
                "--user-pool-tags", "team=identity")["UserPool"]
    try:
        assert p["UsernameAttributes"] == ["email"]
        assert p["AutoVerifiedAttributes"] == ["email"]
        assert p["Policies"]["PasswordPolicy"]["MinimumLength"] == 10
        assert p["Policies"]["PasswordPolicy"]["RequireSymbols"] is False
        assert p["UserPoolTags"] == {"team": "identity"}
    finally:
        cognito.delete_user_pool(UserPoolId=p["Id"])


def test_admin_create_and_get_user(aws_cli, cli_pool):
    pool_id = cli_pool["Id"]
    created = aws_cli("admin-create-user", "--user-pool-id", pool_id, "--username", "clia",
                      "--user-attributes", "Name=email,Value=clia@example.com",
                      "Name=given_name,Value=Cli",
                      "--temporary-password", "Passw0rd!", "--message-action", "SUPPRESS")
    u = created["User"]
    assert u["Username"] == "clia"
    assert u["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    assert attrs(u["Attributes"])["email"] == "clia@example.com"
    got = aws_cli("admin-get-user", "--user-pool-id", pool_id, "--username", "clia")
    assert got["Username"] == "clia"
    assert got["Enabled"] is True
    a = attrs(got["UserAttributes"])
    assert a["given_name"] == "Cli"
    assert a["sub"] == attrs(u["Attributes"])["sub"]


def test_list_users_with_filter(aws_cli, cli_pool):
    pool_id = cli_pool["Id"]
    for name, email in (("one", "one@example.com"), ("two", "two@example.org"),
                        ("three", "three@example.com")):
        aws_cli("admin-create-user", "--user-pool-id", pool_id, "--username", name,
                "--user-attributes", f"Name=email,Value={email}", "--message-action", "SUPPRESS")
    r = aws_cli("list-users", "--user-pool-id", pool_id, "--filter", 'email = "two@example.org"')
    assert [u["Username"] for u in r["Users"]] == ["two"]
    r = aws_cli("list-users", "--user-pool-id", pool_id, "--filter", 'username ^= "t"')
    assert sorted(u["Username"] for u in r["Users"]) == ["three", "two"]
    # The CLI follows PaginationToken itself.
    r = aws_cli("list-users", "--user-pool-id", pool_id, "--page-size", "1")
    assert sorted(u["Username"] for u in r["Users"]) == ["one", "three", "two"]


def test_list_user_pools_max_results(aws_cli, cli_pool, pool_factory):
    pool_factory()
    pool_factory()
    r = aws_cli("list-user-pools", "--max-results", "1")
    assert len(r["UserPools"]) == 1
    assert r["UserPools"][0]["Id"]
    assert "ReplicaRegions" in r["UserPools"][0]
    # With an explicit --max-results the CLI returns one page and its token.
    assert r.get("NextToken")
    nxt = aws_cli("list-user-pools", "--max-results", "1", "--next-token", r["NextToken"])
    assert len(nxt["UserPools"]) == 1
    assert nxt["UserPools"][0]["Id"] != r["UserPools"][0]["Id"]
    # Following the tokens reaches every pool exactly once.
    seen = [r["UserPools"][0]["Id"], nxt["UserPools"][0]["Id"]]
    token = nxt.get("NextToken")
    while token:
        page = aws_cli("list-user-pools", "--max-results", "60", "--next-token", token)
        seen.extend(p["Id"] for p in page["UserPools"])
        token = page.get("NextToken")
    assert len(seen) == len(set(seen))
    assert cli_pool["Id"] in seen


def test_cli_reports_errors(aws_cli, cli_pool):
    with pytest.raises(CliError) as info:
        aws_cli("admin-get-user", "--user-pool-id", cli_pool["Id"], "--username", "ghost")
    assert info.value.returncode != 0
    assert "UserNotFoundException" in info.value.stderr


def test_cli_groups(aws_cli, cli_pool):
    pool_id = cli_pool["Id"]
    aws_cli("admin-create-user", "--user-pool-id", pool_id, "--username", "grp",
            "--message-action", "SUPPRESS")
    g = aws_cli("create-group", "--user-pool-id", pool_id, "--group-name", "cli-group",
                "--precedence", "3")["Group"]
    assert g["GroupName"] == "cli-group" and g["Precedence"] == 3
    assert aws_cli("admin-add-user-to-group", "--user-pool-id", pool_id, "--username", "grp",
                   "--group-name", "cli-group") is None
    r = aws_cli("admin-list-groups-for-user", "--user-pool-id", pool_id, "--username", "grp")
    assert [x["GroupName"] for x in r["Groups"]] == ["cli-group"]


def test_cli_endpoint_from_environment(janus, cli_pool, tmp_path):
    # The service-specific endpoint variable works as well as --endpoint-url.
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    exe = Path(sys.executable).parent / "aws"
    if not exe.exists():
        pytest.skip("no aws executable next to the interpreter")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(HOME=str(tmp_path), AWS_ACCESS_KEY_ID=janus.access_key_id,
               AWS_SECRET_ACCESS_KEY=janus.secret_access_key, AWS_DEFAULT_REGION=janus.region,
               AWS_CONFIG_FILE=str(tmp_path / "config"),
               AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "credentials"),
               AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER=janus.endpoint)
    p = subprocess.run([str(exe), "--output", "json", "cognito-idp", "describe-user-pool",
                        "--user-pool-id", cli_pool["Id"]], env=env, capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["UserPool"]["Id"] == cli_pool["Id"]
