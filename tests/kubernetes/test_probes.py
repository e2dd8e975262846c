"""Probes on the API's JSON: pods and their readiness gates, workloads' specs, rollouts, Services, and the tracker."""

from __future__ import annotations

import time

import pytest

from gauntlet.kubernetes.client import cluster
from gauntlet.kubernetes.deployment.actions import rollout_restart
from gauntlet.kubernetes.deployment.probes import rollout_status, watch_rollout
from gauntlet.kubernetes.errors import ActionRefused, Deviation
from gauntlet.kubernetes.hpa.probes import metric_kinds
from gauntlet.kubernetes.pod.probes import became_ready_after_gates, pod_summary, pods_ready
from gauntlet.kubernetes.service.probes import ingresses_routing_to, service_endpoints
from gauntlet.kubernetes.tracking import ReadyTracker
from gauntlet.kubernetes.workload.probes import pod_template, pre_stop_seconds, probe_handler, readiness_lead_s, replica_sets

GATE = "target-health.elbv2.k8s.aws/k8s-artifac-hub-27dbb5c35b"


def pod(name: str, ready: bool = True, gates: tuple[str, ...] = (), gate_status: str = "True", ready_at: str = "2026-01-01T00:00:10Z",
        gate_at: str = "2026-01-01T00:00:10Z", terminating: bool = False, labels: dict | None = None) -> dict:
    conditions = [{"type": "Ready", "status": "True" if ready else "False", "lastTransitionTime": ready_at}]
    conditions += [{"type": g, "status": gate_status, "lastTransitionTime": gate_at} for g in gates]
    meta = {"name": name, "namespace": "artifacthub", "labels": labels or {"app": "hub"}}
    if terminating:
        meta["deletionTimestamp"] = "2026-01-01T00:01:00Z"
    return {"metadata": meta, "spec": {"nodeName": "workers-a", "readinessGates": [{"conditionType": g} for g in gates]},
            "status": {"phase": "Running", "conditions": conditions,
                       "containerStatuses": [{"name": "hub", "ready": ready, "restartCount": 2,
                                              "state": {"waiting": {"reason": "CrashLoopBackOff"}} if not ready else {"running": {}},
                                              "lastState": {"terminated": {"reason": "OOMKilled"}}}]}}


def test_pod_summary():
    summary = pod_summary(pod("hub-1", ready=False, gates=(GATE,), gate_status="False"))
    assert summary["ready"] is False and summary["readiness_gates"] == [GATE] and summary["node"] == "workers-a"
    assert summary["containers"] == [{"name": "hub", "ready": False, "restarts": 2, "waiting": "CrashLoopBackOff",
                                      "last_terminated": "OOMKilled"}]


def test_gate_true_at_the_same_time_as_ready_is_fine():
    assert became_ready_after_gates(pod_summary(pod("a", gates=(GATE,)))) == []


def test_gate_false_or_late_is_reported():
    assert became_ready_after_gates(pod_summary(pod("a", gates=(GATE,), gate_status="False"))) == [f"{GATE} is False"]
    late = became_ready_after_gates(pod_summary(pod("a", gates=(GATE,), gate_at="2026-01-01T00:00:20Z")))
    assert late == [f"{GATE} True at 2026-01-01T00:00:20Z, after Ready at 2026-01-01T00:00:10Z"]
    missing = pod("a", gates=(GATE,))
    missing["status"]["conditions"] = missing["status"]["conditions"][:1]
    assert became_ready_after_gates(pod_summary(missing)) == [f"{GATE} is missing"]


@pytest.mark.parametrize(("container", "expected"), [
    ({}, (False, None)),
    ({"lifecycle": {"preStop": {"sleep": {"seconds": 35}}}}, (True, 35)),
    ({"lifecycle": {"preStop": {"exec": {"command": ["/bin/sh", "-c", "sleep 40"]}}}}, (True, 40)),
    ({"lifecycle": {"preStop": {"exec": {"command": ["sleep", "15"]}}}}, (True, 15)),
    ({"lifecycle": {"preStop": {"httpGet": {"path": "/drain", "port": 8080}}}}, (True, None)),
])
def test_pre_stop_seconds(container, expected):
    assert pre_stop_seconds(container) == expected


