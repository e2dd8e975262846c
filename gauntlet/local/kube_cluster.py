"""The cluster tier: a real Kubernetes control plane on loopback, with KWOK simulating the nodes.

etcd -> kube-apiserver (admission on, RBAC) -> kube-controller-manager,
kube-scheduler and kwok (nodes and pods through kwok's Stage objects), all
built by :mod:`gauntlet.local.kube_build` and started by hand: no kwokctl, so
every flag is ours and nothing is downloaded.

- PKI and the user's kubeconfig (context ``gauntlet-local``) live in
  ``cache_dir()/kube/``; logs, pid files, rendered configs and etcd's data in
  ``state_dir()/kube/``. etcd's data survives ``down()`` unless ``purge``.
- Each component runs in its own session with a pid file; ``down`` signals
  only process groups whose leader's command line names our state folder.
- Nodes: :data:`NODES`, two pools over three zones, created as Node objects
  carrying kwok's annotation and their own pod CIDR; kwok (managing the nodes with
  that annotation only) makes them Ready, keeps their leases, and plays the pods
  bound to them. Beside them four real nodes (:mod:`gauntlet.local.kube_nodes`):
  kubelets whose pods run processes, tainted for the workloads meant for them.
- Then the seed workloads of ``fixtures/manifests/`` are applied with the
  cluster-tier fault profiles asked for (:mod:`gauntlet.local.kube_workloads`),
  and ``up`` returns once they are available.
- Readiness gates: a MutatingAdmissionPolicy injects them (the manifests), the
  kwok stage :func:`target_health_stage` sets them 5 s after the pod runs.
"""

from __future__ import annotations

import json
import shutil
import ssl
import subprocess
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import yaml

from gauntlet.exceptions import LocalStackError
from gauntlet.local import kube_build, kube_nodes, kube_workloads, processes, tier_state
from gauntlet.local.faults import FAULTS
from gauntlet.local.kube_pki import API_PORT, API_SERVER, CONTEXT, HOST, ensure_pki, kubeconfig_path, pki_dir, write_kubeconfigs
from gauntlet.paths import state_dir
from gauntlet.waiting import until

if TYPE_CHECKING:
    from kubernetes.client import ApiClient

#: component -> loopback port (kube-apiserver's is the one environments/local.yaml names).
PORTS: dict[str, int] = {
    "etcd": 12379,
    "etcd-peer": 12380,
    "kube-apiserver": API_PORT,
    "kube-controller-manager": 10257,
    "kube-scheduler": 10259,
    "kwok": 10247,
}
SERVICE_CIDR = "10.96.0.0/16"
POD_CIDR = "10.244.0.1/16"
REGION = "us-east-1"
ZONES = ("us-east-1a", "us-east-1b", "us-east-1c")
_STARTED_WITHIN_S = 60.0
_NODES_READY_WITHIN_S = 60.0

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Node:
    """A simulated node: its pool (node group) and zone."""

    name: str
    pool: str
    zone: str
    instance_type: str
    ip: str
    pod_cidr: str
    cpu: str = "4"
    memory: str = "16Gi"
    pods: str = "110"
    ephemeral_storage: str = "100Gi"  # the node's local disk: pods requesting ephemeral-storage are placed by it

    @property
    def resources(self) -> dict[str, str]:
        return {"cpu": self.cpu, "memory": self.memory, "pods": self.pods, "ephemeral-storage": self.ephemeral_storage}


#: Two node pools like the seeds' node groups, each spread over the three zones.
NODES = tuple(
    # Each node its own pod CIDR (kwok allocates pod IPs from it): pod IPs are unique across nodes.
    Node(f"{pool}-{zone[-1]}", pool, zone, itype, f"10.0.{10 * p + z}.10", f"10.244.{100 + 10 * p + z}.0/24")
    for p, (pool, itype) in enumerate((("system", "m5.large"), ("workers", "m5.xlarge")))
    for z, zone in enumerate(ZONES)
)

