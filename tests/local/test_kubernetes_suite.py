"""The kubernetes conformance suite against the real local cluster tier: green when healthy (castle's
single AZ the one expected violation), red on each cluster fault profile on exactly its claims, with
the message an on-call engineer needs; and credentials without RBAC rights give not-checked.

Runs ``python -m gauntlet conformance local --suite kubernetes --json`` as a user would, on the cluster
tier of tests/local/conftest.py (``cluster``: healthy, or with the fault profiles given as indirect
parameter). Whoever runs these holds the cluster lock (``flock /tmp/gauntlet-cluster.lock``).
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import pytest
import trustme
import yaml

from gauntlet import paths
from gauntlet.environment import load_environment
from gauntlet.local import kube_cluster, kube_pki
from gauntlet.local.faults import FAULTS

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

#: The claims of environments/local.yaml a check of conformance/kubernetes judges, and those of them that also
#: require their chaos experiment (they cannot be verified by the suite alone).
JUDGED = ("athens-pods-recover", "athens-runs-on-aks", "castle-www-hpa-5-10", "castle-backend-two-replicasets",
          "castle-backend-survives-replicaset-loss", "castle-rolling-update-no-interruption", "castle-tiers-health-checked",
          "castle-backend-not-public", "ah-readiness-gates", "ah-alb-targets-healthy", "ah-hub-disruption-budget",
          "ah-helm-upgrades-valid")
NEED_CHAOS = {"athens-pods-recover": "chaos.pod-loss.recovers",
              "castle-backend-survives-replicaset-loss": "chaos.replica-set-loss.keeps-serving"}


def kubernetes_suite(*args: str) -> tuple[dict, subprocess.CompletedProcess]:
    proc = subprocess.run([sys.executable, "-m", "gauntlet", "conformance", *args, "--suite", "kubernetes", "--json"],
                          capture_output=True, text=True, timeout=900, cwd=paths.ROOT)
    assert proc.stdout, proc.stderr[-3000:]
    assert "Traceback (most recent call last)" not in proc.stderr and "INTERNALERROR" not in proc.stderr, proc.stderr[-3000:]
    return json.loads(proc.stdout), proc


def claim(out: dict, claim_id: str) -> dict:
    return next(c for c in out["claims"] if c["id"] == claim_id)


def details(out: dict, fragment: str) -> dict:
    for line in (Path(out["report"]) / "checks.jsonl").read_text().splitlines():
        result = json.loads(line)
        if fragment in result["id"]:
            return result
    raise AssertionError(f"no check {fragment} in {out['report']}")


@pytest.mark.parametrize("cluster", [()], indirect=True, ids=["healthy"])
def test_healthy_cluster_verifies_every_claim_but_the_known_risk(cluster):
    out, proc = kubernetes_suite("local")
    for claim_id in JUDGED:
        expected = "not-checked" if claim_id in NEED_CHAOS else "verified"
        assert claim(out, claim_id)["verdict"] == expected, claim(out, claim_id)
    for claim_id, kind in NEED_CHAOS.items():
        assert claim(out, claim_id)["evidence"][0].startswith(f"required evidence {kind} proved nothing"), claim(out, claim_id)
        assert claim(out, claim_id)["coverage"]["checks"]["failed"] == 0, "its kubernetes checks passed"
    single_az = claim(out, "castle-single-az")
    assert (single_az["verdict"], single_az["expected"]) == ("violated", True), single_az
    assert "castle/www: topology.kubernetes.io/zone of the nodes of its 5 Ready pods: expected at least 2 zones, found 1" \
        in "\n".join(single_az["evidence"])
    in_pod = [details(out, f"{test}[athens/athens]")  # on Athens' real pods, through kubectl exec
              for test in ("test_no_git_process_runs", "test_modules_are_kept_in_persistent_storage")]
    assert [c["outcome"] for c in in_pod] == ["passed", "passed"], [c["message"] for c in in_pod]
    no_git = claim(out, "athens-no-git-hot-path")  # what clients see (latency, load) is not the kubernetes suite's
    assert no_git["verdict"] == "not-checked" and no_git["evidence"][0].startswith("only components were observed"), no_git
    assert proc.returncode == 3, "nothing violated (a known risk's violation is expected), two gating claims still need chaos"
    live = details(out, "test_rolling_restart_keeps_capacity_and_endpoints[castle/www]")
    assert live["outcome"] == "passed", live["message"]
    assert 0 < live["details"]["rollout_s"] < 300, live["details"]["rollout_s"]
    worst = live["details"]["worst_sample"]
    assert worst["ready"] >= 4 and worst["endpoints"]["www"]["ready"] >= 1, worst
    assert len(live["details"]["live_rollout"]["samples"]) >= live["details"]["rollout_s"] - 1


FAULT_FINDINGS = {
    "no-readiness-gate-label": ("ah-readiness-gates",
                                "namespace artifacthub (workload artifacthub/hub): "
                                "metadata.labels[elbv2.k8s.aws/pod-readiness-gate-inject]: "
                                "expected 'enabled', found 'no such label'"),
    "rollout-max-unavailable-100": ("castle-rolling-update-no-interruption",
                                    "castle/www: Ready pods during a rollout: expected at least 4 (the capacity floor, min_ready), "
                                    "found it may keep 0 of 5 (Deployment www: spec.strategy RollingUpdate(maxUnavailable 100%"),
    "no-pdb": ("athens-runs-on-aks", "athens/athens: PodDisruptionBudget selecting the pods of Deployment athens"),
    "all-pods-one-zone": ("athens-runs-on-aks", "athens/athens: topology.kubernetes.io/zone of the nodes of its 3 Ready pods: "
                                                "expected at least 2 zones, found 1 (us-east-1a: 3)"),
    "hpa-min-1": ("castle-www-hpa-5-10", "castle/www: HorizontalPodAutoscaler www spec.minReplicas/maxReplicas: "
                                         "expected 5/10, found 1/10"),
    "backend-one-replica-set": ("castle-backend-survives-replicaset-loss",
                                "castle/backend: Ready pods left after losing ReplicaSet backend-a-"),
    "athens-readiness-is-liveness": ("athens-pods-recover",
                                     "athens/athens: Deployment athens container athens: spec.template.spec.containers[0]."
                                     "readinessProbe and livenessProbe both httpGet http://pod:3000/healthz"),
}


@pytest.mark.parametrize(("cluster", "fault"), [((f,), f) for f in FAULT_FINDINGS], indirect=["cluster"], ids=list(FAULT_FINDINGS))
def test_fault_turns_exactly_its_claims_red(cluster, fault):
    out, proc = kubernetes_suite("local")
    violated = {c["id"] for c in out["claims"] if c["verdict"] == "violated" and not c["expected"]}
    broken = FAULTS[fault].claims_in(load_environment("local", paths.ROOT / "environments")) - {"castle-single-az"}
    assert violated == broken, f"{fault}: violated {sorted(violated)}, breaks {FAULTS[fault].breaks}"
    claim_id, found = FAULT_FINDINGS[fault]
    evidence = "\n".join(claim(out, claim_id)["evidence"])
    assert found in evidence, evidence[:3000]
    assert proc.returncode == 1
    if fault == "rollout-max-unavailable-100":
        live = details(out, "test_rolling_restart_keeps_capacity_and_endpoints[castle/www]")
        assert live["outcome"] == "failed" and live["details"]["worst_sample"]["ready"] < 4, live
        assert "Ready pods: expected at least 4 (the capacity floor, min_ready) all along, found" in live["message"]


#: Faults of workloads and claims of their own, brought up together: claim -> (fault, what its evidence says).
TOGETHER = {
    "castle-tiers-health-checked": ("readiness-is-liveness",
                                    "castle/www: Deployment www container www: spec.template.spec.containers[0].readinessProbe "
                                    "and livenessProbe both httpGet http://pod:8080/: expected a liveness probe that does not "
                                    "fail with readiness"),
    "athens-runs-on-aks": ("pdb-blocks-unhealthy-eviction",
                           "athens/athens: PodDisruptionBudget athens/athens spec.unhealthyPodEvictionPolicy: expected "
                           "AlwaysAllow, found none (IfHealthyBudget, the default)"),
    "athens-pods-recover": ("athens-disk-unbounded",
                            "athens/athens: Deployment athens container athens: spec.template.spec.containers[0].resources "
                            "(mounts emptyDir storage): expected ephemeral-storage request and limit, found request none, "
                            "limit none"),
    "athens-no-git-hot-path": ("athens-memory-storage",
                               "ATHENS_STORAGE_TYPE: expected one of disk, mongo, s3, minio, gcp, azureblob, external, "
                               "found memory"),
    "castle-backend-not-public": ("backend-ingress-open",
                                  "castle/backend: NetworkPolicy castle/backend spec.ingress[0] admits every source (no from) "
                                  "on every port to the pods of Deployment backend-a: expected only in-cluster sources"),
}


@pytest.mark.parametrize("cluster", [tuple(f for f, _ in TOGETHER.values())], indirect=True, ids=["five-faults"])
def test_faults_of_separate_workloads_turn_exactly_their_claims_red(cluster):
    """One bring-up for five faults, each breaking one kind of one workload: each claim is violated by its own
    fault's kind and observation only, and nothing else is violated."""
    out, proc = kubernetes_suite("local")
    env = load_environment("local", paths.ROOT / "environments")
    violated = {c["id"] for c in out["claims"] if c["verdict"] == "violated" and not c["expected"]}
    assert violated == set(TOGETHER), violated
    for claim_id, (fault, found) in TOGETHER.items():
        assert FAULTS[fault].claims_in(env) == {claim_id}, (fault, FAULTS[fault].claims_in(env))
        verdict = claim(out, claim_id)
        evidence = "\n".join(verdict["evidence"])
        assert found in evidence, evidence[:3000]
        failed = {k.partition("@")[0] for k, state in verdict["coverage"]["kinds"].items() if state == "failed"}
        assert failed == {b.partition("@")[0] for b in FAULTS[fault].breaks}, (claim_id, failed)
    assert proc.returncode == 1


