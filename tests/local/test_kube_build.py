"""The cluster tier's binaries: built from the module proxy at the pinned versions, and say so."""

from __future__ import annotations

import pytest

from gauntlet.local import kube_build

K8S_GO_MOD_EXCERPT = """module k8s.io/kubernetes

go 1.26.0

require (
\tgithub.com/JeffAshton/win_pdh v0.0.0-20161109143554-76bb4ee9f0ab
\tk8s.io/api v0.0.0
\tk8s.io/apiextensions-apiserver v0.0.0
\tk8s.io/kube-openapi v0.0.0-20260317180543-43fb72c5454a
\tk8s.io/utils v0.0.0-20260210185600-b8788abfbbc2
)

require (
\tk8s.io/cri-streaming v0.0.0 // indirect
)

replace (
\tk8s.io/api => ./staging/src/k8s.io/api
\tk8s.io/sample-cli-plugin => ./staging/src/k8s.io/sample-cli-plugin
)
"""


def test_staging_modules_are_the_v0_0_0_requirements_only() -> None:
    # Pseudo-versions of k8s.io/kube-openapi and k8s.io/utils are real modules, not staging ones;
    # a replace without a requirement (sample-cli-plugin, 403 at the proxy) is not needed.
    assert kube_build.staging_modules(K8S_GO_MOD_EXCERPT) == [
        "k8s.io/api", "k8s.io/apiextensions-apiserver", "k8s.io/cri-streaming"]


def test_wrapper_go_mod_pins_each_staging_module_to_its_published_version() -> None:
    text = kube_build.kubernetes_go_mod(["k8s.io/api", "k8s.io/client-go"], "v1.36.3")
    assert "require k8s.io/kubernetes v1.36.3" in text
    assert "\tk8s.io/api => k8s.io/api v0.36.3\n" in text
    assert "\tk8s.io/client-go => k8s.io/client-go v0.36.3\n" in text


def test_version_ldflags_set_client_go_and_component_base() -> None:
    flags = kube_build.kubernetes_ldflags("v1.36.3")
    for pkg in ("k8s.io/client-go/pkg/version", "k8s.io/component-base/version"):
        assert f"-X {pkg}.gitVersion=v1.36.3" in flags
        assert f"-X {pkg}.gitMajor=1" in flags and f"-X {pkg}.gitMinor=36" in flags


@pytest.mark.cluster
@pytest.mark.slow
def test_each_binary_reports_the_pinned_version() -> None:
    """Builds on first use (minutes, see kube_build), then only checks."""
    paths = kube_build.build(progress=lambda _: None)
    assert set(paths) == {"kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl", "kubelet", "kube-proxy",
                          "etcd", "kwok", "kwokctl"}
    for name, path in paths.items():
        said = kube_build.reported_version(path)
        assert kube_build.expected_version(name) in said, (
            f"{path} reports {said!r}, expected {kube_build.expected_version(name)!r}: "
            f"delete {path.parent} and run python -m gauntlet.local.kube_build")
    assert kube_build.built()


@pytest.mark.cluster
@pytest.mark.slow
def test_control_plane_runs_a_deployment_on_kwok_nodes_in_three_zones() -> None:
    """Real apiserver, controllers and scheduler; KWOK nodes; pods Ready, gated ones only after their gate."""
    import time
    import uuid

    from kubernetes import client

    from gauntlet.kubernetes.alb import READINESS_GATE_PREFIX
    from gauntlet.local import kube_cluster

    was_running = kube_cluster.running_pid("kube-apiserver") is not None
    started = time.monotonic()
    kube_cluster.up(progress=lambda _: None)
    up_s = time.monotonic() - started
    namespace = f"gauntlet-smoke-{uuid.uuid4().hex[:8]}"  # a deleted namespace lingers a few seconds
    try:
        with kube_cluster.api_client() as api:
            core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
            nodes = core.list_node().items
            zones = {n.metadata.labels["topology.kubernetes.io/zone"] for n in nodes}
            assert len(nodes) >= 6 and len(zones) == 3, f"nodes {[n.metadata.name for n in nodes]} in zones {zones}"
            core.create_namespace({"metadata": {"name": namespace}})
            gate = READINESS_GATE_PREFIX + "k8s-smoke-0123456789"
            for name, gates in (("plain", []), ("gated", [{"conditionType": gate}])):
                labels = {"app": name}
                apps.create_namespaced_deployment(namespace, {
                    "metadata": {"name": name},
                    "spec": {"replicas": 3, "selector": {"matchLabels": labels}, "template": {
                        "metadata": {"labels": labels},
                        "spec": {"readinessGates": gates,
                                 "containers": [{"name": "app", "image": "registry.example/smoke:1"}]}}}})
            deadline = time.monotonic() + 60
            first_seen_unready_gated = False
            while time.monotonic() < deadline:
                ready = {d.metadata.name: d.status.ready_replicas or 0
                         for d in apps.list_namespaced_deployment(namespace).items}
                for pod in core.list_namespaced_pod(namespace, label_selector="app=gated").items:
                    conditions = {c.type: c.status for c in pod.status.conditions or []}
                    if pod.status.phase == "Running" and conditions.get("Ready") != "True":
                        first_seen_unready_gated = True
                        assert conditions.get(gate) != "True", "Ready must follow the gate, not precede it"
                if ready == {"plain": 3, "gated": 3}:
                    break
                time.sleep(0.5)
            assert ready == {"plain": 3, "gated": 3}, f"ready replicas after 60 s: {ready}"
            assert first_seen_unready_gated, "gated pods were never Running-but-not-Ready: the gate was not waited for"
            pods = core.list_namespaced_pod(namespace).items
            assert all(p.spec.volumes for p in pods), "admission is off: pods got no service-account volume"
    finally:
        with kube_cluster.api_client() as api:
            client.CoreV1Api(api).delete_namespace(namespace)
        if not was_running:
            kube_cluster.down()
    assert up_s < 90, f"warm start took {up_s:.0f} s"
