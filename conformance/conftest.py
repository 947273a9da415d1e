"""Fixtures of the conformance suite: one real `janus` process per session, boto3 and AWS CLI
clients pointed at it, and fresh user pools per test.

The binary is $JANUS_BIN (default: target/debug/janus of this checkout). It listens on an
ephemeral port with a temporary data directory and fixed administrator credentials given
through the environment. At the end of the session it is stopped with SIGTERM and must exit
cleanly (code 0) within a few seconds.
"""

from __future__ import annotations

import collections
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

import shapes
from support import health, unique

# Every cognito-idp answer is checked against botocore's model (shapes.py).
shapes.install(boto3._get_default_session())

REPO = Path(__file__).resolve().parent.parent
JANUS_BIN = Path(os.environ.get("JANUS_BIN", REPO / "target" / "debug" / "janus"))

ACCESS_KEY_ID = "AKIAJANUSCONFORMANCE"
SECRET_ACCESS_KEY = "conformance/Secret+Key0123456789abcdefghij"
ACCOUNT_ID = "123456789012"
# Clients deliberately sign for a region other than the server's (us-east-1): Janus accepts
# any region in the credential scope.
CLIENT_REGION = "us-west-2"
SERVER_REGION = "us-east-1"

START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


@dataclass
class JanusServer:
    """A running janus process."""

    endpoint: str
    access_key_id: str
    secret_access_key: str
    region: str  # the region clients sign for
    server_region: str  # the region the server runs as (prefix of pool ids, ARN region)
    account_id: str
    data_dir: Path
    process: subprocess.Popen
    stderr_path: Path
    stdout_path: Path

    @property
    def credentials(self) -> tuple[str, str]:
        return (self.access_key_id, self.secret_access_key)

    def log_tail(self, n: int = 40) -> str:
        try:
            lines = self.stderr_path.read_text(errors="replace").splitlines()
        except OSError:
            return "<no log>"
        return "\n".join(lines[-n:])


def _wait_for_listening(stdout_path: Path, proc: subprocess.Popen, stderr_path: Path) -> str:
    deadline = time.monotonic() + START_TIMEOUT
    pattern = re.compile(r"janus listening on (https?://[0-9.]+:[0-9]+)")
    while time.monotonic() < deadline:
        m = pattern.search(stdout_path.read_text(errors="replace"))
        if m:
            return m.group(1)
        if proc.poll() is not None:
            raise RuntimeError(
                f"janus exited with code {proc.returncode} before listening:\n"
                f"{stderr_path.read_text(errors='replace')}"
            )
        time.sleep(0.05)
    raise RuntimeError(f"janus did not print its listening line within {START_TIMEOUT}s")


def on_postgres() -> bool:
    """True when this run's servers keep their state in PostgreSQL."""
    return os.environ.get("JANUS_CONFORMANCE_STORE") == "postgres"


def pg_url(data_dir: Path) -> str:
    """The PostgreSQL database of a data directory (created on first use), named after the
    directory, so a server restarted on the same directory finds its data again."""
    admin = os.environ["JANUS_TEST_PG"]
    name = "janus_c" + hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:16]
    exists = subprocess.run(["psql", admin, "-tAc", f"SELECT 1 FROM pg_database WHERE datname = '{name}'"],
                            check=True, capture_output=True, text=True).stdout.strip()
    if not exists:
        subprocess.run(["psql", admin, "-qc", f"CREATE DATABASE {name}"], check=True, capture_output=True)
    return admin.rsplit("/", 1)[0] + "/" + name


def _store_args(data_dir: Path) -> list[str]:
    """With JANUS_CONFORMANCE_STORE=postgres every data directory gets a database of its own
    in the test server (JANUS_TEST_PG); otherwise the embedded store in the directory."""
    return ["--store", pg_url(data_dir)] if on_postgres() else []


def store_dump(data_dir: Path) -> bytes:
    """Every byte the store of `data_dir` keeps: the SQLite files, or a dump of the database."""
    if on_postgres():
        return subprocess.run(["pg_dump", "--data-only", pg_url(data_dir)],
                              check=True, capture_output=True).stdout
    return b"".join((data_dir / f).read_bytes() for f in ("janus.db", "janus.db-wal")
                    if (data_dir / f).exists())