@pytest.mark.parametrize("cluster", [()], indirect=True, ids=["healthy"])
def test_upgrade_manifests_with_a_removed_version_and_a_typo_are_violated(cluster, env_dir, tmp_path, local_env_data):
    """The seed manifests as the next upgrade's, with the hub's PodDisruptionBudget at policy/v1beta1 (removed in 1.25)
    and a misspelt field in castle's www: both named against the real API server's OpenAPI; nothing is applied."""
    docs = [d for f in sorted((paths.ROOT / "fixtures" / "manifests").glob("*.yaml")) for d in yaml.safe_load_all(f.read_text()) if d]
    for doc in docs:
        if doc["kind"] == "PodDisruptionBudget" and doc["metadata"]["name"] == "hub":
            doc["apiVersion"] = "policy/v1beta1"
        if doc["kind"] == "Deployment" and doc["metadata"]["name"] == "www":
            container = doc["spec"]["template"]["spec"]["containers"][0]
            container["resource"] = container.pop("resources")
    (tmp_path / "upgrade.yaml").write_text(yaml.safe_dump_all(docs))
    env = local_env_data
    env["name"] = "local-upgrade"
    env["kubernetes"]["manifests"] = [str(tmp_path / "upgrade.yaml")]
    (env_dir / "local-upgrade.yaml").write_text(yaml.safe_dump(env, sort_keys=False))
    with kube_cluster.api_client() as api:
        from kubernetes import client

        def applied() -> tuple:
            pdb = client.PolicyV1Api(api).read_namespaced_pod_disruption_budget("hub", "artifacthub").metadata.generation
            www = client.AppsV1Api(api).read_namespaced_deployment("www", "castle").spec.template.spec.containers[0]
            return pdb, www.resources.limits

        before = applied()
        out, proc = kubernetes_suite("local-upgrade")
        after = applied()
    verdict = claim(out, "ah-helm-upgrades-valid")
    evidence = "\n".join(verdict["evidence"])
    assert verdict["verdict"] == "violated", verdict
    assert "(PodDisruptionBudget artifacthub/hub): apiVersion policy/v1beta1 kind PodDisruptionBudget: expected a " \
           "version the cluster (v1.36.3) serves, found one removed in Kubernetes 1.25; it serves PodDisruptionBudget " \
           "as policy/v1" in evidence, evidence
    assert "(Deployment castle/www): spec.template.spec.containers[0].resource: unknown field (did you mean " \
           "resources?)" in evidence, evidence
    assert after == before, "validation sends nothing to the API server"
    assert proc.returncode == 1


