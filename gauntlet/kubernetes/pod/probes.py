"""Pods: list them by selector, and what each one's status says (Ready, readiness gates, containers)."""

from __future__ import annotations

import datetime as dt
from typing import Any, TypedDict

from chaoslib.types import Configuration, Secrets
from kubernetes import client as k8s

from gauntlet.kubernetes.client import call, cluster
from gauntlet.kubernetes.errors import Deviation

__all__ = ["PodSummary", "became_ready_after_gates", "list_pods", "pod_env", "pod_file_text", "pod_processes",
           "pod_summary", "pods_ready"]


def list_pods(ns: str, label_selector: str, configuration: Configuration | None = None,
              secrets: Secrets | None = None) -> list[dict]:
    """The pods of ``ns`` matching ``label_selector``, as the API returns them, sorted by name."""
    target = cluster(configuration, secrets)
    answer = call(target, f"LIST pods in namespace {ns} ({label_selector or 'all'})",
                  k8s.CoreV1Api(target.api).list_namespaced_pod, ns, label_selector=label_selector)
    return sorted(answer.get("items") or [], key=lambda p: p["metadata"]["name"])


def _time(value: str | None) -> float | None:
    if not value:
        return None
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


class ConditionSummary(TypedDict):
    """One condition of a pod: its status, since when (``lastTransitionTime``), and why."""

    status: str | None
    since: str | None
    reason: str | None
    message: str | None


class ContainerSummary(TypedDict):
    name: str
    ready: bool
    restarts: int
    waiting: str | None  # the reason it waits (CrashLoopBackOff...)
    last_terminated: str | None  # the reason its last run ended (OOMKilled...)


class PodSummary(TypedDict):
    """What :func:`pod_summary` says of a pod."""

    name: str
    node: str | None
    phase: str | None
    terminating: bool
    ready: bool
    conditions: dict[str, ConditionSummary]  # by condition type
    readiness_gates: list[str]
    containers: list[ContainerSummary]


def pod_summary(pod: dict) -> PodSummary:
    """What the checks judge of one pod: node, phase, Ready, its readiness gates and their conditions."""
    status = pod.get("status") or {}
    conditions: dict[str, ConditionSummary] = {
        c["type"]: {"status": c.get("status"), "since": c.get("lastTransitionTime"), "reason": c.get("reason"),
                    "message": c.get("message")}
        for c in status.get("conditions") or ()}
    ready = conditions.get("Ready")
    gates = [g["conditionType"] for g in (pod.get("spec") or {}).get("readinessGates") or ()]
    containers: list[ContainerSummary] = []
    for c in status.get("containerStatuses") or ():
        state = c.get("state") or {}
        waiting = (state.get("waiting") or {}).get("reason")
        last = ((c.get("lastState") or {}).get("terminated") or {}).get("reason")
        containers.append({"name": c["name"], "ready": bool(c.get("ready")), "restarts": c.get("restartCount", 0),
                           "waiting": waiting, "last_terminated": last})
    return {
        "name": pod["metadata"]["name"],
        "node": (pod.get("spec") or {}).get("nodeName"),
        "phase": status.get("phase"),
        "terminating": bool(pod["metadata"].get("deletionTimestamp")),
        "ready": ready is not None and ready.get("status") == "True",
        "conditions": conditions,
        "readiness_gates": gates,
        "containers": containers,
    }


def became_ready_after_gates(summary: PodSummary) -> list[str]:
    """The readiness gates of a Ready pod that were not True when it became Ready (empty: all were)."""
    ready = summary["conditions"].get("Ready")
    ready_since = _time(ready.get("since")) if ready is not None else None
    late = []
    for gate in summary["readiness_gates"]:
        condition = summary["conditions"].get(gate)
        if condition is None or condition["status"] != "True":
            late.append(f"{gate} is {condition['status'] if condition else 'missing'}")
            continue
        gate_since = _time(condition["since"])
        if ready_since is not None and gate_since is not None and gate_since > ready_since:
            late.append(f"{gate} True at {condition['since']}, after Ready at {summary['conditions']['Ready']['since']}")
    return late


