"""The cluster tier against its real control plane: seed workloads Ready, real controllers reacting.

The tier comes from tests/local/conftest.py: built on first use (minutes, see kube_build), started
if it is not running, healthy again before each test, left as found after the session. Run it under
``flock /tmp/gauntlet-cluster.lock`` on a machine where others use the same cluster.
"""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from gauntlet.kubernetes.alb import INJECT_LABEL, READINESS_GATE_PREFIX
from gauntlet.local import FAULTS, kube_cluster, kube_workloads

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

SEED_NAMESPACES = ("athens", "castle", "artifacthub")
ZONE = "topology.kubernetes.io/zone"
CLUSTER_FAULTS = sorted(n for n, f in FAULTS.items() if f.tier == "cluster")


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def kube_api(cluster_tier: dict) -> Iterator[client.ApiClient]:
    with kube_cluster.api_client() as api:
        yield api


@pytest.fixture
def healthy(cluster: dict) -> dict:
    """No fault profile, every seed workload available (what an earlier test changed is settled)."""
    return cluster


@pytest.fixture
def core(kube_api: client.ApiClient) -> client.CoreV1Api:
    return client.CoreV1Api(kube_api)


@pytest.fixture
def apps(kube_api: client.ApiClient) -> client.AppsV1Api:
    return client.AppsV1Api(kube_api)


# --------------------------------------------------------------------------- helpers


def is_ready(pod: client.V1Pod) -> bool:
    return any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions or [])


def condition(pod: client.V1Pod, kind: str) -> client.V1PodCondition | None:
    return next((c for c in pod.status.conditions or [] if c.type == kind), None)


def pods(core: client.CoreV1Api, namespace: str, selector: str) -> list[client.V1Pod]:
    return [p for p in core.list_namespaced_pod(namespace, label_selector=selector).items
            if p.metadata.deletion_timestamp is None]


def wait_until(what: str, check: Callable[[], object], within_s: float = 60.0, every_s: float = 0.25) -> object:
    deadline = time.monotonic() + within_s
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {within_s:.0f} s")
        time.sleep(every_s)


def ready_endpoints(kube_api: client.ApiClient, namespace: str, service: str) -> int:
    slices = client.DiscoveryV1Api(kube_api).list_namespaced_endpoint_slice(
        namespace, label_selector=f"kubernetes.io/service-name={service}").items
    return sum(1 for s in slices for e in s.endpoints or [] if e.conditions and e.conditions.ready)


def evict(core: client.CoreV1Api, pod: client.V1Pod) -> int:
    """Ask the Eviction API to evict the pod: 201 when allowed, 429 when a PDB forbids it now."""
    name, namespace = pod.metadata.name, pod.metadata.namespace
    body = client.V1Eviction(metadata=client.V1ObjectMeta(name=name, namespace=namespace))
    try:
        core.create_namespaced_pod_eviction(name, namespace, body)
    except ApiException as exc:
        if exc.status == 429:
            return 429
        raise
    return 201


def cordon(core: client.CoreV1Api, node: str, unschedulable: bool = True) -> None:
    core.patch_node(node, {"spec": {"unschedulable": unschedulable}})


def node_zones(core: client.CoreV1Api) -> dict[str, str]:
    return {n.metadata.name: n.metadata.labels[ZONE] for n in core.list_node().items}


def target_group_gate(kube_api: client.ApiClient) -> str:
    bindings = client.CustomObjectsApi(kube_api).list_namespaced_custom_object(
        "elbv2.k8s.aws", "v1beta1", "artifacthub", "targetgroupbindings")["items"]
    assert len(bindings) == 1, bindings
    return READINESS_GATE_PREFIX + bindings[0]["metadata"]["name"]


# --------------------------------------------------------------------------- the healthy tier


