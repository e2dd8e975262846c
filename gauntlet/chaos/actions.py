"""Actions of the chaos experiments where chaostoolkit-kubernetes has none that fits, and their rollbacks.

Each action's target selection is a separate ``select_*`` function, read-only, that
:mod:`gauntlet.chaos.targets` calls too: what ``--dry-run`` prints and what the
blast-radius guard counts is exactly what the action will hit.

A workload is its namespace and label selector (the pods a Service of it selects), so a
workload made of several Deployments (castle's backend) is one target.

- :func:`terminate_pods_down_to` kills a workload's Ready pods down to ``keep``
  (``at_least`` of them even when it already runs at ``keep``);
- :func:`delete_one_replica_set` deletes one ReplicaSet of a workload (its pods go with it);
- :func:`drain_node` cordons a node and evicts its pods through the Eviction API,
  retrying those a PodDisruptionBudget blocks (HTTP 429) like ``kubectl drain``
  (chaostoolkit-kubernetes' ``drain_nodes`` gives up on the first 429);
- :func:`zone_outage` taints every node of a zone ``NoExecute``: Kubernetes' own
  taint-eviction controller removes their pods at once, PDBs or not, as when a zone
  goes dark, and nothing is scheduled there until :func:`end_zone_outage`;
- :func:`kill_container` kills the processes of one pod's container through its node's
  container runtime (SIGKILL: a crash; the pod object stays, the kubelet restarts the
  container): on the local stack's real nodes;
- :func:`make_pod_unready` removes the file one pod's readiness endpoint answers from, for a while
  (a process in the container puts it back); :func:`restore_readiness_files` is its rollback;
- :func:`kill_local_replica` kills a replica of the local GOPROXY tier (its process
  group, SIGKILL: a crash), :func:`restart_local_replica` starts it again.

Rollbacks (:func:`uncordon_nodes`, :func:`end_zone_outage`, :func:`restore_readiness_files`, :func:`restart_local_replica`)
find what to undo by the marks the actions leave (a node label, a taint, a pod annotation, a pid file), so
they are idempotent and also right after an interruption.
"""

from __future__ import annotations

import shlex
import signal
from collections import Counter
from typing import Any

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets

from gauntlet.chaos import kube
from gauntlet.children import signal_group
from gauntlet.exceptions import GauntletError
from gauntlet.waiting import until

#: Label a drain puts on the node it cordons; the rollback uncordons exactly those.
CORDON_LABEL = "gauntlet.dev/chaos-cordoned"
#: Annotation a container kill leaves on its pod: ``<container>:<restarts before>`` (the recovery probe reads it).
KILLED_ANNOTATION = "gauntlet.dev/chaos-container-killed"
#: Annotation an unreadiness leaves on its pod: ``<container>:<restarts before>:<path>`` (the probe that judges it
#: and the rollback that puts the file back read it).
UNREADY_ANNOTATION = "gauntlet.dev/chaos-unready"
#: Taint of a simulated zone outage.
OUTAGE_TAINT = "gauntlet.dev/zone-outage"
ZONE_LABEL = "topology.kubernetes.io/zone"
EVICTION_RETRY_S = 1.0


# --------------------------------------------------------------------------- selection (read-only)


def selected_pods(namespace: str, label_selector: str, configuration: Configuration | None = None) -> list:
    """The workload's pods: ``label_selector`` in ``namespace``, sorted by name."""
    pods = kube.core(configuration).list_namespaced_pod(namespace, label_selector=label_selector).items
    return sorted(pods, key=lambda p: p.metadata.name)


def select_pods_down_to(namespace: str, label_selector: str, keep: int, at_least: int = 0,
                        configuration: Configuration | None = None) -> list:
    """The Ready pods to kill so that ``keep`` remain (at least ``at_least`` of them), by name."""
    ready = [p for p in selected_pods(namespace, label_selector, configuration) if kube.pod_ready(p)]
    count = max(len(ready) - int(keep), int(at_least), 0)
    return ready[:count]


def select_replica_set(namespace: str, label_selector: str, configuration: Configuration | None = None) -> tuple[Any, list]:
    """Of the workload's ReplicaSets holding pods, the one with the most Ready pods (ties: by name), and its pods.

    A Deployment's ReplicaSets carry its pod template's labels, so the workload's selector finds them, one
    per Deployment (castle's backend: two Deployments of one replica, one ReplicaSet each)."""
    sets = [rs for rs in kube.apps(configuration).list_namespaced_replica_set(namespace, label_selector=label_selector).items
            if (rs.status.replicas or 0) > 0]
    if not sets:
        raise ActivityFailed(f"no ReplicaSet with pods matches {label_selector} in {namespace}")
    chosen = sorted(sets, key=lambda rs: (-(rs.status.ready_replicas or 0), rs.metadata.name))[0]
    pods = [p for p in selected_pods(namespace, label_selector, configuration)
            if kube.owned_by(p, "ReplicaSet", chosen.metadata.name)]
    return chosen, pods


