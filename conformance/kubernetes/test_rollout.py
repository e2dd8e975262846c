"""Rollout strategy arithmetic: a deploy keeps the claimed capacity Ready and never cuts a request short.

Seed 003: "the service will be deployed using kubectl without service interruption using rolling
update." Seed 004: pods are "registered to the application load balancer and healthy to receive
traffic" before they count; on the way out they must stay until the load balancer has let them go.
The linters of the field (kube-score, Polaris) check none of this arithmetic.

PYTEST_DONT_REWRITE: each assertion's message is the evidence, verbatim.
"""

from __future__ import annotations

import pytest

from gauntlet.environment import Workload
from gauntlet.kubernetes.arithmetic import rolling_update
from gauntlet.kubernetes.workload.probes import pod_template, pre_stop_seconds, readiness_lead_s

#: A stuck rollout must be reported within half an hour (Kubernetes' default is 600 s).
MAX_PROGRESS_DEADLINE_S = 1800
DEFAULT_PROGRESS_DEADLINE_S = 600
DEFAULT_GRACE_S = 30


def _rolled(workload: Workload) -> Workload:
    if workload.kind not in ("Deployment", "StatefulSet"):
        pytest.skip(f"{workload.ref} is a {workload.kind}: it is not rolled out, it runs to completion")
    return workload


def _strategy(obj: dict) -> dict | None:
    spec = obj.get("spec") or {}
    return spec.get("strategy") if obj.get("kind", "Deployment") == "Deployment" else spec.get("updateStrategy")


def _field(workload: Workload) -> str:
    return "spec.strategy" if workload.kind == "Deployment" else "spec.updateStrategy"


@pytest.mark.check("kubernetes.rollout.rolling-update")
def test_strategy_is_a_rolling_update(workload: Workload, objects: list[dict]) -> None:
    """``RollingUpdate``: ``Recreate`` stops every pod before starting the new ones (an outage per deploy)."""
    _rolled(workload)
    wrong = {o["metadata"]["name"]: (_strategy(o) or {}).get("type", "RollingUpdate") for o in objects}
    wrong = {k: v for k, v in wrong.items() if v != "RollingUpdate"}
    assert not wrong, "; ".join(f"{workload.ref}: {workload.kind} {name} {_field(workload)}.type: expected RollingUpdate, "
                                f"found {kind}" for name, kind in wrong.items())


@pytest.mark.check("kubernetes.rollout.keeps-the-floor")
def test_rolling_update_keeps_the_capacity_floor(workload: Workload, objects: list[dict]) -> None:
    """At the claimed replicas, ``maxUnavailable`` (rounded down) leaves at least the capacity floor Ready,
    every part rolling at once (``min_ready``; default: the claimed replicas minus one, at least 1)."""
    _rolled(workload)
    claimed = workload.claimed_replicas
    parts = {o["metadata"]["name"]: (o.get("spec") or {}).get("replicas", 1) for o in objects}
    if claimed is not None and len(objects) == 1:
        parts = {next(iter(parts)): claimed}
    total = sum(parts.values())
    floor = workload.capacity_floor or max(1, total - 1)
    plans = {o["metadata"]["name"]: rolling_update(_strategy(o), parts[o["metadata"]["name"]], o.get("kind", workload.kind))
             for o in objects}
    kept = sum(p["ready_at_least"] for p in plans.values())
    detail = "; ".join(
        f"{workload.kind} {name}: {_field(workload)} {_describe(_strategy(obj))} at {plans[name]['replicas']} replicas "
        f"takes down {plans[name]['max_unavailable']}, adds {plans[name]['max_surge']}"
        for name, obj in ((o["metadata"]["name"], o) for o in objects))
    assert kept >= floor, (
        f"{workload.ref}: Ready pods during a rollout: expected at least {floor} (the capacity floor, min_ready), "
        f"found it may keep {kept} of {total} ({detail})")


def _describe(strategy: dict | None) -> str:
    strategy = strategy or {}
    rolling = strategy.get("rollingUpdate") or {}
    values = ", ".join(f"{k} {rolling[k]}" for k in ("maxUnavailable", "maxSurge") if k in rolling)
    return f"{strategy.get('type', 'RollingUpdate')}({values or 'defaults 25%/25%'})"


@pytest.mark.check("kubernetes.rollout.deadlines")
def test_rollout_deadlines_are_sane(workload: Workload, objects: list[dict]) -> None:
    """``progressDeadlineSeconds`` leaves a new pod time to become ready and available (its readiness probe,
    then ``minReadySeconds``), and reports a stuck rollout within half an hour."""
    if _rolled(workload).kind != "Deployment":
        pytest.skip(f"{workload.ref} is a {workload.kind}: it has no progress deadline")
    problems = []
    for obj in objects:
        spec = obj.get("spec") or {}
        name = obj["metadata"]["name"]
        deadline = spec.get("progressDeadlineSeconds", DEFAULT_PROGRESS_DEADLINE_S)
        min_ready = spec.get("minReadySeconds", 0)
        needed = min_ready + readiness_lead_s(pod_template(obj))
        if deadline <= needed:
            problems.append(f"{workload.kind} {name} spec.progressDeadlineSeconds: expected more than {needed} s "
                            f"(minReadySeconds {min_ready} + the readiness probe's first pass), found {deadline} s: "
                            "every rollout would be reported failed")
        if deadline > MAX_PROGRESS_DEADLINE_S:
            problems.append(f"{workload.kind} {name} spec.progressDeadlineSeconds: expected at most "
                            f"{MAX_PROGRESS_DEADLINE_S} s, found {deadline} s: a stuck rollout goes unreported that long")
    assert not problems, f"{workload.ref}: " + "; ".join(problems)


@pytest.mark.check("kubernetes.rollout.outlives-deregistration")
def test_pods_outlive_the_deregistration_delay(workload: Workload, objects: list[dict]) -> None:
    """A serving container sleeps in ``preStop`` at least the load balancer's deregistration delay, and
    ``terminationGracePeriodSeconds`` outlasts that sleep: in-flight requests finish before SIGTERM."""
    delay = workload.deregistration_delay_s
    if delay is None:
        pytest.skip(f"{workload.ref}: the environment declares no load balancer deregistration delay (deregistration_delay_s)")
    problems = []
    for obj in objects:
        spec = pod_template(obj).get("spec") or {}
        grace = spec.get("terminationGracePeriodSeconds", DEFAULT_GRACE_S)
        containers = spec.get("containers") or ()
        serving = [(i, c) for i, c in enumerate(containers) if c.get("ports")] or list(enumerate(containers))
        for i, container in serving:
            where = f"{workload.kind} {obj['metadata']['name']} container {container.get('name')}"
            present, seconds = pre_stop_seconds(container)
            if not present:
                problems.append(f"{where}: spec.template.spec.containers[{i}].lifecycle.preStop: expected a delay of at least "
                                f"{delay} s (deregistration_delay_s), found none: the pod stops while the load balancer "
                                "still sends it requests")
            elif seconds is not None and seconds < delay:
                problems.append(f"{where}: spec.template.spec.containers[{i}].lifecycle.preStop: expected a delay of at "
                                f"least {delay} s (deregistration_delay_s), found {seconds} s")
            wait = max(delay, seconds or 0)
            if grace <= wait:
                problems.append(f"{where}: spec.template.spec.terminationGracePeriodSeconds: expected more than {wait} s "
                                f"(preStop {seconds if seconds is not None else '?'} s, deregistration delay {delay} s), "
                                f"found {grace} s: the pod is killed before it is let go")
    assert not problems, f"{workload.ref}: " + "; ".join(problems)