def test_kubectl_shows_nodes_in_three_zones_and_the_seed_workloads_ready(healthy: dict) -> None:
    kubectl = [healthy["kubectl"], "--kubeconfig", healthy["kubeconfig"], "--context", healthy["context"]]
    listed = subprocess.run([*kubectl, "get", "nodes,pods", "-A", "-o", "json"], capture_output=True, text=True,
                            timeout=60)
    assert listed.returncode == 0, listed.stderr
    items = json.loads(listed.stdout)["items"]
    own = {node.name for node in kube_cluster.NODES}
    nodes = [i for i in items if i["kind"] == "Node" and i["metadata"]["name"] in own]  # not another checkout's
    assert len(nodes) == len(own), sorted(own - {n["metadata"]["name"] for n in nodes})
    ready_nodes = [n for n in nodes if any(c["type"] == "Ready" and c["status"] == "True" for c in n["status"]["conditions"])]
    assert len(ready_nodes) == len(nodes) >= 6, [n["metadata"]["name"] for n in nodes]
    assert {n["metadata"]["labels"][ZONE] for n in nodes} == {"us-east-1a", "us-east-1b", "us-east-1c"}
    assert {n["metadata"]["labels"]["gauntlet.dev/node-pool"] for n in nodes} == {"system", "workers"}
    seed = [i for i in items if i["kind"] == "Pod" and i["metadata"]["namespace"] in SEED_NAMESPACES]
    by_app: dict[str, list[dict]] = {}
    for pod in seed:
        by_app.setdefault(pod["metadata"]["labels"]["app.kubernetes.io/name"], []).append(pod)
    for app, count in {"athens": 3, "www": 5, "backend": 2, "hub": 3}.items():
        ready = [p for p in by_app.get(app, []) if p["status"]["phase"] == "Running"
                 and any(c["type"] == "Ready" and c["status"] == "True" for c in p["status"]["conditions"])]
        assert len(ready) == count, f"{app}: {len(ready)} Running and Ready pods, expected {count}"
    job = subprocess.run([*kubectl, "get", "job", "-n", "artifacthub", "db-migrator", "-o", "json"],
                         capture_output=True, text=True, timeout=60)
    assert job.returncode == 0 and json.loads(job.stdout)["status"].get("succeeded") == 1, job.stdout[-500:] + job.stderr
    table = subprocess.run([*kubectl, "get", "nodes,pods", "-A", "-L", ZONE], capture_output=True, text=True, timeout=60)
    assert table.returncode == 0 and "us-east-1c" in table.stdout and "hub-" in table.stdout, table.stderr


def test_a_new_hub_pod_is_ready_only_after_its_target_health_gate(healthy: dict, core, kube_api) -> None:
    """Seed 004: the readiness gate tells "that the pod is registered to the application load balancer
    and healthy to receive traffic"; the MutatingAdmissionPolicy injects it, the kwok stage sets it."""
    gate = target_group_gate(kube_api)
    before = pods(core, "artifacthub", "app.kubernetes.io/name=hub")
    for pod in before:
        assert [g.condition_type for g in pod.spec.readiness_gates or []] == [gate], pod.metadata.name
        assert condition(pod, gate).status == "True" and is_ready(pod), pod.metadata.name
    migrator = next(d for d in kube_workloads.render() if d["kind"] == "Job" and d["metadata"]["name"] == "db-migrator")
    assert kube_workloads.injected_gates(core, migrator) == set(), "the hub Service does not select db-migrator's pods"

    core.delete_namespaced_pod(before[0].metadata.name, "artifacthub")
    old = {p.metadata.name for p in before}
    seen_running_unready = False

    def replacement_ready() -> client.V1Pod | None:
        nonlocal seen_running_unready
        for pod in pods(core, "artifacthub", "app.kubernetes.io/name=hub"):
            if pod.metadata.name in old:
                continue
            gate_status = getattr(condition(pod, gate), "status", None)
            assert not (is_ready(pod) and gate_status != "True"), f"{pod.metadata.name} Ready before its gate"
            if pod.status.phase == "Running" and not is_ready(pod):
                seen_running_unready = True
            if is_ready(pod):
                return pod
        return None

    new = wait_until("the replacement hub pod Ready", replacement_ready, within_s=45, every_s=0.2)
    assert [g.condition_type for g in new.spec.readiness_gates] == [gate], "the new pod got no gate"
    assert seen_running_unready, "the replacement was never Running-but-not-Ready: its gate was not waited for"
    waited = (condition(new, "Ready").last_transition_time - new.status.start_time).total_seconds()
    assert waited >= 4, f"Ready {waited:.0f} s after start: the target-health stage waits 5 s"


