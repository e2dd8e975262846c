"""Read a workload of any kind the environment names (Deployment, StatefulSet, Job, CronJob)."""

from __future__ import annotations

import re

from chaoslib.types import Configuration, Secrets
from kubernetes import client as k8s

from gauntlet.kubernetes.client import call, cluster

__all__ = ["pod_selector", "pod_template", "pre_stop_seconds", "probe_handler", "read_workload", "readiness_lead_s",
           "replica_sets", "workload_pods"]

_READERS = {
    "Deployment": (k8s.AppsV1Api, "read_namespaced_deployment"),
    "StatefulSet": (k8s.AppsV1Api, "read_namespaced_stateful_set"),
    "Job": (k8s.BatchV1Api, "read_namespaced_job"),
    "CronJob": (k8s.BatchV1Api, "read_namespaced_cron_job"),
}


def read_workload(name: str, ns: str, kind: str = "Deployment",
                  configuration: Configuration | None = None, secrets: Secrets | None = None) -> dict:
    """The workload object as the API returns it (``metadata``, ``spec``, ``status``)."""
    if kind not in _READERS:
        raise ValueError(f"unknown workload kind {kind!r}: expected one of {sorted(_READERS)}")
    target = cluster(configuration, secrets)
    api_class, method = _READERS[kind]
    return call(target, f"GET {kind} {ns}/{name}", getattr(api_class(target.api), method), name, ns)


def pod_template(workload: dict) -> dict:
    """The pod template of a workload object (a CronJob's is in its job template)."""
    spec = workload.get("spec") or {}
    if workload.get("kind") == "CronJob" or "jobTemplate" in spec:
        spec = (spec.get("jobTemplate") or {}).get("spec") or {}
    return spec.get("template") or {}


def pod_selector(workload: dict) -> dict | None:
    """The label selector of the workload's pods; a CronJob has none of its own (None)."""
    spec = workload.get("spec") or {}
    return spec.get("selector")


def workload_pods(objects: list[dict], configuration: Configuration | None = None,
                  secrets: Secrets | None = None) -> list[dict]:
    """The pods of these workload objects (their selectors, in their namespaces), each once, by name."""
    from gauntlet.kubernetes.pod.probes import list_pods
    from gauntlet.kubernetes.selectors import selector_string

    found: dict[str, dict] = {}
    for obj in objects:
        selector = pod_selector(obj)
        if selector is None:
            continue
        for pod in list_pods(obj["metadata"]["namespace"], selector_string(selector), configuration, secrets):
            found.setdefault(pod["metadata"]["name"], pod)
    return [found[name] for name in sorted(found)]


def replica_sets(name: str, ns: str, configuration: Configuration | None = None,
                 secrets: Secrets | None = None) -> list[dict]:
    """``{name, revision, replicas, ready}`` of each ReplicaSet the Deployment ``name`` owns."""
    from gauntlet.kubernetes.selectors import selector_string

    deployment = read_workload(name, ns, "Deployment", configuration, secrets)
    target = cluster(configuration, secrets)
    answer = call(target, f"LIST replicasets of Deployment {ns}/{name}", k8s.AppsV1Api(target.api).list_namespaced_replica_set,
                  ns, label_selector=selector_string(pod_selector(deployment)))
    uid = deployment["metadata"].get("uid")
    out = []
    for rs in answer.get("items") or ():
        owners = rs["metadata"].get("ownerReferences") or ()
        if not any(o.get("kind") == "Deployment" and o.get("uid") == uid for o in owners):
            continue
        status = rs.get("status") or {}
        out.append({"name": rs["metadata"]["name"], "deployment": f"{ns}/{name}",
                    "revision": (rs["metadata"].get("annotations") or {}).get("deployment.kubernetes.io/revision"),
                    "replicas": status.get("replicas", 0), "ready": status.get("readyReplicas", 0)})
    return sorted(out, key=lambda r: r["name"])


def readiness_lead_s(template: dict) -> int:
    """Seconds a new pod needs at least before its readiness probe can pass."""
    slowest = 0
    for container in (template.get("spec") or {}).get("containers") or ():
        probe = container.get("readinessProbe")
        if probe:
            needed = probe.get("initialDelaySeconds", 0) + probe.get("periodSeconds", 10) * probe.get("successThreshold", 1)
            slowest = max(slowest, needed)
    return slowest


_SLEEP = re.compile(r"(?:^|[\s;&|(])sleep\s+([0-9]+)(?:s)?(?:$|[\s;&|)])")


def pre_stop_seconds(container: dict) -> tuple[bool, int | None]:
    """(has a preStop hook, its delay in seconds when it can be read: ``sleep.seconds`` or ``sleep N`` in exec)."""
    hook = (container.get("lifecycle") or {}).get("preStop")
    if not hook:
        return False, None
    if "sleep" in hook:
        return True, int((hook["sleep"] or {}).get("seconds", 0))
    command = " ".join(str(a) for a in (hook.get("exec") or {}).get("command") or ())
    match = _SLEEP.search(command)
    return True, int(match[1]) if match else None


def probe_handler(probe: dict, container: dict) -> tuple:
    """What a probe asks, comparable between two probes of a container: its handler, named ports resolved to the
    container's numbers (timings left out: a probe that fails fails whatever its period)."""
    ports = {p["name"]: p.get("containerPort") for p in container.get("ports") or () if p.get("name")}

    def port(value: object) -> object:
        return ports.get(value, value) if isinstance(value, str) else value

    if "httpGet" in probe:
        get = probe["httpGet"] or {}
        headers = tuple(sorted((h.get("name"), h.get("value")) for h in get.get("httpHeaders") or ()))
        return ("httpGet", f"{get.get('scheme', 'HTTP').lower()}://{get.get('host') or 'pod'}:{port(get.get('port'))}"
                           f"{get.get('path', '/')}", *headers)
    if "tcpSocket" in probe:
        return ("tcpSocket", f"{(probe['tcpSocket'] or {}).get('host') or 'pod'}:{port((probe['tcpSocket'] or {}).get('port'))}")
    if "grpc" in probe:
        return ("grpc", (probe["grpc"] or {}).get("port"), (probe["grpc"] or {}).get("service") or "")
    if "exec" in probe:
        return ("exec", *((probe["exec"] or {}).get("command") or ()))
    return ("no handler",)
