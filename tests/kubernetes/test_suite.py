"""The kubernetes suite against API servers that cannot be asked: nothing listening, no such context,
credentials with no rights (a fake API server answering 403), and one that answers without the workload.

Each runs the real ``gauntlet conformance ENV --suite kubernetes`` on a test environment written here;
nothing but 127.0.0.1 is contacted. A failure to ask is ``not-checked`` with the reason, never a
traceback and never ``violated``; a missing workload is ``violated``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from gauntlet import paths

pytestmark = pytest.mark.slow  # each runs the suite in a pytest subprocess

#: claim -> (the kinds it names, the workloads it speaks about)
CLAIMS = {"ah-readiness-gates": (["kubernetes.readiness-gates.*", "kubernetes.rollout.outlives-deregistration"], ["artifacthub/hub"]),
          "castle-www-hpa-5-10": (["kubernetes.hpa.bounds-as-claimed", "kubernetes.replicas.ready"], ["castle/www"]),
          "castle-rolling-update-no-interruption": (["kubernetes.rollout.*"], ["castle/www"])}


def _claim(claim_id: str) -> dict:
    kinds, workloads = CLAIMS[claim_id]
    return {"id": claim_id, "statement": claim_id, "evidence": kinds, "workloads": workloads, "gates": True,
            "source": {"document": "003_c38d70fb8338328e.txt", "quote": "a loopback stand-in"}}


def _env(name: str, kubeconfig: Path, server: str, context: str = "fake") -> dict:
    return {
        "name": name, "description": "a cluster on loopback",
        "kubernetes": {
            "context": context, "api_server": server, "kubeconfig": str(kubeconfig),
            "workloads": [
                {"namespace": "castle", "name": "www", "hpa": {"min": 5, "max": 10}},
                {"namespace": "artifacthub", "name": "hub", "readiness_gate": True, "deregistration_delay_s": 30},
            ],
            "live_rollout": {"workload": "castle/www"},
        },
        "chaos": {"allowed": True, "confirm": False, "namespaces": ["castle"]},
        "claims": [_claim(c) for c in CLAIMS],
    }


def run_suite(env_dir: Path, env: dict) -> tuple[dict, subprocess.CompletedProcess]:
    (env_dir / f"{env['name']}.yaml").write_text(yaml.safe_dump(env, sort_keys=False))
    proc = subprocess.run([sys.executable, "-m", "gauntlet", "conformance", env["name"], "--suite", "kubernetes", "--json"],
                          cwd=paths.ROOT, capture_output=True, text=True, timeout=300)
    assert proc.stdout, proc.stderr[-3000:]
    assert "INTERNALERROR" not in proc.stderr and "Traceback (most recent call last)" not in proc.stderr, proc.stderr[-3000:]
    return json.loads(proc.stdout), proc


def verdicts(out: dict) -> dict[str, str]:
    return {c["id"]: c["verdict"] for c in out["claims"]}


def evidence(out: dict) -> str:
    return "\n".join(e for c in out["claims"] for e in c["evidence"])


def test_nothing_listening_is_not_checked_with_the_address(env_dir, kubeconfig, closed_port):
    server = f"http://127.0.0.1:{closed_port}"
    out, proc = run_suite(env_dir, _env("kube-closed", kubeconfig(server), server))
    assert verdicts(out) == dict.fromkeys(CLAIMS, "not-checked"), out["claims"]
    assert f"cannot reach the Kubernetes API at {server} (context fake)" in evidence(out), evidence(out)[:2000]
    assert "Connection refused" in evidence(out)
    assert proc.returncode == 3, "nothing violated, nothing verified: the run could not verify the claims it checked"


def test_kubeconfig_without_the_context_is_not_checked(env_dir, kubeconfig, fake_api):
    path = kubeconfig(fake_api.url, context="somebody-else")
    out, _ = run_suite(env_dir, _env("kube-no-context", path, fake_api.url, context="gauntlet-local"))
    assert verdicts(out) == dict.fromkeys(CLAIMS, "not-checked"), out["claims"]
    assert "has no context 'gauntlet-local' (it has: somebody-else)" in evidence(out), evidence(out)[:2000]
    assert fake_api.requests == [], "no request without the context"


def test_forbidden_is_not_checked_and_nothing_is_changed(env_dir, kubeconfig, fake_api, status):
    fake_api.answer_all(status(403, "Forbidden", 'deployments.apps "www" is forbidden: User "gauntlet-nobody" cannot get '
                                                 'resource "deployments" in API group "apps" in the namespace "castle"'), 403)
    out, _ = run_suite(env_dir, _env("kube-forbidden", kubeconfig(fake_api.url), fake_api.url))
    assert verdicts(out) == dict.fromkeys(CLAIMS, "not-checked"), out["claims"]
    text = evidence(out)
    assert '403 Forbidden (RBAC): deployments.apps "www" is forbidden: User "gauntlet-nobody" cannot get' in text, text[:2000]
    assert "test_rolling_restart_keeps_capacity_and_endpoints[castle/www]" in text
    assert {method for method, _ in fake_api.requests} == {"GET"}, "a Forbidden read must stop the live rollout before it acts"


def test_a_missing_workload_is_violated(env_dir, kubeconfig, fake_api, object_list):
    for ns in ("castle", "artifacthub"):
        fake_api.answer(f"/api/v1/namespaces/{ns}", {"kind": "Namespace", "metadata": {"name": ns, "labels": {}}})
    out, proc = run_suite(env_dir, _env("kube-empty", kubeconfig(fake_api.url), fake_api.url))
    assert verdicts(out)["castle-www-hpa-5-10"] == "violated", out["claims"]
    text = evidence(out)
    assert "castle/www: GET Deployment castle/www: not found (context fake at http" in text, text[:2000]
    assert ("namespace artifacthub (workload artifacthub/hub): metadata.labels[elbv2.k8s.aws/pod-readiness-gate-inject]: "
            "expected 'enabled', found 'no such label'") in text, text[:3000]
    assert proc.returncode == 1