def test_a_deleted_castle_backend_pod_is_replaced_by_its_replicaset(healthy: dict, core, kube_api) -> None:
    victim = pods(core, "castle", "app.kubernetes.io/instance=backend-a")[0]
    owner = victim.metadata.owner_references[0]
    other = pods(core, "castle", "app.kubernetes.io/instance=backend-b")[0]
    core.delete_namespaced_pod(victim.metadata.name, "castle")
    lowest_endpoints = 99

    def replaced() -> client.V1Pod | None:
        nonlocal lowest_endpoints
        lowest_endpoints = min(lowest_endpoints, ready_endpoints(kube_api, "castle", "backend"))
        survivor = core.read_namespaced_pod(other.metadata.name, "castle")
        assert survivor.metadata.uid == other.metadata.uid and is_ready(survivor), "backend-b's pod was disturbed"
        return next((p for p in pods(core, "castle", "app.kubernetes.io/instance=backend-a")
                     if p.metadata.name != victim.metadata.name and is_ready(p)), None)

    new = wait_until("a Ready replacement of the deleted backend-a pod", replaced, within_s=30)
    assert new.metadata.owner_references[0].uid == owner.uid, "replaced by another ReplicaSet than its own"
    assert lowest_endpoints >= 1, "the backend Service had no ready endpoint while one replica-set was down"


def test_a_deleted_castle_backend_replicaset_comes_back_while_the_other_serves(healthy: dict, core, apps, kube_api) -> None:
    """Seed 003: "In case of a failure of a single replica-set it can handle max workloads on a single
    replica while kube brings up a second healthy one." (the chaos experiment's own scenario)"""
    sets = [rs for rs in apps.list_namespaced_replica_set("castle", label_selector="app.kubernetes.io/instance=backend-a").items
            if rs.spec.replicas]
    assert len(sets) == 1, [rs.metadata.name for rs in sets]
    doomed = sets[0]
    other = pods(core, "castle", "app.kubernetes.io/instance=backend-b")[0]
    apps.delete_namespaced_replica_set(doomed.metadata.name, "castle", propagation_policy="Background")
    lowest_endpoints = 99

    def back() -> client.V1ReplicaSet | None:
        nonlocal lowest_endpoints
        lowest_endpoints = min(lowest_endpoints, ready_endpoints(kube_api, "castle", "backend"))
        survivor = core.read_namespaced_pod(other.metadata.name, "castle")
        assert survivor.metadata.uid == other.metadata.uid and is_ready(survivor), "backend-b's pod was disturbed"
        return next((rs for rs in apps.list_namespaced_replica_set(
            "castle", label_selector="app.kubernetes.io/instance=backend-a").items
            if rs.metadata.uid != doomed.metadata.uid and (rs.status.ready_replicas or 0) == 1), None)

    new = wait_until("backend-a's ReplicaSet recreated with a Ready pod", back, within_s=45)
    assert new.metadata.owner_references[0].name == "backend-a"
    assert lowest_endpoints >= 1, "the backend Service had no ready endpoint while one replica-set was gone"


def test_draining_nodes_through_the_eviction_api_is_held_by_the_pdb(healthy: dict, core) -> None:
    """Drain the node of one hub pod, then the node of another: the hub PDB (minAvailable 2) answers 429
    until the first pod's replacement is Ready (after its readiness gate), then lets the drain go on."""
    hub = sorted(pods(core, "artifacthub", "app.kubernetes.io/name=hub"), key=lambda p: p.spec.node_name)
    first, second = hub[0].spec.node_name, hub[1].spec.node_name
    assert first != second, "the hub pods are spread over nodes"

    def seed_pods_on(node: str) -> list[client.V1Pod]:
        return [p for p in core.list_pod_for_all_namespaces(field_selector=f"spec.nodeName={node}").items
                if p.metadata.namespace in SEED_NAMESPACES and p.status.phase in ("Pending", "Running")
                and p.metadata.deletion_timestamp is None]

    try:
        cordon(core, first)
        answers = {p.metadata.name: evict(core, p) for p in seed_pods_on(first)}
        assert set(answers.values()) == {201}, f"draining {first}: {answers}"
        cordon(core, second)
        blocked: dict[str, int] = {}
        started = time.monotonic()
        while (left := seed_pods_on(second)) and time.monotonic() - started < 60:
            for pod in left:  # kubectl drain's loop: evict, and retry what a PDB holds back
                if evict(core, pod) == 429:
                    blocked[pod.metadata.name] = blocked.get(pod.metadata.name, 0) + 1
            time.sleep(0.5)
        held = time.monotonic() - started
        assert not seed_pods_on(second), f"draining {second} did not finish within 60 s"
        assert hub[1].metadata.name in blocked, f"the hub PDB let {hub[1].metadata.name} go at once: {blocked}"
        assert held >= 2, f"the hub PDB held the drain only {held:.1f} s"
    finally:
        cordon(core, first, False)
        cordon(core, second, False)