def pods_ready(ns: str, label_selector: str, min_ready: int, raise_on_too_few: bool = True,
               configuration: Configuration | None = None, secrets: Secrets | None = None) -> dict:
    """Ready pods (not terminating) matching the selector; raises :class:`Deviation` below ``min_ready``
    unless ``raise_on_too_few`` is False (a Chaos Toolkit tolerance either way)."""
    pods = [pod_summary(p) for p in list_pods(ns, label_selector, configuration, secrets)]
    ready = [p["name"] for p in pods if p["ready"] and not p["terminating"]]
    result = {"namespace": ns, "selector": label_selector, "ready": len(ready), "pods": len(pods),
              "ready_pods": ready, "min_ready": min_ready}
    if raise_on_too_few and len(ready) < min_ready:
        raise Deviation(f"pods in {ns} ({label_selector}): {len(ready)} Ready of {len(pods)}, expected at least {min_ready}")
    return result


# --------------------------------------------------------------------------- in the pod (testinfra)


def _host(name: str, ns: str, container: str | None, configuration: Configuration | None,
          secrets: Secrets | None) -> Any:
    """A testinfra host for ``kubectl exec`` into the pod; :class:`NotChecked` when nothing can be exec'd into."""
    import testinfra

    from gauntlet.exceptions import NotChecked
    from gauntlet.kubernetes.node.probes import nodes

    target = cluster(configuration, secrets)
    pod = call(target, f"GET Pod {ns}/{name}", k8s.CoreV1Api(target.api).read_namespaced_pod, name, ns)
    node = (pod.get("spec") or {}).get("nodeName")
    if node and nodes(configuration, secrets).get(node, {}).get("simulated"):
        raise NotChecked(f"pod {ns}/{name} runs on node {node}, simulated by KWOK: it has no container to exec into")
    if (pod.get("status") or {}).get("phase") != "Running":
        raise NotChecked(f"pod {ns}/{name} is {pod.get('status', {}).get('phase')}, not Running: nothing to exec into")
    kwargs = {"namespace": ns, "context": target.context}
    values: dict[str, Any] = configuration or {}  # resolved values: text (chaoslib's type is the unresolved form)
    if values.get("kubeconfig"):
        kwargs["kubeconfig"] = values["kubeconfig"]
    if container:
        kwargs["container"] = container
    return testinfra.get_host(f"kubectl://{name}", **kwargs)


def _run(host: Any, what: str, command: str) -> str:
    from gauntlet.exceptions import NotChecked

    result = host.run(command)
    if result.rc != 0 and ("error:" in result.stderr or "Error from server" in result.stderr):
        raise NotChecked(f"{what}: kubectl exec failed: {result.stderr.strip()[:300]}")
    return result.stdout


def pod_processes(name: str, ns: str, comm: str | None = None, container: str | None = None,
                  configuration: Configuration | None = None, secrets: Secrets | None = None) -> list[dict]:
    """Processes running in the container (``/proc``, read by ``kubectl exec``), those named ``comm`` if given."""
    host = _host(name, ns, container, configuration, secrets)
    listing = _run(host, f"exec into pod {ns}/{name}",
                   'for p in /proc/[0-9]*; do printf "%s\\t%s\\t%s\\n" "${p#/proc/}" "$(cat $p/comm 2>/dev/null)" '
                   '"$(tr "\\0" " " < $p/cmdline 2>/dev/null)"; done')
    found = []
    for line in listing.splitlines():
        pid, _, rest = line.partition("\t")
        name_of, _, args = rest.partition("\t")
        if pid.isdigit() and (comm is None or name_of == comm):
            found.append({"pid": int(pid), "comm": name_of, "args": args.strip()})
    return found


def pod_env(name: str, ns: str, variable: str, container: str | None = None,
            configuration: Configuration | None = None, secrets: Secrets | None = None) -> str | None:
    """The value of an environment variable of the container's main process (None when unset)."""
    host = _host(name, ns, container, configuration, secrets)
    out = _run(host, f"exec into pod {ns}/{name}", f"tr '\\0' '\\n' < /proc/1/environ | grep '^{variable}=' || true")
    line = out.splitlines()[0] if out.strip() else ""
    return line.partition("=")[2] if line else None


def pod_file_text(name: str, ns: str, path: str, container: str | None = None,
                  configuration: Configuration | None = None, secrets: Secrets | None = None) -> str | None:
    """A file's text in the container (None when it does not exist)."""
    host = _host(name, ns, container, configuration, secrets)
    handle = host.file(path)
    return handle.content_string if handle.exists else None
