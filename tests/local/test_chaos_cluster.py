"""Chaos experiments against the real control plane of the local stack (cluster tier).

Mutating tests act on a throwaway namespace (``gauntlet-chaos-test``: a Deployment of three
replicas behind a Service, with a PodDisruptionBudget) through an environment that names it,
so the seed workloads other suites check stay as they are; the seed-workload runs (the
issue's "done when") are the ``seeds`` tests at the end. Run under
``flock /tmp/gauntlet-cluster.lock``.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml

from gauntlet import paths
from gauntlet.local import kube_cluster, kube_pki

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

NS = "gauntlet-chaos-test"
LABELS = {"app.kubernetes.io/name": "athens-chaos-test"}


def _delete_throwaway(api) -> None:
    """No pod of the throwaway namespace may meet a drain or a zone outage of the seed workloads."""
    from kubernetes import client as k8s

    core = k8s.CoreV1Api(api)
    if any(n.metadata.name == NS for n in core.list_namespace().items):
        core.delete_namespace(NS)
        deadline = time.monotonic() + 60
        while any(n.metadata.name == NS for n in core.list_namespace().items) and time.monotonic() < deadline:
            time.sleep(0.5)


@pytest.fixture(scope="module")
def api(cluster_tier):
    """The cluster's API; the throwaway namespace is deleted after the module."""
    with kube_cluster.api_client() as client:
        yield client
        _delete_throwaway(client)


def _manifests() -> list[dict]:
    pod = {"metadata": {"labels": LABELS},
           "spec": {"containers": [{"name": "athens", "image": "docker.io/gomods/athens:v0.15.4",
                                    "ports": [{"name": "http", "containerPort": 3000}]}]}}
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}},
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "athens", "namespace": NS},
         "spec": {"replicas": 3, "selector": {"matchLabels": LABELS}, "template": pod}},
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "athens", "namespace": NS},
         "spec": {"selector": LABELS, "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}},
        {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "athens", "namespace": NS},
         "spec": {"minAvailable": 2, "selector": {"matchLabels": LABELS}}},
    ]


def _ready(api) -> list[str]:
    from kubernetes import client

    pods = client.CoreV1Api(api).list_namespaced_pod(NS, label_selector="app.kubernetes.io/name=athens-chaos-test").items
    return sorted(p.metadata.name for p in pods if p.metadata.deletion_timestamp is None
                  and any(c.type == "Ready" and c.status == "True" for c in p.status.conditions or ()))


@pytest.fixture
def throwaway(api):
    """The throwaway workload, applied (server-side, idempotent) and back at 3 Ready pods."""
    from kubernetes import dynamic

    resources = dynamic.DynamicClient(api)
    for doc in _manifests():
        kind = resources.resources.get(api_version=doc["apiVersion"], kind=doc["kind"])
        kind.server_side_apply(body=doc, namespace=doc["metadata"].get("namespace"), field_manager="gauntlet-chaos-tests",
                               force_conflicts=True)
    deadline = time.monotonic() + 90
    while len(_ready(api)) < 3:
        assert time.monotonic() < deadline, f"the throwaway workload is not Ready: {_ready(api)}"
        time.sleep(0.5)
    return api