def test_athens_rolling_update_honours_max_unavailable(healthy: dict, apps) -> None:
    """A real rollout of a changed pod template: Ready and available replicas never below replicas - maxUnavailable."""
    before = apps.read_namespaced_deployment("athens", "athens")
    replicas = before.spec.replicas
    budget = before.spec.strategy.rolling_update
    floor, ceiling = replicas - int(budget.max_unavailable), replicas + int(budget.max_surge)
    mark = {"spec": {"template": {"metadata": {"annotations": {"gauntlet.dev/rollout-test": uuid.uuid4().hex}}}}}
    apps.patch_namespaced_deployment("athens", "athens", mark)
    samples: list[tuple[float, int, int, int]] = []
    started = time.monotonic()
    try:
        while True:
            d = apps.read_namespaced_deployment("athens", "athens")
            s = d.status
            samples.append((time.monotonic() - started, s.ready_replicas or 0, s.available_replicas or 0, s.replicas or 0))
            done = (s.observed_generation or 0) >= d.metadata.generation and s.updated_replicas == replicas \
                and s.available_replicas == replicas and s.replicas == replicas
            if done and len(samples) > 1:
                break
            assert time.monotonic() - started < 120, f"rollout not complete after 120 s: {samples[-3:]}"
            time.sleep(0.5)
    finally:
        apps.patch_namespaced_deployment("athens", "athens", {
            "spec": {"template": {"metadata": {"annotations": {"gauntlet.dev/rollout-test": None}}}}})
    worst_ready = min(r for _, r, _, _ in samples)
    worst_available = min(a for _, _, a, _ in samples)
    assert worst_ready >= floor and worst_available >= floor, f"below {floor}: {samples}"
    assert worst_available == floor, f"the rollout never used its maxUnavailable budget: {samples}"
    assert max(t for _, _, _, t in samples) <= ceiling, f"more than {ceiling} pods at once: {samples}"
    assert len(samples) >= 10, f"rollout too fast to observe ({len(samples)} samples at 0.5 s): {samples}"


def test_up_heals_nodes_an_experiment_killed_before_its_rollbacks_left_cordoned_or_tainted(healthy: dict, core) -> None:
    outage = {"key": "gauntlet.dev/zone-outage", "value": "us-east-1c", "effect": "NoSchedule"}  # NoSchedule: no pod evicted
    core.patch_node("workers-b", {"metadata": {"labels": {"gauntlet.dev/chaos-cordoned": "true"}}, "spec": {"unschedulable": True}})
    core.patch_node("workers-c", {"spec": {"taints": [outage]}})
    said: list[str] = []
    kube_cluster.up(progress=said.append)
    for name in ("workers-b", "workers-c"):
        node = core.read_node(name)
        assert not node.spec.unschedulable and not [t.key for t in node.spec.taints or () if t.key.startswith("gauntlet.dev/")], \
            f"{name}: unschedulable={node.spec.unschedulable}, taints {node.spec.taints}"
        assert "gauntlet.dev/chaos-cordoned" not in node.metadata.labels
    assert "node workers-b: uncordoned" in said and "node workers-c: taint gauntlet.dev/zone-outage removed" in said, said


def test_up_again_changes_nothing(healthy: dict, core, apps) -> None:
    def snapshot() -> dict:
        return {
            "namespaces": {ns: core.read_namespace(ns).metadata.uid for ns in SEED_NAMESPACES},
            "deployments": {(d.metadata.namespace, d.metadata.name): (d.metadata.uid, d.metadata.generation)
                            for ns in SEED_NAMESPACES for d in apps.list_namespaced_deployment(ns).items},
            "pods": sorted(p.metadata.uid for ns in SEED_NAMESPACES for p in core.list_namespaced_pod(ns).items),
        }

    first = snapshot()
    started = time.monotonic()
    kube_cluster.up(progress=lambda _: None)
    assert snapshot() == first
    assert time.monotonic() - started < 20


# --------------------------------------------------------------------------- fault profiles: present, or not


