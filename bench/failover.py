"""Issue 8's figures: RTO of an automatic failover behind HAProxy over repeated kill -9
drills, with default and aggressive settings; sessions that needed a new sign-in after the
failover; RPO in asynchronous mode under 200 writes/s. Run by bench/failover.sh."""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
import tempfile

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "conformance"))

from test_front_door import (  # noqa: E402
    EAST, WEST, SECRET, CONFIG, admin_client, free_port, public_client, ready, sign_in,
)
from conftest import start_janus, stop_janus  # noqa: E402
from auth_support import make_app_client, make_user  # noqa: E402
from support import GOOD_PASSWORD, unique  # noqa: E402

def wait_until_quiet(probe, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if probe():
            return
        time.sleep(0.02)
    raise RuntimeError("timed out")


FAULT = os.environ.get("FAULT", "kill")

SETTINGS = {
    "default": {"interval_ms": 5000, "failures": 3, "check_inter": "1s"},
    "aggressive": {"interval_ms": 500, "failures": 2, "check_inter": "300ms"},
}


def deploy(root: Path, s: dict):
    ports = {EAST: free_port(), WEST: free_port()}
    servers = {}
    for name, other in ((WEST, EAST), (EAST, WEST)):
        servers[name] = start_janus(root / name, listen=f"127.0.0.1:{ports[name]}", extra_env={
            "JANUS_REGION": name, "JANUS_PEERS": f"{other}=http://127.0.0.1:{ports[other]}",
            "JANUS_REPLICATION_SECRET": SECRET, "JANUS_REPLICA_REQUIRES_CMK": "false", "JANUS_ISSUER_URL": "http://issuer.example",
            "JANUS_FAILOVER_AUTO": "true" if name == WEST else "false",
            "JANUS_FAILOVER_INTERVAL_MS": str(s["interval_ms"]), "JANUS_FAILOVER_FAILURES": str(s["failures"]),
            "JANUS_LOG": "warn",
        })
    front_port = free_port()
    env = dict(os.environ, JANUS_FRONT_BIND=f"127.0.0.1:{front_port}", JANUS_REGION_A=f"127.0.0.1:{ports[EAST]}",
               JANUS_REGION_B=f"127.0.0.1:{ports[WEST]}", JANUS_CHECK_INTER=s["check_inter"])
    haproxy = subprocess.Popen(["haproxy", "-db", "-f", str(CONFIG)], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    return servers[EAST], servers[WEST], haproxy, f"http://127.0.0.1:{front_port}"


def setup_pool(east, west, front, users: int):
    a = admin_client(east.endpoint)
    pool = a.create_user_pool(PoolName=unique("bench"))["UserPool"]["Id"]
    app = make_app_client(a, pool)
    names = [make_user(a, pool) for _ in range(users)]
    a.create_user_pool_replica(UserPoolId=pool, RegionName=WEST)
    wait_until_quiet(lambda: a.list_user_pool_replicas(UserPoolId=pool)["UserPoolReplicas"][1]["Status"] == "INACTIVE")
    a.update_user_pool_replica(UserPoolId=pool, RegionName=WEST, Status="ACTIVE")
    wait_until_quiet(lambda: ready(west.endpoint, f"?pool={pool}") == 200)
    pub = public_client(front)
    wait_until_quiet(lambda: sign_in(pub, app["ClientId"], names[0]) is not None)
    return pool, app["ClientId"], names


def one_drill(setting: str, s: dict, sessions: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        east, west, haproxy, front = deploy(Path(tmp), s)
        try:
            pool, client_id, names = setup_pool(east, west, front, sessions)
            pub = public_client(front)
            tokens = [sign_in(pub, client_id, n) for n in names]
            outcomes = []
            stop = threading.Event()

            def loop():
                c = public_client(front)
                while not stop.is_set():
                    outcomes.append((time.monotonic(), sign_in(c, client_id, names[0]) is not None))
                    time.sleep(0.02)

            t = threading.Thread(target=loop)
            t.start()
            time.sleep(0.5)
            # kill: the process dies (connections refused at once); stop: it hangs (SIGSTOP),
            # as a frozen host or a black-holed network would, so only timeouts and health
            # checks notice.
            east.process.send_signal(signal.SIGSTOP if FAULT == "stop" else signal.SIGKILL)
            killed = time.monotonic()
            wait_until_quiet(lambda: any(ok for at, ok in outcomes if at > killed), timeout=60)
            wait_until_quiet(lambda: ready(west.endpoint, f"?pool={pool}&role=primary") == 200, timeout=60)
            promoted = time.monotonic() - killed
            stop.set()
            t.join()
            rto = min(at for at, ok in outcomes if at > killed and ok) - killed
            lost_sessions = 0
            for tok in tokens:
                try:
                    pub.get_user(AccessToken=tok["AccessToken"])
                    pub.initiate_auth(ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH",
                                      AuthParameters={"REFRESH_TOKEN": tok["RefreshToken"]})
                except Exception:  # noqa: BLE001
                    lost_sessions += 1
            east.process.send_signal(signal.SIGKILL)
            east.process.wait()
            return {"setting": setting, "fault": FAULT, "rto_s": rto, "promotion_s": promoted, "sessions": len(tokens),
                    "sessions_needing_sign_in": lost_sessions}
        finally:
            haproxy.terminate()
            haproxy.wait()
            for srv in (east, west):
                if srv.process.poll() is None:
                    stop_janus(srv, timeout=20)


def rpo_async(rate: int, seconds: float) -> dict:
    s = SETTINGS["aggressive"]
    with tempfile.TemporaryDirectory() as tmp:
        east, west, haproxy, front = deploy(Path(tmp), s)
        try:
            pool, _, _ = setup_pool(east, west, front, 1)
            a = admin_client(east.endpoint)
            acked: list[str] = []
            stop = threading.Event()

            def writer():
                i, t0 = 0, time.monotonic()
                while not stop.is_set():
                    due = t0 + i / rate
                    time.sleep(max(0.0, due - time.monotonic()))
                    name = f"w{i}"
                    try:
                        a.admin_create_user(UserPoolId=pool, Username=name, MessageAction="SUPPRESS")
                        acked.append(name)
                    except Exception:  # noqa: BLE001 - the primary is gone
                        return
                    i += 1

            threads = [threading.Thread(target=writer)]
            threads[0].start()
            time.sleep(seconds)
            east.process.send_signal(signal.SIGKILL)
            east.process.wait()
            stop.set()
            threads[0].join()
            wait_until_quiet(lambda: ready(west.endpoint, f"?pool={pool}&role=primary") == 200, timeout=60)
            w = admin_client(west.endpoint)
            missing = 0
            for name in acked:
                try:
                    w.admin_get_user(UserPoolId=pool, Username=name)
                except Exception:  # noqa: BLE001
                    missing += 1
            return {"rate": rate, "acknowledged": len(acked), "missing": missing}
        finally:
            haproxy.terminate()
            haproxy.wait()
            for srv in (east, west):
                if srv.process.poll() is None:
                    stop_janus(srv, timeout=20)


def retried(f, attempts: int = 3):
    """A port picked free can be taken before janus binds it (the machine is shared)."""
    for i in range(attempts):
        try:
            return f()
        except RuntimeError as e:
            if i == attempts - 1:
                raise
            print(f"retrying after: {e}", file=sys.stderr)


def main():
    reps = int(os.environ.get("DRILLS", "10"))
    sessions = int(os.environ.get("SESSIONS", "20"))
    results = {"drills": [], "rpo": []}
    for setting in os.environ.get("SETTINGS", "aggressive default").split():
        for i in range(reps):
            r = retried(lambda: one_drill(setting, SETTINGS[setting], sessions))
            print(json.dumps(r), flush=True)
            results["drills"].append(r)
    for i in range(int(os.environ.get("RPO_REPS", "3"))):
        r = retried(lambda: rpo_async(200, 5.0))
        print(json.dumps(r), flush=True)
        results["rpo"].append(r)
    print("\nsummary")
    for setting in SETTINGS:
        rs = [d for d in results["drills"] if d["setting"] == setting]
        if not rs:
            continue
        rto = [d["rto_s"] for d in rs]
        prom = [d["promotion_s"] for d in rs]
        lost = sum(d["sessions_needing_sign_in"] for d in rs)
        total = sum(d["sessions"] for d in rs)
        cfg = SETTINGS[setting]
        print(f"{setting}, fault {FAULT} (watcher {cfg['interval_ms']} ms x {cfg['failures']}, HAProxy inter {cfg['check_inter']} fall 2): "
              f"RTO p50 {statistics.median(rto):.2f} s, max {max(rto):.2f} s over {len(rs)} drills; "
              f"promotion p50 {statistics.median(prom):.2f} s, max {max(prom):.2f} s; "
              f"sessions needing a new sign-in {lost} of {total}")
    for r in results["rpo"]:
        print(f"async RPO at {r['rate']} writes/s: {r['missing']} of {r['acknowledged']} acknowledged writes missing")
    (REPO / "bench" / "last-failover.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
