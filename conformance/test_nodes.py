"""Several stateless nodes of one region on one PostgreSQL database (issue 14): the secondary
region runs two nodes; exactly one of them pulls each pool, and when that node is killed with
SIGKILL the other takes the puller lease over within seconds and the replica keeps following,
with nothing applied twice (the digests agree and the change log has no hole).

The primary is a single node on the embedded store; both west nodes share one database in the
test PostgreSQL (JANUS_TEST_PG, started by scripts/test). The test runs in the first pass of
the suite only: it sets its stores itself."""

import collections
import os
import signal
import subprocess
import threading
import tempfile
import time
from pathlib import Path

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config

from conftest import JANUS_BIN, REPO, on_postgres, pg_url, start_janus, stop_janus
from support import unique
from test_cross_region import (EAST, ISSUER_URL, SECRET, WEST, Region, activate, boto_clients,
                               free_port, in_step, replicate, wait_until)

PASSWORD = "Passw0rd!-nodes"
PULLS = "this node pulls the pool"


def first_pass_with_test_pg():
    """Skip in the PostgreSQL pass (these tests choose their stores) and without the test
    PostgreSQL (a failure when scripts/test requires it)."""
    if on_postgres():
        pytest.skip("runs in the first pass (it chooses its stores itself)")
    if not os.environ.get("JANUS_TEST_PG"):
        if os.environ.get("JANUS_TEST_REQUIRE_PG") == "1":
            pytest.fail("JANUS_TEST_PG is not set")
        pytest.skip("JANUS_TEST_PG is not set (scripts/test starts a PostgreSQL)")


@pytest.fixture(scope="module")
def two_nodes(tmp_path_factory):
    first_pass_with_test_pg()
    root = tmp_path_factory.mktemp("nodes")
    ports = {"east": free_port(), "west1": free_port(), "west2": free_port()}
    shared = pg_url(root / "west-db")
    env = lambda region, peer: {  # noqa: E731
        "JANUS_REGION": region, "JANUS_PEERS": peer, "JANUS_REPLICATION_SECRET": SECRET,
        "JANUS_REPLICA_REQUIRES_CMK": "false", "JANUS_ISSUER_URL": ISSUER_URL,
        "JANUS_LOG": "info,janus_repl=debug"}
    servers = {
        "east": start_janus(root / "east", listen=f"127.0.0.1:{ports['east']}",
                            extra_env=env(EAST, f"{WEST}=http://127.0.0.1:{ports['west1']}")
                            | {"JANUS_ADVERTISE_URL": f"http://127.0.0.1:{ports['east']}"}),
    }
    def west(node: str):
        # Every node of a region unlocks the one keyring in its database with the same key file.
        servers[node] = start_janus(
            root / node, listen=f"127.0.0.1:{ports[node]}", store=shared,
            extra_env=env(WEST, f"{EAST}=http://127.0.0.1:{ports['east']}")
            | {"JANUS_ADVERTISE_URL": f"http://127.0.0.1:{ports['west1']}",
               "JANUS_KEYRING_KEY_FILE": str(root / "west-keyring.key")})
        return Region(WEST, servers[node], *boto_clients(servers[node]))
    nodes = {"east": Region(EAST, servers["east"], *boto_clients(servers["east"])),
             "west1": west("west1"), "west2": west("west2")}
    nodes["restart"] = lambda node: nodes.__setitem__(node, west(node))
    yield nodes
    for s in servers.values():
        if s.process.poll() is None:
            stop_janus(s, timeout=20)


def pullers(nodes: dict) -> list[str]:
    """The west nodes whose log says they took the pool's puller lease."""
    return [n for n in ("west1", "west2") if PULLS in nodes[n].server.stderr_path.read_text()]