def _no_readiness_gate_label(present: bool, core, apps, kube_api) -> list[str]:
    differs = []
    labels = core.read_namespace("artifacthub").metadata.labels or {}
    if (INJECT_LABEL in labels) is present:
        differs.append(f"namespace artifacthub labels: {labels}")
    gate = target_group_gate(kube_api)
    for pod in pods(core, "artifacthub", "app.kubernetes.io/name=hub"):
        gates = [g.condition_type for g in pod.spec.readiness_gates or []]
        if gates != ([] if present else [gate]):
            differs.append(f"{pod.metadata.name}: readiness gates {gates}")
        if not is_ready(pod):  # Ready either way: without the gate, before the ALB finds the target healthy
            differs.append(f"{pod.metadata.name}: not Ready")
    return differs


def _rollout_max_unavailable_100(present: bool, core, apps, kube_api) -> list[str]:
    differs = []
    for name in ("www", "backend-a", "backend-b"):
        strategy = apps.read_namespaced_deployment(name, "castle").spec.strategy.rolling_update
        if strategy.max_unavailable != ("100%" if present else 0):
            differs.append(f"castle/{name}: maxUnavailable {strategy.max_unavailable}")
    if not present or differs:
        return differs
    www = apps.read_namespaced_deployment("www", "castle")
    apps.patch_namespaced_deployment("www", "castle", {"spec": {"template": {"metadata": {"annotations": {
        "gauntlet.dev/rollout-test": uuid.uuid4().hex}}}}})
    worst = www.spec.replicas
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        d = apps.read_namespaced_deployment("www", "castle")
        worst = min(worst, d.status.available_replicas or 0)
        if (d.status.observed_generation or 0) >= d.metadata.generation and d.status.updated_replicas == d.spec.replicas \
                and d.status.available_replicas == d.spec.replicas:
            break
        time.sleep(0.25)
    if worst >= www.spec.replicas - 1:
        differs.append(f"the rollout kept {worst} of {www.spec.replicas} available: the fault did not bite")
    return differs


def _no_pdb(present: bool, core, apps, kube_api) -> list[str]:
    budgets = [p.metadata.name for ns in SEED_NAMESPACES
               for p in client.PolicyV1Api(kube_api).list_namespaced_pod_disruption_budget(ns).items]
    if budgets != ([] if present else ["athens", "hub"]):
        return [f"PodDisruptionBudgets: {budgets}"]
    if present:  # nothing holds a drain back: two Athens pods go at once
        answers = [evict(core, p) for p in pods(core, "athens", "app.kubernetes.io/name=athens")[:2]]
        if answers != [201, 201]:
            return [f"evicting two Athens pods: {answers}"]
    return []


def _all_pods_one_zone(present: bool, core, apps, kube_api) -> list[str]:
    differs = []
    zones = node_zones(core)
    for namespace, app in (("athens", "athens"), ("artifacthub", "hub")):
        found = {zones[p.spec.node_name] for p in pods(core, namespace, f"app.kubernetes.io/name={app}")}
        if found != ({"us-east-1a"} if present else {"us-east-1a", "us-east-1b", "us-east-1c"}):
            differs.append(f"{namespace}/{app} pods in zones {sorted(found)}")
    castle = {zones[p.spec.node_name] for p in pods(core, "castle", "app.kubernetes.io/part-of=castle")}
    if castle != {"us-east-1a"}:  # castle lives in one zone either way (seed 003)
        differs.append(f"castle pods in zones {sorted(castle)}")
    return differs


def _hpa_min_1(present: bool, core, apps, kube_api) -> list[str]:
    hpa = client.AutoscalingV2Api(kube_api).read_namespaced_horizontal_pod_autoscaler("www", "castle")
    ready = apps.read_namespaced_deployment("www", "castle").status.ready_replicas
    want = 1 if present else 5
    if (hpa.spec.min_replicas, hpa.spec.max_replicas, ready) != (want, 10, want):
        return [f"castle/www: HPA {hpa.spec.min_replicas}..{hpa.spec.max_replicas}, {ready} Ready"]
    return []


def _readiness_is_liveness(present: bool, core, apps, kube_api) -> list[str]:
    container = apps.read_namespaced_deployment("www", "castle").spec.template.spec.containers[0]
    same = container.liveness_probe.http_get == container.readiness_probe.http_get
    return [] if same == present else [f"castle/www: liveness {container.liveness_probe}, readiness {container.readiness_probe}"]