def _nobody_kubeconfig(path: Path) -> Path:
    """A client certificate of the cluster's own CA for a user no RBAC rule names."""
    pki = kube_pki.pki_dir()
    ca = trustme.CA.from_pem((pki / "ca.pem").read_bytes(), (pki / "ca.key").read_bytes())
    leaf = ca.issue_cert("gauntlet-nobody.gauntlet.localhost", common_name="gauntlet-nobody")
    b64 = lambda data: base64.b64encode(data).decode()  # noqa: E731
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "nobody",
        "clusters": [{"name": "local", "cluster": {"server": kube_pki.API_SERVER,
                                                   "certificate-authority-data": b64((pki / "ca.pem").read_bytes())}}],
        "users": [{"name": "nobody", "user": {"client-certificate-data": b64(b"".join(b.bytes() for b in leaf.cert_chain_pems)),
                                              "client-key-data": b64(leaf.private_key_pem.bytes())}}],
        "contexts": [{"name": "nobody", "context": {"cluster": "local", "user": "nobody"}}],
    }))
    return path


@pytest.mark.parametrize("cluster", [()], indirect=True, ids=["healthy"])
def test_a_user_without_rbac_rights_gets_not_checked_and_changes_nothing(cluster, env_dir, tmp_path, local_env_data):
    env = local_env_data
    env["name"] = "local-nobody"
    env["kubernetes"]["kubeconfig"] = str(_nobody_kubeconfig(tmp_path / "kubeconfig"))
    env["kubernetes"]["context"] = "nobody"
    (env_dir / "local-nobody.yaml").write_text(yaml.safe_dump(env, sort_keys=False))
    with kube_cluster.api_client() as api:
        from kubernetes import client

        before = client.AppsV1Api(api).read_namespaced_deployment("www", "castle").metadata.generation
        out, proc = kubernetes_suite("local-nobody")
        after = client.AppsV1Api(api).read_namespaced_deployment("www", "castle").metadata.generation
    for claim_id in (*JUDGED, "castle-single-az"):
        if claim_id == "ah-helm-upgrades-valid":  # the OpenAPI is readable by any authenticated user (system:discovery)
            assert claim(out, claim_id)["verdict"] == "verified", claim(out, claim_id)
            continue
        assert claim(out, claim_id)["verdict"] == "not-checked", claim(out, claim_id)
    evidence = "\n".join(e for c in out["claims"] for e in c["evidence"])
    assert '403 Forbidden (RBAC): deployments.apps "www" is forbidden: User "gauntlet-nobody" cannot get resource' in evidence, \
        evidence[:3000]
    assert after == before, "the live rollout must not act when the user may not even read"
    assert proc.returncode == 3, "nothing could be verified"
