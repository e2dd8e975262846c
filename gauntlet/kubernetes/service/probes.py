"""Services in front of a workload: which select its pods, their ready endpoints, and what exposes them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from chaoslib.types import Configuration, Secrets
from kubernetes import client as k8s

from gauntlet.kubernetes.client import call, cluster
from gauntlet.kubernetes.errors import Deviation
from gauntlet.kubernetes.selectors import service_selects

__all__ = ["ingresses_routing_to", "service_endpoints", "services_selecting"]

PUBLIC_TYPES = ("LoadBalancer", "NodePort")


def services_selecting(pod_labels: Mapping[str, str], ns: str, configuration: Configuration | None = None,
                       secrets: Secrets | None = None) -> list[dict]:
    """``{name, type, ports, selector}`` of each Service of ``ns`` whose selector picks pods labelled ``pod_labels``."""
    target = cluster(configuration, secrets)
    answer = call(target, f"LIST services in namespace {ns}", k8s.CoreV1Api(target.api).list_namespaced_service, ns)
    out = []
    for svc in answer.get("items") or ():
        spec = svc.get("spec") or {}
        if service_selects(spec.get("selector"), pod_labels):
            out.append({"name": svc["metadata"]["name"], "type": spec.get("type", "ClusterIP"),
                        "ports": [{k: p.get(k) for k in ("port", "nodePort", "protocol") if p.get(k) is not None}
                                  for p in spec.get("ports") or ()],
                        "selector": spec.get("selector")})
    return sorted(out, key=lambda s: s["name"])


def service_endpoints(service: str, ns: str, min_ready: int = 1, raise_on_too_few: bool = True,
                      configuration: Configuration | None = None, secrets: Secrets | None = None) -> dict:
    """The Service's endpoints from its EndpointSlices: ``ready`` (receive traffic) and ``not_ready`` pod names.

    Raises :class:`Deviation` with fewer than ``min_ready`` ready endpoints unless ``raise_on_too_few`` is False.
    """
    target = cluster(configuration, secrets)
    answer = call(target, f"LIST endpointslices of Service {ns}/{service}",
                  k8s.DiscoveryV1Api(target.api).list_namespaced_endpoint_slice, ns,
                  label_selector=f"kubernetes.io/service-name={service}")
    ready: set[str] = set()
    not_ready: set[str] = set()
    for piece in answer.get("items") or ():
        for endpoint in piece.get("endpoints") or ():
            name = (endpoint.get("targetRef") or {}).get("name") or ",".join(endpoint.get("addresses") or ())
            # "ready" is nil-means-true in the API.
            (ready if (endpoint.get("conditions") or {}).get("ready", True) else not_ready).add(name)
    result = {"service": f"{ns}/{service}", "ready": sorted(ready), "not_ready": sorted(not_ready - ready)}
    if raise_on_too_few and len(ready) < min_ready:
        raise Deviation(f"Service {ns}/{service}: {len(ready)} ready endpoints, expected at least {min_ready}")
    return result


def ingresses_routing_to(services: Iterable[str], ns: str, configuration: Configuration | None = None,
                         secrets: Secrets | None = None) -> list[dict]:
    """``{ingress, class, service, host, path}`` for each Ingress rule (or default backend) of ``ns`` sending to one of ``services``."""
    wanted = set(services)
    target = cluster(configuration, secrets)
    answer = call(target, f"LIST ingresses in namespace {ns}", k8s.NetworkingV1Api(target.api).list_namespaced_ingress, ns)
    routes = []
    for ing in answer.get("items") or ():
        spec = ing.get("spec") or {}
        name, cls = ing["metadata"]["name"], spec.get("ingressClassName")
        default = ((spec.get("defaultBackend") or {}).get("service") or {}).get("name")
        if default in wanted:
            routes.append({"ingress": name, "class": cls, "service": default, "host": "*", "path": "(default backend)"})
        for rule in spec.get("rules") or ():
            for path in (rule.get("http") or {}).get("paths") or ():
                backend = ((path.get("backend") or {}).get("service") or {}).get("name")
                if backend in wanted:
                    routes.append({"ingress": name, "class": cls, "service": backend, "host": rule.get("host", "*"),
                                   "path": path.get("path", "/")})
    return routes
