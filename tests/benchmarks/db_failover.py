"""The database tier's figures: start time (stopped -> primary, synchronous standby and endpoint healthy) and the
failover window of ``gauntlet chaos local artifacthub-db-failover`` as the client probes measure it.

Run (the tier is the database lock's): flock /tmp/gauntlet-db.lock .venv/bin/python tests/benchmarks/db_failover.py [ROUNDS]
Leaves the tier as it found it; the runs' reports go to a temporary folder.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from gauntlet import paths
from gauntlet.local import db_tier

FIGURES = ("write_unavailable_s", "read_unavailable_s", "write_reconnect_s", "time_to_recovery_s", "lost_writes")


def _spread(values: list[float]) -> str:
    return f"min {min(values):g}, median {statistics.median(values):g}, max {max(values):g}"


def main(rounds: int = 5) -> int:
    was_running = db_tier.running_endpoint_pid() is not None
    starts, runs = [], []
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "GAUNTLET_REPORTS_DIR": f"{tmp}/reports", "GAUNTLET_LOCK_DIR": f"{tmp}/locks"}
        for _ in range(rounds):
            db_tier.down()
            started = time.perf_counter()
            db_tier.up(progress=lambda _: None)
            starts.append(round(time.perf_counter() - started, 2))
            proc = subprocess.run([sys.executable, "-m", "gauntlet", "chaos", "local", "artifacthub-db-failover", "--json"],
                                  capture_output=True, text=True, timeout=300, cwd=paths.ROOT, env=env)
            report = Path(json.loads(proc.stdout)["report"])
            check = next(c for c in json.loads((report / "results.json").read_text())["checks"]
                         if c["id"] == "chaos:artifacthub-db-failover")
            runs.append({"outcome": check["outcome"], **{k: check["details"]["figures"].get(k) for k in FIGURES}})
            print(json.dumps(runs[-1]), flush=True)
    if not was_running:
        db_tier.down()
    print(f"tier start (stopped -> healthy): {_spread(starts)} s over {rounds} rounds")
    for figure in FIGURES:
        values = [r[figure] for r in runs if r[figure] is not None]
        if values:
            print(f"{figure}: {_spread(values)} over {len(values)} failovers")
    return 0 if all(r["outcome"] == "passed" for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main(*map(int, sys.argv[1:2])))