COMPONENTS = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok")
_KWOK_NODES = "kwok.x-k8s.io/node=fake"


# --------------------------------------------------------------------------- paths


def tier_dir() -> Path:
    return state_dir() / "kube"


def _pid_file(name: str) -> Path:
    return tier_dir() / "run" / f"{name}.pid"


def _log(name: str) -> Path:
    return tier_dir() / "logs" / f"{name}.log"


def _conf(name: str) -> Path:
    return tier_dir() / "conf" / name


def _state_file() -> Path:
    """The fault profiles the seed workloads were last applied with (written once they are available)."""
    return tier_dir() / "workloads.json"


# --------------------------------------------------------------------------- processes


def _kwok_config() -> str:
    """kwok's configuration and its default Stage objects (node init and lease heartbeat, pod lifecycle)."""
    docs = [yaml.safe_dump({
        "apiVersion": "config.kwok.x-k8s.io/v1alpha1",
        "kind": "KwokConfiguration",
        # kwok applies its defaults only when it has no configuration at all: every option is spelt out.
        "options": {
            "cidr": POD_CIDR,
            "nodeIP": HOST,
            "nodePort": PORTS["kwok"],
            "serverAddress": f"{HOST}:{PORTS['kwok']}",
            # Only the nodes carrying kwok's annotation (node_manifest's): the real nodes are their kubelets'.
            "manageAllNodes": False,
            "manageNodesWithAnnotationSelector": _KWOK_NODES,
            "enableDebuggingHandlers": True,
            "enableContentionProfiling": False,
            "enableProfilingHandler": False,
            "podPlayStageParallelism": 4,
            "nodePlayStageParallelism": 4,
            "nodeLeaseDurationSeconds": 40,
            "nodeLeaseParallelism": 4,
            "podsOnNodeSyncParallelism": 1,
            "enablePodsOnNodeSyncListPager": True,
            "enablePodsOnNodeSyncStreamWatch": False,
        },
    })]
    for stage in kube_build.KWOK_STAGES:
        text = (kube_build.kwok_stages_dir() / Path(stage).name).read_text()
        if Path(stage).name == "pod-ready.yaml":
            text = _dump(_gate_aware(yaml.safe_load(text)))
        docs.append(text)
    docs.append(_dump(target_health_stage()))
    return "---\n".join(d if d.endswith("\n") else d + "\n" for d in docs)


class _BlockDumper(yaml.SafeDumper):
    """Multi-line strings (the Stage templates) as literal blocks, readable in the rendered kwok.yaml."""


_BlockDumper.add_representer(str, lambda dumper, value: dumper.represent_scalar(
    "tag:yaml.org,2002:str", value, style="|" if "\n" in value else None))


def _dump(doc: dict) -> str:
    return yaml.dump(doc, Dumper=_BlockDumper, sort_keys=False)


#: How long after Running the "load balancer" reports a target healthy (health checks passing).
TARGET_HEALTHY_AFTER_MS = 5000

# In kwok's pod-ready stage: every readiness gate set True at once, Ready True regardless of them.
_KWOK_GATES_TRUE = """{{ range .spec.readinessGates }}
- lastTransitionTime: {{ $now | Quote }}
  status: "True"
  type: {{ .conditionType | Quote }}
{{ end }}
"""
_KWOK_READY_TRUE = """- lastTransitionTime: {{ $now | Quote }}
  status: "True"
  type: Ready
"""
_READY_UNLESS_GATED = """- lastTransitionTime: {{ $now | Quote }}
  {{ if .spec.readinessGates }}
  status: "False"
  reason: ReadinessGatesNotReady
  message: {{ printf "corresponding condition of pod readiness gate %q does not exist."
    (index .spec.readinessGates 0).conditionType | Quote }}
  {{ else }}
  status: "True"
  {{ end }}
  type: Ready
"""


