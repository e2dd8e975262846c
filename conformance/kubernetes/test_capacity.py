"""Capacity claims: replicas and autoscaler bounds as the environment states them, and Ready now.

Seed 003: "The first tier (www|frontend) ... autoscaled on demand by HorizontalPodAutoscaler with a
minimum replicas of 5 to allow at least 50 rps"; "deployed with 2 replica-sets for resiliency ... In
case of a failure of a single replica-set it can handle max workloads on a single replica while kube
brings up a second healthy one." Seeds 000-002: "Athens deployment (pods)" on AKS.

PYTEST_DONT_REWRITE: each assertion's message is the evidence, verbatim.
"""

from __future__ import annotations

import pytest

from gauntlet.environment import Workload
from gauntlet.kubernetes.hpa.probes import hpas_targeting, metric_kinds
from gauntlet.kubernetes.pod.probes import pod_summary
from gauntlet.kubernetes.workload.probes import replica_sets

#: A container stuck here is not coming back on its own.
STUCK = ("CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull", "CreateContainerConfigError", "InvalidImageName",
         "CreateContainerError", "RunContainerError")


def _scaled(workload: Workload) -> Workload:
    if workload.kind not in ("Deployment", "StatefulSet"):
        pytest.skip(f"{workload.ref} is a {workload.kind}: it has no replicas to claim")
    return workload


@pytest.mark.check("kubernetes.replicas.as-claimed")
def test_replicas_equal_the_claim(workload: Workload, objects: list[dict]) -> None:
    """``spec.replicas`` (summed over the workload's parts) is what the environment claims."""
    if _scaled(workload).replicas is None:
        pytest.skip(f"{workload.ref}: the environment claims no replica count (replicas), "
                    f"{'its autoscaler owns it' if workload.hpa else 'nothing to compare'}")
    found = {o["metadata"]["name"]: (o.get("spec") or {}).get("replicas", 1) for o in objects}
    assert sum(found.values()) == workload.replicas, (
        f"{workload.ref}: {workload.kind} spec.replicas: expected {workload.replicas} in all, found {sum(found.values())} "
        f"({', '.join(f'{k}: {v}' for k, v in found.items())})")


@pytest.mark.check("kubernetes.hpa.bounds-as-claimed")
def test_autoscaler_bounds_equal_the_claim(workload: Workload, kube: dict) -> None:
    """One HorizontalPodAutoscaler scales the workload, with ``minReplicas``/``maxReplicas`` as claimed."""
    if workload.hpa is None:
        pytest.skip(f"{workload.ref}: the environment claims no autoscaler bounds (hpa)")
    found = hpas_targeting(workload.kind, workload.name, workload.namespace, kube)
    assert len(found) == 1, (
        f"{workload.ref}: HorizontalPodAutoscaler with scaleTargetRef {workload.kind}/{workload.name} in namespace "
        f"{workload.namespace}: expected exactly one, found {len(found)} ({', '.join(h['metadata']['name'] for h in found) or 'none'})")
    hpa = found[0]
    spec = hpa.get("spec") or {}
    bounds = (spec.get("minReplicas", 1), spec.get("maxReplicas"))
    assert bounds == (workload.hpa.min, workload.hpa.max), (
        f"{workload.ref}: HorizontalPodAutoscaler {hpa['metadata']['name']} spec.minReplicas/maxReplicas: expected "
        f"{workload.hpa.min}/{workload.hpa.max}, found {bounds[0]}/{bounds[1]}")


@pytest.mark.check("kubernetes.hpa.request-rate-metric")
def test_autoscaler_scales_on_request_rate(workload: Workload, kube: dict) -> None:
    """Seed 003's own wish: the www HPA "should be using a custom metrics", not CPU utilisation."""
    found = hpas_targeting(workload.kind, workload.name, workload.namespace, kube)
    if not found:
        pytest.fail(f"{workload.ref}: no HorizontalPodAutoscaler scales {workload.kind}/{workload.name}", pytrace=False)
    kinds = [k for hpa in found for k in metric_kinds(hpa)]
    assert any(k.split(":")[0] in ("Pods", "Object", "External") for k in kinds), (
        f"{workload.ref}: HorizontalPodAutoscaler {found[0]['metadata']['name']} spec.metrics: expected a Pods, Object "
        f"or External metric (requests per second), found {', '.join(kinds) or 'none (CPU by default)'}")


