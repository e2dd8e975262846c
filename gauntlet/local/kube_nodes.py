"""The cluster tier's real nodes: kubelets whose pods run processes, beside the KWOK nodes.

Each node is a sandbox of its own on this machine, much like a kind node without a container:

- a network namespace ``gauntlet-NAME`` whose ``eth0`` is a veth on the bridge :data:`BRIDGE`
  (10.250.0.1/24 in the host's namespace), its pods on ``cni0`` (10.244.N.0/24, the CNI bridge
  plugin); the host routes each node's pod CIDR to it, kube-proxy's iptables rules and
  ``ip_forward`` live in the node's namespace only;
- a private mount namespace (held by a small shell, the sandbox's first process): ``/run`` a tmpfs,
  ``/var/lib`` and ``/var/log`` bind mounts of the node's folder, the GOPROXY tier's module corpus
  read-only under ``/srv/goproxy`` (Athens' pods copy it), and the three ``/proc/sys`` files
  kubelet would otherwise set host-wide (``vm.overcommit_memory``, ``kernel.panic``,
  ``kernel.panic_on_oops``) masked with the values it wants;
- Debian's containerd and runc, the cached build's kubelet and kube-proxy, entered into both
  namespaces with ``nsenter``; the pods' cgroups under ``/gauntlet-NAME`` in every hierarchy.

The API server stays on loopback: a socat on the host serves it on a Unix socket, and one in each node
listens on the node's own 127.0.0.1:6443 (a name of the serving certificate). Nodes register with the
taint :data:`TAINT` and pool label ``real``: only workloads meant for them land there. ``down`` stops
them and removes every interface, route, mount, cgroup and process they made (the namespaces hold the
rest). This VM lacks CAP_SYS_RESOURCE: containerd's ``restrict_oom_score_adj`` keeps runc from lowering
a score it may not lower. Recipe and figures: ``../shared/research/real-node-notes.md``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from gauntlet.exceptions import LocalStackError, WaitTimeout
from gauntlet.local import corpus, kube_pki, node_images, processes
from gauntlet.local.install import apt_install
from gauntlet.paths import state_dir
from gauntlet.waiting import until

Progress = Callable[[str], None]

#: Debian's packages a real node runs on (the plugins in /usr/lib/cni); containerd's service never started.
APT_PACKAGES = ("containerd", "runc", "containernetworking-plugins", "iptables", "conntrack", "socat")
_NEEDED = ("/usr/bin/containerd", "/usr/sbin/runc", "/usr/lib/cni/bridge", "/usr/sbin/iptables", "/usr/sbin/conntrack",
           "/usr/bin/socat")

BRIDGE, BRIDGE_IP, NODE_NET = "gauntlet0", "10.250.0.1", "10.250.0.0/24"
CLUSTER_CIDR = "10.244.0.0/16"
POOL = "real"
TAINT = {"key": "gauntlet.dev/real-node", "value": "true", "effect": "NoSchedule"}
KUBELET_PORT = 10250
_READY_WITHIN_S = 90.0
_CGROUP_ROOT = Path("/sys/fs/cgroup")
#: What kubelet sets unless it finds it set (protectKernelDefaults: false): masked in the node's mount namespace.
_KERNEL_DEFAULTS = {"vm/overcommit_memory": "1", "kernel/panic": "10", "kernel/panic_on_oops": "1"}
_DAEMONS = ("containerd", "kube-proxy", "kubelet", "api-relay")  # started in this order, stopped in reverse


@dataclass(frozen=True)
class RealNode:
    """A real node: its name, zone and the index its addresses derive from."""

    name: str
    zone: str
    index: int

    @property
    def ip(self) -> str:
        return f"10.250.0.{10 + self.index}"

    @property
    def pod_cidr(self) -> str:
        return f"10.244.{self.index}.0/24"

    @property
    def netns(self) -> str:
        return f"gauntlet-{self.name}"

    @property
    def veth(self) -> str:
        return f"gveth-{self.name}"

    @property
    def cgroup(self) -> str:
        return f"gauntlet-{self.name}"


#: Four nodes in the KWOK nodes' three zones (pool ``real``): castle, single-AZ by its seed, spreads over the two in
#: us-east-1a; Athens, one pod per zone, over one node of each.
REAL_NODES = (RealNode("real-a", "us-east-1a", 1), RealNode("real-b", "us-east-1b", 2), RealNode("real-c", "us-east-1a", 3),
              RealNode("real-d", "us-east-1c", 4))


def install_packages(progress: Progress = print) -> None:
    """apt-get install what the real nodes run on, unless there; images' packages too (:mod:`node_images`)."""
    if not all(Path(p).exists() for p in _NEEDED):
        apt_install(APT_PACKAGES, ("containerd",), progress)
    node_images.install_packages(progress)


