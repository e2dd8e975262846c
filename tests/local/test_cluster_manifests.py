"""The cluster tier's seed manifests and fault renderings, read without a cluster: shaped like the seeds."""

from __future__ import annotations

import hashlib
from types import SimpleNamespace

import pytest

from gauntlet import environment, paths
from gauntlet.catalogue import catalogue
from gauntlet.kubernetes.alb import INJECT_LABEL, INJECT_VALUE, READINESS_GATE_PREFIX
from gauntlet.kubernetes.workload.probes import probe_handler
from gauntlet.local import FAULTS, goproxy_tier, kube_cluster, kube_nodes, kube_workloads, node_images
from gauntlet.local.kube_workloads import pod_template, render

CLUSTER_FAULTS = sorted(n for n, f in FAULTS.items() if f.tier == "cluster")


def find(docs: list[dict], kind: str, namespace: str | None, name: str) -> dict:
    return next(d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name
                and d["metadata"].get("namespace") == namespace)


def of_kind(docs: list[dict], kind: str) -> list[dict]:
    return [d for d in docs if d["kind"] == kind]


@pytest.fixture(scope="module")
def local_env() -> environment.Environment:
    return environment.load_environment("local", paths.ROOT / "environments")


def test_every_claimed_workload_of_local_yaml_is_in_the_manifests(local_env) -> None:
    docs = render()
    for workload in local_env.kubernetes.workloads:
        parts = [find(docs, workload.kind, workload.namespace, name) for name in workload.objects]
        for part in parts:
            assert part["metadata"]["labels"]["app.kubernetes.io/name"] == workload.name, workload.ref
        if workload.replica_sets is not None:  # castle's backend: one Deployment per replica-set
            assert len(parts) == workload.replica_sets, workload.ref
        if workload.replicas is not None:
            assert sum(p["spec"]["replicas"] for p in parts) == workload.replicas, workload.ref
        if workload.zones is not None and workload.namespace != "castle":  # castle's claim is a known risk
            for part in parts:
                spread = pod_template(part)["spec"].get("topologySpreadConstraints", [])
                assert any(c["topologyKey"] == "topology.kubernetes.io/zone" for c in spread), workload.ref
        doc = parts[0]
        if workload.hpa is not None:
            hpa = find(docs, "HorizontalPodAutoscaler", workload.namespace, workload.name)
            assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (workload.hpa.min, workload.hpa.max)
            assert "replicas" not in doc["spec"], f"{workload.ref}: the HPA owns replicas, the manifest must not set them"
        if workload.pdb:
            assert [p for p in of_kind(docs, "PodDisruptionBudget") if p["metadata"]["namespace"] == workload.namespace]
    assert set(kube_workloads.namespaces(docs)) == set(local_env.kubernetes.namespaces)
    for name in local_env.kubernetes.readiness_gate_namespaces:
        labels = find(docs, "Namespace", None, name)["metadata"]["labels"]
        assert labels[INJECT_LABEL] == INJECT_VALUE


def test_every_container_has_probes_memory_bounds_and_a_pinned_image() -> None:
    for doc in render():
        template = pod_template(doc)
        if template is None:
            continue
        for container in template["spec"]["containers"]:
            where = f"{doc['kind']} {doc['metadata']['namespace']}/{doc['metadata']['name']}"
            image = container["image"]
            assert ":" in image.rsplit("/", 1)[-1] and not image.endswith(":latest"), f"{where}: {image}"
            resources = container["resources"]
            assert resources["requests"]["memory"] and resources["limits"]["memory"], where
            if doc["kind"] == "Deployment":
                assert container["readinessProbe"] and container["livenessProbe"], where


