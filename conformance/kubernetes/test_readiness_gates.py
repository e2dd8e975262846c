"""Readiness gates: a pod counts as Ready only once the load balancer has it registered and healthy.

Seed 004: "We need to apply the readiness gate inject label to the namespace we'll use to install
Artifact Hub. This will allow us to indicate that the pod is registered to the application load
balancer and healthy to receive traffic." (``kubectl label namespace <NAMESPACE_NAME>
elbv2.k8s.aws/pod-readiness-gate-inject=enabled``). The AWS Load Balancer Controller then injects
the gate ``target-health.elbv2.k8s.aws/<target group binding>`` into every new pod and sets it
True once the target is healthy; the kubelet reports Ready only when every gate is True.

PYTEST_DONT_REWRITE: each assertion's message is the evidence, verbatim.
"""

from __future__ import annotations

import pytest

from gauntlet.environment import Workload
from gauntlet.kubernetes.alb import INJECT_LABEL, INJECT_VALUE, READINESS_GATE_PREFIX
from gauntlet.kubernetes.namespace.probes import namespace_labels
from gauntlet.kubernetes.pod.probes import became_ready_after_gates, pod_summary


def _gated(workload: Workload) -> Workload:
    if not workload.readiness_gate:
        pytest.skip(f"{workload.ref}: the environment claims no readiness gate for it (readiness_gate: false)")
    return workload


@pytest.mark.check("kubernetes.readiness-gates.namespace-label")
def test_namespace_carries_the_injection_label(workload: Workload, kube: dict) -> None:
    """``elbv2.k8s.aws/pod-readiness-gate-inject=enabled`` on the namespace: without it no gate is injected."""
    ns = _gated(workload).namespace
    key, value = INJECT_LABEL, INJECT_VALUE
    found = namespace_labels(ns, kube).get(key)
    assert found == value, (
        f"namespace {ns} (workload {workload.ref}): metadata.labels[{key}]: expected {value!r}, found "
        f"{found if found is not None else 'no such label'!r}: the load balancer controller injects no readiness gate "
        "into new pods, so they count as Ready before the load balancer has registered them")


@pytest.mark.check("kubernetes.readiness-gates.on-every-pod")
def test_pods_carry_the_readiness_gate(workload: Workload, pods: list[dict]) -> None:
    """Every pod of the workload has the load balancer's gate in ``spec.readinessGates``."""
    _gated(workload)
    live = [pod_summary(p) for p in pods if not p["metadata"].get("deletionTimestamp")]
    assert live, f"{workload.ref}: no pod found: expected pods carrying the readiness gate {READINESS_GATE_PREFIX}*"
    missing = {p["name"]: p["readiness_gates"] for p in live if not any(g.startswith(READINESS_GATE_PREFIX) for g in p["readiness_gates"])}
    assert not missing, (
        f"{workload.ref}: {len(missing)} of {len(live)} pods without the load balancer's readiness gate: "
        + "; ".join(f"pod {name}: spec.readinessGates: expected a condition type {READINESS_GATE_PREFIX}<target group>, "
                    f"found {found or 'none'}" for name, found in missing.items()))


@pytest.mark.check("kubernetes.readiness-gates.true-before-ready")
def test_ready_pods_had_their_gate_true_first(workload: Workload, pods: list[dict]) -> None:
    """No pod is Ready with its gate condition False or missing, or set True only after it became Ready."""
    _gated(workload)
    ready = [pod_summary(p) for p in pods if not p["metadata"].get("deletionTimestamp")]
    ready = [p for p in ready if p["ready"]]
    if not ready:
        pytest.skip(f"{workload.ref}: no Ready pod to judge (the capacity checks judge how many are Ready)")
    offenders = {}
    for pod in ready:
        problems = became_ready_after_gates(pod)
        if not any(g.startswith(READINESS_GATE_PREFIX) for g in pod["readiness_gates"]):
            problems.append(f"Ready with no {READINESS_GATE_PREFIX}* gate: never registered at the load balancer")
        if problems:
            offenders[pod["name"]] = problems
    assert not offenders, (
        f"{workload.ref}: {len(offenders)} of {len(ready)} Ready pods count as Ready without a healthy target: "
        + "; ".join(f"pod {name}: status.conditions: expected the gate True before Ready, found {', '.join(why)}"
                    for name, why in offenders.items()))