def _gate_aware(stage: dict) -> dict:
    """kwok's pod-ready stage, changed like a kubelet: a pod with readiness gates is Running but not Ready.

    The gates stay unset; :func:`target_health_stage` sets them (the load balancer controller's part),
    and only then is the pod Ready.
    """
    template = stage["spec"]["next"]["statusTemplate"]
    if template.count(_KWOK_GATES_TRUE) != 1 or template.count(_KWOK_READY_TRUE) != 1:
        raise LocalStackError(f"kwok {kube_build.KWOK_VERSION}'s pod-ready stage changed: cannot make it honour "
                              "readiness gates; see gauntlet/local/kube_cluster.py _gate_aware")
    template = template.replace(_KWOK_GATES_TRUE, "").replace(_KWOK_READY_TRUE, _READY_UNLESS_GATED)
    stage["spec"]["next"]["statusTemplate"] = template
    return stage


def target_health_stage(delay_ms: int = TARGET_HEALTHY_AFTER_MS) -> dict:
    """A Stage playing the AWS load balancer controller: some time after a gated pod runs, its target is
    healthy, the controller sets the gate conditions True, and the pod becomes Ready."""
    return {
        "apiVersion": "kwok.x-k8s.io/v1alpha1",
        "kind": "Stage",
        "metadata": {"name": "gauntlet-target-health"},
        "spec": {
            "resourceRef": {"apiGroup": "v1", "kind": "Pod"},
            "selector": {"matchExpressions": [
                {"key": ".metadata.deletionTimestamp", "operator": "DoesNotExist"},
                {"key": ".status.phase", "operator": "In", "values": ["Running"]},
                {"key": ".spec.readinessGates", "operator": "Exists"},
                {"key": '.status.conditions.[] | select( .type == "Ready" ) | .status',
                 "operator": "NotIn", "values": ["True"]},
            ]},
            "delay": {"durationMilliseconds": delay_ms},
            "next": {"statusTemplate": (
                "{{ $now := Now }}\n"
                "conditions:\n"
                "{{ range .spec.readinessGates }}\n"
                "- lastTransitionTime: {{ $now | Quote }}\n"
                "  status: \"True\"\n"
                "  type: {{ .conditionType | Quote }}\n"
                "{{ end }}\n"
                "- lastTransitionTime: {{ $now | Quote }}\n"
                "  status: \"True\"\n"
                "  type: Ready\n"
            )},
        },
    }


