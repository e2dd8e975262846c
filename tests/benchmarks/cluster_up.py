"""Warm start of the local cluster tier, and the tier's peak memory.

Warm = binaries built and cached. Each round stops the tier and times ``kube_cluster.up()`` to every
node Ready and every seed workload available (Deployments rolled out, HPA minimum reached, Job
complete, PDBs observed), in two flavours:

- ``restart``: etcd's data kept (``gauntlet local down`` then ``up``): objects exist, kwok replays them.
  Often ~5 s, sometimes ~30 s: a just-started kube-apiserver may refuse pods in the artifacthub
  namespace until its admission RESTMapper (reset every 30 s) knows the TargetGroupBinding CRD the
  readiness-gate policy takes its parameters from, and ``up`` waits for the injection to work;
- ``fresh``:   etcd's data wiped (``down(purge=True)``): namespaces, workloads and pods created anew.

Memory: the resident set of the tier's five processes (etcd, kube-apiserver, kube-controller-manager,
kube-scheduler, kwok) summed and sampled every 0.2 s during the rounds and a settled minute after;
also the sum of each process's own peak (VmHWM), an upper bound of the tier's peak. Each real node's
resident set likewise: every process in its network namespace or its cgroups (kubelet, kube-proxy,
containerd, the shims, the pods' containers), at its peak and once settled.

Run: flock /tmp/gauntlet-cluster.lock .venv/bin/python tests/benchmarks/cluster_up.py [ROUNDS]
Leaves the tier as it found it (up and healthy, or stopped).
"""

from __future__ import annotations

import statistics
import sys
import threading
import time
from pathlib import Path

from gauntlet.local import kube_build, kube_cluster, kube_nodes

BUDGET_S = 90.0
SETTLE_S = 60.0


def _kib(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


class RssSampler(threading.Thread):
    """Sums VmRSS of the tier's processes every 0.2 s; remembers the highest sum and each process's VmHWM,
    and each real node's highest and latest sum."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak_kib = 0
        self.hwm_kib: dict[str, int] = {}
        self.node_peak_kib: dict[str, int] = {}
        self.node_last_kib: dict[str, int] = {}
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            pids = {name: kube_cluster.running_pid(name) for name in kube_cluster.COMPONENTS}
            self.peak_kib = max(self.peak_kib, sum(_kib(pid, "VmRSS") for pid in pids.values() if pid))
            for name, pid in pids.items():
                if pid:
                    self.hwm_kib[name] = max(self.hwm_kib.get(name, 0), _kib(pid, "VmHWM"))
            for node in kube_nodes.REAL_NODES:
                kib = sum(_kib(pid, "VmRSS") for pid in kube_nodes.node_pids(node))
                self.node_last_kib[node.name] = kib
                self.node_peak_kib[node.name] = max(self.node_peak_kib.get(node.name, 0), kib)
            time.sleep(0.2)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


def main(rounds: int = 3) -> int:
    was_running = kube_cluster.running_pid("kube-apiserver") is not None
    kube_build.build(progress=lambda _: None)  # warm means built: this only checks the cached binaries
    sampler = RssSampler()
    sampler.start()
    timings: dict[str, list[float]] = {"restart": [], "fresh": []}
    try:
        for _ in range(rounds):
            for flavour in ("restart", "fresh"):
                kube_cluster.down(purge=flavour == "fresh")
                start = time.perf_counter()
                status = kube_cluster.up(progress=lambda _: None)
                timings[flavour].append(time.perf_counter() - start)
                assert all(c["healthy"] for c in status["components"].values()), status["components"]
                assert status["workloads_applied"] and status["faults"] == [], status
        time.sleep(SETTLE_S)
    finally:
        sampler.stop()
        if not was_running:
            kube_cluster.down()
        elif kube_cluster.running_pid("kube-apiserver") is None:
            kube_cluster.up(progress=lambda _: None)
    worst = max(max(t) for t in timings.values())
    for flavour, figures in timings.items():
        print(f"warm up ({flavour}) to nodes Ready and seed workloads available: median "
              f"{statistics.median(figures):.1f} s, worst {max(figures):.1f} s over {rounds} rounds (budget {BUDGET_S:.0f} s)")
    print(f"peak RSS of the tier (sampled sum): {sampler.peak_kib / 1024:.0f} MiB; sum of per-process peaks (VmHWM): "
          f"{sum(sampler.hwm_kib.values()) / 1024:.0f} MiB ("
          + ", ".join(f"{name} {kib / 1024:.0f}" for name, kib in sampler.hwm_kib.items()) + ")")
    print("real nodes' RSS (their processes and pods), peak / settled: "
          + ", ".join(f"{name} {sampler.node_peak_kib[name] / 1024:.0f} / {kib / 1024:.0f} MiB"
                      for name, kib in sampler.node_last_kib.items())
          + f"; settled in all {sum(sampler.node_last_kib.values()) / 1024:.0f} MiB")
    return 0 if worst < BUDGET_S else 1


if __name__ == "__main__":
    sys.exit(main(*map(int, sys.argv[1:2])))