def start_janus(root: Path, data_dir: Path | None = None, admin_env: bool = True,
                extra_env: dict | None = None, listen: str = "127.0.0.1:0",
                store: str | None = None, args: tuple[str, ...] = ()) -> JanusServer:
    """Start a janus process logging under `root`; returns once /health answers 200.
    With `admin_env`, the fixed administrator credentials are given through the environment;
    otherwise janus uses (or generates) <data-dir>/admin-credentials.json. `listen` is passed
    as --listen (which overrides JANUS_LISTEN): a fixed address lets two regions name each
    other before either starts. `extra_env` may set JANUS_REGION (the server's region).
    `store` is passed as --store (several nodes of a region on one database); `args` are
    further flags for `janus serve`."""
    root.mkdir(parents=True, exist_ok=True)
    data_dir = data_dir or root / "data"
    n = len(list(root.glob("stdout*.log")))
    stdout_path = root / f"stdout{n}.log"
    stderr_path = root / f"stderr{n}.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("JANUS_ADMIN_")}
    env.update(JANUS_ACCOUNT_ID=ACCOUNT_ID, JANUS_REGION=SERVER_REGION)
    env.setdefault("JANUS_LOG", "info")
    env.setdefault("NO_COLOR", "1")
    if admin_env:
        env.update(JANUS_ADMIN_ACCESS_KEY_ID=ACCESS_KEY_ID,
                   JANUS_ADMIN_SECRET_ACCESS_KEY=SECRET_ACCESS_KEY)
    env.update(extra_env or {})
    with open(stdout_path, "wb") as out, open(stderr_path, "wb") as err:
        proc = subprocess.Popen(
            [str(JANUS_BIN), "serve", "--listen", listen, "--data-dir", str(data_dir),
             *(["--store", store] if store else _store_args(data_dir)), *args],
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            env=env,
        )
    try:
        endpoint = _wait_for_listening(stdout_path, proc, stderr_path)
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                if health(endpoint) == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{endpoint}/health never answered 200")
            time.sleep(0.05)
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    if admin_env:
        key_id, secret = ACCESS_KEY_ID, SECRET_ACCESS_KEY
    else:
        stored = json.loads((data_dir / "admin-credentials.json").read_text())
        key_id, secret = stored["access_key_id"], stored["secret_access_key"]
    return JanusServer(
        endpoint=endpoint,
        access_key_id=key_id,
        secret_access_key=secret,
        region=CLIENT_REGION,
        server_region=env["JANUS_REGION"],
        account_id=ACCOUNT_ID,
        data_dir=data_dir,
        process=proc,
        stderr_path=stderr_path,
        stdout_path=stdout_path,
    )


def stop_janus(server: JanusServer, timeout: float = STOP_TIMEOUT) -> int:
    """SIGTERM, wait; kill and fail if it does not stop in time. Returns the exit code."""
    proc = server.process
    if proc.poll() is not None:
        return proc.returncode
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        pytest.fail(f"janus did not stop within {timeout}s of SIGTERM:\n{server.log_tail()}")


@pytest.fixture(scope="session")
def janus(tmp_path_factory) -> JanusServer:
    """Start one janus for the whole session; stop it with SIGTERM and require exit code 0."""
    if not JANUS_BIN.exists():
        pytest.exit(f"janus binary not found at {JANUS_BIN}; run `cargo build --bin janus` "
                    "or set JANUS_BIN", returncode=2)
    server = start_janus(tmp_path_factory.mktemp("janus"))
    yield server
    assert server.process.poll() is None, (
        f"janus died during the session (exit code {server.process.returncode}):\n"
        f"{server.log_tail()}"
    )
    code = stop_janus(server)
    assert code == 0, f"janus exited with code {code} after SIGTERM:\n{server.log_tail()}"


@pytest.fixture(scope="session")
def make_client(janus):
    """Build a cognito-idp boto3 client for the server, overriding credentials or region."""

    def make(access_key_id=None, secret_access_key=None, region=None):
        return boto3.client(
            "cognito-idp",
            endpoint_url=janus.endpoint,
            region_name=region or janus.region,
            aws_access_key_id=access_key_id or janus.access_key_id,
            aws_secret_access_key=secret_access_key or janus.secret_access_key,
            config=Config(
                retries={"max_attempts": 1, "mode": "standard"},
                connect_timeout=5,
                read_timeout=30,
            ),
        )

    return make


@pytest.fixture(scope="session")
def cognito(make_client):
    """The administrator's boto3 client (signing for us-west-2 on purpose)."""
    return make_client()


@pytest.fixture(scope="session")
def public(janus):
    """An unsigned boto3 client, as apps call the public operations (InitiateAuth, SignUp,
    GetUser, ...): no credentials at all."""
    from botocore import UNSIGNED

    return boto3.client(
        "cognito-idp",
        endpoint_url=janus.endpoint,
        region_name=janus.region,
        config=Config(
            signature_version=UNSIGNED,
            retries={"max_attempts": 1, "mode": "standard"},
            connect_timeout=5,
            read_timeout=30,
        ),
    )


@pytest.fixture(scope="session")
def outbox(janus):
    """The session server's development outbox (<data-dir>/outbox.jsonl), for codes."""
    from auth_support import Outbox

    return Outbox(janus.data_dir)


class PoolReservoir:
    """Default pools created ahead of use on background threads. CreateUserPool generates the
    pool's signing keys (RSA), which takes a noticeable time in a debug build; creating the
    next pools while a test runs keeps the suite fast without sharing pools between tests."""

    def __init__(self, client, depth: int = 2):
        self.client = client
        self.depth = depth
        self.executor = ThreadPoolExecutor(max_workers=depth, thread_name_prefix="pool-reservoir")
        self.pending: collections.deque = collections.deque()

    def _create(self) -> dict:
        return self.client.create_user_pool(PoolName=unique("pool"))["UserPool"]

    def take(self) -> dict:
        while len(self.pending) <= self.depth:
            self.pending.append(self.executor.submit(self._create))
        made = self.pending.popleft().result()
        self.pending.append(self.executor.submit(self._create))
        return made

    def close(self) -> None:
        for fut in self.pending:
            try:
                self.client.delete_user_pool(UserPoolId=fut.result()["Id"])
            except Exception:  # the server may already be gone; nothing to clean then
                pass
        self.pending.clear()
        self.executor.shutdown(wait=True)