def argv(name: str, bins: dict[str, Path]) -> list[str]:
    """The command line of one component."""
    pki, port = pki_dir(), PORTS[name]
    if name == "etcd":
        peer = f"http://{HOST}:{PORTS['etcd-peer']}"
        return [str(bins["etcd"]), "--name=gauntlet", f"--data-dir={tier_dir() / 'etcd'}",
                f"--listen-client-urls=http://{HOST}:{port}", f"--advertise-client-urls=http://{HOST}:{port}",
                f"--listen-peer-urls={peer}", f"--initial-advertise-peer-urls={peer}",
                f"--initial-cluster=gauntlet={peer}", "--unsafe-no-fsync=true", "--log-level=warn"]
    if name == "kube-apiserver":
        return [str(bins[name]),
                f"--etcd-servers=http://{HOST}:{PORTS['etcd']}",
                f"--bind-address={HOST}", f"--secure-port={port}",
                f"--tls-cert-file={pki / 'kube-apiserver.pem'}", f"--tls-private-key-file={pki / 'kube-apiserver.key'}",
                f"--client-ca-file={pki / 'ca.pem'}",
                "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
                f"--service-account-key-file={pki / 'sa.pub'}",
                f"--service-account-signing-key-file={pki / 'sa.key'}",
                f"--service-cluster-ip-range={SERVICE_CIDR}",
                "--authorization-mode=Node,RBAC",
                "--allow-privileged=true",
                # Admission stays on (no --admission-control=): ServiceAccount, DefaultTolerationSeconds...
                # Endpoints may not hold a loopback address, so the reconciler of "kubernetes" is off.
                "--endpoint-reconciler-type=none",
                f"--requestheader-client-ca-file={pki / 'front-proxy-ca.pem'}",
                "--requestheader-allowed-names=front-proxy-client",
                "--requestheader-username-headers=X-Remote-User",
                "--requestheader-group-headers=X-Remote-Group",
                "--requestheader-extra-headers-prefix=X-Remote-Extra-",
                f"--proxy-client-cert-file={pki / 'front-proxy-client.pem'}",
                f"--proxy-client-key-file={pki / 'front-proxy-client.key'}",
                # The real nodes' kubelets (logs, exec, port-forward), reached at their InternalIP on the bridge.
                f"--kubelet-client-certificate={pki / 'kube-apiserver-kubelet-client.pem'}",
                f"--kubelet-client-key={pki / 'kube-apiserver-kubelet-client.key'}",
                "--kubelet-preferred-address-types=InternalIP,Hostname",
                "--profiling=false"]
    if name in ("kube-controller-manager", "kube-scheduler"):
        kubeconfig = _conf(f"{name}.kubeconfig")
        common = [str(bins[name]), f"--kubeconfig={kubeconfig}", f"--authentication-kubeconfig={kubeconfig}",
                  f"--authorization-kubeconfig={kubeconfig}", f"--bind-address={HOST}", f"--secure-port={port}",
                  f"--cert-dir={tier_dir() / 'certs' / name}", "--leader-elect=false", "--profiling=false"]
        if name == "kube-scheduler":
            return common
        return [*common,
                "--use-service-account-credentials=true",
                f"--service-account-private-key-file={pki / 'sa.key'}",
                f"--root-ca-file={pki / 'ca.pem'}",
                f"--cluster-signing-cert-file={pki / 'ca.pem'}", f"--cluster-signing-key-file={pki / 'ca.key'}",
                "--node-monitor-period=5s", "--node-monitor-grace-period=40s",
                # The HPA controller first looks at a new HPA one period after it appears (default 15 s).
                "--horizontal-pod-autoscaler-sync-period=5s",
                "--kube-api-qps=100", "--kube-api-burst=200"]
    if name == "kwok":
        return [str(bins["kwok"]), f"--kubeconfig={_conf('kwok.kubeconfig')}", f"--config={_conf('kwok.yaml')}",
                f"--manage-nodes-with-annotation-selector={_KWOK_NODES}", f"--server-address={HOST}:{port}", f"--node-port={port}",
                f"--node-ip={HOST}"]
    raise KeyError(name)


def health_url(name: str) -> str:
    port = PORTS[name]
    if name == "etcd":
        return f"http://{HOST}:{port}/health"
    if name == "kwok":
        return f"http://{HOST}:{port}/healthz"
    return f"https://{HOST}:{port}/{'readyz' if name == 'kube-apiserver' else 'healthz'}"


def running_pid(name: str) -> int | None:
    """The pid of our process for this component, if it runs (its command line names our state folder)."""
    return processes.running_pid(_pid_file(name), str(tier_dir()), str(pki_dir()))


def _outdated(name: str, bins: dict[str, Path]) -> bool:
    """A running component started with other flags than this version of gauntlet gives it."""
    pid = running_pid(name)
    try:
        return pid is not None and Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[:-1] != [
            a.encode() for a in argv(name, bins)]
    except OSError:
        return False


def _start(name: str, bins: dict[str, Path]) -> subprocess.Popen:
    for port in [PORTS[name]] + ([PORTS["etcd-peer"]] if name == "etcd" else []):
        processes.ensure_free(HOST, port, name)
    return processes.start(argv(name, bins), _log(name), pid_file=_pid_file(name), cwd=tier_dir())


def _healthy(name: str, client: httpx.Client) -> bool:
    try:
        return client.get(health_url(name)).status_code == 200
    except httpx.HTTPError:
        return False


def _probe_client() -> httpx.Client:
    # The admin certificate: health endpoints of the controller-manager and scheduler serve a self-signed cert.
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    cert, key = pki_dir() / "admin.pem", pki_dir() / "admin.key"
    if cert.is_file() and key.is_file():
        context.load_cert_chain(cert, key)
    return httpx.Client(verify=context, timeout=2.0)