# --------------------------------------------------------------------------- paths


def nodes_dir() -> Path:
    return state_dir() / "kube" / "nodes"


def node_dir(node: RealNode) -> Path:
    return nodes_dir() / node.name


def _socket(node: RealNode) -> Path:
    return node_dir(node) / "containerd.sock"


def _api_socket() -> Path:
    return nodes_dir() / "api.sock"


def _pid_file(node: RealNode | None, name: str) -> Path:
    return (node_dir(node) if node else nodes_dir()) / "run" / f"{name}.pid"


def _log(node: RealNode | None, name: str) -> Path:
    return (node_dir(node) if node else nodes_dir()) / "logs" / f"{name}.log"


# --------------------------------------------------------------------------- configuration


def containerd_config(node: RealNode) -> str:
    d = node_dir(node)
    return f"""version = 2
root = "{d / 'containerd' / 'root'}"
state = "{d / 'containerd' / 'state'}"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
                    "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs",
                    "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]

[grpc]
  address = "{_socket(node)}"

[debug]
  level = "warn"

[plugins."io.containerd.internal.v1.opt"]
  path = "{d / 'containerd' / 'opt'}"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{node_images.PAUSE_IMAGE}"
  disable_apparmor = true
  # This machine's processes lack CAP_SYS_RESOURCE: the pause container's -998 would fail runc.
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "10010"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "{d / 'runc'}"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "{d / 'cni' / 'net.d'}"
"""


def cni_config(node: RealNode) -> dict:
    return {"cniVersion": "1.0.0", "name": "gauntlet", "plugins": [
        {"type": "bridge", "bridge": "cni0", "isGateway": True, "ipMasq": False, "hairpinMode": True,
         "ipam": {"type": "host-local", "ranges": [[{"subnet": node.pod_cidr}]], "routes": [{"dst": "0.0.0.0/0"}],
                  "dataDir": str(node_dir(node) / "cni" / "ipam")}},
        {"type": "portmap", "capabilities": {"portMappings": True}},
    ]}


def kubelet_config(node: RealNode) -> dict:
    pki = kube_pki.pki_dir()
    return {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "address": node.ip,
        "port": KUBELET_PORT,
        "readOnlyPort": 0,
        "healthzBindAddress": "127.0.0.1",
        "healthzPort": 10248,
        "authentication": {"anonymous": {"enabled": False}, "webhook": {"enabled": True},
                           "x509": {"clientCAFile": str(pki / "ca.pem")}},
        "authorization": {"mode": "Webhook"},
        "tlsCertFile": str(pki / f"kubelet-{node.name}-serving.pem"),
        "tlsPrivateKeyFile": str(pki / f"kubelet-{node.name}-serving.key"),
        "containerRuntimeEndpoint": f"unix://{_socket(node)}",
        "cgroupDriver": "cgroupfs",
        "cgroupRoot": f"/{node.cgroup}",
        "failCgroupV1": False,  # this machine's cgroups are hybrid (v1 controllers)
        "failSwapOn": False,
        "resolvConf": "",
        "clusterDomain": "cluster.local",
        "registerWithTaints": [TAINT],
        # The images exist only here (no registry): never collected, and eviction only when the disk is really full.
        "imageGCHighThresholdPercent": 100,
        "imageGCLowThresholdPercent": 99,
        "evictionHard": {"memory.available": "100Mi", "nodefs.available": "1%", "imagefs.available": "1%"},
        "podLogsDir": "/var/log/pods",
        "serializeImagePulls": False,
    }


