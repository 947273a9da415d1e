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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "conformance"))

import conftest  # noqa: E402
from test_limits import ATTACKERS, under_attack  # noqa: E402

RUNS = int(os.environ.get("RUNS", "3"))


def one_run(binary: Path) -> dict:
    conftest.JANUS_BIN = binary
    with tempfile.TemporaryDirectory() as tmp:
        server = conftest.start_janus(Path(tmp) / "limits")
        try:
            m = under_attack(server)
        finally:
            conftest.stop_janus(server)
    return {"peak_mib": m["peak"] / 1024, "after_mib": m["after"] / 1024,
            "before_ms": statistics.median(m["before"]) * 1000, "during_ms": statistics.median(m["during"]) * 1000,
            "failed": sum(1 for x in m["during"] if x == float("inf")), "calls": len(m["during"])}


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
