"""Under attack (issue 13): 2,500 connections each sending a nearly complete 1 MiB body, and
one ordinary client calling ListUserPools throughout. For each binary given: peak RSS of the
server (VmHWM), RSS a second after the attackers hang up, and the ordinary client's median
latency before and during the attack — the median over RUNS runs, each on a fresh server.

    .venv/bin/python bench/limits.py LABEL=PATH [LABEL=PATH ...]   (bench/limits.sh wraps it)
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "conformance"))

import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402

import conftest  # noqa: E402
from test_limits import ATTACKERS, attack, rss_kib  # noqa: E402

RUNS = int(os.environ.get("RUNS", "3"))


def one_run(binary: Path) -> dict:
    conftest.JANUS_BIN = binary
    with tempfile.TemporaryDirectory() as tmp:
        server = conftest.start_janus(Path(tmp) / "limits")
        try:
            idp = boto3.client("cognito-idp", endpoint_url=server.endpoint, region_name=server.region,
                               aws_access_key_id=server.access_key_id,
                               aws_secret_access_key=server.secret_access_key,
                               config=Config(retries={"max_attempts": 1, "mode": "standard"}, read_timeout=30))
            idp.create_user_pool(PoolName="limits")

            def calls(n):
                out = []
                for _ in range(n):
                    start = time.perf_counter()
                    try:
                        idp.list_user_pools(MaxResults=10)
                        out.append(time.perf_counter() - start)
                    except Exception:  # noqa: BLE001 — a failed call counts as a failure, not a time
                        out.append(float("inf"))
                    time.sleep(0.02)
                return out

            before = calls(30)
            parts = urlsplit(server.endpoint)
            stop = threading.Event()
            result = {}
            t = threading.Thread(target=lambda: result.update(attack(parts.hostname, parts.port, stop)))
            t.start()
            during = []
            deadline = time.monotonic() + 20
            while t.is_alive() and time.monotonic() < deadline:
                during.extend(calls(10))
            stop.set()
            t.join(timeout=60)
            peak = rss_kib(server.process.pid, "VmHWM")
            for c in result.get("conns", []):
                if c[0] is not None:
                    c[0].close()
            time.sleep(1.0)
            after = rss_kib(server.process.pid)
            return {"peak_mib": peak / 1024, "after_mib": after / 1024,
                    "before_ms": statistics.median(before) * 1000, "during_ms": statistics.median(during) * 1000,
                    "failed": sum(1 for x in during if x == float("inf")), "calls": len(during)}
        finally:
            conftest.stop_janus(server)


def main(args: list[str]) -> None:
    rows = []
    for arg in args:
        label, _, path = arg.partition("=")
        runs = [one_run(Path(path).resolve()) for _ in range(RUNS)]
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        rows.append((label, med))
    print(f"{ATTACKERS} connections x nearly complete 1 MiB body; medians of {RUNS} runs")
    print(f"{'binary':<28} {'peak RSS':>10} {'RSS after':>10} {'p50 before':>11} {'p50 during':>11} {'failed':>7}")
    for label, m in rows:
        print(f"{label:<28} {m['peak_mib']:>8.0f} MiB {m['after_mib']:>6.0f} MiB {m['before_ms']:>8.1f} ms "
              f"{m['during_ms']:>8.1f} ms {m['failed']:>4.0f}/{m['calls']:.0f}")
    if len(rows) == 2:
        (a, ma), (b, mb) = rows
        print(f"{b} / {a}: peak RSS x{mb['peak_mib'] / ma['peak_mib']:.3f}, "
              f"latency during x{mb['during_ms'] / ma['during_ms']:.3f}")


if __name__ == "__main__":
    main(sys.argv[1:])
