"""Not exposed publicly, by NetworkPolicy: which policies restrict ingress to a tier, and what may reach it.

Seed 003: "The second tier isn't exposed publicly"; "Prometheus and its components are not exposed
publicly". No public Service type and no Ingress (``kubernetes.service.not-public``) still leave every
pod reachable from anything that reaches the nodes' pod network; a NetworkPolicy that isolates the pods
for ingress and admits only in-cluster sources closes that. Read from the API: whether the cluster's
network plugin enforces NetworkPolicies is not visible there.

PYTEST_DONT_REWRITE: each assertion's message is the evidence, verbatim.
"""

from __future__ import annotations

import pytest

from gauntlet.environment import Workload
from gauntlet.kubernetes.networkpolicy.probes import ingress_sources, isolates_ingress, policies_selecting
from gauntlet.kubernetes.workload.probes import pod_template


@pytest.mark.check("kubernetes.network-policy.restricts-ingress")
def test_ingress_is_restricted_to_in_cluster_sources(workload: Workload, objects: list[dict], kube: dict,
                                                     record_property) -> None:
    """A NetworkPolicy isolates the workload's pods for ingress, and no rule of the policies selecting them admits
    every source or addresses beyond the private ranges; what may reach them is recorded with the check."""
    if workload.kind in ("Job", "CronJob"):
        pytest.skip(f"{workload.ref} is a {workload.kind}: nothing connects to it")
    problems, reach = [], {}
    for obj in objects:
        labels = (pod_template(obj).get("metadata") or {}).get("labels") or {}
        selecting = policies_selecting(labels, workload.namespace, kube)
        isolating = [p for p in selecting if isolates_ingress(p)]
        name = f"{workload.kind} {obj['metadata']['name']}"
        if not isolating:
            problems.append(f"NetworkPolicy isolating the pods of {name} (labels "
                            f"{', '.join(f'{k}={v}' for k, v in sorted(labels.items()))}) for ingress in namespace "
                            f"{workload.namespace}: expected one, found "
                            f"{', '.join(p['metadata']['name'] + ' (egress only)' for p in selecting) or 'none'}: "
                            "any pod or address that reaches the pod network can connect")
            continue
        sources = ingress_sources(isolating)
        reach[name] = [f"{s['source']} on {s['ports']} ({s['policy']} {s['rule']})" for s in sources]
        problems += [f"NetworkPolicy {workload.namespace}/{s['policy']} {s['rule']} admits {s['source']} on {s['ports']} "
                     f"to the pods of {name}: expected only in-cluster sources (pods, namespaces, private addresses)"
                     for s in sources if s["public"]]
    record_property("reachable_from", reach)
    assert not problems, f"{workload.ref}: " + "; ".join(problems)