@pytest.fixture
def environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, local_env_data: dict):
    """``chaoslocal``: the local environment whose Athens is the throwaway workload, making the two claims the pod
    loss and the node drain are evidence for; returns a writer for variants."""
    base = local_env_data
    folder = tmp_path / "environments"
    folder.mkdir()
    for var, value in {"GAUNTLET_ENVIRONMENTS_DIR": folder, "GAUNTLET_REPORTS_DIR": tmp_path / "reports",
                       "GAUNTLET_LOCK_DIR": tmp_path / "locks"}.items():
        monkeypatch.setenv(var, str(value))

    def write(name: str = "chaoslocal", **changes: object) -> dict:
        data = json.loads(json.dumps(base))
        data["name"] = name
        data["kubernetes"]["workloads"] = [{"namespace": NS, "name": "athens", "replicas": 3, "pdb": True}]
        data["claims"] = [{**c, "workloads": [f"{NS}/athens"]} for c in data["claims"]
                          if c["id"] in ("athens-pods-recover", "athens-runs-on-aks")]
        data["load_profiles"] = {}
        data["kubernetes"]["namespaces"] = [NS]
        data["kubernetes"].pop("live_rollout", None)
        data["chaos"]["namespaces"] = [NS]
        for dotted, value in changes.items():
            *parents, leaf = dotted.split(".")
            node = data
            for part in parents:
                node = node[part]
            node[leaf] = value
        (folder / f"{name}.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
        return data

    return write


def gauntlet(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gauntlet", *args], capture_output=True, text=True, timeout=600,
                          cwd=paths.ROOT, env=os.environ.copy(), **kw)


def _latest_run(tmp_path: Path) -> Path:
    return (tmp_path / "reports" / "latest").resolve()


def _check(run: Path, check_id: str) -> dict:
    lines = [json.loads(line) for line in (run / "checks.jsonl").read_text().splitlines() if line.strip()]
    return next(c for c in lines if c["id"] == check_id)


# --------------------------------------------------------------------------- the guard, watched


class PodWatch:
    """Every event on the throwaway namespace's pods while it runs."""

    def __init__(self, api) -> None:
        from kubernetes import client, watch

        self.core, self.watch, self.events = client.CoreV1Api(api), watch.Watch(), []
        version = self.core.list_namespaced_pod(NS).metadata.resource_version
        self.thread = threading.Thread(target=self._run, args=(version,), daemon=True)
        self.thread.start()

    def _run(self, version: str) -> None:
        try:
            for event in self.watch.stream(self.core.list_namespaced_pod, NS, resource_version=version, timeout_seconds=120):
                self.events.append((event["type"], event["object"].metadata.name,
                                    event["object"].metadata.deletion_timestamp is not None))
        except Exception as exc:  # stopping the watch cuts its connection
            self.events.append(("ERROR", repr(exc), False))

    def deletions(self) -> list:
        time.sleep(1.0)  # events of the last request reach the watch
        self.watch.stop()
        return [e for e in self.events if e[0] == "DELETED" or e[2] or (e[0] == "ERROR" and "ProtocolError" not in e[1])]


@pytest.mark.parametrize(("changes", "args", "fragment"), [
    ({"production": True, "chaos.confirm": True}, [], "type --confirm chaoslocal"),
    ({"chaos.allowed": False}, [], "chaos is not allowed here"),
    ({"chaos.namespaces": ["athens"]}, [], f"would take down pods in namespace {NS}, outside chaos.namespaces ['athens']"),
    ({"chaos.max_pods_per_action": 1}, [], "would take down 2 pods"),
], ids=["production-without-confirm", "policy-allows-no-chaos", "namespace-outside-allow-list", "blast-radius-exceeded"])
def test_each_refusal_deletes_no_pod_of_the_real_cluster(throwaway, environment, changes, args, fragment):
    environment(**changes)
    before = _ready(throwaway)
    watch = PodWatch(throwaway)
    proc = gauntlet("chaos", "chaoslocal", "athens-pod-loss", *args)
    assert proc.returncode == 2 and fragment in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert watch.deletions() == [] and _ready(throwaway) == before


def test_an_unreachable_cluster_is_refused_and_nothing_is_deleted(throwaway, environment, tmp_path):
    config = yaml.safe_load(kube_pki.kubeconfig_path().read_text())
    config["clusters"][0]["cluster"]["server"] = "https://127.0.0.1:1"
    (tmp_path / "down.kubeconfig").write_text(yaml.safe_dump(config))
    environment(**{"kubernetes.api_server": "https://127.0.0.1:1", "kubernetes.kubeconfig": str(tmp_path / "down.kubeconfig")})
    watch = PodWatch(throwaway)
    proc = gauntlet("chaos", "chaoslocal", "athens-pod-loss")
    assert proc.returncode == 2 and "https://127.0.0.1:1 does not answer" in proc.stderr, proc.stderr
    assert watch.deletions() == []


# --------------------------------------------------------------------------- runs


def test_athens_pod_loss_recovers_with_a_measured_time_to_recovery(throwaway, environment, tmp_path):
    environment()
    proc = gauntlet("chaos", "chaoslocal", "athens-pod-loss", "--json")
    assert proc.returncode == 0, proc.stderr[-3000:]
    claims = {c["id"]: c for c in json.loads(proc.stdout)["claims"]}
    assert claims["athens-pods-recover"]["verdict"] == "verified", claims["athens-pods-recover"]
    run = _latest_run(tmp_path)
    check = _check(run, "chaos:athens-pod-loss")
    # KWOK replaces a pod within about a tenth of a second: a loss may fall between two samples (0 s).
    assert check["outcome"] == "passed" and 0 <= check["details"]["time_to_recovery_s"] <= 60, check
    faults = [r["fault"] for r in check["details"]["recoveries"]]
    assert faults == ["terminate-one-athens-pod", "terminate-all-athens-pods-but-one"]
    timeline = json.loads((run / "timeline-athens-pod-loss.json").read_text())
    assert timeline["time_to_recovery_s"] == check["details"]["time_to_recovery_s"]
    steps = [b[0] - a[0] for a, b in itertools.pairwise(timeline["series"][0]["points"])]
    assert max(steps) <= 1.0, "the steady state is sampled at least once a second"
    journal = json.loads((run / "chaos" / "athens-pod-loss" / "journal.json").read_text())
    assert journal["status"] == "completed" and not journal["deviated"]
    assert len(_ready(throwaway)) == 3


SCALE_AND_WAIT = {
    "version": "1.0.0", "title": "scale the throwaway Athens down and wait (interrupted by the test)",
    "description": "tests/local/test_chaos_cluster.py", "tags": ["test"],
    "extensions": [{"name": "gauntlet", "checks": ["chaos.scale-down.waits"], "tier": "cluster", "targets": ["athens"]}],
    "controls": [{"name": "gauntlet-guard", "provider": {"type": "python", "module": "gauntlet.chaos.control"}}],
    "configuration": {"kubeconfig": "", "kube_context": "", "kube_api_server": "", "gauntlet_env": "chaoslocal",
                      "athens_namespace": NS, "athens_selector": "", "athens_replicas": 3, "gauntlet_confirm": None},
    "steady-state-hypothesis": {"title": "Athens runs its replicas", "probes": [
        {"type": "probe", "name": "athens-ready", "tolerance": True,
         "provider": {"type": "python", "module": "gauntlet.chaos.probes", "func": "pods_ready",
                      "arguments": {"namespace": "${athens_namespace}", "label_selector": "${athens_selector}",
                                    "min_ready": "${athens_replicas}"}}}]},
    "method": [{"type": "action", "name": "scale-athens-down",
                "provider": {"type": "python", "module": "chaosk8s.deployment.actions", "func": "scale_deployment",
                             "arguments": {"name": "athens", "replicas": 2, "ns": "${athens_namespace}"}},
                "pauses": {"after": 120}}],
    "rollbacks": [{"type": "action", "name": "scale-athens-back",
                   "provider": {"type": "python", "module": "chaosk8s.deployment.actions", "func": "scale_deployment",
                                "arguments": {"name": "athens", "replicas": "${athens_replicas}", "ns": "${athens_namespace}"}}}],
}


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interrupted_experiment_plays_its_rollbacks_and_leaves_a_journal(throwaway, environment, tmp_path,
                                                                             monkeypatch, sig):
    from kubernetes import client

    shutil.copytree(paths.ROOT / "chaos_experiments", tmp_path / "experiments")
    (tmp_path / "experiments" / "scale-and-wait.json").write_text(json.dumps(SCALE_AND_WAIT))
    monkeypatch.setenv("GAUNTLET_CHAOS_EXPERIMENTS_DIR", str(tmp_path / "experiments"))
    data = environment()
    data["claims"][0]["evidence"].append("chaos.scale-down.waits")
    (tmp_path / "environments" / "chaoslocal.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    proc = subprocess.Popen([sys.executable, "-m", "gauntlet", "chaos", "chaoslocal", "scale-and-wait"], cwd=paths.ROOT,
                            env=os.environ.copy(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    apps = client.AppsV1Api(throwaway)
    deadline = time.monotonic() + 90
    while apps.read_namespaced_deployment("athens", NS).spec.replicas != 2:  # the fault is in
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()[1][-3000:]
        time.sleep(0.2)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=180)
    assert proc.returncode == 128 + sig, err[-3000:]  # 130 after Ctrl-C, 143 after SIGTERM (cli.py)
    assert apps.read_namespaced_deployment("athens", NS).spec.replicas == 3, "the rollback scaled it back"
    run = _latest_run(tmp_path)
    journal = json.loads((run / "chaos" / "scale-and-wait" / "journal.json").read_text())
    assert journal["status"] == "interrupted"
    assert [(r["activity"]["name"], r["status"]) for r in journal["rollbacks"]] == [("scale-athens-back", "succeeded")]
    assert json.loads((run / "run.json").read_text())["status"] == "interrupted"
    check = _check(run, "chaos:scale-and-wait")
    assert check["outcome"] == "skipped" and "rollbacks ran: scale-athens-back" in check["message"], check["message"]
    assert ("SIGTERM" if sig == signal.SIGTERM else "Ctrl-C") in check["message"]


# --------------------------------------------------------------------------- the seed workloads (the "done when")


@pytest.fixture
def seeds(api, cluster, tmp_path, monkeypatch):
    """The seed workloads of fixtures/manifests, healthy and available (conftest's ``cluster``), the throwaway
    namespace gone; reports and locks in the test's folders."""
    _delete_throwaway(api)
    monkeypatch.setenv("GAUNTLET_REPORTS_DIR", str(tmp_path / "reports"))
    monkeypatch.setenv("GAUNTLET_LOCK_DIR", str(tmp_path / "locks"))
    return api


def test_castle_backend_survives_losing_a_replica_set_and_kubernetes_replaces_it(seeds, tmp_path):
    """Browsers on www (real pods) while a backend ReplicaSet is deleted: every request answered, the ReplicaSet back."""
    proc = gauntlet("chaos", "local", "castle-backend-replicaset-loss", "--load", "castle-failover", "--json")
    run = _latest_run(tmp_path)
    check = _check(run, "chaos:castle-backend-replicaset-loss")
    assert proc.returncode == 0, check["message"] + proc.stderr[-3000:]
    claims = {c["id"]: c for c in json.loads(proc.stdout)["claims"]}
    assert claims["castle-backend-survives-replicaset-loss"]["verdict"] == "verified", claims["castle-backend-survives-replicaset-loss"]
    assert check["outcome"] == "passed" and check["details"]["time_to_recovery_s"] is not None
    phases = check["details"]["load"]["phases"]
    assert phases["during"]["requests"] > 50 and sum(phases[p]["failures"] for p in phases) == 0, phases
    assert _check(run, "load:castle-failover:error_rate")["outcome"] == "passed"
    journal = json.loads((run / "chaos" / "castle-backend-replicaset-loss" / "journal.json").read_text())
    deleted = journal["run"][0]["output"]
    assert deleted["deployment"] in ("backend-a", "backend-b") and len(deleted["pods"]) == 1, "one of the two went"
    from kubernetes import client

    now = client.AppsV1Api(seeds).read_namespaced_replica_set(deleted["replicaset"], "castle")
    assert now.metadata.uid != deleted["uid"], "its Deployment created the ReplicaSet again (same name, new object)"
    assert journal["steady_states"]["after"]["steady_state_met"], "castle answers, both backend replicas Ready again"
    changes = json.loads((run / "timeline-castle-backend-replicaset-loss.json").read_text())["changes"]
    assert all(c["held"] for c in changes if c["probe"] in ("backend-service-has-ready-endpoints", "www-answers-every-request"))


@pytest.mark.parametrize("cluster", [("backend-one-replica-set",)], indirect=True)
def test_with_one_backend_replica_set_its_loss_fails_client_requests(seeds, tmp_path):
    """Both backend pods in one ReplicaSet: deleting it takes the tier down until new pods warm up; clients see it."""
    proc = gauntlet("chaos", "local", "castle-backend-replicaset-loss", "--load", "castle-failover", "--json")
    run = _latest_run(tmp_path)
    check = _check(run, "chaos:castle-backend-replicaset-loss")
    assert proc.returncode == 1, check["message"] + proc.stderr[-3000:]
    claim = next(c for c in json.loads(proc.stdout)["claims"] if c["id"] == "castle-backend-survives-replicaset-loss")
    assert claim["verdict"] == "violated", claim
    assert check["outcome"] == "failed" and "invariant broken" in check["message"], check["message"]
    assert "GET http://10.250.0.11:30081/" in check["message"] or "Service castle/backend: 0 ready endpoints" in check["message"]
    phases = check["details"]["load"]["phases"]
    assert phases["during"]["failures"] > 0, phases
    failover = _check(run, "load:castle-failover:error_rate")
    assert failover["outcome"] == "failed" and "inside the fault window of castle-backend-replicaset-loss" in failover["message"]
    journal = json.loads((run / "chaos" / "castle-backend-replicaset-loss" / "journal.json").read_text())
    assert len(journal["run"][0]["output"]["pods"]) == 2, "the one ReplicaSet held both pods"


def test_a_crashed_athens_container_is_restarted_in_place_and_no_client_request_fails(seeds, stack, tmp_path):
    """go clients through the edge and the load balancer in front of Athens' pods while one pod's container is
    SIGKILLed: the kubelet restarts it in the same pod, Ready again within the deadline; not one request fails."""
    proc = gauntlet("chaos", "local", "athens-container-crash", "--load", "pods-failover", "--json")
    run = _latest_run(tmp_path)
    check = _check(run, "chaos:athens-container-crash")
    assert proc.returncode == 3, check["message"] + proc.stderr[-3000:]  # not violated; still not-checked: see below
    failover = next(c for c in json.loads(proc.stdout)["claims"] if c["id"] == "athens-replica-failover")
    assert failover["verdict"] == "not-checked" and failover["evidence"][0].startswith(
        "required evidence chaos.replica-crash.no-client-errors proved nothing"), "its replica-crash experiment did not run"
    assert failover["coverage"]["checks"]["failed"] == 0 and failover["coverage"]["checks"]["passed"] >= 2, failover
    assert check["outcome"] == "passed" and check["details"]["time_to_recovery_s"] is not None, check
    phases = check["details"]["load"]["phases"]
    assert phases["during"]["requests"] > 50 and sum(phases[p]["failures"] for p in phases) == 0, phases
    assert _check(run, "load:pods-failover:error_rate")["outcome"] == "passed"
    journal = json.loads((run / "chaos" / "athens-container-crash" / "journal.json").read_text())
    killed = journal["run"][0]["output"]
    from kubernetes import client

    pod = client.CoreV1Api(seeds).read_namespaced_pod(killed["pod"], "athens")
    assert pod.metadata.uid == killed["uid"], "the same pod: its container restarted, the pod was not replaced"
    restarts = next(c.restart_count for c in pod.status.container_statuses if c.name == "athens")
    assert restarts == killed["restarts_before"] + 1, (killed, restarts)
    changes = json.loads((run / "timeline-athens-container-crash.json").read_text())["changes"]
    lb = [c for c in changes if c["probe"] == "athens-pods-up-at-the-load-balancer"]
    assert any(not c["held"] for c in lb), f"the load balancer never saw the crashed pod's node go: {lb}"


@pytest.mark.parametrize("stack", [("lb-no-retries",)], indirect=True)
def test_a_load_balancer_that_does_not_retry_lets_clients_see_a_container_crash(seeds, stack, tmp_path):
    """The same crash behind a load balancer that health-checks the nodes but retries nothing: the requests sent
    to the crashed pod's node before its checks take it out fail."""
    proc = gauntlet("chaos", "local", "athens-container-crash", "--load", "pods-failover", "--json")
    run = _latest_run(tmp_path)
    check = _check(run, "chaos:athens-container-crash")
    assert proc.returncode == 1, check["message"] + proc.stderr[-3000:]
    claim = next(c for c in json.loads(proc.stdout)["claims"] if c["id"] == "athens-replica-failover")
    assert claim["verdict"] == "violated", claim
    message = check["message"]
    assert check["outcome"] == "failed", message
    assert "requests failed in the fault window" in message or "GET https://127.0.0.1:8443/" in message, message
    phases = check["details"]["load"]["phases"]
    assert phases["during"]["failures"] > 0, phases
    failover = _check(run, "load:pods-failover:error_rate")
    assert failover["outcome"] == "failed" and "inside the fault window of athens-container-crash" in failover["message"]


@pytest.mark.parametrize("experiment", ["athens-pod-loss", "node-drain"])
def test_athens_loses_pods_or_a_node_and_no_client_request_fails(seeds, stack, tmp_path, experiment):
    """go clients through the edge and the load balancer in front of Athens' pods while pods are deleted, or the node
    of one is drained: the replacements come up elsewhere and not one request fails."""
    proc = gauntlet("chaos", "local", experiment, "--load", "pods-failover", "--json")
    run = _latest_run(tmp_path)
    check = _check(run, f"chaos:{experiment}")
    assert check["outcome"] == "passed" and check["details"]["time_to_recovery_s"] is not None, check
    phases = check["details"]["load"]["phases"]
    assert phases["during"]["requests"] > 50 and sum(phases[p]["failures"] for p in phases) == 0, phases
    failover = _check(run, "load:pods-failover:error_rate")
    assert failover["outcome"] == "passed" and f"inside the fault window of {experiment}" in failover["message"], failover
    assert proc.returncode == 3, proc.stderr[-3000:]  # nothing violated; athens-replica-failover's crash did not run


def _unready_pods(seeds) -> list[str]:
    from kubernetes import client

    from gauntlet.chaos.actions import UNREADY_ANNOTATION

    pods = client.CoreV1Api(seeds).list_namespaced_pod("athens").items
    return [p.metadata.name for p in pods if UNREADY_ANNOTATION in (p.metadata.annotations or {})]


def test_an_unready_athens_pod_is_taken_out_by_its_readiness_probe_and_not_restarted(seeds, stack, tmp_path):
    """One pod's readiness file removed for 25 s: its readiness probe takes it out of the Service, its liveness probe
    leaves the container running; the file back, the pod is Ready again in place; not one client request fails."""
    proc = gauntlet("chaos", "local", "athens-pod-unready", "--load", "pods-failover", "--json")
    run = _latest_run(tmp_path)
    check = _check(run, "chaos:athens-pod-unready")
    assert check["outcome"] == "passed" and check["details"]["time_to_recovery_s"] is not None, check
    phases = check["details"]["load"]["phases"]
    assert phases["during"]["requests"] > 50 and sum(phases[p]["failures"] for p in phases) == 0, phases
    assert _check(run, "load:pods-failover:error_rate")["outcome"] == "passed"
    journal = json.loads((run / "chaos" / "athens-pod-unready" / "journal.json").read_text())
    unready, out_after = journal["run"][0]["output"], journal["run"][1]["output"]
    assert 0 < out_after <= 25, journal["run"][1]
    from kubernetes import client

    pod = client.CoreV1Api(seeds).read_namespaced_pod(unready["pod"], "athens")
    assert pod.metadata.uid == unready["uid"], "the same pod, back in the Service"
    restarts = next(c.restart_count for c in pod.status.container_statuses if c.name == "athens")
    assert restarts == unready["restarts"], "the liveness probe did not restart the container"
    assert _unready_pods(seeds) == [], "the readiness file is back and the pod unmarked"
    changes = json.loads((run / "timeline-athens-pod-unready.json").read_text())["changes"]
    lb = [c for c in changes if c["probe"] == "athens-pods-up-at-the-load-balancer"]
    assert any(not c["held"] for c in lb), f"the load balancer never saw the unready pod's node go: {lb}"
    claims = {c["id"]: c for c in json.loads(proc.stdout)["claims"]}
    assert claims["athens-pods-recover"]["verdict"] != "violated", claims["athens-pods-recover"]
    assert proc.returncode == 3, proc.stderr[-3000:]  # nothing violated; the pod loss, its required evidence, did not run


@pytest.mark.parametrize("cluster", [("athens-readiness-is-liveness",)], indirect=True)
def test_a_readiness_probe_that_asks_the_liveness_endpoint_keeps_an_unready_pod_in_the_service(seeds, tmp_path):
    proc = gauntlet("chaos", "local", "athens-pod-unready", "--json")
    run = _latest_run(tmp_path)
    check = _check(run, "chaos:athens-pod-unready")
    assert check["outcome"] == "failed", check
    assert "its-readiness-probe-takes-it-out: unready pods of app.kubernetes.io/name=athens in athens: athens-" in check["message"]
    assert re.search(r": /var/lib/athens/\.ready removed from container athens, still Ready, \d+ restarts after 25 s: "
                     "expected its readiness probe to take it out of the Service", check["message"]), check["message"]
    claims = {c["id"]: c for c in json.loads(proc.stdout)["claims"]}
    assert claims["athens-pods-recover"]["verdict"] == "violated", claims["athens-pods-recover"]
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert _unready_pods(seeds) == [], "the readiness file is back and the pod unmarked"


def test_a_zone_outage_shows_castles_single_az_risk_as_violated_and_expected(seeds, tmp_path):
    proc = gauntlet("chaos", "local", "zone-outage", "--json")
    assert proc.returncode == 0, "a known risk's expected violation does not fail the run: " + proc.stderr[-3000:]
    claim = next(c for c in json.loads(proc.stdout)["claims"] if c["id"] == "castle-single-az")
    assert claim["verdict"] == "violated" and claim["expected"] and claim["known_risk"], claim
    check = _check(_latest_run(tmp_path), "chaos:zone-outage")
    assert "invariant broken" in check["message"] and "Service castle/www: 0 ready endpoints" in check["message"]
    assert [r["status"] for r in check["details"]["rollbacks"]] == ["succeeded"]
    from kubernetes import client

    nodes = client.CoreV1Api(seeds).list_node().items
    assert not [n.metadata.name for n in nodes if any(t.key == "gauntlet.dev/zone-outage" for t in n.spec.taints or ())]