def test_athens_rolls_one_at_a_time_and_its_pdb_keeps_two() -> None:
    docs = render()
    athens = find(docs, "Deployment", "athens", "athens")
    assert athens["spec"]["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 1}}
    assert find(docs, "PodDisruptionBudget", "athens", "athens")["spec"]["minAvailable"] == 2
    keys = {c["topologyKey"]: c["whenUnsatisfiable"] for c in athens["spec"]["template"]["spec"]["topologySpreadConstraints"]}
    assert keys == {"topology.kubernetes.io/zone": "DoNotSchedule", "kubernetes.io/hostname": "ScheduleAnyway"}


def test_castle_is_single_az_on_real_pods_and_its_backend_service_spans_both_replica_sets() -> None:
    docs = render()
    deployments = [d for d in of_kind(docs, "Deployment") if d["metadata"]["namespace"] == "castle"]
    assert {d["metadata"]["name"] for d in deployments} == {"www", "backend-a", "backend-b"}
    for d in deployments:
        spec = d["spec"]["template"]["spec"]
        assert spec["nodeSelector"] == {"topology.kubernetes.io/zone": "us-east-1a", "gauntlet.dev/node-pool": kube_nodes.POOL}
        assert {"key": kube_nodes.TAINT["key"], "operator": "Exists", "effect": "NoSchedule"} in spec["tolerations"]
        assert [c["image"] for c in spec["containers"]] == [node_images.NGINX_IMAGE], "an image the real nodes have"
        assert spec["containers"][0]["imagePullPolicy"] == "Never", "no registry is ever asked"
    zone_a = [n.name for n in kube_nodes.REAL_NODES if n.zone == "us-east-1a"]
    assert len(zone_a) >= 2, "castle spreads over two real nodes of its zone"
    selectors = [d["spec"]["selector"]["matchLabels"] for d in deployments if d["metadata"]["name"] != "www"]
    assert selectors[0] != selectors[1], "two Deployments with one selector would fight over the same pods"
    backend = find(docs, "Service", "castle", "backend")
    assert backend["spec"]["type"] == "ClusterIP" and backend["spec"]["selector"] == {"app.kubernetes.io/name": "backend"}
    aliases = find(docs, "Deployment", "castle", "www")["spec"]["template"]["spec"]["hostAliases"]
    assert aliases == [{"ip": backend["spec"]["clusterIP"], "hostnames": ["backend.castle.svc.cluster.local"]}]
    assert "proxy_pass http://backend.castle.svc.cluster.local;" in find(docs, "ConfigMap", "castle", "www-nginx")["data"]["nginx.conf"]
    assert not [i for i in of_kind(docs, "Ingress") if i["metadata"]["namespace"] == "castle"], "the backend is not public"


def test_hub_outlives_the_alb_deregistration_delay(local_env) -> None:
    hub_claim = next(w for w in local_env.kubernetes.workloads if w.ref == "artifacthub/hub")
    spec = find(render(), "Deployment", "artifacthub", "hub")["spec"]["template"]["spec"]
    pre_stop = spec["containers"][0]["lifecycle"]["preStop"]["sleep"]["seconds"]
    assert hub_claim.deregistration_delay_s < pre_stop < spec["terminationGracePeriodSeconds"]


def test_target_group_binding_is_named_like_the_cloud_tiers_target_group(local_env) -> None:
    binding = of_kind(render(), "TargetGroupBinding")[0]
    expected = "k8s-artifac-hub-" + hashlib.sha1(local_env.aws.load_balancer.encode()).hexdigest()[:10]
    assert binding["metadata"]["name"] == expected
    assert binding["spec"]["targetType"] == "ip", "readiness gates work with IP targets only"
    images = {pod_template(d)["spec"]["containers"][0]["image"].split("/")[-1].split(":")[0]
              for d in render() if pod_template(d) and d["metadata"]["namespace"] == "artifacthub"}
    assert images == set(local_env.aws.ecr_repositories)


def test_only_hub_pods_get_the_readiness_gate() -> None:
    docs = render()
    gate = READINESS_GATE_PREFIX + of_kind(docs, "TargetGroupBinding")[0]["metadata"]["name"]
    gated = {d["metadata"]["name"] for d in docs if pod_template(d) and kube_workloads.expected_gates(docs, d)}
    assert gated == {"hub"}
    assert kube_workloads.expected_gates(docs, find(docs, "Deployment", "artifacthub", "hub")) == {gate}


def test_cluster_fault_profiles_are_exactly_the_renderers_and_break_kinds_local_claims_name(local_env) -> None:
    assert set(CLUSTER_FAULTS) == set(kube_workloads.RENDERERS)
    for name in CLUSTER_FAULTS:
        assert FAULTS[name].breaks and all(catalogue().matching(k) for k in FAULTS[name].breaks), name
        assert FAULTS[name].claims_in(local_env), f"{name} breaks no claim of local"


@pytest.mark.parametrize(("fault", "changed"), [
    ("no-readiness-gate-label", {"artifacthub"}),
    ("rollout-max-unavailable-100", {"castle"}),
    ("no-pdb", {"athens", "artifacthub"}),
    ("all-pods-one-zone", {"athens", "artifacthub"}),  # castle already lives in one zone
    ("hpa-min-1", {"castle"}),
    ("readiness-is-liveness", {"castle"}),
    ("athens-readiness-is-liveness", {"athens"}),
    ("pdb-blocks-unhealthy-eviction", {"athens"}),
    ("athens-disk-unbounded", {"athens"}),
    ("athens-memory-storage", {"athens"}),
    ("backend-ingress-open", {"castle"}),
    ("backend-one-replica-set", {"castle"}),
])
def test_a_fault_recreates_only_the_namespaces_it_changes(fault: str, changed: set[str]) -> None:
    healthy, faulted = render(), render([fault])
    differ = {ns for ns in kube_workloads.namespaces(healthy)
              if kube_workloads.digest(healthy, ns) != kube_workloads.digest(faulted, ns)}
    assert differ == changed


def test_each_fault_renders_what_it_says() -> None:
    gate_less = render(["no-readiness-gate-label"])
    assert INJECT_LABEL not in find(gate_less, "Namespace", None, "artifacthub")["metadata"]["labels"]
    assert not kube_workloads.expected_gates(gate_less, find(gate_less, "Deployment", "artifacthub", "hub"))
    for d in of_kind(render(["rollout-max-unavailable-100"]), "Deployment"):
        expected = "100%" if d["metadata"]["namespace"] == "castle" else {"athens": 1, "artifacthub": 0}[d["metadata"]["namespace"]]
        assert d["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == expected
    assert not of_kind(render(["no-pdb"]), "PodDisruptionBudget")
    for d in render(["all-pods-one-zone"]):
        if pod_template(d):
            spec = pod_template(d)["spec"]
            assert spec["nodeSelector"]["topology.kubernetes.io/zone"] == "us-east-1a"
            assert all(c["topologyKey"] != "topology.kubernetes.io/zone" for c in spec.get("topologySpreadConstraints", []))
    assert find(render(["hpa-min-1"]), "HorizontalPodAutoscaler", "castle", "www")["spec"]["minReplicas"] == 1
    www = pod_template(find(render(["readiness-is-liveness"]), "Deployment", "castle", "www"))["spec"]["containers"][0]
    assert probe_handler(www["livenessProbe"], www) == probe_handler(www["readinessProbe"], www)
    athens = pod_template(find(render(["athens-readiness-is-liveness"]), "Deployment", "athens", "athens"))["spec"]["containers"][0]
    assert athens["readinessProbe"]["httpGet"] == athens["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    athens_pdb = find(render(["pdb-blocks-unhealthy-eviction"]), "PodDisruptionBudget", "athens", "athens")
    assert "unhealthyPodEvictionPolicy" not in athens_pdb["spec"]
    athens = pod_template(find(render(["athens-disk-unbounded"]), "Deployment", "athens", "athens"))["spec"]["containers"][0]
    assert not any("ephemeral-storage" in bound for bound in athens["resources"].values())
    athens = pod_template(find(render(["athens-memory-storage"]), "Deployment", "athens", "athens"))["spec"]["containers"][0]
    assert {"name": "ATHENS_STORAGE_TYPE", "value": "memory"} in athens["env"]
    assert find(render(["backend-ingress-open"]), "NetworkPolicy", "castle", "backend")["spec"]["ingress"] == [{}]
    backends = [d for d in of_kind(render(["backend-one-replica-set"]), "Deployment") if d["metadata"]["name"].startswith("backend")]
    assert [(d["metadata"]["name"], d["spec"]["replicas"]) for d in backends] == [("backend-a", 2), ("backend-b", 0)]


def test_liveness_is_not_readiness_and_disk_and_drains_are_bounded() -> None:
    """The healthy seeds keep the promises the peer tools' rules check: liveness apart from readiness, Athens' disk
    storage requested and limited, budgets that let crash-looping pods go, castle's backend reachable from www only."""
    docs = render()
    for doc in of_kind(docs, "Deployment"):
        for c in pod_template(doc)["spec"]["containers"]:
            assert probe_handler(c["livenessProbe"], c) != probe_handler(c["readinessProbe"], c), doc["metadata"]["name"]
    athens = pod_template(find(docs, "Deployment", "athens", "athens"))["spec"]["containers"][0]["resources"]
    assert athens["requests"]["ephemeral-storage"] and athens["limits"]["ephemeral-storage"]
    assert {p["spec"]["unhealthyPodEvictionPolicy"] for p in of_kind(docs, "PodDisruptionBudget")} == {"AlwaysAllow"}
    policy = find(docs, "NetworkPolicy", "castle", "backend")["spec"]
    assert policy["ingress"][0]["from"] == [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "www"}}}]