@pytest.mark.check("kubernetes.replicas.ready")
def test_ready_replicas_meet_the_claim(workload: Workload, objects: list[dict], pods: list[dict]) -> None:
    """``status.readyReplicas`` (summed over the parts) reaches the claimed replicas now."""
    claimed = _scaled(workload).claimed_replicas
    if claimed is None:
        pytest.skip(f"{workload.ref}: the environment claims no replicas (replicas or hpa.min)")
    ready = {o["metadata"]["name"]: (o.get("status") or {}).get("readyReplicas", 0) for o in objects}
    unready = [s for s in map(pod_summary, pods) if not s["ready"] and not s["terminating"]]
    why = "; ".join(f"pod {s['name']} {s['phase']} on {s['node'] or 'no node'}"
                    f"{': ' + s['conditions']['Ready']['reason'] if s['conditions'].get('Ready', {}).get('reason') else ''}"
                    for s in unready[:5])
    assert sum(ready.values()) >= claimed, (
        f"{workload.ref}: {workload.kind} status.readyReplicas: expected at least {claimed} "
        f"({'hpa.min' if workload.replicas is None else 'replicas'}), found {sum(ready.values())} "
        f"({', '.join(f'{k}: {v}' for k, v in ready.items())}){'; not Ready: ' + why if why else ''}")


@pytest.mark.check("kubernetes.pods.not-stuck")
def test_no_container_is_stuck(workload: Workload, pods: list[dict]) -> None:
    """No container waits in CrashLoopBackOff or an image pull error: a crashed pod comes back on its own."""
    stuck = []
    for summary in map(pod_summary, pods):
        for c in summary["containers"]:
            if c["waiting"] in STUCK:
                last = f", last terminated {c['last_terminated']}" if c["last_terminated"] else ""
                stuck.append(f"pod {summary['name']} container {c['name']}: status.containerStatuses.state.waiting.reason "
                             f"{c['waiting']} after {c['restarts']} restarts{last}")
    assert not stuck, f"{workload.ref}: expected every container running or starting, found " + "; ".join(stuck)


def _listed(sets: list[dict]) -> str:
    return ", ".join(f"{rs['name']}: {rs['ready']} Ready" for rs in sets) or "no ReplicaSet"


def _replica_sets(workload: Workload, kube: dict) -> list[dict]:
    if workload.kind != "Deployment":
        pytest.skip(f"{workload.ref} is a {workload.kind}: it has no ReplicaSets")
    return [rs for name in workload.objects for rs in replica_sets(name, workload.namespace, kube) if rs["replicas"]]


@pytest.mark.check("kubernetes.replica-sets.as-claimed")
def test_replica_sets_equal_the_claim(workload: Workload, kube: dict) -> None:
    """As many ReplicaSets holding Ready pods as the environment claims (``replica_sets``)."""
    if workload.replica_sets is None:
        pytest.skip(f"{workload.ref}: the environment claims no replica-set count (replica_sets)")
    live = [rs for rs in _replica_sets(workload, kube) if rs["ready"]]
    assert len(live) == workload.replica_sets, (
        f"{workload.ref}: ReplicaSets with Ready pods: expected {workload.replica_sets}, found {len(live)} "
        f"({_listed(live)})")


@pytest.mark.check("kubernetes.replica-sets.survive-one-loss")
def test_survives_losing_one_replica_set(workload: Workload, kube: dict) -> None:
    """Losing any one ReplicaSet leaves at least the capacity floor Ready (``min_ready``, default claimed - 1)."""
    floor = workload.capacity_floor
    if floor is None:
        pytest.skip(f"{workload.ref}: the environment claims no replicas (replicas or hpa.min): no capacity floor")
    sets = _replica_sets(workload, kube)
    total = sum(rs["ready"] for rs in sets)
    worst = max(sets, key=lambda rs: rs["ready"], default=None)
    left = total - (worst["ready"] if worst else 0)
    assert left >= floor, (
        f"{workload.ref}: Ready pods left after losing ReplicaSet {worst['name'] if worst else '(none)'}: expected at "
        f"least {floor} (min_ready), found {left} of {total} "
        f"({_listed(sets)}): "
        "one ReplicaSet holds every pod, so its loss is an outage")
