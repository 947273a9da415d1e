"""The janus process itself (separate short-lived servers, not the session one): generated
administrator credentials, durability across a restart, the data-directory lock, and clean
shutdown on SIGTERM."""

import json
import stat
import subprocess
import time

import boto3
import pytest
from botocore.config import Config

from conftest import JANUS_BIN, start_janus, stop_janus


def client_for(server):
    return boto3.client("cognito-idp", endpoint_url=server.endpoint, region_name="eu-west-1",
                        aws_access_key_id=server.access_key_id,
                        aws_secret_access_key=server.secret_access_key,
                        config=Config(retries={"max_attempts": 1, "mode": "standard"}))


@pytest.fixture
def servers():
    started = []
    yield started
    for s in started:
        stop_janus(s)


def test_generated_credentials_persist_and_data_survives_restart(tmp_path, servers):
    data = tmp_path / "data"
    first = start_janus(tmp_path / "run1", data_dir=data, admin_env=False)
    servers.append(first)
    cred_file = data / "admin-credentials.json"
    stored = json.loads(cred_file.read_text())
    assert stored["access_key_id"] and stored["secret_access_key"]
    assert stat.S_IMODE(cred_file.stat().st_mode) == 0o600
    # The first start tells the operator how to use the new credentials.
    assert stored["access_key_id"] in first.stdout_path.read_text()

    c = client_for(first)
    pool = c.create_user_pool(PoolName="durable")["UserPool"]
    c.admin_create_user(UserPoolId=pool["Id"], Username="kept", MessageAction="SUPPRESS")
    c.create_group(UserPoolId=pool["Id"], GroupName="kept-group")
    c.admin_add_user_to_group(UserPoolId=pool["Id"], Username="kept", GroupName="kept-group")
    assert stop_janus(first) == 0

    second = start_janus(tmp_path / "run2", data_dir=data, admin_env=False)
    servers.append(second)
    assert json.loads(cred_file.read_text()) == stored
    assert (second.access_key_id, second.secret_access_key) == (first.access_key_id,
                                                                first.secret_access_key)
    c = client_for(second)
    assert c.describe_user_pool(UserPoolId=pool["Id"])["UserPool"]["Name"] == "durable"
    assert c.admin_get_user(UserPoolId=pool["Id"], Username="kept")["Username"] == "kept"
    groups = c.admin_list_groups_for_user(UserPoolId=pool["Id"], Username="kept")["Groups"]
    assert [g["GroupName"] for g in groups] == ["kept-group"]
    assert stop_janus(second) == 0


def test_second_process_on_the_same_data_dir_is_refused(tmp_path, servers):
    data = tmp_path / "data"
    first = start_janus(tmp_path / "run1", data_dir=data)
    servers.append(first)
    p = subprocess.run([str(JANUS_BIN), "serve", "--listen", "127.0.0.1:0", "--data-dir", str(data)],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode != 0
    assert "in use" in p.stderr
    # The first one is unharmed.
    assert client_for(first).list_user_pools(MaxResults=1)["UserPools"] == []


def test_sigterm_exits_cleanly(tmp_path, servers):
    s = start_janus(tmp_path / "run", admin_env=True)
    servers.append(s)
    client_for(s).create_user_pool(PoolName="before-stop")
    assert stop_janus(s) == 0


def test_sigterm_exits_despite_a_stalled_client(tmp_path, servers):
    import socket
    from urllib.parse import urlsplit

    s = start_janus(tmp_path / "run", admin_env=True)
    servers.append(s)
    u = urlsplit(s.endpoint)
    half_headers = socket.create_connection((u.hostname, u.port))
    half_headers.sendall(b"POST / HTTP/1.1\r\nHost: janus\r\n")
    half_body = socket.create_connection((u.hostname, u.port))
    half_body.sendall(b"POST / HTTP/1.1\r\nHost: janus\r\nContent-Type: application/x-amz-json-1.1\r\n"
                      b"X-Amz-Target: AWSCognitoIdentityProviderService.ListUserPools\r\n"
                      b"Content-Length: 100\r\n\r\n{\"MaxRes")
    try:
        time.sleep(0.3)
        # A stuck or malicious client must not keep the server from stopping.
        assert stop_janus(s, timeout=10) == 0
    finally:
        half_headers.close()
        half_body.close()