def test_unknown_cluster_fault_is_refused() -> None:
    with pytest.raises(kube_workloads.LocalStackError, match="not a cluster fault profile: 'edge-legacy-tls'"):
        render(["edge-legacy-tls"])
    with pytest.raises(kube_workloads.LocalStackError, match="not a cluster fault profile: edge-legacy-tls"):
        kube_cluster.up(["edge-legacy-tls"], progress=lambda _: None)


def _deployment(want: int, generation: int = 2, observed: int = 2, **status: int) -> SimpleNamespace:
    counts = {"updated_replicas": want, "ready_replicas": want, "available_replicas": want, "replicas": want, **status}
    return SimpleNamespace(spec=SimpleNamespace(replicas=want), metadata=SimpleNamespace(generation=generation),
                           status=SimpleNamespace(observed_generation=observed, **counts))


def test_deployment_pending_reasons() -> None:
    assert kube_workloads.deployment_pending(_deployment(3)) is None
    assert "not yet observed" in kube_workloads.deployment_pending(_deployment(3, observed=1))
    assert kube_workloads.deployment_pending(_deployment(1), hpa_min=5) == "1 replicas, below its HPA minimum 5"
    assert kube_workloads.deployment_pending(_deployment(3, available_replicas=2)).startswith("2/3 available")
    assert "4 in total" in kube_workloads.deployment_pending(_deployment(3, replicas=4)), "old pods still running"


def test_the_load_balancer_reaches_athens_where_its_service_says() -> None:
    """The GOPROXY tier's HAProxy reaches Athens' pods as a cloud load balancer reaches a LoadBalancer Service with
    externalTrafficPolicy Local: each real node's NodePort, checked on the Service's healthCheckNodePort."""
    service = find(render(), "Service", "athens", "athens")["spec"]
    assert (service["type"], service["externalTrafficPolicy"]) == ("LoadBalancer", "Local")
    assert (service["ports"][0]["nodePort"], service["healthCheckNodePort"]) == (goproxy_tier.ATHENS_NODE_PORT,
                                                                                 goproxy_tier.ATHENS_HEALTH_NODE_PORT)
    lb = goproxy_tier.render()["lb"]
    for node in kube_nodes.REAL_NODES:
        assert f"server {node.name} {node.ip}:{goproxy_tier.ATHENS_NODE_PORT}\n" in lb
    assert f"check port {goproxy_tier.ATHENS_HEALTH_NODE_PORT}\n" in lb
    assert "check port" not in goproxy_tier.render(["lb-no-healthcheck"])["lb"]