def kube_proxy_config(node: RealNode) -> dict:
    return {
        "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
        "kind": "KubeProxyConfiguration",
        "clientConnection": {"kubeconfig": str(node_dir(node) / "kube-proxy.kubeconfig")},
        "mode": "iptables",
        "clusterCIDR": CLUSTER_CIDR,
        "hostnameOverride": node.name,
        "nodePortAddresses": [NODE_NET],  # the node's own address, not its pods' gateway
        "healthzBindAddress": "127.0.0.1:10256",
        "metricsBindAddress": "127.0.0.1:10249",
        # Leave the host-wide conntrack sysctls alone.
        "conntrack": {"maxPerCore": 0, "min": 0, "tcpEstablishedTimeout": "0s", "tcpCloseWaitTimeout": "0s"},
    }


def _labels(node: RealNode) -> str:
    labels = {"topology.kubernetes.io/region": "us-east-1", "topology.kubernetes.io/zone": node.zone,
              "node.kubernetes.io/instance-type": "gauntlet.real", "gauntlet.dev/node-pool": POOL,
              "eks.amazonaws.com/nodegroup": POOL}
    return ",".join(f"{k}={v}" for k, v in labels.items())


def _argv(node: RealNode, name: str, bins: dict[str, Path]) -> list[str]:
    d = node_dir(node)
    if name == "containerd":
        return ["/usr/bin/containerd", f"--config={d / 'containerd.toml'}"]
    if name == "kubelet":
        return [str(bins["kubelet"]), f"--config={d / 'kubelet.yaml'}", f"--kubeconfig={d / 'kubelet.kubeconfig'}",
                f"--root-dir={d / 'kubelet'}", f"--hostname-override={node.name}", f"--node-ip={node.ip}",
                f"--node-labels={_labels(node)}", "--v=1"]
    if name == "kube-proxy":
        return [str(bins["kube-proxy"]), f"--config={d / 'kube-proxy.yaml'}"]
    if name == "api-relay":  # the node's 127.0.0.1:6443 -> the host's Unix socket -> the API server
        return ["/usr/bin/socat", f"TCP-LISTEN:{kube_pki.API_PORT},bind=127.0.0.1,fork,reuseaddr",
                f"UNIX-CONNECT:{_api_socket()}"]
    raise KeyError(name)


def _sandbox_script(node: RealNode) -> str:
    """The sandbox's first process: its mounts, then it waits (the mount namespace lives as long as it does)."""
    d = node_dir(node)
    masks = "\n".join(f"mount --bind {d / 'sysctl' / key.replace('/', '.')} /proc/sys/{key}" for key in _KERNEL_DEFAULTS)
    return f"""# gauntlet real node {node.name}: {d}
set -e
mount -t tmpfs -o mode=0755 gauntlet-run /run
mount --bind {d / 'varlib'} /var/lib
mount --bind {d / 'varlog'} /var/log
mount -t tmpfs -o mode=0755 gauntlet-srv /srv
mkdir /srv/goproxy
mount --bind -o ro {corpus.corpus_dir().parent} /srv/goproxy
{masks}
trap 'exit 0' TERM INT
while :; do sleep 3600 & wait $!; done
"""


# --------------------------------------------------------------------------- helpers


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30)
    if check and proc.returncode != 0:
        raise LocalStackError(f"ip {' '.join(args)}: {proc.stderr.strip()}")
    return proc


