"""Issue 14's takeover figure: how long a replica stops following when the node that pulls it
is killed. The secondary region runs two nodes on one PostgreSQL database; exactly one holds
the pool's puller lease (a session advisory lock). Each drill kills that node with SIGKILL,
writes a user on the primary at once, and measures until (a) the other node logs that it
took the lease over and (b) that user is readable on the other node (the replica follows
again). The killed node is restarted before the next drill, so drills alternate between the
nodes. Run by bench/takeover.sh (DRILLS=10)."""

from __future__ import annotations

import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "conformance"))

from botocore.exceptions import ClientError  # noqa: E402
from conftest import pg_url, start_janus, stop_janus  # noqa: E402
from test_cross_region import (  # noqa: E402
    EAST, ISSUER_URL, SECRET, WEST, Region, activate, boto_clients, free_port, in_step, replicate,
)

DRILLS = int(os.environ.get("DRILLS", "10"))
PULLS = "this node pulls the pool"


def until(probe, timeout: float = 30.0, interval: float = 0.01) -> float:
    """Poll `probe` until it is true; the monotonic time it first was."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if probe():
            return time.monotonic()
        time.sleep(interval)
    raise RuntimeError("timed out")


def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="janus-takeover-"))
    ports = {"east": free_port(), "west1": free_port(), "west2": free_port()}
    shared = pg_url(root / "west-db")
    env = lambda region, peer: {  # noqa: E731
        "JANUS_REGION": region, "JANUS_PEERS": peer, "JANUS_REPLICATION_SECRET": SECRET,
        "JANUS_REPLICA_REQUIRES_CMK": "false", "JANUS_ISSUER_URL": ISSUER_URL, "JANUS_LOG": "info"}
    servers = {"east": start_janus(root / "east", listen=f"127.0.0.1:{ports['east']}", extra_env=env(
        EAST, f"{WEST}=http://127.0.0.1:{ports['west1']}") | {"JANUS_ADVERTISE_URL": f"http://127.0.0.1:{ports['east']}"})}

    def west(node: str) -> Region:
        servers[node] = start_janus(
            root / node, listen=f"127.0.0.1:{ports[node]}", store=shared,
            extra_env=env(WEST, f"{EAST}=http://127.0.0.1:{ports['east']}")
            | {"JANUS_ADVERTISE_URL": f"http://127.0.0.1:{ports['west1']}",
               "JANUS_KEYRING_KEY_FILE": str(root / "west-keyring.key")})
        return Region(WEST, servers[node], *boto_clients(servers[node]))

    nodes = {"east": Region(EAST, servers["east"], *boto_clients(servers["east"])),
             "west1": west("west1"), "west2": west("west2")}
    pulls = lambda n: PULLS in nodes[n].server.stderr_path.read_text()  # noqa: E731
    takeovers, follows = [], []
    try:
        east = nodes["east"]
        pool = east.admin.create_user_pool(PoolName="takeover")["UserPool"]["Id"]
        for i in range(20):
            east.admin.admin_create_user(UserPoolId=pool, Username=f"before{i}", MessageAction="SUPPRESS")
        replicate(east, nodes["west1"], pool)
        activate(east, nodes["west1"], pool)
        in_step(east, nodes["west2"], pool)
        for k in range(DRILLS):
            until(lambda: pulls("west1") != pulls("west2"))  # exactly one holds the lease
            holder = "west1" if pulls("west1") else "west2"
            survivor = "west2" if holder == "west1" else "west1"
            killed = time.monotonic()
            servers[holder].process.send_signal(signal.SIGKILL)
            servers[holder].process.wait()
            name = f"drill{k}"
            east.admin.admin_create_user(UserPoolId=pool, Username=name, MessageAction="SUPPRESS")
            took = until(lambda: pulls(survivor)) - killed

            def readable() -> bool:
                try:
                    nodes[survivor].admin.admin_get_user(UserPoolId=pool, Username=name)
                    return True
                except ClientError:
                    return False
            followed = until(readable) - killed
            takeovers.append(took)
            follows.append(followed)
            print(f"drill {k + 1}: {holder} killed; {survivor} took the lease after {took:.2f} s, "
                  f"the replica followed again after {followed:.2f} s", flush=True)
            nodes[holder] = west(holder)
        in_step(east, nodes["west1"], pool)
    finally:
        for s in servers.values():
            if s.process.poll() is None:
                stop_janus(s, timeout=20)
    print(f"\npuller takeover after SIGKILL, {DRILLS} drills: median {statistics.median(takeovers):.2f} s, "
          f"max {max(takeovers):.2f} s; replica following again: median {statistics.median(follows):.2f} s, "
          f"max {max(follows):.2f} s")


if __name__ == "__main__":
    main()
