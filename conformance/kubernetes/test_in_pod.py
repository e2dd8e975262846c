"""In the pod (testinfra over ``kubectl exec``): what the serving path of Athens really does.

Seed 001: "Pro-tip: don't use `git` for the backbone of your global service" — modules already
fetched are served from storage, not from a ``git`` process run while a client waits. Runs only
where the environment allows exec (``kubernetes.allow_exec``) and the pod has a container to exec
into (not on a KWOK-simulated node): otherwise not-checked, with the reason.

PYTEST_DONT_REWRITE: each assertion's message is the evidence, verbatim.
"""

from __future__ import annotations

import re

import pytest

from gauntlet.environment import Environment, Workload
from gauntlet.kubernetes.pod.probes import pod_env, pod_file_text, pod_processes, pod_summary

#: Athens' storage types that keep modules across restarts ("memory" loses them: every restart re-fetches with git).
PERSISTENT_STORAGE = ("disk", "mongo", "s3", "minio", "gcp", "azureblob", "external")
ATHENS_CONFIG = "/config/config.toml"


def _ready_pods(workload: Workload, environment: Environment, pods: list[dict]) -> list[str]:
    if not environment.kubernetes.allow_exec:
        pytest.skip(f"environment {environment.name} does not allow exec into pods (kubernetes.allow_exec: false)")
    ready = [s["name"] for s in map(pod_summary, pods) if s["ready"] and not s["terminating"]]
    if not ready:
        pytest.skip(f"{workload.ref}: no Ready pod to look into")
    return ready


@pytest.mark.check("kubernetes.in-pod.no-git-process", observes="component")
def test_no_git_process_runs(workload: Workload, environment: Environment, pods: list[dict], kube: dict) -> None:
    """No ``git`` process in any Ready pod: nothing is cloned while a client waits."""
    found = {}
    for pod in _ready_pods(workload, environment, pods):
        running = pod_processes(pod, workload.namespace, comm="git", configuration=kube)
        if running:
            found[pod] = running
    assert not found, f"{workload.ref}: " + "; ".join(
        f"pod {pod}: expected no git process, found {len(procs)} ({'; '.join(p['args'][:80] for p in procs[:3])})"
        for pod, procs in found.items())


@pytest.mark.check("athens.storage.persistent", observes="component")
def test_modules_are_kept_in_persistent_storage(workload: Workload, environment: Environment, pods: list[dict],
                                                kube: dict) -> None:
    """Athens' storage type keeps modules (not ``memory``): a restarted pod serves from storage, not from git."""
    wrong = {}
    for pod in _ready_pods(workload, environment, pods):
        storage = pod_env(pod, workload.namespace, "ATHENS_STORAGE_TYPE", configuration=kube)
        source = "ATHENS_STORAGE_TYPE"
        if storage is None:
            text = pod_file_text(pod, workload.namespace, ATHENS_CONFIG, configuration=kube) or ""
            match = re.search(r'^\s*StorageType\s*=\s*"([^"]*)"', text, re.MULTILINE)
            storage, source = (match[1] if match else None), f"StorageType in {ATHENS_CONFIG}"
        if storage not in PERSISTENT_STORAGE:
            wrong[pod] = f"{source}: expected one of {', '.join(PERSISTENT_STORAGE)}, found {storage or 'none'}"
    assert not wrong, f"{workload.ref}: " + "; ".join(f"pod {pod}: {why}" for pod, why in wrong.items())