def _has_link(name: str, netns: str | None = None) -> bool:
    return _ip(*(["-n", netns] if netns else []), "link", "show", name, check=False).returncode == 0


def _netns_inode(node: RealNode) -> int | None:
    try:
        return os.stat(f"/run/netns/{node.netns}").st_ino
    except OSError:
        return None


def _pids_in_netns(inode: int) -> list[int]:
    """Every process whose network namespace is the node's (its daemons, the shims, the sandbox)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.stat(entry / "ns" / "net").st_ino == inode:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def _cgroup_dirs(node: RealNode) -> Iterator[Path]:
    """The node's cgroup folder in each hierarchy that has one."""
    for hierarchy in sorted(_CGROUP_ROOT.iterdir()) if _CGROUP_ROOT.is_dir() else ():
        if (hierarchy / node.cgroup).is_dir():
            yield hierarchy / node.cgroup


def _pids_in_cgroups(node: RealNode) -> set[int]:
    """Every process in the node's cgroups (its pods' containers)."""
    pids: set[int] = set()
    for top in _cgroup_dirs(node):
        for folder, _, files in os.walk(top):  # not rglob: a pod's cgroup may vanish during the walk
            if "cgroup.procs" in files:
                try:
                    pids.update(int(p) for p in Path(folder, "cgroup.procs").read_text().split())
                except OSError:
                    continue
    return pids


def node_pids(node: RealNode) -> set[int]:
    """Every process of the node: those in its network namespace and those in its cgroups."""
    inode = _netns_inode(node)
    return set(_pids_in_netns(inode) if inode else ()) | _pids_in_cgroups(node)


