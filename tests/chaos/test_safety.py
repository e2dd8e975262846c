"""Each safety rule refuses before the cluster is touched: exit 2, one line, and the API saw no write.

The command line runs against a recording API server on loopback (conftest.py); the
request log shows what a refusal cost the cluster: nothing at all for the policy and the
kubeconfig checks, read requests only for the checks that must look (namespaces, blast
radius, the lock taken by another run).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from gauntlet import paths
from gauntlet.chaos.lock import EnvLock


def gauntlet(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gauntlet", *args], capture_output=True, text=True, timeout=120,
                          cwd=paths.ROOT, env=os.environ.copy())


def refused(proc: subprocess.CompletedProcess, *fragments: str) -> str:
    assert proc.returncode == 2, f"expected exit 2, got {proc.returncode}: {proc.stdout}{proc.stderr}"
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, f"expected one error line, got {lines}"
    for fragment in fragments:
        assert fragment in lines[0], f"expected {fragment!r} in {lines[0]!r}"
    return lines[0]


def test_a_policy_that_allows_no_chaos_refuses_without_a_single_request(guarded, kube_api):
    guarded(allowed=False)
    refused(gauntlet("chaos", "fakeprod", "athens-pod-loss"), "chaos is not allowed here (chaos.allowed: false)")
    assert kube_api.requests == []


def test_production_without_the_typed_confirmation_is_refused_without_a_request(guarded, kube_api):
    guarded(production=True, confirm=True)
    refused(gauntlet("chaos", "fakeprod", "athens-pod-loss"), "fakeprod is a production environment",
            "type --confirm fakeprod")
    refused(gauntlet("chaos", "fakeprod", "athens-pod-loss", "--confirm", "fakestaging"), "does not name it")
    refused(gauntlet("chaos", "fakeprod", "athens-pod-loss", "--dry-run"), "type --confirm fakeprod")
    assert kube_api.requests == []


def test_a_kubeconfig_pointing_at_another_context_is_refused_without_a_request(guarded, kube_api):
    path = guarded(current="elsewhere")
    refused(gauntlet("chaos", "fakeprod", "athens-pod-loss"), f"{path} points at context 'elsewhere'",
            "the environment names 'fake'")
    assert kube_api.requests == []


def test_a_context_whose_server_is_not_the_environments_is_refused_without_a_request(guarded, kube_api):
    guarded(kubeconfig_server="http://127.0.0.2:6443")
    refused(gauntlet("chaos", "fakeprod", "athens-pod-loss"), "points at http://127.0.0.2:6443",
            f"the environment names the API server {kube_api.url}")
    assert kube_api.requests == []


def test_an_unreachable_cluster_is_refused(guarded, kube_api, unused_port):
    guarded(server=f"http://127.0.0.1:{unused_port}")
    refused(gauntlet("chaos", "fakeprod", "athens-pod-loss"), f"the API server http://127.0.0.1:{unused_port}",
            "does not answer", "refusing to act on a cluster that cannot be observed")
    assert kube_api.requests == []


def test_a_namespace_outside_the_allow_list_is_refused_after_reads_only(guarded, kube_api):
    guarded(namespaces=["castle"])
    refused(gauntlet("chaos", "fakeprod", "athens-pod-loss"),
            "action 'terminate-one-athens-pod' would take down pods in namespace athens, outside chaos.namespaces ['castle']")
    assert kube_api.requests, "the targets were resolved (read) before refusing"
    assert kube_api.writes == []


def test_more_pods_per_action_than_the_policy_allows_is_refused_after_reads_only(guarded, kube_api):
    guarded(max_pods_per_action=1)
    line = refused(gauntlet("chaos", "fakeprod", "athens-pod-loss"),
                   "action 'terminate-all-athens-pods-but-one' would take down 2 pods",
                   "more than chaos.max_pods_per_action (1)")
    assert "athens/athens-abc-0, athens/athens-abc-1" in line
    assert kube_api.writes == []


def test_a_second_run_is_refused_while_the_first_holds_the_lock(guarded, kube_api):
    guarded()
    with EnvLock("fakeprod", "node-drain", "gauntlet chaos fakeprod node-drain"):
        line = refused(gauntlet("chaos", "fakeprod", "athens-pod-loss"), "a chaos run is already in progress",
                       "runs node-drain since", f"(pid {os.getpid()})")
        held = json.loads(gauntlet("chaos", "fakeprod", "--list", "--json").stdout)["lock_held_by"]
    assert "node-drain" in held and "node-drain" in line
    assert kube_api.writes == []


def test_dry_run_prints_exactly_what_would_be_killed_and_changes_nothing(guarded, kube_api):
    guarded()
    proc = gauntlet("chaos", "fakeprod", "athens-pod-loss", "--dry-run", "--json")
    assert proc.returncode == 0, proc.stderr
    plan = json.loads(proc.stdout)
    kills = {t["activity"]: t["pods"] for t in plan["targets"]}
    assert kills == {"terminate-one-athens-pod": ["athens/athens-abc-0"],
                     "terminate-all-athens-pods-but-one": ["athens/athens-abc-0", "athens/athens-abc-1"]}
    assert plan["configuration"]["athens_selector"] == "app.kubernetes.io/name=athens"
    assert kube_api.writes == []
    text = gauntlet("chaos", "fakeprod", "athens-pod-loss", "--dry-run")
    assert "pods: athens/athens-abc-0, athens/athens-abc-1" in text.stdout


def test_an_action_whose_targets_gauntlet_cannot_resolve_is_refused(guarded, kube_api, tmp_path, monkeypatch):
    experiment = json.loads((paths.ROOT / "chaos_experiments" / "athens-pod-loss.json").read_text())
    experiment["method"][0]["provider"] = {"type": "python", "module": "chaosk8s.node.actions", "func": "delete_nodes",
                                           "arguments": {"label_selector": "kubernetes.io/os=linux"}}
    shutil.copytree(paths.ROOT / "chaos_experiments", tmp_path / "experiments")
    (tmp_path / "experiments" / "athens-pod-loss.json").write_text(json.dumps(experiment))
    monkeypatch.setenv("GAUNTLET_CHAOS_EXPERIMENTS_DIR", str(tmp_path / "experiments"))
    guarded()
    refused(gauntlet("chaos", "fakeprod", "athens-pod-loss"), "calls chaosk8s.node.actions.delete_nodes",
            "whose targets gauntlet cannot resolve: refused")
    assert kube_api.writes == []


def test_list_shows_the_experiments_that_apply_and_the_claims_each_tests(guarded):
    guarded()
    listing = json.loads(gauntlet("chaos", "fakeprod", "--list", "--json").stdout)
    rows = {r["name"]: r for r in listing["experiments"]}
    assert rows["athens-pod-loss"]["applies"] and rows["athens-pod-loss"]["claims"] == ["athens-pods-recover"]
    assert rows["node-drain"]["claims"] == ["athens-runs-on-aks"]
    assert not rows["athens-replica-crash"]["applies"]
    assert "no claim of fakeprod names its kinds (chaos.replica-crash.no-client-errors)" in rows["athens-replica-crash"]["why_not"]
    assert not rows["zone-outage"]["applies"] and "no claim of fakeprod names its kinds" in rows["zone-outage"]["why_not"]


@pytest.fixture
def unused_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
