"""Disruption and spread: a node drain, a node or a zone lost must leave the claimed capacity serving.

Seed 003: "All components are resilient to failure"; "In case of a failure of a single replica-set it
can handle max workloads on a single replica"; and, stated as a limitation, "worker nodes are in a
single AZ". Seeds 000-002: Athens pods on AKS must survive pods that "crash because they feel like
it". A PodDisruptionBudget lets a drain proceed one pod at a time without going below the capacity
floor (``min_ready``; default: the claimed replicas minus one, at least 1).

PYTEST_DONT_REWRITE: each assertion's message is the evidence, verbatim.
"""

from __future__ import annotations

from collections import Counter

import pytest

from gauntlet.environment import Workload
from gauntlet.kubernetes.arithmetic import disruption_budget
from gauntlet.kubernetes.hpa.probes import hpas_targeting
from gauntlet.kubernetes.node.probes import ZONE_LABEL, nodes
from gauntlet.kubernetes.pdb.probes import pdbs_selecting
from gauntlet.kubernetes.pod.probes import pod_summary
from gauntlet.kubernetes.workload.probes import pod_template


def _long_running(workload: Workload) -> Workload:
    if workload.kind in ("Job", "CronJob"):
        pytest.skip(f"{workload.ref} is a {workload.kind}: disruption budgets protect long-running pods")
    return workload


def _one_budget_per_part(workload: Workload, objects: list[dict], kube: dict) -> dict:
    """The one PodDisruptionBudget selecting the pods of every object of the workload (fails otherwise)."""
    found: dict[str, dict] = {}
    for obj in objects:
        labels = (pod_template(obj).get("metadata") or {}).get("labels") or {}
        mine = pdbs_selecting(labels, workload.namespace, kube)
        assert len(mine) == 1, (
            f"{workload.ref}: PodDisruptionBudget selecting the pods of {workload.kind} {obj['metadata']['name']} "
            f"(labels {', '.join(f'{k}={v}' for k, v in sorted(labels.items()))}) in namespace {workload.namespace}: "
            f"expected exactly one, found {len(mine)} ({', '.join(p['metadata']['name'] for p in mine) or 'none'})"
            + (": a node drain may evict every replica at once" if not mine else ": the Eviction API refuses pods with several"))
        found[mine[0]["metadata"]["name"]] = mine[0]
    assert len(found) == 1, f"{workload.ref}: expected one PodDisruptionBudget for all its parts, found {sorted(found)}"
    return next(iter(found.values()))


def _budget(workload: Workload, objects: list[dict], kube: dict) -> dict:
    """The budget of a workload the environment claims one for (``pdb: true``)."""
    if not workload.pdb:
        pytest.skip(f"{workload.ref}: the environment claims no PodDisruptionBudget for it (pdb: false)")
    return _one_budget_per_part(_long_running(workload), objects, kube)


def _replicas(workload: Workload, objects: list[dict]) -> int:
    return workload.claimed_replicas or sum((o.get("spec") or {}).get("replicas", 1) for o in objects)


def _floor(workload: Workload, replicas: int) -> int:
    return workload.capacity_floor or max(1, replicas - 1)


def _spec(pdb: dict) -> str:
    spec = pdb.get("spec") or {}
    if spec.get("minAvailable") is not None:
        return f"minAvailable {spec['minAvailable']}"
    if spec.get("maxUnavailable") is not None:
        return f"maxUnavailable {spec['maxUnavailable']}"
    return "neither minAvailable nor maxUnavailable"


@pytest.mark.check("kubernetes.pdb.exists")
def test_a_disruption_budget_covers_the_workload(workload: Workload, objects: list[dict], kube: dict) -> None:
    """Exactly one PodDisruptionBudget selects the workload's pods."""
    _budget(workload, objects, kube)


@pytest.mark.check("kubernetes.pdb.covers-multi-replica")
def test_a_multi_replica_workload_has_a_disruption_budget(workload: Workload, objects: list[dict], kube: dict) -> None:
    """A workload of two replicas or more (claimed, else its objects' ``spec.replicas``) has exactly one
    PodDisruptionBudget, whatever the environment's ``pdb`` says (kube-score's deployment-has-poddisruptionbudget): a
    node drain otherwise may evict every replica at once."""
    replicas = _replicas(_long_running(workload), objects)
    if replicas < 2:
        pytest.skip(f"{workload.ref}: {replicas} replica: no budget keeps a single pod through a drain")
    _one_budget_per_part(workload, objects, kube)


@pytest.mark.check("kubernetes.pdb.evicts-unhealthy-pods")
def test_budget_lets_unhealthy_pods_be_evicted(workload: Workload, objects: list[dict], kube: dict) -> None:
    """``spec.unhealthyPodEvictionPolicy: AlwaysAllow``: a pod that runs but is not Ready (crash-looping) may be
    evicted whatever the budget. With the default, IfHealthyBudget, such pods count against an exhausted budget and
    a node drain waits on them forever (Kubernetes, "Unhealthy Pod Eviction Policy")."""
    pdb = _budget(workload, objects, kube)
    policy = (pdb.get("spec") or {}).get("unhealthyPodEvictionPolicy")
    assert policy == "AlwaysAllow", (
        f"{workload.ref}: PodDisruptionBudget {workload.namespace}/{pdb['metadata']['name']} "
        f"spec.unhealthyPodEvictionPolicy: expected AlwaysAllow, found {policy or 'none (IfHealthyBudget, the default)'}: "
        "crash-looping pods that are not Ready block a node drain while the budget is exhausted")