def test_readiness_lead_takes_the_slowest_container():
    template = {"spec": {"containers": [{"readinessProbe": {"periodSeconds": 5}},
                                        {"readinessProbe": {"initialDelaySeconds": 20, "periodSeconds": 10, "successThreshold": 2}},
                                        {}]}}
    assert readiness_lead_s(template) == 40


def test_pod_template_of_a_cronjob():
    cron = {"kind": "CronJob", "spec": {"jobTemplate": {"spec": {"template": {"metadata": {"labels": {"a": "b"}}}}}}}
    assert pod_template(cron) == {"metadata": {"labels": {"a": "b"}}}


def _deployment(generation: int, observed: int, **status) -> dict:
    return {"metadata": {"name": "www", "namespace": "castle", "generation": generation},
            "spec": {"replicas": 5}, "status": {"observedGeneration": observed, **status}}


def test_rollout_status():
    done = rollout_status(_deployment(3, 3, replicas=5, updatedReplicas=5, readyReplicas=5, availableReplicas=5))
    assert done["complete"] and not done["failed"]
    rolling = rollout_status(_deployment(4, 3, replicas=5, updatedReplicas=5, readyReplicas=5, availableReplicas=5))
    assert not rolling["complete"], "a new generation the controller has not observed is not complete"
    surging = rollout_status(_deployment(4, 4, replicas=6, updatedReplicas=2, readyReplicas=6, availableReplicas=6))
    assert not surging["complete"]
    stuck = _deployment(4, 4, replicas=6)
    stuck["status"]["conditions"] = [{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}]
    assert rollout_status(stuck)["failed"]


class SeenByWatches:
    """What :func:`watch_rollout` reads of a :class:`ReadyTracker`: its start and the lowest counts the watches saw."""

    def __init__(self, lowest_ready: dict | None) -> None:
        self.started, self.lowest_ready, self.lowest_endpoints = time.monotonic(), lowest_ready, {}

    def raise_if_failed(self) -> None:
        pass


def test_a_dip_only_the_watches_saw_between_samples_breaks_the_rollout(fake_api, fake_config, object_list):
    deployment = _deployment(3, 3, replicas=3, updatedReplicas=3, readyReplicas=3, availableReplicas=3)
    deployment["spec"] = {"replicas": 3, "selector": {"matchLabels": {"app": "hub"}}}
    fake_api.answer("/apis/apps/v1/namespaces/castle/deployments/www", deployment)
    fake_api.answer("/api/v1/namespaces/castle/pods", object_list("Pod", [pod("a"), pod("b"), pod("c")]))
    dip = SeenByWatches({"ready": 1, "t": 0.4})
    result = watch_rollout("www", "castle", 2, tracker=dip, raise_on_dip=False, timeout_s=5, configuration=fake_config)
    assert result["completed"] and len(result["samples"]) == 1 and result["samples"][0]["ready"] == 3
    assert result["worst"] == {"ready": 1, "at_s": 0.4, "endpoints": {}} and result["below_min_ready"] == [0.4]
    with pytest.raises(Deviation, match="rollout of Deployment castle/www: worst sample .*'ready': 1.*completed True"):
        watch_rollout("www", "castle", 2, tracker=dip, timeout_s=5, configuration=fake_config)
    assert watch_rollout("www", "castle", 2, tracker=SeenByWatches(None), timeout_s=5,
                         configuration=fake_config)["below_min_ready"] == []