def test_one_node_pulls_and_the_other_takes_over_when_it_is_killed(two_nodes):
    east, west1, west2 = two_nodes["east"], two_nodes["west1"], two_nodes["west2"]
    pool = east.admin.create_user_pool(PoolName=unique("nodes"))["UserPool"]["Id"]
    for i in range(20):
        east.admin.admin_create_user(UserPoolId=pool, Username=f"before{i}", MessageAction="SUPPRESS")
    replicate(east, west1, pool)
    activate(east, west1, pool)
    in_step(east, west2, pool)  # the other node reads the same database
    wait_until("one west node to pull", lambda: len(pullers(two_nodes)) == 1)
    time.sleep(2.5)  # both nodes have tried for the lease by now
    assert len(pullers(two_nodes)) == 1, "exactly one node pulls"
    holder = pullers(two_nodes)[0]
    survivor = "west2" if holder == "west1" else "west1"

    killed_at = time.monotonic()
    two_nodes[holder].server.process.send_signal(signal.SIGKILL)
    two_nodes[holder].server.process.wait()
    wait_until(f"{survivor} to take the puller lease over", lambda: PULLS in
               two_nodes[survivor].server.stderr_path.read_text(), timeout=10)
    takeover = time.monotonic() - killed_at
    assert takeover < 5, f"took over in {takeover:.1f} s"

    for i in range(20):
        east.admin.admin_create_user(UserPoolId=pool, Username=f"after{i}", MessageAction="SUPPRESS")
    digest = in_step(east, two_nodes[survivor], pool)
    assert digest, "the replica follows through the surviving node"
    users = two_nodes[survivor].admin.list_users(UserPoolId=pool, Limit=60)["Users"]
    assert len(users) == 40
    print(f"\npuller takeover after SIGKILL: {takeover:.2f} s")
    two_nodes["restart"](holder)  # for the tests after this one


def test_a_database_restart_under_load_costs_503s_not_errors_and_loses_nothing(tmp_path):
    """A PostgreSQL of the test's own is restarted while a client creates users: requests
    made while it is down are answered 503 (botocore retries those), never 500 or a hang;
    the node reconnects by itself and every acknowledged user is there."""
    if on_postgres():
        pytest.skip("runs in the first pass (it chooses its stores itself)")
    script = REPO / "scripts" / "postgres-for-tests"
    pg_dir = Path(tempfile.mkdtemp(prefix="janus-pg-"))  # outside pytest's 0700 dirs: postgres runs it
    admin = subprocess.run([str(script), "start", str(pg_dir)], check=True, capture_output=True,
                           text=True).stdout.strip()
    try:
        subprocess.run(["psql", admin, "-qc", "CREATE DATABASE restarted"], check=True)
        node = start_janus(tmp_path / "node", store=admin.rsplit("/", 1)[0] + "/restarted")
        try:
            admin_client = boto3.client(
                "cognito-idp", endpoint_url=node.endpoint, region_name=node.region,
                aws_access_key_id=node.access_key_id, aws_secret_access_key=node.secret_access_key,
                config=Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=20))
            pool = admin_client.create_user_pool(PoolName=unique("restart"))["UserPool"]["Id"]
            acknowledged, statuses, stop = [], collections.Counter(), threading.Event()

            def load():
                i = 0
                while not stop.is_set():
                    name = f"u{i}"
                    i += 1
                    started = time.monotonic()
                    try:
                        admin_client.admin_create_user(UserPoolId=pool, Username=name,
                                                       MessageAction="SUPPRESS")
                        acknowledged.append(name)
                        statuses[200] += 1
                    except botocore.exceptions.ClientError as e:
                        statuses[e.response["ResponseMetadata"]["HTTPStatusCode"]] += 1
                    assert time.monotonic() - started < 20, "no request hangs"

            worker = threading.Thread(target=load)
            worker.start()
            time.sleep(1.0)
            before = len(acknowledged)
            subprocess.run([str(script), "restart", str(pg_dir), "2"], check=True)
            time.sleep(1.0)
            wait_until("writes to succeed again", lambda: len(acknowledged) > before + 20, timeout=30)
            stop.set()
            worker.join()
            assert set(statuses) <= {200, 503}, f"only successes and 503s: {dict(statuses)}"
            assert statuses[503] > 0, f"requests while the database was down got 503: {dict(statuses)}"
            names = set()
            token = None
            while True:
                page = admin_client.list_users(UserPoolId=pool, Limit=60,
                                               **({"PaginationToken": token} if token else {}))
                names |= {u["Username"] for u in page["Users"]}
                token = page.get("PaginationToken")
                if not token:
                    break
            assert set(acknowledged) <= names, "every acknowledged user survived the restart"
            print(f"\nduring the restart: {dict(statuses)}")
        finally:
            stop_janus(node)
    finally:
        subprocess.run([str(script), "stop", str(pg_dir)], check=False)