def container_status(pod: Any, container: str) -> Any:
    return next((c for c in pod.status.container_statuses or () if c.name == container), None)


def select_container(namespace: str, label_selector: str, container: str,
                     configuration: Configuration | None = None) -> tuple[Any, Any]:
    """Of the workload's Ready pods whose ``container`` runs, the first by name: the pod and that container's status."""
    for pod in selected_pods(namespace, label_selector, configuration):
        status = container_status(pod, container)
        if kube.pod_ready(pod) and status is not None and status.state.running and status.container_id:
            return pod, status
    raise ActivityFailed(f"no Ready pod of {label_selector} in {namespace} runs a container {container!r}")


def _pods_on(core: Any, node: str) -> list:
    return core.list_pod_for_all_namespaces(field_selector=f"spec.nodeName={node}").items


def _evictable(pod: Any) -> bool:
    """What a drain evicts: not DaemonSet pods, not mirror pods, not pods that already ended."""
    if (pod.metadata.annotations or {}).get("kubernetes.io/config.mirror"):
        return False
    if any(o.kind == "DaemonSet" for o in (pod.metadata.owner_references or ())):
        return False
    return pod.status.phase not in ("Succeeded", "Failed")


def select_drain_node(namespace: str, label_selector: str, node: str | None = None,
                      configuration: Configuration | None = None) -> tuple[str, list]:
    """The node to drain and its evictable pods: ``node``, else of the nodes hosting the most Ready pods of the
    workload the one with the fewest pods in all (the smallest blast radius), ties by name."""
    core = kube.core(configuration)
    if not node:
        hosts = Counter(p.spec.node_name for p in selected_pods(namespace, label_selector, configuration)
                        if kube.pod_ready(p) and p.spec.node_name)
        if not hosts:
            raise ActivityFailed(f"no Ready pod of {label_selector} in {namespace} runs on a node")
        most = max(hosts.values())
        candidates = sorted(n for n, count in hosts.items() if count == most)
        node = min(candidates, key=lambda n: (len([p for p in _pods_on(core, n) if _evictable(p)]), n))
    return node, sorted((p for p in _pods_on(core, node) if _evictable(p)), key=lambda p: (p.metadata.namespace, p.metadata.name))


def select_zone(namespace: str, label_selector: str, zone: str | None = None,
                configuration: Configuration | None = None) -> tuple[str, list[str], list]:
    """The zone to take down (``zone``, else the one hosting the most Ready pods of the workload), its nodes and their pods."""
    core = kube.core(configuration)
    zone_of = {n.metadata.name: (n.metadata.labels or {}).get(ZONE_LABEL) for n in core.list_node().items}
    if not zone:
        zones = Counter(zone_of.get(p.spec.node_name) for p in selected_pods(namespace, label_selector, configuration)
                        if kube.pod_ready(p) and zone_of.get(p.spec.node_name))
        if not zones:
            raise ActivityFailed(f"no Ready pod of {label_selector} in {namespace} runs on a node with a {ZONE_LABEL} label")
        zone = str(sorted(zones.items(), key=lambda kv: (-kv[1], kv[0]))[0][0])
    names = sorted(n for n, z in zone_of.items() if z == zone)
    if not names:
        raise ActivityFailed(f"no node in zone {zone!r}")
    pods = [p for name in names for p in _pods_on(core, name) if p.status.phase not in ("Succeeded", "Failed")]
    return zone, names, sorted(pods, key=lambda p: (p.metadata.namespace, p.metadata.name))


# --------------------------------------------------------------------------- pods and ReplicaSets


def terminate_pods_down_to(namespace: str, label_selector: str, keep: int, at_least: int = 0,
                           grace_period_s: int | None = None, configuration: Configuration | None = None,
                           secrets: Secrets | None = None) -> list[str]:
    """Delete the workload's Ready pods until ``keep`` remain (``at_least`` of them in any case); their names."""
    from kubernetes import client

    core = kube.core(configuration)
    body = client.V1DeleteOptions(grace_period_seconds=grace_period_s) if grace_period_s is not None else None
    killed = []
    for pod in select_pods_down_to(namespace, label_selector, keep, at_least, configuration):
        core.delete_namespaced_pod(pod.metadata.name, namespace, body=body)
        killed.append(pod.metadata.name)
    return killed


