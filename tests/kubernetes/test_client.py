"""The client factory and the error boundary: every failure to ask is a NotChecked that says why."""

from __future__ import annotations

from pathlib import Path

import pytest

from gauntlet.environment import Kubernetes
from gauntlet.exceptions import NotChecked, ResourceMissing
from gauntlet.kubernetes import KubeCallFailed, configuration_for, server_version
from gauntlet.kubernetes.errors import Deviation
from gauntlet.kubernetes.namespace.probes import namespace_has_label, namespace_labels


def test_server_version_through_the_kubeconfig_context(fake_api, fake_config: dict) -> None:
    assert server_version(fake_config)["gitVersion"] == "v1.36.3-fake"
    assert ("GET", "/version/") in fake_api.requests


def test_configuration_of_an_environment_section() -> None:
    section = Kubernetes(context="gauntlet-local", api_server="https://127.0.0.1:6443", kubeconfig="/tmp/kc")
    assert configuration_for(section) == {"kubeconfig": "/tmp/kc", "kube_context": "gauntlet-local",
                                          "kube_api_server": "https://127.0.0.1:6443/"}


def test_forbidden_is_not_checked_with_the_rbac_message(fake_api, fake_config: dict, status) -> None:
    fake_api.answer_all(status(403, "Forbidden", 'namespaces "artifacthub" is forbidden: User "nobody" cannot get '
                                                      'resource "namespaces" in API group "" in the namespace "artifacthub"'), 403)
    with pytest.raises(NotChecked) as caught:
        namespace_labels("artifacthub", fake_config)
    message = str(caught.value)
    assert message.startswith("GET Namespace artifacthub: 403 Forbidden (RBAC): namespaces \"artifacthub\" is forbidden: "
                              "User \"nobody\" cannot get"), message
    assert f"context fake at {fake_api.url}" in message and "grant" in message


def test_unauthorized_is_not_checked(fake_api, fake_config: dict, status) -> None:
    fake_api.answer_all(status(401, "Unauthorized", "Unauthorized"), 401)
    with pytest.raises(NotChecked, match="401 Unauthorized: the API server refused the credentials of context fake"):
        namespace_labels("athens", fake_config)


def test_missing_object_is_a_deviation_not_a_skip(fake_api, fake_config: dict) -> None:
    with pytest.raises(ResourceMissing, match=r"^GET Namespace nowhere: not found \(context fake at http://127\.0\.0\.1:\d+\)$"):
        namespace_labels("nowhere", fake_config)


def test_server_error_is_a_failed_call(fake_api, fake_config: dict, status) -> None:
    fake_api.answer("/api/v1/namespaces/athens", status(500, "InternalError", "etcdserver: request timed out"), 500)
    with pytest.raises(KubeCallFailed, match="GET Namespace athens: 500 .*etcdserver: request timed out"):
        namespace_labels("athens", fake_config)


def test_probe_raises_by_default_and_returns_false_on_request(fake_api, fake_config: dict) -> None:
    fake_api.answer("/api/v1/namespaces/artifacthub", {"kind": "Namespace", "metadata": {"name": "artifacthub", "labels": {}}})
    with pytest.raises(Deviation, match="label elbv2.k8s.aws/pod-readiness-gate-inject=enabled expected, found none"):
        namespace_has_label("artifacthub", "elbv2.k8s.aws/pod-readiness-gate-inject", "enabled", configuration=fake_config)
    assert namespace_has_label("artifacthub", "elbv2.k8s.aws/pod-readiness-gate-inject", "enabled", raise_on_missing=False,
                               configuration=fake_config) is False


def test_closed_port_is_not_checked_quickly(kubeconfig, closed_port: int) -> None:
    port = closed_port
    config = {"kubeconfig": str(kubeconfig(f"http://127.0.0.1:{port}")), "kube_context": "fake"}
    with pytest.raises(NotChecked) as caught:
        server_version(config)
    assert f"cannot reach the Kubernetes API at http://127.0.0.1:{port} (context fake)" in str(caught.value)
    assert "Connection refused" in str(caught.value)


def test_missing_context_names_the_ones_there(kubeconfig) -> None:
    config = {"kubeconfig": str(kubeconfig("http://127.0.0.1:9", context="other")), "kube_context": "gauntlet-local"}
    with pytest.raises(NotChecked, match=r"has no context 'gauntlet-local' \(it has: other\)"):
        server_version(config)


def test_missing_kubeconfig(tmp_path: Path) -> None:
    with pytest.raises(NotChecked, match="kubeconfig .*/absent does not exist .*gauntlet local up --cluster"):
        server_version({"kubeconfig": str(tmp_path / "absent"), "kube_context": "x"})


def test_context_pointing_at_another_cluster_is_refused_before_any_request(fake_api, fake_config: dict) -> None:
    with pytest.raises(NotChecked, match="points at http://127.0.0.1:.*not at the environment's API server "
                                         "https://127.0.0.2:6443.*refusing to check another cluster"):
        server_version({**fake_config, "kube_api_server": "https://127.0.0.2:6443"})
    assert fake_api.requests == []


def test_only_loopback_when_told(kubeconfig) -> None:
    # 192.0.2.0/24 is TEST-NET-1: nothing is sent, the refusal comes first.
    config = {"kubeconfig": str(kubeconfig("https://192.0.2.10:6443")), "kube_context": "fake"}
    with pytest.raises(NotChecked, match=r"points at https://192\.0\.2\.10:6443: not contacted, only loopback"):
        server_version(config)