@pytest.fixture(scope="session")
def pool_reservoir(make_client):
    reservoir = PoolReservoir(make_client())
    yield reservoir
    reservoir.close()


@pytest.fixture
def pool_factory(cognito, pool_reservoir):
    """create(**CreateUserPool kwargs) -> the UserPool dict; every pool made is deleted after
    the test (deletion protection switched off first if a test left it on). Without kwargs
    the pool comes ready-made from the reservoir (same defaults, a unique name)."""
    made: list[str] = []

    def create(**kwargs):
        if kwargs:
            kwargs.setdefault("PoolName", unique("pool"))
            p = cognito.create_user_pool(**kwargs)["UserPool"]
        else:
            p = pool_reservoir.take()
        made.append(p["Id"])
        return p

    yield create

    for pool_id in made:
        try:
            cognito.delete_user_pool(UserPoolId=pool_id)
        except ClientError as e:
            code = e.response["Error"]["Code"]
            if code == "ResourceNotFoundException":
                continue
            if code == "InvalidParameterException":
                cognito.update_user_pool(UserPoolId=pool_id, DeletionProtection="INACTIVE")
                cognito.delete_user_pool(UserPoolId=pool_id)
            else:
                raise


@pytest.fixture(scope="module")
def shared_pool(cognito, pool_reservoir) -> str:
    """A default pool shared by the tests of one module (for tests that only fail to create
    things, or use unique names); deleted after the module."""
    pool_id = pool_reservoir.take()["Id"]
    yield pool_id
    try:
        cognito.delete_user_pool(UserPoolId=pool_id)
    except ClientError:
        pass


@pytest.fixture
def pool(pool_factory) -> str:
    """The id of a fresh pool with default settings (deleted after the test)."""
    return pool_factory()["Id"]


class CliError(Exception):
    def __init__(self, args, returncode, stdout, stderr):
        super().__init__(f"aws {' '.join(args)} exited {returncode}:\n{stderr}")
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr


def _aws_executable() -> str:
    for candidate in (Path(sys.executable).parent / "aws", REPO / ".venv" / "bin" / "aws"):
        if candidate.exists():
            return str(candidate)
    pytest.skip("the AWS CLI is not installed in the test venv (scripts/setup-test-env)")


@pytest.fixture(scope="session")
def aws_cli(janus, tmp_path_factory):
    """aws_cli("list-user-pools", "--max-results", "5") -> parsed JSON (None if no output).
    Raises CliError (with stderr) when the CLI exits non-zero."""
    exe = _aws_executable()
    home = tmp_path_factory.mktemp("aws-home")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        HOME=str(home),
        AWS_ACCESS_KEY_ID=janus.access_key_id,
        AWS_SECRET_ACCESS_KEY=janus.secret_access_key,
        AWS_DEFAULT_REGION=janus.region,
        AWS_CONFIG_FILE=str(home / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(home / "credentials"),
        AWS_PAGER="",
        AWS_MAX_ATTEMPTS="1",
    )

    def run(*args: str):
        cmd = [exe, "--endpoint-url", janus.endpoint, "--output", "json", "cognito-idp", *args]
        p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
        if p.returncode != 0:
            raise CliError(args, p.returncode, p.stdout, p.stderr)
        return json.loads(p.stdout) if p.stdout.strip() else None

    return run


# --- Known server bugs -----------------------------------------------------------------
# Tests marked @pytest.mark.janus_bug("...") check real Cognito behaviour that Janus does not
# have yet. They run and fail like any other test; the summary below names them so a failure
# is not mistaken for a broken test. Deselect them with -m "not janus_bug".


def pytest_collection_modifyitems(items):
    for item in items:
        marker = item.get_closest_marker("janus_bug")
        if marker is not None:
            item.user_properties.append(("janus_bug", marker.args[0] if marker.args else ""))


def pytest_terminal_summary(terminalreporter):
    bugs = []
    for rep in terminalreporter.stats.get("failed", []):
        for key, desc in getattr(rep, "user_properties", []):
            if key == "janus_bug":
                bugs.append((rep.nodeid, desc))
    passing = []
    for rep in terminalreporter.stats.get("passed", []):
        for key, desc in getattr(rep, "user_properties", []):
            if key == "janus_bug" and rep.when == "call":
                passing.append(rep.nodeid)
    if bugs:
        terminalreporter.section("known Janus deviations from Cognito (janus_bug)")
        for nodeid, desc in bugs:
            terminalreporter.line(f"JANUS BUG: {desc}\n    {nodeid}")
    if passing:
        terminalreporter.section("janus_bug tests now passing (remove the marker)")
        for nodeid in passing:
            terminalreporter.line(nodeid)