def delete_one_replica_set(namespace: str, label_selector: str, configuration: Configuration | None = None,
                           secrets: Secrets | None = None) -> dict:
    """Delete one ReplicaSet of the workload, its pods with it (background propagation): a replica-set failure.
    Its Deployment's controller creates it again."""
    from kubernetes import client

    rs, pods = select_replica_set(namespace, label_selector, configuration)
    kube.apps(configuration).delete_namespaced_replica_set(
        rs.metadata.name, namespace, body=client.V1DeleteOptions(propagation_policy="Background"))
    owner = next((o.name for o in rs.metadata.owner_references or () if o.kind == "Deployment"), None)
    return {"replicaset": rs.metadata.name, "uid": rs.metadata.uid, "deployment": owner,
            "pods": sorted(p.metadata.name for p in pods)}


def kill_container(namespace: str, label_selector: str, container: str, configuration: Configuration | None = None,
                   secrets: Secrets | None = None) -> dict:
    """SIGKILL the processes of ``container`` in one Ready pod of the workload through its node's container runtime:
    the process crashes, the pod object stays. The kubelet restarts the container (its back-off and the probes
    decide when it is Ready again). The pod is annotated first (:data:`KILLED_ANNOTATION`) for the recovery probe.
    Only on the local stack's real nodes, whose containerd gauntlet reaches."""
    from gauntlet.local import kube_nodes

    pod, status = select_container(namespace, label_selector, container, configuration)
    runtime, _, container_id = status.container_id.partition("://")
    node = kube_nodes.node_named(pod.spec.node_name)
    if runtime != "containerd" or node is None:
        raise ActivityFailed(f"{namespace}/{pod.metadata.name} runs on {pod.spec.node_name} ({status.container_id}): gauntlet "
                             f"kills containers through the containerd of the local stack's real nodes only")
    kube.core(configuration).patch_namespaced_pod(pod.metadata.name, namespace, {"metadata": {"annotations": {
        KILLED_ANNOTATION: f"{container}:{status.restart_count}"}}})
    try:
        kube_nodes.kill_container(node, container_id)
    except GauntletError as exc:
        raise ActivityFailed(str(exc)) from None
    return {"pod": pod.metadata.name, "uid": pod.metadata.uid, "node": node.name, "container": container,
            "container_id": container_id, "restarts_before": status.restart_count, "signal": "SIGKILL"}


def _exec(core: Any, pod: Any, container: str, argv: list[str]) -> None:
    """Run ``argv`` in ``container`` of ``pod`` (``kubectl exec``); ActivityFailed unless it exits 0."""
    from kubernetes.stream import stream

    what = f"{pod.metadata.namespace}/{pod.metadata.name} container {container}: {' '.join(argv)}"
    try:
        ws = stream(core.connect_get_namespaced_pod_exec, pod.metadata.name, pod.metadata.namespace, container=container,
                    command=argv, stderr=True, stdin=False, stdout=True, tty=False, _preload_content=False,
                    _request_timeout=kube.REQUEST_TIMEOUT_S)
        ws.run_forever(timeout=10)
        code, err = ws.returncode, ws.read_stderr()
        ws.close()
    except Exception as exc:  # the API's or the kubelet's answer is the observation
        raise ActivityFailed(f"{what}: exec failed: {exc}") from None
    if code != 0:
        raise ActivityFailed(f"{what}: exited {code}: {err.strip()[:300]}")


def make_pod_unready(namespace: str, label_selector: str, container: str, path: str, for_s: float = 25,
                     configuration: Configuration | None = None, secrets: Secrets | None = None) -> dict:
    """Remove ``path``, the file the readiness endpoint of ``container`` answers from, in one Ready pod of the
    workload, for ``for_s`` seconds (a process in the container puts it back: a transient hiccup of what the pod
    needs to serve). The pod is annotated first (:data:`UNREADY_ANNOTATION`: the probe and the rollback read it)."""
    core = kube.core(configuration)
    pod, status = select_container(namespace, label_selector, container, configuration)
    core.patch_namespaced_pod(pod.metadata.name, namespace, {"metadata": {"annotations": {
        UNREADY_ANNOTATION: f"{container}:{status.restart_count}:{path}"}}})
    file = shlex.quote(path)
    _exec(core, pod, container, ["sh", "-c", f"rm -f {file} && (sleep {float(for_s):g}; touch {file}) >/dev/null 2>&1 &"])
    return {"pod": pod.metadata.name, "uid": pod.metadata.uid, "node": pod.spec.node_name, "container": container,
            "path": path, "restarts": status.restart_count, "for_s": float(for_s)}


