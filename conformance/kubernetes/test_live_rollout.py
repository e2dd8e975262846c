"""A live rolling update (mutating, opt-in): restart a Deployment and watch that nothing is interrupted.

Seed 003: "the service will be deployed using kubectl without service interruption using rolling
update." The check does what ``kubectl rollout restart`` does to the workload the environment names
(``kubernetes.live_rollout``) and samples every second until the rollout completes: Ready pods never
below the capacity floor, every Service in front keeps ready endpoints, the environment's endpoint
(if named) keeps answering. It runs only where the environment opts in and its chaos policy allows
the namespace without a typed confirmation, after every read-only check, never beside them (no -n).
A restart changes nothing but the pods: there is nothing to roll back when it is interrupted.

PYTEST_DONT_REWRITE: each assertion's message is the evidence, verbatim.
"""

from __future__ import annotations

import pytest

from gauntlet.environment import Environment, Workload
from gauntlet.kubernetes.client import cluster
from gauntlet.kubernetes.deployment.actions import rollout_restart
from gauntlet.kubernetes.deployment.probes import rollout_status, watch_rollout
from gauntlet.kubernetes.pod.probes import pods_ready
from gauntlet.kubernetes.selectors import selector_string
from gauntlet.kubernetes.service.probes import services_selecting
from gauntlet.kubernetes.tracking import ReadyTracker
from gauntlet.kubernetes.workload.probes import pod_selector, pod_template, read_workload
from gauntlet.plugin import ssl_context

pytestmark = pytest.mark.mutating


def _allowed(workload: Workload, environment: Environment, config: pytest.Config) -> None:
    chaos = environment.chaos
    if not chaos.allowed:
        pytest.skip(f"environment {environment.name}'s chaos policy forbids changing the target (chaos.allowed: false)")
    if workload.namespace not in chaos.namespaces:
        pytest.skip(f"namespace {workload.namespace} is not among those the chaos policy allows "
                    f"({', '.join(chaos.namespaces) or 'none'}, chaos.namespaces)")
    if chaos.confirm:
        pytest.skip(f"environment {environment.name}'s chaos policy wants a typed confirmation (chaos.confirm: true), "
                    "which a conformance run cannot ask for")
    if hasattr(config, "workerinput"):
        pytest.skip("a live rollout runs only in a serial session (without -n): the read-only checks beside it "
                    "would observe the rollout")


@pytest.mark.check("kubernetes.rollout.live-restart-keeps-capacity")
def test_rolling_restart_keeps_capacity_and_endpoints(live_workload: Workload, environment: Environment, kube: dict,
                                                      pytestconfig: pytest.Config, record_property) -> None:
    """Ready pods never below the capacity floor and ready endpoints all along, until the rollout completes."""
    workload, live = live_workload, environment.kubernetes.live_rollout
    _allowed(workload, environment, pytestconfig)
    deployment = read_workload(workload.name, workload.namespace, "Deployment", kube)
    before = rollout_status(deployment)
    if not before["complete"]:
        pytest.skip(f"{workload.ref}: a rollout is already in progress ({before['updatedReplicas']} of {before['wanted']} "
                    "updated): not starting another")
    floor = workload.capacity_floor or max(1, before["wanted"] - 1)
    ready = pods_ready(workload.namespace, selector_string(pod_selector(deployment)), floor, False, kube)["ready"]
    if ready < floor:
        pytest.skip(f"{workload.ref}: {ready} Ready pods before the rollout, under the capacity floor {floor}: "
                    "the capacity checks report it; a rollout from there proves nothing")
    labels = (pod_template(deployment).get("metadata") or {}).get("labels") or {}
    services = [s["name"] for s in services_selecting(labels, workload.namespace, kube)]
    url, verify = None, True
    if live.endpoint:
        endpoint = environment.endpoint(live.endpoint)
        url, verify = str(endpoint.url), ssl_context(environment)
    selector = selector_string(pod_selector(deployment))
    with ReadyTracker(cluster(kube), workload.namespace, selector, services) as tracker:
        restarted = rollout_restart(workload.name, workload.namespace, kube)
        result = watch_rollout(workload.name, workload.namespace, floor, restarted["generation"], services, url, verify,
                               live.interval_s, live.timeout_s, raise_on_dip=False, tracker=tracker, configuration=kube)
    record_property("rollout_s", result["rollout_s"])
    record_property("worst_sample", result["worst"])
    record_property("live_rollout", {k: v for k, v in result.items() if k != "worst"} | {"restarted_at": restarted["restarted_at"],
                                                                                       "ready_before": ready})
    problems = []
    if not result["completed"]:
        last = result["samples"][-1]
        problems.append(f"expected the rollout complete within {live.timeout_s} s (kubernetes.live_rollout.timeout_s), found "
                        f"{'ProgressDeadlineExceeded' if result['progress_deadline_exceeded'] else 'it still rolling'} after "
                        f"{last['t']} s ({last['updated']} of {before['wanted']} updated)")
    if result["below_min_ready"]:
        problems.append(f"Ready pods: expected at least {floor} (the capacity floor, min_ready) all along, found "
                        f"{result['worst']['ready']} at {result['worst']['at_s']} s (below it at "
                        f"{', '.join(map(str, result['below_min_ready'][:5]))} s)")
    for service, times in result["without_endpoints"].items():
        problems.append(f"Service {service} ready endpoints: expected at least 1 all along, found none at "
                        f"{', '.join(map(str, times[:5]))} s")
    if result["http_failures"]:
        problems.append(f"GET {url}: expected an answer below 500 at every sample, found "
                        + ", ".join(f"{x['http']} at {x['t']} s" for x in result["http_failures"][:5]))
    assert not problems, (f"{workload.ref}: rolling restart at {restarted['restarted_at']} "
                          f"({len(result['samples'])} samples every {live.interval_s} s, and watches between them): "
                          + "; ".join(problems))
