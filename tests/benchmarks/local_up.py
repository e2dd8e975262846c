"""Warm start of the local GOPROXY tier: seconds from ``up()`` (installed, stopped) to all-healthy.

Run: .venv/bin/python tests/benchmarks/local_up.py [ROUNDS]. Leaves the tier as it found it.
"""

from __future__ import annotations

import statistics
import sys
import time

import gauntlet.local as local
from gauntlet.local import goproxy_tier
from gauntlet.local.goproxy_tier import COMPONENTS, running_pid

BUDGET_S = 30.0


def main(rounds: int = 3) -> int:
    was_running = any(running_pid(c.name) for c in COMPONENTS)
    local.install()
    timings = []
    for _ in range(rounds):
        goproxy_tier.down()
        start = time.perf_counter()
        status = local.up(progress=lambda _: None)
        timings.append(time.perf_counter() - start)
        assert all(status["components"][c.name]["healthy"] for c in COMPONENTS), status
    if not was_running:
        goproxy_tier.down()
    worst = max(timings)
    print(f"warm up to all-healthy: median {statistics.median(timings):.2f} s, worst {worst:.2f} s "
          f"over {rounds} rounds (budget {BUDGET_S:.0f} s)")
    return 0 if worst < BUDGET_S else 1


if __name__ == "__main__":
    sys.exit(main(*map(int, sys.argv[1:2])))