def unready_marks(pod: Any) -> tuple[str, int, str] | None:
    """(container, restarts before, path) of the unreadiness :func:`make_pod_unready` left on ``pod``; None."""
    mark = (pod.metadata.annotations or {}).get(UNREADY_ANNOTATION)
    if mark is None:
        return None
    container, restarts, path = mark.split(":", 2)
    return container, int(restarts), path


def restore_readiness_files(namespace: str | None = None, configuration: Configuration | None = None,
                            secrets: Secrets | None = None) -> list[str]:
    """Rollback of :func:`make_pod_unready`: put the file back in each pod it marked in ``namespace`` (default: every
    namespace), and unmark the pod."""
    core = kube.core(configuration)
    pods = core.list_namespaced_pod(namespace).items if namespace else core.list_pod_for_all_namespaces().items
    done = []
    for pod in pods:
        mark = unready_marks(pod)
        if mark is None:
            continue
        if pod.metadata.deletion_timestamp is None:
            _exec(core, pod, mark[0], ["touch", mark[2]])
        core.patch_namespaced_pod(pod.metadata.name, pod.metadata.namespace,
                                  {"metadata": {"annotations": {UNREADY_ANNOTATION: None}}})
        done.append(f"{pod.metadata.namespace}/{pod.metadata.name}")
    return done


# --------------------------------------------------------------------------- nodes


def _evict(core: Any, pod: Any) -> int:
    """One eviction request; the HTTP status (201 evicted, 429 refused by a PDB, 404 gone)."""
    from kubernetes import client
    from kubernetes.client.rest import ApiException

    body = client.V1Eviction(metadata=client.V1ObjectMeta(name=pod.metadata.name, namespace=pod.metadata.namespace))
    try:
        core.create_namespaced_pod_eviction(pod.metadata.name, pod.metadata.namespace, body=body)
        return 201
    except ApiException as exc:
        if exc.status in (404, 429):
            return exc.status
        raise ActivityFailed(f"evicting {pod.metadata.namespace}/{pod.metadata.name}: {exc.status} {exc.reason}") from None


def drain_node(namespace: str, label_selector: str, node: str | None = None, timeout_s: float = 120,
               configuration: Configuration | None = None, secrets: Secrets | None = None) -> dict:
    """Cordon a node (labelled for the rollback) and evict its pods, retrying those a PDB protects.

    Ends when every pod is evicted; raises when some are still refused after ``timeout_s``."""
    core = kube.core(configuration)
    name, pods = select_drain_node(namespace, label_selector, node, configuration)
    unmanaged = [f"{p.metadata.namespace}/{p.metadata.name}" for p in pods if not p.metadata.owner_references]
    if unmanaged:
        raise ActivityFailed(f"node {name} runs pods no controller would recreate ({', '.join(unmanaged)}): not draining it")
    core.patch_node(name, {"metadata": {"labels": {CORDON_LABEL: "true"}}, "spec": {"unschedulable": True}})
    pending = {f"{p.metadata.namespace}/{p.metadata.name}": p for p in pods}
    refused: Counter = Counter()
    evicted = []

    def all_evicted() -> bool:
        for key, pod in list(pending.items()):
            if _evict(core, pod) == 429:
                refused[key] += 1
            else:
                evicted.append(key)
                del pending[key]
        return not pending

    until(all_evicted, float(timeout_s), EVICTION_RETRY_S, lambda: f"drain of {name}: {', '.join(sorted(pending))} still refused "
          f"by a PodDisruptionBudget after {timeout_s} s", error=ActivityFailed)
    return {"node": name, "evicted": sorted(evicted), "refused_by_pdb": dict(refused)}


def uncordon_nodes(configuration: Configuration | None = None, secrets: Secrets | None = None) -> list[str]:
    """Rollback of :func:`drain_node`: uncordon the nodes it cordoned (by their label), nothing else."""
    core = kube.core(configuration)
    done = []
    for n in core.list_node(label_selector=CORDON_LABEL).items:
        core.patch_node(n.metadata.name, {"metadata": {"labels": {CORDON_LABEL: None}}, "spec": {"unschedulable": False}})
        done.append(n.metadata.name)
    return done