def _wait_healthy(name: str, proc: subprocess.Popen | None, client: httpx.Client) -> None:
    def healthy() -> bool:
        if _healthy(name, client):
            return True
        if proc is not None and proc.poll() is not None:
            raise LocalStackError(f"{name} exited at start (code {proc.returncode}): see {_log(name)}\n"
                                  + processes.tail(_log(name)))
        return False

    until(healthy, _STARTED_WITHIN_S, 0.2, lambda: f"{name} not healthy within {_STARTED_WITHIN_S:.0f} s ({health_url(name)}): "
          f"see {_log(name)}\n" + processes.tail(_log(name)), error=LocalStackError)


# --------------------------------------------------------------------------- nodes


def api_client() -> ApiClient:
    """A new Kubernetes Python client for the ``gauntlet-local`` context (the caller closes it)."""
    from gauntlet.kubernetes.client import new_client

    return new_client(kubeconfig_path(), CONTEXT)


def node_manifest(node: Node) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": node.name,
            "annotations": {_KWOK_NODES.split("=")[0]: _KWOK_NODES.split("=")[1], "node.alpha.kubernetes.io/ttl": "0"},
            "labels": {
                "kubernetes.io/hostname": node.name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "kubernetes.io/role": "agent",
                "type": "kwok",
                "topology.kubernetes.io/region": REGION,
                "topology.kubernetes.io/zone": node.zone,
                "node.kubernetes.io/instance-type": node.instance_type,
                "gauntlet.dev/node-pool": node.pool,
                "eks.amazonaws.com/nodegroup": node.pool,
            },
        },
        "spec": {"podCIDR": node.pod_cidr, "podCIDRs": [node.pod_cidr]},
        "status": {
            "allocatable": node.resources,
            "capacity": node.resources,
            "addresses": [{"type": "InternalIP", "address": node.ip}, {"type": "Hostname", "address": node.name}],
        },
    }


def register_nodes(nodes: Iterable[Node] = NODES, progress: Progress = print) -> None:
    """Create the Node objects that do not exist yet (kwok does the rest); make existing ones, and the real nodes
    their kubelets registered, schedulable again, without the cordon or outage taint a chaos experiment left (one
    killed before its rollbacks)."""
    from kubernetes import client
    from kubernetes.client.rest import ApiException

    with api_client() as api:
        core = client.CoreV1Api(api)
        existing = {n.metadata.name: n for n in core.list_node().items}
        for name in [n.name for n in kube_nodes.REAL_NODES if n.name in existing]:
            _heal_node(api, core, existing[name], progress)
        for node in nodes:
            if node.name in existing:
                spec = existing[node.name].spec
                if "ephemeral-storage" not in (existing[node.name].status.allocatable or {}):  # registered before nodes had it
                    core.patch_node_status(node.name, {"status": {"allocatable": node.resources, "capacity": node.resources}})
                if not spec.pod_cidr:  # registered before nodes had pod CIDRs (settable once)
                    core.patch_node(node.name, {"spec": {"podCIDR": node.pod_cidr, "podCIDRs": [node.pod_cidr]}})
                _heal_node(api, core, existing[node.name], progress)
                continue
            progress(f"registering node {node.name} ({node.pool}, {node.zone})")
            try:
                core.create_node(node_manifest(node))
            except ApiException as exc:
                if exc.status != 409:
                    raise LocalStackError(f"cannot create node {node.name}: {exc.status} {exc.reason}: {exc.body}") from exc