def _kill_all(pids: set[int] | list[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _make_cgroups(node: RealNode) -> None:
    """The node's cgroup root in every v1 hierarchy (kubelet wants it there; its pods' cgroups go below)."""
    for hierarchy in sorted(_CGROUP_ROOT.iterdir()):
        if hierarchy.name == "unified" or not (hierarchy / "cgroup.procs").is_file():
            continue
        top = hierarchy / node.cgroup
        top.mkdir(exist_ok=True)
        if hierarchy.name == "cpuset":  # a v1 cpuset takes no task until it has CPUs and memory nodes
            for knob in ("cpuset.cpus", "cpuset.mems"):
                if not (top / knob).read_text().strip():
                    (top / knob).write_text((hierarchy / knob).read_text())


def _remove_cgroups(node: RealNode) -> None:
    for top in list(_cgroup_dirs(node)):
        for sub in sorted((p for p in top.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True) + [top]:
            try:
                sub.rmdir()
            except FileNotFoundError:
                pass
            except OSError as exc:
                raise LocalStackError(f"cannot remove cgroup {sub} of node {node.name}: {exc}") from exc


# --------------------------------------------------------------------------- network


def _ensure_network(progress: Progress) -> None:
    if not _has_link(BRIDGE):
        progress(f"real nodes: bridge {BRIDGE} {BRIDGE_IP}/24")
        _ip("link", "add", BRIDGE, "type", "bridge")
        _ip("addr", "add", f"{BRIDGE_IP}/24", "dev", BRIDGE)
        _ip("link", "set", BRIDGE, "up")
    for node in REAL_NODES:
        if _netns_inode(node) is None:
            _ip("netns", "add", node.netns)
        if not _has_link(node.veth):
            _ip("link", "add", node.veth, "type", "veth", "peer", "name", "eth0", "netns", node.netns)
            _ip("link", "set", node.veth, "master", BRIDGE, "up")
            _ip("-n", node.netns, "addr", "add", f"{node.ip}/24", "dev", "eth0")
            _ip("-n", node.netns, "link", "set", "eth0", "up")
            _ip("-n", node.netns, "link", "set", "lo", "up")
        for other in REAL_NODES:
            if other != node:
                _ip("-n", node.netns, "route", "replace", other.pod_cidr, "via", other.ip)
        _ip("route", "replace", node.pod_cidr, "via", node.ip, "dev", BRIDGE)
        # Forwarding and bridged traffic through iptables in the node's namespace only (both are per namespace).
        subprocess.run(["ip", "netns", "exec", node.netns, "sh", "-c",
                        "echo 1 > /proc/sys/net/ipv4/ip_forward; "
                        "[ ! -e /proc/sys/net/bridge/bridge-nf-call-iptables ] || echo 1 > /proc/sys/net/bridge/bridge-nf-call-iptables"],
                       check=True, capture_output=True, timeout=30)


def _remove_network() -> None:
    for node in REAL_NODES:
        if _netns_inode(node) is not None:
            _ip("netns", "delete", node.netns)  # its veth pair goes with it
        if _has_link(node.veth):
            _ip("link", "delete", node.veth)
    if _has_link(BRIDGE):
        _ip("link", "delete", BRIDGE)  # the routes through it go with it


# --------------------------------------------------------------------------- processes


def _sandbox_pid(node: RealNode) -> int | None:
    return processes.running_pid(_pid_file(node, "sandbox"), str(node_dir(node)))


def running_pid(node: RealNode, name: str) -> int | None:
    return processes.running_pid(_pid_file(node, name), str(node_dir(node)), str(_api_socket()))


def _relay_pid() -> int | None:
    return processes.running_pid(_pid_file(None, "api-relay"), str(_api_socket()))


def _write(path: Path, text: str) -> bool:
    """Only when it changed (kube-proxy exits when its configuration file is written to); whether it did."""
    if path.is_file() and path.read_text() == text:
        return False
    path.write_text(text)
    return True


def _write_files(node: RealNode) -> set[str]:
    """The node's folders and configuration; the processes whose configuration changed (to restart)."""
    d = node_dir(node)
    for sub in ("run", "logs", "varlib", "varlog", "sysctl", "kubelet", "cni/net.d", "cni/ipam", "runc", "containerd"):
        (d / sub).mkdir(parents=True, exist_ok=True)
    files = {
        "sandbox": [(d / "sandbox.sh", _sandbox_script(node)),
                    *((d / "sysctl" / key.replace("/", "."), f"{value}\n") for key, value in _KERNEL_DEFAULTS.items())],
        "containerd": [(d / "containerd.toml", containerd_config(node)),
                       (d / "cni" / "net.d" / "10-gauntlet.conflist", json.dumps(cni_config(node), indent=2))],
        "kubelet": [(d / "kubelet.yaml", yaml.safe_dump(kubelet_config(node))),
                    (d / "kubelet.kubeconfig", yaml.safe_dump(kube_pki.kubeconfig(f"kubelet-{node.name}", embed=False)))],
        "kube-proxy": [(d / "kube-proxy.yaml", yaml.safe_dump(kube_proxy_config(node))),
                       (d / "kube-proxy.kubeconfig", yaml.safe_dump(kube_pki.kubeconfig("kube-proxy", embed=False)))],
    }
    return {name for name, written in files.items() if any([_write(path, text) for path, text in written])}


def ensure_pki() -> None:
    """Per node a kubelet client certificate (system:node:NAME in system:nodes, for the Node authorizer) and a
    serving certificate for its address; the shared identities are :func:`kube_pki.ensure_pki`'s."""
    ca = kube_pki.load_ca()
    for node in REAL_NODES:
        kube_pki.issue(ca, f"kubelet-{node.name}", f"{node.name}.gauntlet.localhost", cn=f"system:node:{node.name}",
                       org="system:nodes")
        kube_pki.issue(ca, f"kubelet-{node.name}-serving", node.ip, node.name, cn=f"system:node:{node.name}",
                       org="system:nodes")


def _in_node(node: RealNode, argv: list[str]) -> list[str]:
    return ["nsenter", f"--target={_sandbox_pid(node)}", "--net", "--mount", "--", *argv]


def _accepts(path: Path) -> bool:
    """Whether something listens on the Unix socket ``path`` (a socket file a killed daemon left refuses)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            probe.connect(str(path))
        except OSError:
            return False
    return True


def _check_containerd(node: RealNode, proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        raise LocalStackError(f"containerd of node {node.name} exited at start (code {proc.returncode}): "
                              f"see {_log(node, 'containerd')}\n" + processes.tail(_log(node, "containerd")))


def _start_containerd(node: RealNode, argv: list[str], progress: Progress) -> None:
    """Start it (the socket file a killed one left is removed first: it would pass for served), wait until it
    accepts connections, then import the node's images."""
    _socket(node).unlink(missing_ok=True)
    proc = processes.start(argv, _log(node, "containerd"), pid_file=_pid_file(node, "containerd"))

    def ready() -> bool:
        _check_containerd(node, proc)
        return _accepts(_socket(node))

    until(ready, 30.0, 0.1, f"containerd of node {node.name} to serve {_socket(node)}", error=LocalStackError)
    try:
        node_images.import_into(_socket(node), progress)
    except LocalStackError:
        _check_containerd(node, proc)  # the cause, when containerd died under the import
        raise


def _start_node(node: RealNode, bins: dict[str, Path], progress: Progress) -> None:
    changed = _write_files(node)
    if "sandbox" in changed and _sandbox_pid(node) is not None:
        progress(f"real node {node.name}: restarting it, its sandbox changed")
        _stop_node(node)
    for name in sorted(n for n in changed & set(_DAEMONS) if running_pid(node, n) is not None):
        progress(f"real node {node.name}: restarting {name}, its configuration changed")
        _stop_daemon(node, name)
    if _sandbox_pid(node) is None:
        _stop_node(node)  # daemons left in a mount namespace that is gone
        progress(f"real node {node.name}: sandbox {node.netns} ({node.ip}, pods {node.pod_cidr})")
        sandbox = processes.start(["nsenter", f"--net=/run/netns/{node.netns}", "--", "unshare", "--mount", "--propagation",
                                   "slave", "--", "/bin/sh", str(node_dir(node) / "sandbox.sh")], _log(node, "sandbox"),
                                  pid_file=_pid_file(node, "sandbox"))
        until(lambda: _mounted(node, sandbox), 10.0, 0.05, f"the sandbox of node {node.name} to mount its folders",
              error=LocalStackError)
    _make_cgroups(node)
    for name in _DAEMONS:
        if running_pid(node, name) is not None:
            continue
        progress(f"real node {node.name}: starting {name}")
        argv = _in_node(node, _argv(node, name, bins))
        if name == "containerd":
            _start_containerd(node, argv, progress)
        else:
            processes.start(argv, _log(node, name), pid_file=_pid_file(node, name))


def _mounted(node: RealNode, sandbox: subprocess.Popen) -> bool:
    if sandbox.poll() is not None:
        raise LocalStackError(f"the sandbox of node {node.name} exited at start (code {sandbox.returncode}): "
                              f"see {_log(node, 'sandbox')}\n" + processes.tail(_log(node, "sandbox")))
    try:
        return " /var/log " in Path(f"/proc/{sandbox.pid}/mountinfo").read_text()
    except OSError:
        return False


def _stop_daemon(node: RealNode, name: str) -> None:
    processes.stop(_pid_file(node, name), str(node_dir(node)), str(_api_socket()), grace_s=10.0)


def _stop_node(node: RealNode) -> None:
    """kubelet first (it would restart what is killed), then the pods, the daemons, the shims and the sandbox."""
    for name in reversed(_DAEMONS):
        if name == "kube-proxy":  # kubelet is stopped: nothing restarts the pods' containers now
            _kill_all(_pids_in_cgroups(node))
        _stop_daemon(node, name)
    processes.stop(_pid_file(node, "sandbox"), str(node_dir(node)))

    def gone() -> bool:
        left = node_pids(node)
        _kill_all(left)
        return not left

    try:
        until(gone, 15.0, 0.2, "")
    except WaitTimeout as exc:
        raise LocalStackError(f"processes of node {node.name} survive SIGKILL: {sorted(_pids_in_cgroups(node))}") from exc
    _remove_cgroups(node)


# --------------------------------------------------------------------------- containers


def node_named(name: str) -> RealNode | None:
    return next((n for n in REAL_NODES if n.name == name), None)


def kill_container(node: RealNode, container_id: str) -> None:
    """SIGKILL every process of a container, as its runtime does (``ctr tasks kill --all``): the pod object and
    its sandbox stay; the kubelet sees the container exit and restarts it."""
    node_images.ctr(_socket(node), "tasks", "kill", "--all", "--signal", "SIGKILL", container_id, timeout=30)


# --------------------------------------------------------------------------- up / down / status


def up(bins: dict[str, Path], progress: Progress = print) -> None:
    """Start or heal the real nodes (the control plane runs); they register themselves. See :func:`wait_ready`."""
    if os.geteuid() != 0:
        raise LocalStackError("real nodes need root (network and mount namespaces, cgroups): run gauntlet local up as root")
    install_packages(progress)
    corpus.build(progress)  # what the sandboxes mount for Athens' pods
    ensure_pki()
    _ensure_network(progress)
    if _relay_pid() is None:
        _api_socket().unlink(missing_ok=True)
        _pid_file(None, "api-relay").parent.mkdir(parents=True, exist_ok=True)
        processes.start(["/usr/bin/socat", f"UNIX-LISTEN:{_api_socket()},fork,mode=600",
                         f"TCP:{kube_pki.HOST}:{kube_pki.API_PORT}"], _log(None, "api-relay"), pid_file=_pid_file(None, "api-relay"))
        until(_api_socket().is_socket, 10.0, 0.05, f"the API relay to serve {_api_socket()}", error=LocalStackError)
    for node in REAL_NODES:
        _start_node(node, bins, progress)


def wait_ready(core: Any, timeout: float = _READY_WITHIN_S) -> None:
    """Until every real node is Ready as its kubelet reports it."""
    missing: list[str] = []

    def ready() -> bool:
        nonlocal missing
        seen = {n.metadata.name: {c.type: c.status for c in n.status.conditions or ()} for n in core.list_node().items}
        missing = [n.name for n in REAL_NODES if seen.get(n.name, {}).get("Ready") != "True"]
        return not missing

    until(ready, timeout, 0.5, lambda: f"real nodes not Ready within {timeout:.0f} s: {', '.join(missing)}; see "
          + ", ".join(str(_log(n, "kubelet")) for n in REAL_NODES if n.name in missing), error=LocalStackError)


def down() -> None:
    """Stop every real node and remove what they made: processes, cgroups, namespaces, interfaces, routes."""
    for node in REAL_NODES:
        _stop_node(node)
    processes.stop(_pid_file(None, "api-relay"), str(_api_socket()))
    _api_socket().unlink(missing_ok=True)
    _remove_network()


def purge() -> None:
    """:func:`down`, then the nodes' state (containerd's images and snapshots, kubelet's pods)."""
    down()
    shutil.rmtree(nodes_dir(), ignore_errors=True)


def status() -> list[dict]:
    """Each real node: name, zone, address, pod CIDR and the pids of its daemons."""
    return [{"name": n.name, "zone": n.zone, "ip": n.ip, "pod_cidr": n.pod_cidr, "pool": POOL,
             "pids": {name: running_pid(n, name) for name in ("sandbox", *_DAEMONS)}} for n in REAL_NODES]