def zone_outage(namespace: str, label_selector: str, zone: str | None = None,
                configuration: Configuration | None = None, secrets: Secrets | None = None) -> dict:
    """Taint every node of a zone ``gauntlet.dev/zone-outage=<zone>:NoExecute``: their pods are evicted by
    Kubernetes at once and nothing is scheduled there, as in an outage of the zone."""
    core = kube.core(configuration)
    zone, names, pods = select_zone(namespace, label_selector, zone, configuration)
    for name in names:
        node = core.read_node(name)
        taints = [{"key": t.key, "value": t.value, "effect": t.effect} for t in (node.spec.taints or ()) if t.key != OUTAGE_TAINT]
        taints.append({"key": OUTAGE_TAINT, "value": zone, "effect": "NoExecute"})
        core.patch_node(name, {"spec": {"taints": taints}})
    return {"zone": zone, "nodes": names, "pods": [f"{p.metadata.namespace}/{p.metadata.name}" for p in pods]}


def end_zone_outage(configuration: Configuration | None = None, secrets: Secrets | None = None) -> list[str]:
    """Rollback of :func:`zone_outage`: remove its taint wherever it is."""
    core = kube.core(configuration)
    done = []
    for node in core.list_node().items:
        taints = node.spec.taints or []
        kept = [{"key": t.key, "value": t.value, "effect": t.effect} for t in taints if t.key != OUTAGE_TAINT]
        if len(kept) != len(taints):
            core.patch_node(node.metadata.name, {"spec": {"taints": kept}})
            done.append(node.metadata.name)
    return done


# --------------------------------------------------------------------------- the local GOPROXY tier


def local_replica_pid(replica: str) -> int:
    """The pid of one replica process of the local GOPROXY tier (its pid file, checked against its command line)."""
    from gauntlet.local.goproxy_tier import COMPONENTS, running_pid

    names = [c.name for c in COMPONENTS if c.name.startswith("replica-")]
    if replica not in names:
        raise ActivityFailed(f"unknown replica {replica!r} of the local GOPROXY tier: expected one of {names}")
    pid = running_pid(replica)
    if pid is None:
        raise ActivityFailed(f"{replica} of the local GOPROXY tier is not running")
    return pid


def kill_local_replica(replica: str = "replica-2", configuration: Configuration | None = None,
                       secrets: Secrets | None = None) -> dict:
    """SIGKILL the replica's process group (master and workers): it crashes without a goodbye."""
    pid = local_replica_pid(replica)
    signal_group(pid, signal.SIGKILL)
    return {"replica": replica, "pid": pid, "signal": "SIGKILL"}


def restart_local_replica(configuration: Configuration | None = None, secrets: Secrets | None = None) -> dict:
    """Rollback of :func:`kill_local_replica`: start what is not running, with the tier's current fault profiles."""
    from gauntlet.local import goproxy_tier

    current = goproxy_tier.status()
    started = goproxy_tier.up(current["faults"], progress=lambda _: None, cdn=current.get("cdn", "frontdoor"))
    return {name: c["healthy"] for name, c in started["components"].items()}


# --------------------------------------------------------------------------- the database


def fail_over_db(db_instance_identifier: str, failover: str = "rds", configuration: Configuration | None = None,
                 secrets: Secrets | None = None) -> dict:
    """A Multi-AZ failover, driven as the environment's ``database.failover`` says: ``rds``, chaostoolkit-aws'
    ``reboot_db_instance(force_failover=True)``; ``local-tier``, the local database tier's own (its primary
    fenced, its standby promoted, the endpoint following: :func:`gauntlet.local.db_tier.fail_over`)."""
    if failover == "rds":
        from chaosaws.rds.actions import reboot_db_instance

        return reboot_db_instance(db_instance_identifier, force_failover=True, configuration=configuration, secrets=secrets)
    if failover != "local-tier":
        raise ActivityFailed(f"database.failover {failover!r}: expected rds or local-tier")
    from gauntlet.local import db_tier

    return db_tier.fail_over()


def restore_db_standby(failover: str = "rds", configuration: Configuration | None = None,
                       secrets: Secrets | None = None) -> dict:
    """Rollback of :func:`fail_over_db`: primary and standby again. RDS builds its new standby itself; the local
    tier's fenced node is killed and rebuilt as the new primary's standby (same fault profiles)."""
    if failover != "local-tier":
        return {"restored_by": "RDS (it replaces the standby itself)"}
    from gauntlet.local import db_tier

    healed = db_tier.up(db_tier.status()["faults"], progress=lambda _: None)
    return {"primary": healed["primary"], "standby": healed["standby"], "replication": healed["replication"]}