def test_a_rollout_that_never_reaches_its_generation_did_not_complete(fake_api, fake_config, object_list):
    deployment = _deployment(3, 3, replicas=3, updatedReplicas=3, readyReplicas=3, availableReplicas=3)
    deployment["spec"] = {"replicas": 3, "selector": {"matchLabels": {"app": "hub"}}}
    fake_api.answer("/apis/apps/v1/namespaces/castle/deployments/www", deployment)
    fake_api.answer("/api/v1/namespaces/castle/pods", object_list("Pod", [pod("a"), pod("b"), pod("c")]))
    result = watch_rollout("www", "castle", 2, generation=4, tracker=SeenByWatches(None), raise_on_dip=False,
                           interval_s=0.1, timeout_s=0.3, configuration=fake_config)
    assert not result["completed"] and result["rollout_s"] is None, "generation 3 complete is not the rollout to 4"
    with pytest.raises(Deviation, match="completed False"):
        watch_rollout("www", "castle", 2, generation=4, tracker=SeenByWatches(None), interval_s=0.1, timeout_s=0.3,
                      configuration=fake_config)


def test_metric_kinds():
    hpa = {"spec": {"metrics": [{"type": "Resource", "resource": {"name": "cpu"}},
                                {"type": "Pods", "pods": {"metric": {"name": "http_requests_per_second"}}}]}}
    assert metric_kinds(hpa) == ["Resource:cpu", "Pods:http_requests_per_second"]


def test_pods_ready_raises_below_the_floor_unless_told(fake_api, fake_config, object_list):
    fake_api.answer("/api/v1/namespaces/artifacthub/pods",
                    object_list("Pod", [pod("a"), pod("b", ready=False), pod("c", terminating=True)]))
    assert pods_ready("artifacthub", "app=hub", 2, raise_on_too_few=False, configuration=fake_config)["ready"] == 1
    with pytest.raises(Deviation, match=r"pods in artifacthub \(app=hub\): 1 Ready of 3, expected at least 2"):
        pods_ready("artifacthub", "app=hub", 2, configuration=fake_config)
    assert any("labelSelector=app%3Dhub" in path for _, path in fake_api.requests)


def test_replica_sets_of_a_deployment_are_those_it_owns(fake_api, fake_config, object_list):
    fake_api.answer("/apis/apps/v1/namespaces/castle/deployments/backend-a",
                    {"kind": "Deployment", "metadata": {"name": "backend-a", "namespace": "castle", "uid": "u-1"},
                     "spec": {"selector": {"matchLabels": {"app": "backend"}}}})

    def rs(name: str, uid: str, ready: int) -> dict:
        return {"metadata": {"name": name, "ownerReferences": [{"kind": "Deployment", "uid": uid}],
                             "annotations": {"deployment.kubernetes.io/revision": "2"}},
                "status": {"replicas": ready, "readyReplicas": ready}}

    fake_api.answer("/apis/apps/v1/namespaces/castle/replicasets",
                    object_list("ReplicaSet", [rs("backend-a-1", "u-1", 1), rs("backend-b-1", "u-2", 1)]))
    assert replica_sets("backend-a", "castle", fake_config) == [
        {"name": "backend-a-1", "deployment": "castle/backend-a", "revision": "2", "replicas": 1, "ready": 1}]


def test_service_endpoints_and_ingress_routes(fake_api, fake_config, object_list):
    fake_api.answer("/apis/discovery.k8s.io/v1/namespaces/castle/endpointslices", object_list("EndpointSlice", [
        {"metadata": {"name": "www-1", "labels": {"kubernetes.io/service-name": "www"}},
         "endpoints": [{"addresses": ["10.0.0.1"], "targetRef": {"name": "www-a"}, "conditions": {"ready": True}},
                       {"addresses": ["10.0.0.2"], "targetRef": {"name": "www-b"}, "conditions": {"ready": False}},
                       {"addresses": ["10.0.0.3"], "targetRef": {"name": "www-c"}}]}]))
    assert service_endpoints("www", "castle", configuration=fake_config) == {
        "service": "castle/www", "ready": ["www-a", "www-c"], "not_ready": ["www-b"]}
    with pytest.raises(Deviation, match="Service castle/www: 2 ready endpoints, expected at least 3"):
        service_endpoints("www", "castle", min_ready=3, configuration=fake_config)
    fake_api.answer("/apis/networking.k8s.io/v1/namespaces/castle/ingresses", object_list("Ingress", [
        {"metadata": {"name": "public"}, "spec": {"ingressClassName": "nginx", "rules": [
            {"host": "castle.example", "http": {"paths": [{"path": "/api", "backend": {"service": {"name": "backend"}}}]}}]}}]))
    assert ingresses_routing_to(["backend"], "castle", fake_config) == [
        {"ingress": "public", "class": "nginx", "service": "backend", "host": "castle.example", "path": "/api"}]
    assert ingresses_routing_to(["www"], "castle", fake_config) == []


