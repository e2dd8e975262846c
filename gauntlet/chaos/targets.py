"""What each action of an experiment would hit, resolved before anything is done.

:func:`resolve` turns one action (its provider, arguments substituted with the run's
configuration) into a :class:`Target`: the pods it takes down, the other objects it
changes, the namespaces involved. It only reads (list and get calls), using the same
selection code as the action itself. An action whose targets cannot be computed here is
refused: gauntlet never runs an action whose blast radius it does not know.

:func:`check` applies the environment's chaos policy to the plan: namespaces in the
allow-list, at most ``max_pods_per_action`` pods per action.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from chaoslib import substitute
from chaoslib.types import Configuration, Secrets

from gauntlet.chaos import actions, kube
from gauntlet.environment import Environment
from gauntlet.exceptions import ConfigError, NotChecked, SafetyRefusal


@dataclass(frozen=True)
class Target:
    """What one action does: a sentence, the pods it takes down, the other objects it changes."""

    activity: str
    call: str
    effect: str
    pods: tuple[str, ...] = ()
    count: int = 0  # pods taken down; fewer than len(pods) when chosen at random among them
    objects: tuple[str, ...] = ()
    rollback: bool = False
    namespaces: tuple[str, ...] = field(default=())
    addresses: tuple[str, ...] = ()  # host:port of what it takes down, when it is reached by address

    def to_json(self) -> dict:
        return {"activity": self.activity, "call": self.call, "effect": self.effect, "pods": list(self.pods),
                "count": self.count, "objects": list(self.objects), "rollback": self.rollback,
                "namespaces": list(self.namespaces), "addresses": list(self.addresses)}

    @property
    def breaks(self) -> tuple[str, ...]:
        """The components this action takes down (pods ``ns/name``, addresses ``host:port``): a check that finds
        one of them down while it runs finds what the experiment broke."""
        return () if self.rollback else (*self.pods, *self.addresses)

    def lines(self) -> list[str]:
        head = f"{'rollback' if self.rollback else 'action'} {self.activity}: {self.effect}"
        out = [head]
        if self.pods:
            which = f"{self.count} of" if self.count < len(self.pods) else "pods"
            out.append(f"    {which}: {', '.join(self.pods)}")
        if self.objects:
            out.append(f"    changes: {', '.join(self.objects)}")
        return out


def _ref(pod: Any) -> str:
    return f"{pod.metadata.namespace}/{pod.metadata.name}"


def _pods_target(activity: str, call: str, effect: str, pods: list, count: int | None = None, *,
                 ns: str | None = None, **kw: Any) -> Target:
    """A target taking down ``pods`` (``count`` of them); ``ns``: the namespace of the objects it changes."""
    refs = tuple(sorted(_ref(p) for p in pods))
    namespaces = {r.split("/")[0] for r in refs} | ({ns} if ns else set())
    return Target(activity, call, effect, refs, len(refs) if count is None else count,
                  namespaces=tuple(sorted(namespaces)), **kw)


# --------------------------------------------------------------------------- chaostoolkit-kubernetes


def _terminate_pods(name: str, call: str, a: dict, c: Configuration) -> Target:
    from chaosk8s.pod.actions import _select_pods  # their selection, so the plan is what they will do

    core = kube.core(c)
    ns = a.get("ns", "default")
    args = dict(label_selector=a.get("label_selector"), name_pattern=a.get("name_pattern"), mode=a.get("mode", "fixed"),
                qty=int(a.get("qty", 1)), ns=ns, order=a.get("order", "alphabetic"))
    if a.get("rand") and not a.get("all"):
        candidates = _select_pods(core, all=True, rand=False, **args)
        chosen = _select_pods(core, all=False, rand=True, **args)
        return _pods_target(name, call, f"terminate {len(chosen)} pod(s) chosen at random in {ns}", candidates, len(chosen),
                            ns=ns)
    pods = _select_pods(core, all=bool(a.get("all")), rand=False, **args)
    if not pods:
        raise ConfigError(f"action {name}: no pod in namespace {ns} matches {a.get('label_selector')!r}: nothing to break")
    return _pods_target(name, call, f"terminate {len(pods)} pod(s) in {ns} ({a.get('label_selector') or 'any label'})", pods,
                        ns=ns)


def _delete_replica_set(name: str, call: str, a: dict, c: Configuration) -> Target:
    apps, core = kube.apps(c), kube.core(c)
    ns = a.get("ns", "default")
    if a.get("name"):
        sets = apps.list_namespaced_replica_set(ns, field_selector=f"metadata.name={a['name']}").items
    elif a.get("label_selector"):
        sets = apps.list_namespaced_replica_set(ns, label_selector=a["label_selector"]).items
    else:
        sets = apps.list_namespaced_replica_set(ns).items
    names = {rs.metadata.name for rs in sets}
    pods = [p for p in core.list_namespaced_pod(ns).items
            if any(o.kind == "ReplicaSet" and o.name in names for o in (p.metadata.owner_references or ()))]
    return _pods_target(name, call, f"delete {len(sets)} ReplicaSet(s) in {ns} and their pods", pods, ns=ns,
                        objects=tuple(f"replicaset {ns}/{n}" for n in sorted(names)))


def _chaosk8s_nodes(a: dict, c: Configuration) -> list[str]:
    core = kube.core(c)
    if a.get("name"):
        nodes = core.list_node(field_selector=f"metadata.name={a['name']}", label_selector=a.get("label_selector")).items
    else:
        nodes = core.list_node(label_selector=a.get("label_selector")).items
    names = sorted(n.metadata.name for n in nodes)
    if a.get("pod_label_selector") and a.get("pod_namespace"):
        hosts = {p.spec.node_name for p in core.list_namespaced_pod(a["pod_namespace"], label_selector=a["pod_label_selector"]).items}
        names = [n for n in names if n in hosts]
    return names


def _drain_nodes(name: str, call: str, a: dict, c: Configuration) -> Target:
    core = kube.core(c)
    names = _chaosk8s_nodes(a, c)
    per_node = {n: [p for p in core.list_pod_for_all_namespaces(field_selector=f"spec.nodeName={n}").items
                    if actions._evictable(p)] for n in names}
    pods = [p for n in names for p in per_node[n]]
    count = None
    if a.get("count") is not None:  # random nodes: count the worst case
        count = sum(sorted((len(v) for v in per_node.values()), reverse=True)[: int(a["count"])])
    return _pods_target(name, call, f"drain node(s) {', '.join(names)}", pods, count,
                        objects=tuple(f"node {n} (cordoned)" for n in names))


def _scale_deployment(name: str, call: str, a: dict, c: Configuration) -> Target:
    ns, deployment, wanted = a.get("ns", "default"), a["name"], int(a["replicas"])
    dep = kube.apps(c).read_namespaced_deployment(deployment, ns)
    now = dep.spec.replicas or 0
    labels = ",".join(f"{k}={v}" for k, v in sorted((dep.spec.selector.match_labels or {}).items()))
    pods = kube.core(c).list_namespaced_pod(ns, label_selector=labels).items if wanted < now else []
    return _pods_target(name, call, f"scale deployment {ns}/{deployment} from {now} to {wanted} replicas", pods,
                        max(0, now - wanted), ns=ns, objects=(f"deployment {ns}/{deployment} (replicas {now} -> {wanted})",))


def _cordon(verb: str) -> Callable[[str, str, dict, Configuration], Target]:
    def resolve_(name: str, call: str, a: dict, c: Configuration) -> Target:
        names = _chaosk8s_nodes(a, c)
        return Target(name, call, f"{verb} node(s) {', '.join(names) or '(none match)'}", objects=tuple(f"node {n}" for n in names))
    return resolve_


# --------------------------------------------------------------------------- gauntlet's own actions


def _down_to(name: str, call: str, a: dict, c: Configuration) -> Target:
    ns, selector = a["namespace"], a["label_selector"]
    pods = actions.select_pods_down_to(ns, selector, int(a["keep"]), int(a.get("at_least", 0)), c)
    if not pods:
        raise ConfigError(f"action {name}: no Ready pod of {selector} in {ns} above {a['keep']}: nothing to break")
    least = f" (and at least {a['at_least']})" if int(a.get("at_least", 0)) else ""
    return _pods_target(name, call, f"terminate Ready pods of {selector} in {ns} down to {a['keep']}{least}", pods, ns=ns)


def _one_replica_set(name: str, call: str, a: dict, c: Configuration) -> Target:
    rs, pods = actions.select_replica_set(a["namespace"], a["label_selector"], c)
    return _pods_target(name, call, f"delete ReplicaSet {a['namespace']}/{rs.metadata.name} and its pods",
                        pods, ns=a["namespace"], objects=(f"replicaset {a['namespace']}/{rs.metadata.name}",))


def _drain_node(name: str, call: str, a: dict, c: Configuration) -> Target:
    node, pods = actions.select_drain_node(a["namespace"], a["label_selector"], a.get("node") or None, c)
    return _pods_target(name, call, f"cordon and drain node {node} (evictions honour PDBs)", pods,
                        objects=(f"node {node} (cordoned, labelled {actions.CORDON_LABEL})",))


def _zone(name: str, call: str, a: dict, c: Configuration) -> Target:
    zone, nodes, pods = actions.select_zone(a["namespace"], a["label_selector"], a.get("zone") or None, c)
    return _pods_target(name, call, f"zone outage of {zone}: taint {len(nodes)} node(s) NoExecute, every pod on them evicted",
                        pods, objects=tuple(f"node {n} (tainted {actions.OUTAGE_TAINT}:NoExecute)" for n in nodes))


def _uncordon(name: str, call: str, a: dict, c: Configuration) -> Target:
    nodes = sorted(n.metadata.name for n in kube.core(c).list_node(label_selector=actions.CORDON_LABEL).items)
    return Target(name, call, f"uncordon the nodes labelled {actions.CORDON_LABEL}", objects=tuple(f"node {n}" for n in nodes))


def _end_zone(name: str, call: str, a: dict, c: Configuration) -> Target:
    return Target(name, call, f"remove the {actions.OUTAGE_TAINT} taint from every node carrying it")


def _kill_container(name: str, call: str, a: dict, c: Configuration) -> Target:
    from gauntlet.local import kube_nodes

    ns, selector, container = a["namespace"], a["label_selector"], a["container"]
    pod, status = actions.select_container(ns, selector, container, c)
    if kube_nodes.node_named(pod.spec.node_name) is None or not status.container_id.startswith("containerd://"):
        raise SafetyRefusal(f"action {name}: pod {ns}/{pod.metadata.name} runs on node {pod.spec.node_name}, not on a real "
                            "node of the local stack: gauntlet kills containers only through those nodes' containerd")
    return _pods_target(name, call, f"SIGKILL container {container} of pod {ns}/{pod.metadata.name} on node "
                                    f"{pod.spec.node_name} (the pod stays; its kubelet restarts the container)", [pod], ns=ns,
                        objects=(f"container {status.container_id}",))


def _make_pod_unready(name: str, call: str, a: dict, c: Configuration) -> Target:
    ns, selector, container, path = a["namespace"], a["label_selector"], a["container"], a["path"]
    pod, _ = actions.select_container(ns, selector, container, c)
    return _pods_target(name, call, f"remove {path} from container {container} of pod {ns}/{pod.metadata.name} for "
                                    f"{float(a.get('for_s', 25)):g} s (its readiness probe must take it out of the Service)",
                        [pod], ns=ns)


def _restore_readiness_files(name: str, call: str, a: dict, c: Configuration) -> Target:
    where = f" in namespace {a['namespace']}" if a.get("namespace") else ""
    return Target(name, call, f"put back the file removed from each pod annotated {actions.UNREADY_ANNOTATION}{where}")


def _kill_replica(name: str, call: str, a: dict, c: Configuration) -> Target:
    replica = a.get("replica", "replica-2")
    try:
        pid = actions.local_replica_pid(replica)
    except Exception as exc:
        raise ConfigError(f"action {name}: {exc}") from None
    from gauntlet.local.ports import PORTS

    return Target(name, call, f"SIGKILL {replica} of the local GOPROXY tier", objects=(f"process group {pid} ({replica})",),
                  addresses=(f"127.0.0.1:{PORTS[replica]}",))


def _restart_replica(name: str, call: str, a: dict, c: Configuration) -> Target:
    return Target(name, call, "start the local GOPROXY tier's processes that are not running (same fault profiles)")


def _reboot_db(name: str, call: str, a: dict, c: Configuration) -> Target:
    failover = " with forced failover" if a.get("force_failover") else ""
    where = c.get("aws_endpoint_url") or f"AWS {c.get('aws_region', '')}"
    return Target(name, call, f"reboot RDS instance {a.get('db_instance_identifier')}{failover} ({where})",
                  objects=(f"rds {a.get('db_instance_identifier')}",))


def _fail_over_db(name: str, call: str, a: dict, c: Configuration) -> Target:
    if a.get("failover", "rds") == "rds":
        return replace(_reboot_db(name, call, {**a, "force_failover": True}, c), call=call)
    from gauntlet.local import db_tier

    st = db_tier.status()
    if st["primary"] is None:
        raise ConfigError(f"action {name}: the local database tier has no primary: start it with `gauntlet local up --db`")
    promote = f", promote {st['standby']}" if st["standby"] else " (no standby to promote)"
    return Target(name, call, f"fail over the local database tier: fence {st['primary']} (frozen){promote}, the endpoint "
                              f"{st['endpoint']} follows", objects=(f"postgresql {st['primary']}", f"postgresql {st['standby']}"))


def _restore_db(name: str, call: str, a: dict, c: Configuration) -> Target:
    if a.get("failover", "rds") == "rds":
        return Target(name, call, "nothing: RDS replaces its standby itself")
    return Target(name, call, "rebuild the fenced node of the local database tier as the standby of the new primary")


RESOLVERS: dict[str, Callable[[str, str, dict, Configuration], Target]] = {
    "chaosk8s.pod.actions.terminate_pods": _terminate_pods,
    "chaosk8s.replicaset.actions.delete_replica_set": _delete_replica_set,
    "chaosk8s.node.actions.drain_nodes": _drain_nodes,
    "chaosk8s.deployment.actions.scale_deployment": _scale_deployment,
    "chaosk8s.node.actions.cordon_node": _cordon("cordon"),
    "chaosk8s.node.actions.uncordon_node": _cordon("uncordon"),
    "gauntlet.chaos.actions.terminate_pods_down_to": _down_to,
    "gauntlet.chaos.actions.delete_one_replica_set": _one_replica_set,
    "gauntlet.chaos.actions.drain_node": _drain_node,
    "gauntlet.chaos.actions.zone_outage": _zone,
    "gauntlet.chaos.actions.uncordon_nodes": _uncordon,
    "gauntlet.chaos.actions.end_zone_outage": _end_zone,
    "gauntlet.chaos.actions.kill_container": _kill_container,
    "gauntlet.chaos.actions.make_pod_unready": _make_pod_unready,
    "gauntlet.chaos.actions.restore_readiness_files": _restore_readiness_files,
    "gauntlet.chaos.actions.kill_local_replica": _kill_replica,
    "gauntlet.chaos.actions.restart_local_replica": _restart_replica,
    "chaosaws.rds.actions.reboot_db_instance": _reboot_db,
    "gauntlet.chaos.actions.fail_over_db": _fail_over_db,
    "gauntlet.chaos.actions.restore_db_standby": _restore_db,
}


def call_of(activity: dict) -> str:
    provider = activity.get("provider") or {}
    return f"{provider.get('module')}.{provider.get('func')}" if provider.get("type") == "python" else str(provider.get("type"))


def resolve(activity: dict, configuration: Configuration, secrets: Secrets | None = None, *, rollback: bool = False) -> Target:
    """The target of one action; :class:`SafetyRefusal` when gauntlet cannot compute it, :class:`NotChecked` when
    the API refused the question (401, 403)."""
    name, call = activity.get("name", "?"), call_of(activity)
    resolver = RESOLVERS.get(call)
    if resolver is None:
        raise SafetyRefusal(f"{'rollback' if rollback else 'action'} {name!r} calls {call}, whose targets gauntlet cannot "
                            "resolve: refused (every action's blast radius must be known before it runs)")
    arguments = substitute((activity.get("provider") or {}).get("arguments") or {}, configuration, secrets or {})
    try:
        target = resolver(name, call, arguments, configuration)
    except (ConfigError, SafetyRefusal):
        raise
    except Exception as exc:  # ActivityFailed from a selection, ApiException (404, 403), an unreachable server
        why = f"{exc.status} {exc.reason}" if hasattr(exc, "status") and hasattr(exc, "reason") else str(exc)
        if getattr(exc, "status", None) in (401, 403):  # the question was refused, as a probe's would be
            raise NotChecked(f"{'rollback' if rollback else 'action'} {name!r}: cannot resolve its targets ({why}): "
                             "grant the user of the kubeconfig read access (get, list) there") from None
        raise ConfigError(f"{'rollback' if rollback else 'action'} {name!r}: cannot resolve its targets ({why})") from None
    return replace(target, rollback=rollback)


def plan(method: list[dict], rollbacks: list[dict], configuration: Configuration, secrets: Secrets | None = None) -> list[Target]:
    """The targets of every action of the method, then of every rollback."""
    out = [resolve(a, configuration, secrets) for a in method if a.get("type") == "action"]
    out += [resolve(a, configuration, secrets, rollback=True) for a in rollbacks if a.get("type") == "action"]
    return out


def check(env: Environment, targets: list[Target]) -> None:
    """The policy's limits on the method's actions: namespaces allowed, pods per action. Refuses on the first breach."""
    policy = env.chaos
    for t in targets:
        if t.rollback:
            continue
        outside = [ns for ns in t.namespaces if ns not in policy.namespaces]
        if outside:
            raise SafetyRefusal(f"{env.name}: action {t.activity!r} would take down pods in namespace "
                                f"{', '.join(outside)}, outside chaos.namespaces {list(policy.namespaces)}")
        if t.count > policy.max_pods_per_action:
            raise SafetyRefusal(f"{env.name}: action {t.activity!r} would take down {t.count} pods "
                                f"({', '.join(t.pods)}), more than chaos.max_pods_per_action ({policy.max_pods_per_action})")
