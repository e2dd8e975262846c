"""The cluster tier's real nodes: kubelets that register themselves, pods that run processes and answer,
and a ``down`` that leaves nothing of them on the machine. Run under ``flock /tmp/gauntlet-cluster.lock``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from kubernetes import client

from gauntlet.goproxy import protocol
from gauntlet.local import corpus, goproxy_tier, kube_build, kube_cluster, kube_nodes, node_images
from gauntlet.waiting import until

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

_NGINX_CONF = """pid /tmp/nginx.pid;
error_log stderr warn;
events {}
http {
  access_log off;
  client_body_temp_path /tmp/body; proxy_temp_path /tmp/proxy; fastcgi_temp_path /tmp/fastcgi;
  uwsgi_temp_path /tmp/uwsgi; scgi_temp_path /tmp/scgi;
  server { listen 8080; location / { return 200 "served by $hostname\\n"; } }
}
"""


def kubectl(cluster: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([cluster["kubectl"], "--kubeconfig", cluster["kubeconfig"], "--context", cluster["context"], *args],
                          capture_output=True, text=True, timeout=60)


@pytest.fixture
def web(cluster: dict) -> Iterator[tuple[str, client.CoreV1Api]]:
    """A namespace with an nginx pod on each real node behind a NodePort Service."""
    namespace = f"real-{uuid.uuid4().hex[:6]}"
    labels = {"app.kubernetes.io/name": "web"}
    with kube_cluster.api_client() as api:
        core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
        core.create_namespace({"metadata": {"name": namespace}})
        core.create_namespaced_config_map(namespace, {"metadata": {"name": "web"}, "data": {"nginx.conf": _NGINX_CONF}})
        apps.create_namespaced_deployment(namespace, {
            "metadata": {"name": "web"},
            "spec": {"replicas": len(kube_nodes.REAL_NODES), "selector": {"matchLabels": labels}, "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "nodeSelector": {"gauntlet.dev/node-pool": kube_nodes.POOL},
                    "tolerations": [{"key": kube_nodes.TAINT["key"], "operator": "Exists", "effect": "NoSchedule"}],
                    "topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "kubernetes.io/hostname",
                                                   "whenUnsatisfiable": "DoNotSchedule", "labelSelector": {"matchLabels": labels}}],
                    "containers": [{"name": "nginx", "image": node_images.NGINX_IMAGE, "imagePullPolicy": "Never",
                                    "args": ["-c", "/etc/web/nginx.conf"],
                                    "ports": [{"name": "http", "containerPort": 8080}],
                                    "readinessProbe": {"httpGet": {"path": "/", "port": "http"}, "periodSeconds": 1},
                                    "volumeMounts": [{"name": "conf", "mountPath": "/etc/web"}]}],
                    "volumes": [{"name": "conf", "configMap": {"name": "web"}}]}}}})
        core.create_namespaced_service(namespace, {"metadata": {"name": "web"}, "spec": {
            "type": "NodePort", "selector": labels, "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}})

        def ready() -> bool:
            pods = core.list_namespaced_pod(namespace).items
            return len(pods) == len(kube_nodes.REAL_NODES) and all(
                any(c.type == "Ready" and c.status == "True" for c in p.status.conditions or ()) for p in pods)

        try:
            until(ready, 90.0, 0.5, lambda: f"web pods not Ready: {kubectl(cluster, '-n', namespace, 'get', 'pods', '-o', 'wide').stdout}")
            yield namespace, core
        finally:
            core.delete_namespace(namespace)


def test_local_up_cluster_brings_ready_real_nodes_beside_the_kwok_ones(cluster: dict) -> None:
    listed = kubectl(cluster, "get", "nodes", "-o", "wide")
    assert listed.returncode == 0, listed.stderr
    rows = {line.split()[0]: line.split() for line in listed.stdout.splitlines()[1:]}
    for node in kube_nodes.REAL_NODES:
        name, status, _roles, _age, version, internal_ip = rows[node.name][:6]
        assert (status, version, internal_ip) == ("Ready", kube_build.KUBERNETES_VERSION, node.ip), rows[node.name]
        assert rows[node.name][-1].startswith("containerd://1.6"), rows[node.name]
    nodes = {n["metadata"]["name"]: n for n in json.loads(kubectl(cluster, "get", "nodes", "-o", "json").stdout)["items"]}
    for node in kube_nodes.REAL_NODES:
        seen = nodes[node.name]
        assert seen["metadata"]["labels"]["topology.kubernetes.io/zone"] == node.zone
        assert seen["metadata"]["labels"]["gauntlet.dev/node-pool"] == kube_nodes.POOL
        assert kube_nodes.TAINT in seen["spec"].get("taints", []), seen["spec"]
        assert "kwok.x-k8s.io/node" not in seen["metadata"].get("annotations", {})
    for kwok in kube_cluster.NODES:  # kwok still plays its own nodes, and only them
        assert rows[kwok.name][1] == "Ready" and nodes[kwok.name]["status"]["nodeInfo"]["kubeletVersion"] != kube_build.KUBERNETES_VERSION


def test_pods_on_real_nodes_run_processes_that_answer_through_their_service(cluster: dict, web: tuple) -> None:
    namespace, core = web
    pods = core.list_namespaced_pod(namespace).items
    assert {p.spec.node_name for p in pods} == {n.name for n in kube_nodes.REAL_NODES}
    exec_ = kubectl(cluster, "-n", namespace, "exec", pods[0].metadata.name, "--", "/usr/sbin/nginx", "-v")
    assert exec_.returncode == 0 and "nginx version" in exec_.stderr, exec_.stderr
    for pod in pods:  # each pod's own address, routed from the host to its node
        answer = httpx.get(f"http://{pod.status.pod_ip}:8080/", timeout=5)
        assert answer.text == f"served by {pod.metadata.name}\n"
    port = core.read_namespaced_service("web", namespace).spec.ports[0].node_port

    def node_port_answers() -> bool:  # kube-proxy programs a new Service's rules a moment after it appears
        try:
            return all(httpx.get(f"http://{node.ip}:{port}/", timeout=5).status_code == 200 for node in kube_nodes.REAL_NODES)
        except httpx.TransportError:
            return False

    until(node_port_answers, 15.0, 0.2, f"NodePort {port} to answer on every real node")
    served = {httpx.get(f"http://{node.ip}:{port}/", timeout=5).text.split()[-1]
              for node in kube_nodes.REAL_NODES for _ in range(20)}
    assert served == {p.metadata.name for p in pods}, "kube-proxy balances the NodePort over every pod, across nodes"
    logs = kubectl(cluster, "-n", namespace, "logs", pods[1].metadata.name)
    assert logs.returncode == 0, logs.stderr


def snapshot() -> dict[str, object]:
    """What the real nodes could leave on the host: interfaces, routes, namespaces, mounts, cgroups, iptables
    rules and processes."""
    def run(*argv: str) -> str:
        return subprocess.run(argv, capture_output=True, text=True, timeout=30).stdout

    cgroups = sorted(str(p) for p in Path("/sys/fs/cgroup").glob("*/gauntlet-*"))
    mounts = sorted(line.split(" - ")[0].split(maxsplit=4)[4] for line in Path("/proc/self/mountinfo").read_text().splitlines())
    mark = str(kube_nodes.nodes_dir())
    procs = sorted(p.name for p in Path("/proc").iterdir() if p.name.isdigit() and mark in _cmdline(p))
    return {"links": sorted(line.split(":")[1].split("@")[0].strip() for line in run("ip", "-o", "link").splitlines()),
            "routes": run("ip", "route"), "netns": run("ip", "netns", "list"), "mounts": mounts, "cgroups": cgroups,
            "iptables": [r for r in run("iptables-save").splitlines() if not r.startswith("#")], "processes": procs}


def _cmdline(proc: Path) -> str:
    try:
        return (proc / "cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return ""


def test_local_down_leaves_no_interface_route_mount_cgroup_rule_or_process(cluster: dict) -> None:
    kube_cluster.down()
    before = snapshot()
    try:
        kube_cluster.up(progress=lambda _: None)
        during = snapshot()
        assert kube_nodes.BRIDGE in during["links"] and during["cgroups"] and during["processes"], during
        kube_cluster.down()
        after = snapshot()
        assert after == before, {k: (before[k], after[k]) for k in before if before[k] != after[k]}
        assert not os.path.exists(f"/run/netns/{kube_nodes.REAL_NODES[0].netns}")
    finally:
        kube_cluster.up(progress=lambda _: None)


def test_up_restarts_a_killed_containerd_though_its_socket_file_is_left(cluster: dict) -> None:
    node = kube_nodes.REAL_NODES[0]
    killed = kube_nodes.running_pid(node, "containerd")
    assert killed is not None
    os.kill(killed, signal.SIGKILL)
    until(lambda: kube_nodes.running_pid(node, "containerd") is None, 10.0, 0.1, f"containerd {killed} to exit")
    socket_file = kube_nodes.node_dir(node) / "containerd.sock"
    assert socket_file.is_socket(), "SIGKILL leaves the socket file, which no one serves"
    said: list[str] = []
    kube_cluster.up(progress=said.append)
    restarted = kube_nodes.running_pid(node, "containerd")
    assert restarted not in (None, killed) and f"real node {node.name}: starting containerd" in said, said
    assert node_images.present(socket_file).keys() >= set(node_images.IMAGES)


def test_athens_pods_serve_the_module_corpus_one_per_zone_through_their_service(cluster: dict) -> None:
    """Athens' pods run on the real nodes, one per zone, and serve the GOPROXY tier's corpus with Athens' headers:
    each at its own address, and through its node's NodePort of the Service (traffic policy Local), whose
    health-check node port kube-proxy answers 200 on the nodes holding a Ready pod and 503 elsewhere."""
    with kube_cluster.api_client() as api:
        pods = client.CoreV1Api(api).list_namespaced_pod("athens", label_selector="app.kubernetes.io/name=athens").items
    zones = {n.name: n.zone for n in kube_nodes.REAL_NODES}
    assert sorted(zones.get(p.spec.node_name, p.spec.node_name) for p in pods) == ["us-east-1a", "us-east-1b", "us-east-1c"]
    path = protocol.list_path(corpus.load_modules()[0].path)
    listed = (corpus.corpus_dir() / path).read_text()
    for pod in pods:
        answer = httpx.get(f"http://{pod.status.pod_ip}:3000/{path}", timeout=5)
        assert (answer.status_code, answer.text) == (200, listed), (pod.metadata.name, answer.status_code, answer.text)
        assert answer.headers["cache-control"] == "no-cache, no-store, must-revalidate"
    hosting = {p.spec.node_name for p in pods}

    def health(node: kube_nodes.RealNode) -> int:
        return httpx.get(f"http://{node.ip}:{goproxy_tier.ATHENS_HEALTH_NODE_PORT}/healthz", timeout=5).status_code

    until(lambda: {n.name: health(n) for n in kube_nodes.REAL_NODES} == {n.name: 200 if n.name in hosting else 503
                                                                         for n in kube_nodes.REAL_NODES},
          15.0, 0.2, lambda: f"kube-proxy's health checks: {({n.name: health(n) for n in kube_nodes.REAL_NODES})}, pods on {hosting}")
    for node in (n for n in kube_nodes.REAL_NODES if n.name in hosting):
        answer = httpx.get(f"http://{node.ip}:{goproxy_tier.ATHENS_NODE_PORT}/{path}", timeout=5)
        assert (answer.status_code, answer.text) == (200, listed), (node.name, answer.status_code)