def test_rollout_restart_respects_the_chaos_policy_before_sending(fake_api, fake_config):
    with pytest.raises(ActionRefused, match="namespace castle: not among the namespaces the chaos policy allows \\(athens\\)"):
        rollout_restart("www", "castle", {**fake_config, "chaos_namespaces": ["athens"]})
    with pytest.raises(ActionRefused, match="chaos.allowed: false"):
        rollout_restart("www", "castle", {**fake_config, "chaos_allowed": False})
    assert not [r for r in fake_api.requests if r[0] == "PATCH"]


def test_rollout_restart_stamps_the_template(fake_api, fake_config):
    fake_api.answer("/apis/apps/v1/namespaces/castle/deployments/www", {"metadata": {"name": "www", "generation": 7}},
                    method="PATCH")
    result = rollout_restart("www", "castle", {**fake_config, "chaos_namespaces": ["castle"]})
    assert result["generation"] == 7 and result["restarted_at"].endswith("Z")
    assert ("PATCH", "/apis/apps/v1/namespaces/castle/deployments/www") in fake_api.requests


def test_tracker_sees_a_dip_between_samples(fake_api, fake_config, object_list):
    path = "/api/v1/namespaces/artifacthub/pods"
    fake_api.answer(path, object_list("Pod", [pod("a"), pod("b"), pod("c")]))
    fake_api.watch(path, [
        {"type": "MODIFIED", "object": {**pod("a", ready=False), "metadata": {**pod("a")["metadata"], "resourceVersion": "2"}}},
        {"type": "DELETED", "object": {**pod("b"), "metadata": {**pod("b")["metadata"], "resourceVersion": "3"}}},
        {"type": "ADDED", "object": {**pod("d"), "metadata": {**pod("d")["metadata"], "resourceVersion": "4"}}},
    ])
    with ReadyTracker(cluster(fake_config), "artifacthub", "app=hub", ()) as tracker:
        import time

        deadline = time.monotonic() + 5
        while (tracker.lowest_ready or {}).get("ready", 3) > 1 and time.monotonic() < deadline:
            time.sleep(0.05)
    assert tracker.lowest_ready["ready"] == 1, tracker.lowest_ready


def test_probe_handlers_compare_what_a_probe_asks():
    container = {"ports": [{"name": "http", "containerPort": 8080}]}
    by_name = {"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 5}
    by_number = {"httpGet": {"path": "/healthz", "port": 8080}, "periodSeconds": 10, "initialDelaySeconds": 5}
    assert probe_handler(by_name, container) == probe_handler(by_number, container) == ("httpGet", "http://pod:8080/healthz")
    assert probe_handler({"httpGet": {"path": "/", "port": "http"}}, container) != probe_handler(by_name, container)
    assert probe_handler({"tcpSocket": {"port": "http"}}, container) == ("tcpSocket", "pod:8080")
    assert probe_handler({"exec": {"command": ["cat", "/tmp/ok"]}}, container) == ("exec", "cat", "/tmp/ok")
    assert probe_handler({"grpc": {"port": 9000}}, container) == ("grpc", 9000, "")