def _janus(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JANUS_")}
    return subprocess.run([str(JANUS_BIN), *args], env=env, capture_output=True, text=True, timeout=120)


def test_the_store_is_named_by_the_environment_or_the_config_file(tmp_path):
    """`JANUS_STORE_URL` and `[store] url` name the store as `--store` does: a pool made
    through a node started with the variable (and `?janus_pool_size=2`) is there for a node
    started with the file, and neither wrote an embedded store in its data directory. The
    variable outranks the file."""
    first_pass_with_test_pg()
    db = pg_url(tmp_path / "db")
    data = tmp_path / "data"
    node = start_janus(tmp_path / "env", data_dir=data, extra_env={"JANUS_STORE_URL": f"{db}?janus_pool_size=2"})
    admin, _ = boto_clients(node)
    pool = admin.create_user_pool(PoolName=unique("env"))["UserPool"]["Id"]
    for i in range(10):
        admin.admin_create_user(UserPoolId=pool, Username=f"u{i}", MessageAction="SUPPRESS")
    assert stop_janus(node) == 0

    config = tmp_path / "janus.toml"
    config.write_text(f'[store]\nurl = "{db}"\n')
    node = start_janus(tmp_path / "file", data_dir=data, args=("--config", str(config)))
    try:
        admin, _ = boto_clients(node)
        assert len(admin.list_users(UserPoolId=pool)["Users"]) == 10
    finally:
        assert stop_janus(node) == 0
    assert not (data / "janus.db").exists(), "nothing went to an embedded store"

    elsewhere = tmp_path / "elsewhere"
    node = start_janus(tmp_path / "both", data_dir=data, args=("--config", str(config)),
                       extra_env={"JANUS_STORE_URL": f"sqlite:{elsewhere}"})
    try:
        admin, _ = boto_clients(node)
        with pytest.raises(botocore.exceptions.ClientError) as e:
            admin.describe_user_pool(UserPoolId=pool)
        assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"
    finally:
        assert stop_janus(node) == 0
    assert (elsewhere / "janus.db").exists()


def test_a_node_whose_keyring_secret_does_not_open_the_regions_keyring_says_so_and_exits(tmp_path):
    """The region's keyring lives in its database, sealed under the nodes' shared secret: a
    node started with another secret refuses to start, with a message — not a panic (the
    store's connections were once dropped inside the server's runtime, which aborted)."""
    first_pass_with_test_pg()
    db = pg_url(tmp_path / "db")
    node = start_janus(tmp_path / "a", store=db, extra_env={"JANUS_KEYRING_KEY_FILE": str(tmp_path / "a.key")})
    assert stop_janus(node) == 0
    env = {k: v for k, v in os.environ.items() if not k.startswith("JANUS_")}
    env |= {"JANUS_KEYRING_KEY_FILE": str(tmp_path / "b.key"), "NO_COLOR": "1"}
    r = subprocess.run([str(JANUS_BIN), "serve", "--listen", f"127.0.0.1:{free_port()}",
                        "--data-dir", str(tmp_path / "b"), "--store", db],
                       env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode != 0
    assert "panicked" not in r.stderr, r.stderr[-2000:]
    assert "keyring" in r.stderr.lower(), r.stderr[-2000:]


def test_store_copy_moves_a_region_onto_postgres_and_back(tmp_path):
    """A region on the embedded store is stopped, copied into PostgreSQL with `janus store
    copy` (verified by digest), and started on it: the same users sign in with the same
    passwords. Copied back into an empty directory, it verifies again; a non-empty
    destination is refused."""
    if on_postgres():
        pytest.skip("runs in the first pass (it chooses its stores itself)")
    data = tmp_path / "region"
    node = start_janus(tmp_path / "sqlite", data_dir=data, store=f"sqlite:{data}")
    admin, public = boto_clients(node)
    pool = admin.create_user_pool(PoolName=unique("copy"))["UserPool"]["Id"]
    client = admin.create_user_pool_client(
        UserPoolId=pool, ClientName="c",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])["UserPoolClient"]["ClientId"]
    for i in range(30):
        admin.admin_create_user(UserPoolId=pool, Username=f"u{i}", MessageAction="SUPPRESS")
    admin.admin_set_user_password(UserPoolId=pool, Username="u7", Password=PASSWORD, Permanent=True)
    admin.create_group(UserPoolId=pool, GroupName="g")
    admin.admin_add_user_to_group(UserPoolId=pool, Username="u7", GroupName="g")
    before = admin.list_users(UserPoolId=pool, Limit=60)["Users"]
    assert stop_janus(node) == 0

    target = pg_url(tmp_path / "copy-db")
    p = _janus("store", "copy", "--from", f"sqlite:{data}", "--to", target)
    assert p.returncode == 0, p.stderr
    assert "verified" in p.stdout and "every pool identical" in p.stderr

    moved = start_janus(tmp_path / "pg", data_dir=data, store=target)
    try:
        admin, public = boto_clients(moved)
        assert admin.list_users(UserPoolId=pool, Limit=60)["Users"] == before
        r = public.initiate_auth(ClientId=client, AuthFlow="USER_PASSWORD_AUTH",
                                 AuthParameters={"USERNAME": "u7", "PASSWORD": PASSWORD})
        assert r["AuthenticationResult"]["AccessToken"]
        groups = admin.admin_list_groups_for_user(UserPoolId=pool, Username="u7")["Groups"]
        assert [g["GroupName"] for g in groups] == ["g"]
    finally:
        assert stop_janus(moved) == 0

    back = tmp_path / "back"
    p = _janus("store", "copy", "--from", target, "--to", f"sqlite:{back}")
    assert p.returncode == 0, p.stderr
    p = _janus("store", "copy", "--from", f"sqlite:{back}", "--to", target)
    assert p.returncode != 0 and "already holds pools" in p.stderr


def test_a_key_made_or_disabled_through_one_node_holds_on_every_node(two_nodes):
    """The built-in keyring lives in the region's database: a key created through one node
    encrypts a pool the other node serves, and disabling it through one node stops sign-in
    through the other within about a second (each node polls the keyring's version)."""
    from auth_support import make_app_client, make_user, sign_in
    from test_keys import PASSWORD as KEY_PASSWORD, cmk_pool, create_key, keys, refusal
    west1, west2 = two_nodes["west1"], two_nodes["west2"]
    arn = create_key(west1)
    pool = cmk_pool(west1, arn)
    app = make_app_client(west1.admin, pool)
    user = make_user(west1.admin, pool, password=KEY_PASSWORD)
    sign_in(west2.public, app["ClientId"], user, KEY_PASSWORD)
    keys(west1, "disable", arn)
    def refused(node) -> bool:
        try:
            sign_in(node.public, app["ClientId"], user, KEY_PASSWORD)
            return False
        except botocore.exceptions.ClientError as e:
            assert e.response["Error"]["Code"] == "InvalidUserPoolConfigurationException", e
            return True
    started = time.monotonic()
    wait_until("the other node to refuse the disabled key", lambda: refused(west2), timeout=10)
    assert time.monotonic() - started < 3
    e = refusal(lambda: sign_in(west1.public, app["ClientId"], user, KEY_PASSWORD))
    assert "disabled" in e.response["Error"]["Message"]
    keys(west2, "enable", arn)
    wait_until("sign-in through the first node again", lambda: not refused(west1), timeout=10)


def test_kill_9_of_a_primary_node_behind_haproxy_loses_nothing_acknowledged(tmp_path):
    """Two regions, each two nodes on a database of its own; the primary's nodes behind
    HAProxy (deploy/postgres/haproxy-region.cfg), and the secondary pulls through it. One
    primary node is killed with SIGKILL under a sign-in + AdminCreateUser load: only requests
    in flight at that moment may fail, every acknowledged user is there — in both regions —
    and the replica keeps following."""
    if on_postgres():
        pytest.skip("runs in the first pass (it chooses its stores itself)")
    if not os.environ.get("JANUS_TEST_PG"):
        pytest.skip("JANUS_TEST_PG is not set (scripts/test starts a PostgreSQL)")
    import dataclasses
    import shutil
    if shutil.which("haproxy") is None:
        pytest.fail("haproxy is not installed (scripts/setup-test-env installs it)")
    port = {n: free_port() for n in ("e1", "e2", "w1", "w2", "front")}
    front = f"http://127.0.0.1:{port['front']}"
    dbs = {"east": pg_url(tmp_path / "east-db"), "west": pg_url(tmp_path / "west-db")}
    servers = {}

    def node(name: str):
        region, db = (EAST, "east") if name.startswith("e") else (WEST, "west")
        peer = f"{WEST}=http://127.0.0.1:{port['w1']}" if region == EAST else f"{EAST}={front}"
        servers[name] = start_janus(tmp_path / name, listen=f"127.0.0.1:{port[name]}", store=dbs[db], extra_env={
            "JANUS_REGION": region, "JANUS_PEERS": peer, "JANUS_REPLICATION_SECRET": SECRET,
            "JANUS_REPLICA_REQUIRES_CMK": "false", "JANUS_ISSUER_URL": ISSUER_URL,
            "JANUS_ADVERTISE_URL": front if region == EAST else f"http://127.0.0.1:{port['w1']}",
            "JANUS_KEYRING_KEY_FILE": str(tmp_path / f"{db}.key")})
    haproxy = None
    try:
        for name in ("e1", "e2", "w1", "w2"):
            node(name)
        env = dict(os.environ, JANUS_FRONT_BIND=f"127.0.0.1:{port['front']}", JANUS_CHECK_INTER="200ms",
                   JANUS_NODE_A=f"127.0.0.1:{port['e1']}", JANUS_NODE_B=f"127.0.0.1:{port['e2']}")
        haproxy = subprocess.Popen(["haproxy", "-db", "-f", str(REPO / "deploy/postgres/haproxy-region.cfg")],
                                   env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        via = dataclasses.replace(servers["e1"], endpoint=front)
        east = Region(EAST, via, *boto_clients(via))
        west = Region(WEST, servers["w1"], *boto_clients(servers["w1"]))
        def answers() -> bool:
            try:
                return east.admin.list_user_pools(MaxResults=1) is not None
            except botocore.exceptions.EndpointConnectionError:
                return False
        wait_until("HAProxy to answer", answers)
        pool = east.admin.create_user_pool(PoolName=unique("ha"))["UserPool"]["Id"]
        client = east.admin.create_user_pool_client(
            UserPoolId=pool, ClientName="c", ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH",
                                                                "ALLOW_REFRESH_TOKEN_AUTH"])["UserPoolClient"]["ClientId"]
        east.admin.admin_create_user(UserPoolId=pool, Username="alice", MessageAction="SUPPRESS")
        east.admin.admin_set_user_password(UserPoolId=pool, Username="alice", Password=PASSWORD, Permanent=True)
        replicate(east, west, pool)
        activate(east, west, pool)

        acknowledged, failures, stop = [], [], threading.Event()

        def writer(t: int):
            i = 0
            while not stop.is_set():
                name = f"w{t}-{i}"
                i += 1
                try:
                    east.admin.admin_create_user(UserPoolId=pool, Username=name, MessageAction="SUPPRESS")
                    acknowledged.append(name)
                except Exception as e:  # noqa: BLE001 — counted, judged below
                    failures.append((time.monotonic(), f"create: {e}"))

        def signer():
            while not stop.is_set():
                try:
                    r = east.public.initiate_auth(ClientId=client, AuthFlow="USER_PASSWORD_AUTH",
                                                  AuthParameters={"USERNAME": "alice", "PASSWORD": PASSWORD})
                    assert r["AuthenticationResult"]["AccessToken"]
                except Exception as e:  # noqa: BLE001
                    failures.append((time.monotonic(), f"sign-in: {e}"))

        threads = [threading.Thread(target=writer, args=(t,)) for t in range(2)]
        threads += [threading.Thread(target=signer) for _ in range(2)]
        for t in threads:
            t.start()
        time.sleep(2)
        killed_at = time.monotonic()
        servers["e1"].process.send_signal(signal.SIGKILL)
        servers["e1"].process.wait()
        time.sleep(3)
        stop.set()
        for t in threads:
            t.join()
        late = [f for at, f in failures if at > killed_at + 1.5]
        assert len(failures) <= len(threads) and not late, f"only in-flight requests fail: {failures}"
        assert len(acknowledged) > 20
        in_step(east, west, pool)
        for region in (east, west):
            names, token = set(), None
            while True:
                page = region.admin.list_users(UserPoolId=pool, Limit=60,
                                               **({"PaginationToken": token} if token else {}))
                names |= {u["Username"] for u in page["Users"]}
                token = page.get("PaginationToken")
                if not token:
                    break
            assert set(acknowledged) <= names, f"every acknowledged user is in {region.name}"
        print(f"\n{len(acknowledged)} users acknowledged, {len(failures)} failed at the kill: {failures}")
    finally:
        if haproxy:
            haproxy.terminate()
            haproxy.wait(timeout=10)
        for s in servers.values():
            if s.process.poll() is None:
                stop_janus(s, timeout=20)