@pytest.mark.check("kubernetes.pdb.allows-one-within-the-floor")
def test_budget_allows_one_disruption_within_the_floor(workload: Workload, objects: list[dict], kube: dict) -> None:
    """At the claimed replicas the budget lets one pod go (a drain can proceed) and never more than
    keeps the capacity floor Ready; the disruption controller allows one now."""
    pdb = _budget(workload, objects, kube)
    replicas = _replicas(workload, objects)
    floor = _floor(workload, replicas)
    budget = disruption_budget(pdb.get("spec") or {}, replicas)
    name = f"PodDisruptionBudget {workload.namespace}/{pdb['metadata']['name']}"
    assert budget["disruptions"] >= 1, (
        f"{workload.ref}: {name} spec ({_spec(pdb)}) at {replicas} replicas: expected at least 1 disruption allowed, "
        f"found {budget['disruptions']}: a node drain blocks forever")
    assert budget["guaranteed"] >= floor, (
        f"{workload.ref}: {name} spec ({_spec(pdb)}) at {replicas} replicas: expected to keep at least {floor} "
        f"(the capacity floor, min_ready), found it keeps {budget['guaranteed']}")
    status = pdb.get("status") or {}
    allowed = status.get("disruptionsAllowed", 0)
    assert allowed >= 1, (
        f"{workload.ref}: {name} status.disruptionsAllowed: expected at least 1 now, found {allowed} "
        f"(currentHealthy {status.get('currentHealthy')}, desiredHealthy {status.get('desiredHealthy')})")


@pytest.mark.check("kubernetes.pdb.leaves-the-hpa-minimum-room")
def test_budget_leaves_the_autoscaler_minimum_room(workload: Workload, objects: list[dict], kube: dict) -> None:
    """At the autoscaler's ``minReplicas`` the budget still allows a disruption (minAvailable below it)."""
    if workload.hpa is None:
        pytest.skip(f"{workload.ref}: the environment claims no autoscaler (hpa)")
    pdb = _budget(workload, objects, kube)
    hpas = hpas_targeting(workload.kind, workload.name, workload.namespace, kube)
    if not hpas:
        pytest.fail(f"{workload.ref}: no HorizontalPodAutoscaler scales {workload.kind}/{workload.name}", pytrace=False)
    minimum = (hpas[0].get("spec") or {}).get("minReplicas", 1)
    budget = disruption_budget(pdb.get("spec") or {}, minimum)
    assert budget["disruptions"] >= 1, (
        f"{workload.ref}: PodDisruptionBudget {pdb['metadata']['name']} spec ({_spec(pdb)}) against "
        f"HorizontalPodAutoscaler {hpas[0]['metadata']['name']} spec.minReplicas {minimum}: expected at least 1 "
        f"disruption allowed at the minimum, found {budget['disruptions']}: at its minimum the tier can never be drained")


def _ready_placement(workload: Workload, pods: list[dict], kube: dict) -> tuple[list[dict], dict[str, dict]]:
    if workload.kind in ("Job", "CronJob"):
        pytest.skip(f"{workload.ref} is a {workload.kind}: spread applies to long-running pods")
    ready = [s for s in map(pod_summary, pods) if s["ready"] and not s["terminating"]]
    return ready, nodes(kube)


def _counts(counter: Counter) -> str:
    return ", ".join(f"{k or 'unknown'}: {v}" for k, v in sorted(counter.items(), key=lambda kv: str(kv[0])))


@pytest.mark.check("kubernetes.spread.nodes")
def test_pods_spread_over_nodes(workload: Workload, pods: list[dict], kube: dict) -> None:
    """Two Ready pods or more never share a single node: losing a node is not losing the tier."""
    ready, _ = _ready_placement(workload, pods, kube)
    if len(ready) < 2:
        pytest.skip(f"{workload.ref}: {len(ready)} Ready pod(s): nothing to spread (the capacity checks judge the count)")
    per_node = Counter(p["node"] for p in ready)
    assert len(per_node) >= 2, (
        f"{workload.ref}: spec.nodeName of its {len(ready)} Ready pods: expected at least 2 nodes, found "
        f"{len(per_node)} ({_counts(per_node)})")


@pytest.mark.check("kubernetes.spread.zones")
def test_pods_span_the_claimed_zones(workload: Workload, pods: list[dict], kube: dict) -> None:
    """The Ready pods run in at least the claimed number of zones (``zones``): a zone lost is not the tier lost."""
    if workload.zones is None:
        pytest.skip(f"{workload.ref}: the environment claims no zone count for it (zones)")
    ready, placement = _ready_placement(workload, pods, kube)
    per_zone: Counter[str | None] = Counter(placement.get(p["node"], {}).get("zone") for p in ready)
    cluster_zones = sorted({n["zone"] for n in placement.values() if n["ready"] and n["zone"]})
    assert len([z for z in per_zone if z]) >= workload.zones, (
        f"{workload.ref}: {ZONE_LABEL} of the nodes of its {len(ready)} Ready pods: expected at least {workload.zones} "
        f"zones, found {len([z for z in per_zone if z])} ({_counts(per_zone) or 'no Ready pod'}); the cluster's Ready "
        f"nodes are in {len(cluster_zones)} ({', '.join(cluster_zones) or 'none'})")