def _heal_node(api: ApiClient, core: Any, node: Any, progress: Progress) -> None:
    """Uncordon the node and remove the outage taint, if a chaos experiment left them."""
    from gauntlet.chaos.actions import CORDON_LABEL, OUTAGE_TAINT

    spec, name = node.spec, node.metadata.name
    outage = [t for t in spec.taints or () if t.key == OUTAGE_TAINT]
    if spec.unschedulable or outage:
        healed = ["uncordoned"] * bool(spec.unschedulable) + [f"taint {OUTAGE_TAINT} removed"] * bool(outage)
        progress(f"node {name}: {', '.join(healed)}")
        kept = [api.sanitize_for_serialization(t) for t in spec.taints or () if t.key != OUTAGE_TAINT]
        core.patch_node(name, {"metadata": {"labels": {CORDON_LABEL: None}},
                               "spec": {"unschedulable": False, "taints": kept or None}})


def _forget_node_leases(progress: Progress) -> None:
    """Delete the leases a previous kwok left: a new kwok waits for them to expire (40 s) before playing pods."""
    from kubernetes import client
    from kubernetes.client.rest import ApiException

    with api_client() as api:
        coordination = client.CoordinationV1Api(api)
        names = {n.name for n in NODES}
        stale = [lease.metadata.name for lease in coordination.list_namespaced_lease("kube-node-lease").items
                 if lease.metadata.name in names]
        if stale:
            progress(f"deleting {len(stale)} node leases of the previous kwok")
        for name in stale:
            try:
                coordination.delete_namespaced_lease(name, "kube-node-lease")
            except ApiException as exc:
                if exc.status != 404:
                    raise


def _nodes_ready(core: Any, coordination: Any, renewed_after: float | None) -> dict[str, bool]:
    """Node name -> Ready (and, with renewed_after, its lease renewed by the running kwok since then)."""
    renewed: dict[str, float] = {}
    if renewed_after is not None:
        for lease in coordination.list_namespaced_lease("kube-node-lease").items:
            if lease.spec.renew_time is not None:
                renewed[lease.metadata.name] = lease.spec.renew_time.timestamp()
    ready = {}
    for n in core.list_node().items:
        conditions = {c.type: c.status for c in (n.status.conditions or [])}
        fresh = renewed_after is None or renewed.get(n.metadata.name, 0.0) >= renewed_after
        ready[n.metadata.name] = conditions.get("Ready") == "True" and fresh
    return ready


def wait_nodes_ready(nodes: Iterable[Node] = NODES, timeout: float = _NODES_READY_WITHIN_S,
                     renewed_after: float | None = None) -> None:
    """Wait until every node is Ready (and its lease renewed after ``renewed_after``, a Unix time)."""
    from kubernetes import client

    names = {n.name for n in nodes}
    missing: list[str] = []
    with api_client() as api:
        core, coordination = client.CoreV1Api(api), client.CoordinationV1Api(api)

        def all_ready() -> bool:
            nonlocal missing
            ready = _nodes_ready(core, coordination, renewed_after)
            missing = sorted(n for n in names if not ready.get(n))
            return not missing

        until(all_ready, timeout, 0.5, lambda: f"nodes not Ready within {timeout:.0f} s: {', '.join(missing)}; see {_log('kwok')}",
              error=LocalStackError)


# --------------------------------------------------------------------------- up / down / status


def install(progress: Progress = print) -> dict[str, Path]:
    """Binaries (built once, cached), PKI and kubeconfigs."""
    bins = kube_build.build(progress)
    ensure_pki()
    write_kubeconfigs(tier_dir() / "conf")
    return bins


