"""Services in front of each tier: traffic reaches only pods passing their health checks; private tiers stay private.

Seed 003: "Each tier is fronted by a loadbalancer, ELB + kube-proxy in the case of the www app and
kube-proxy for the backend app loadbalancing between kube replica-sets for corresponding app with
simple healthchecks"; "The second tier isn't exposed publicly". Seeds 000-002: "Kubernetes ingress
controller in AKS ---> Athens deployment (pods)".

PYTEST_DONT_REWRITE: each assertion's message is the evidence, verbatim.
"""

from __future__ import annotations

import pytest

from gauntlet.environment import Workload
from gauntlet.kubernetes.pod.probes import pod_summary
from gauntlet.kubernetes.service.probes import PUBLIC_TYPES, ingresses_routing_to, service_endpoints, services_selecting
from gauntlet.kubernetes.workload.probes import pod_template


def _services(workload: Workload, objects: list[dict], kube: dict) -> list[dict]:
    if workload.kind in ("Job", "CronJob"):
        pytest.skip(f"{workload.ref} is a {workload.kind}: no Service fronts it")
    found: dict[str, dict] = {}
    for obj in objects:
        labels = (pod_template(obj).get("metadata") or {}).get("labels") or {}
        for svc in services_selecting(labels, workload.namespace, kube):
            found[svc["name"]] = svc
    return [found[k] for k in sorted(found)]


@pytest.mark.check("kubernetes.service.routes-ready-pods-only")
def test_a_service_routes_to_the_ready_pods_only(workload: Workload, objects: list[dict], pods: list[dict],
                                                 kube: dict) -> None:
    """A Service selects the workload's pods; its ready endpoints are its Ready pods, and there is at least one."""
    services = _services(workload, objects, kube)
    assert services, (f"{workload.ref}: Service in namespace {workload.namespace} selecting its pods: expected one, "
                      "found none: nothing load balances this tier")
    ready_pods = {s["name"] for s in map(pod_summary, pods) if s["ready"] and not s["terminating"]}
    problems = []
    for svc in services:
        endpoints = service_endpoints(svc["name"], workload.namespace, raise_on_too_few=False, configuration=kube)
        ready = set(endpoints["ready"])
        mine = ready & {p["metadata"]["name"] for p in pods} or ready
        if not ready:
            problems.append(f"Service {svc['name']} EndpointSlices: expected ready endpoints, found none "
                            f"({len(endpoints['not_ready'])} not ready)")
        elif unready := sorted(mine - ready_pods):
            problems.append(f"Service {svc['name']} EndpointSlices: expected only Ready pods as ready endpoints, "
                            f"found {', '.join(unready)} not Ready")
    assert not problems, f"{workload.ref}: " + "; ".join(problems)


@pytest.mark.check("kubernetes.service.not-public")
def test_not_exposed_publicly(workload: Workload, objects: list[dict], kube: dict) -> None:
    """No Service of type LoadBalancer or NodePort selects the pods, and no Ingress routes to their Services."""
    services = _services(workload, objects, kube)
    public = [f"Service {s['name']} spec.type: expected ClusterIP, found {s['type']}"
              for s in services if s["type"] in PUBLIC_TYPES]
    routes = ingresses_routing_to([s["name"] for s in services], workload.namespace, kube)
    public += [f"Ingress {r['ingress']} (class {r['class'] or 'default'}) routes {r['host']}{r['path']} to Service "
               f"{r['service']}: expected no Ingress for it" for r in routes]
    assert not public, f"{workload.ref} is exposed outside the cluster: " + "; ".join(public)


@pytest.mark.check("kubernetes.ingress.routes-to-the-workload")
def test_an_ingress_routes_to_the_workload(workload: Workload, objects: list[dict], kube: dict) -> None:
    """An Ingress routes to a Service of the workload (seeds 000-002: "Kubernetes ingress controller in AKS --->
    Athens deployment")."""
    services = _services(workload, objects, kube)
    routes = ingresses_routing_to([s["name"] for s in services], workload.namespace, kube)
    assert routes, (f"{workload.ref}: Ingress in namespace {workload.namespace} routing to its Services "
                    f"({', '.join(s['name'] for s in services) or 'none'}): expected one, found none")


@pytest.mark.check("kubernetes.ingress.alb-class")
def test_the_ingress_is_the_load_balancer_controllers(workload: Workload, objects: list[dict], kube: dict) -> None:
    """An Ingress of class ``alb`` routes to the workload: the AWS Load Balancer Controller turns it into the ALB
    (seed 004: "created and managed automatically by the AWS Load Balancer Controller based on the hub ingress")."""
    services = _services(workload, objects, kube)
    routes = ingresses_routing_to([s["name"] for s in services], workload.namespace, kube)
    alb = [r for r in routes if r["class"] == "alb"]
    assert alb, (f"{workload.ref}: Ingress spec.ingressClassName: expected alb (the AWS Load Balancer Controller's) "
                 f"on an Ingress routing to {', '.join(s['name'] for s in services) or 'no Service'}, found "
                 f"{', '.join(sorted({str(r['class']) for r in routes})) or 'no Ingress'}"
                 f"{' (' + ', '.join(sorted({r['ingress'] for r in routes})) + ')' if routes else ''}")