def _athens_readiness_is_liveness(present: bool, core, apps, kube_api) -> list[str]:
    container = apps.read_namespaced_deployment("athens", "athens").spec.template.spec.containers[0]
    same = container.liveness_probe.http_get == container.readiness_probe.http_get
    return [] if same == present else [f"athens/athens: liveness {container.liveness_probe}, readiness {container.readiness_probe}"]


def _pdb_blocks_unhealthy_eviction(present: bool, core, apps, kube_api) -> list[str]:
    policy = client.PolicyV1Api(kube_api).read_namespaced_pod_disruption_budget("athens", "athens").spec.unhealthy_pod_eviction_policy
    return [] if policy == (None if present else "AlwaysAllow") else [f"athens/athens PDB unhealthyPodEvictionPolicy {policy}"]


def _athens_disk_unbounded(present: bool, core, apps, kube_api) -> list[str]:
    bounds = [r for p in pods(core, "athens", "app.kubernetes.io/name=athens") for c in p.spec.containers
              for r in ((c.resources.requests or {}), (c.resources.limits or {}))]
    bounded = {"ephemeral-storage" in r for r in bounds}
    return [] if bounded == {not present} else [f"athens pods' requests and limits: {bounds}"]


def _athens_memory_storage(present: bool, core, apps, kube_api) -> list[str]:
    storage = {v.value for p in pods(core, "athens", "app.kubernetes.io/name=athens") for c in p.spec.containers
               for v in c.env or () if v.name == "ATHENS_STORAGE_TYPE"}
    return [] if storage == {"memory" if present else "disk"} else [f"athens pods' ATHENS_STORAGE_TYPE: {storage}"]


def _backend_ingress_open(present: bool, core, apps, kube_api) -> list[str]:
    policy = client.NetworkingV1Api(kube_api).read_namespaced_network_policy("backend", "castle")
    rules = [kube_api.sanitize_for_serialization(r) for r in policy.spec.ingress or ()]
    return [] if (rules == [{}]) == present else [f"castle/backend NetworkPolicy ingress {rules}"]


def _backend_one_replica_set(present: bool, core, apps, kube_api) -> list[str]:
    found = {d.metadata.name: d.spec.replicas for d in apps.list_namespaced_deployment(
        "castle", label_selector="app.kubernetes.io/name=backend").items}
    expected = {"backend-a": 2, "backend-b": 0} if present else {"backend-a": 1, "backend-b": 1}
    return [] if found == expected else [f"castle's backend Deployments {found}"]


#: fault profile -> what differs from the profile's being present (True) or absent (False); [] when as expected.
CHECKS = {
    "no-readiness-gate-label": _no_readiness_gate_label,
    "rollout-max-unavailable-100": _rollout_max_unavailable_100,
    "no-pdb": _no_pdb,
    "all-pods-one-zone": _all_pods_one_zone,
    "hpa-min-1": _hpa_min_1,
    "readiness-is-liveness": _readiness_is_liveness,
    "athens-readiness-is-liveness": _athens_readiness_is_liveness,
    "pdb-blocks-unhealthy-eviction": _pdb_blocks_unhealthy_eviction,
    "athens-disk-unbounded": _athens_disk_unbounded,
    "athens-memory-storage": _athens_memory_storage,
    "backend-ingress-open": _backend_ingress_open,
    "backend-one-replica-set": _backend_one_replica_set,
}


def test_every_cluster_fault_profile_has_a_check_here() -> None:
    assert set(CHECKS) == set(CLUSTER_FAULTS)


def test_the_healthy_tier_has_none_of_the_faults(healthy: dict, core, apps, kube_api) -> None:
    assert healthy["faults"] == []
    found = {fault: check(False, core, apps, kube_api) for fault, check in CHECKS.items()}
    assert found == dict.fromkeys(CHECKS, []), f"the healthy tier shows traces of fault profiles: {found}"


@pytest.mark.parametrize("cluster", [(f,) for f in CLUSTER_FAULTS], indirect=True, ids=CLUSTER_FAULTS)
def test_the_fault_profile_is_really_present(cluster: dict, core, apps, kube_api) -> None:
    (fault,) = cluster["faults"]
    differs = CHECKS[fault](True, core, apps, kube_api)
    assert differs == [], f"{fault} is not really present: {differs}"