def up(faults: Sequence[str] = (), progress: Progress = print) -> dict:
    """Start what is not running, register the nodes, wait until every node is Ready, apply the seed
    workloads with these cluster-tier fault profiles and wait until they are available; return status()."""
    from kubernetes import client

    faults = sorted(set(faults))
    wrong = [f for f in faults if f not in FAULTS or FAULTS[f].tier != "cluster"]
    if wrong:
        cluster = sorted(n for n, f in FAULTS.items() if f.tier == "cluster")
        raise LocalStackError(f"not a cluster fault profile: {', '.join(wrong)}: the cluster tier's are {', '.join(cluster)}")
    started_at = time.monotonic()
    bins = install(progress)
    for sub in ("conf", "run", "logs", "etcd", "certs"):
        (tier_dir() / sub).mkdir(parents=True, exist_ok=True)
    _conf("kwok.yaml").write_text(_kwok_config())
    (tier_dir() / "etcd").chmod(0o700)
    kwok_started = running_pid("kwok") is None
    with _probe_client() as probe:
        for name in COMPONENTS:
            proc = None
            if _outdated(name, bins):
                progress(f"restarting {name}: its command line changed")
                processes.stop(_pid_file(name), str(tier_dir()), str(pki_dir()), grace_s=10.0)
                kwok_started = kwok_started or name == "kwok"
            if running_pid(name) is None:
                if name == "kwok":
                    _forget_node_leases(progress)
                progress(f"starting {name} on {HOST}:{PORTS[name]}")
                proc = _start(name, bins)
            _wait_healthy(name, proc, probe)
    register_nodes(progress=progress)
    kube_nodes.up(bins, progress)
    wait_nodes_ready(renewed_after=time.time() - 1 if kwok_started else None)
    with api_client() as api:
        kube_nodes.wait_ready(client.CoreV1Api(api))
    progress(f"applying the seed workloads from {kube_workloads.MANIFESTS_DIR} "
             f"({', '.join(faults) or 'no fault profile'})")
    _state_file().unlink(missing_ok=True)
    with api_client() as api:
        docs = kube_workloads.apply(api, tier_dir() / "discovery.json", faults, progress)
        kube_workloads.wait_available(api, docs, progress=progress)
    tier_state.write(_state_file(), {"faults": faults})
    progress(f"cluster tier up in {time.monotonic() - started_at:.1f} s: kubectl --kubeconfig {kubeconfig_path()}")
    return status()


def down(purge: bool = False) -> None:
    """Stop the real nodes and the processes this tier started (by their pid files), in reverse order; ``purge``
    wipes etcd's data and the real nodes' state."""
    kube_nodes.purge() if purge else kube_nodes.down()
    for name in reversed(COMPONENTS):
        processes.stop(_pid_file(name), str(tier_dir()), str(pki_dir()), grace_s=10.0)
    if purge:
        shutil.rmtree(tier_dir() / "etcd", ignore_errors=True)
        _state_file().unlink(missing_ok=True)


def status() -> dict:
    """Each component's health, address and pid; the kubeconfig and context."""
    pids = {name: running_pid(name) for name in COMPONENTS}
    applied = tier_state.read(_state_file())
    components = {}
    with _probe_client() as probe:
        for name in COMPONENTS:
            components[name] = {"healthy": pids[name] is not None and _healthy(name, probe),
                                "address": f"{HOST}:{PORTS[name]}", "pid": pids[name]}
    return {
        "components": components,
        "api_server": API_SERVER,
        "kubeconfig": str(kubeconfig_path()),
        "context": CONTEXT,
        "kubectl": str(kube_build.KUBERNETES.bin_dir / "kubectl"),
        "faults": applied["faults"] if applied and pids["kube-apiserver"] else [],
        "workloads_applied": bool(applied and pids["kube-apiserver"]),
        "manifests": str(kube_workloads.MANIFESTS_DIR),
        "kubernetes_version": kube_build.KUBERNETES_VERSION,
        "etcd_version": kube_build.ETCD_VERSION,
        "kwok_version": kube_build.KWOK_VERSION,
        "nodes": [{"name": n.name, "pool": n.pool, "zone": n.zone} for n in NODES],
        "real_nodes": kube_nodes.status(),
    }


if __name__ == "__main__":  # python -m gauntlet.local.kube_cluster [up [FAULT...]|down [--purge]|status]
    import sys

    action = sys.argv[1] if len(sys.argv) > 1 else "status"
    if action == "up":
        print(json.dumps(up(sys.argv[2:]), indent=2))
    elif action == "down":
        down(purge="--purge" in sys.argv)
    else:
        print(json.dumps(status(), indent=2))
