"""NetworkPolicies: which select a workload's pods, and what their ingress rules let reach them.

The semantics are the API's (``networking.k8s.io/v1``): a pod selected by a policy whose
``policyTypes`` include Ingress (or that names none: Ingress is then implied) is isolated for
ingress, and may be reached only as the union of those policies' ``ingress`` rules allows. A rule
without ``from`` (or with an empty one) admits every source; without ``ports``, every port. Whether
the cluster's network plugin enforces the policies is not visible in the API.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping

from chaoslib.types import Configuration, Secrets
from kubernetes import client as k8s

from gauntlet.kubernetes.client import call, cluster
from gauntlet.kubernetes.selectors import matches, selector_string

__all__ = ["ingress_sources", "isolates_ingress", "policies_selecting"]


def policies_selecting(pod_labels: Mapping[str, str], ns: str, configuration: Configuration | None = None,
                       secrets: Secrets | None = None) -> list[dict]:
    """The NetworkPolicies of ``ns`` whose ``podSelector`` picks pods labelled ``pod_labels``."""
    target = cluster(configuration, secrets)
    answer = call(target, f"LIST networkpolicies in namespace {ns}",
                  k8s.NetworkingV1Api(target.api).list_namespaced_network_policy, ns)
    return sorted((p for p in answer.get("items") or () if matches((p.get("spec") or {}).get("podSelector") or {}, pod_labels)),
                  key=lambda p: p["metadata"]["name"])


def isolates_ingress(policy: Mapping) -> bool:
    """Whether the policy restricts ingress to the pods it selects (``policyTypes`` has Ingress, or is not given)."""
    types = (policy.get("spec") or {}).get("policyTypes")
    return not types or "Ingress" in types


def _public(cidr: str) -> bool:
    """An address range reaching beyond the private, loopback and link-local ones (0.0.0.0/0 does)."""
    try:
        network = ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return True
    return not (network.is_private or network.is_loopback or network.is_link_local)


def _peer(peer: Mapping, ns: str) -> tuple[str, bool]:
    """(what a ``from`` peer admits, in words; whether it reaches beyond the cluster)."""
    if "ipBlock" in peer:
        block = peer["ipBlock"] or {}
        cidr = block.get("cidr", "")
        but = f" except {', '.join(block['except'])}" if block.get("except") else ""
        return f"addresses {cidr}{but}", _public(cidr)
    pods, namespaces = peer.get("podSelector"), peer.get("namespaceSelector")
    picked = selector_string(pods) if pods is not None else ""
    who = f"pods {picked}" if picked else "every pod"
    if namespaces is None:
        return f"{who} in namespace {ns}", False
    where = selector_string(namespaces)
    return f"{who} in {'namespaces ' + where if where else 'every namespace'}", False


def _ports(rule: Mapping) -> str:
    ports = rule.get("ports") or ()
    if not ports:
        return "every port"
    return ", ".join(f"{p.get('protocol', 'TCP')}/{p.get('port', 'any')}" + (f"-{p['endPort']}" if p.get("endPort") else "")
                     for p in ports)


def ingress_sources(policies: list[Mapping]) -> list[dict]:
    """``{policy, rule, source, ports, public}`` for every source the ingress-isolating policies admit; a rule
    admitting every source is ``public``, as is an ``ipBlock`` beyond the private address ranges."""
    out = []
    for policy in policies:
        if not isolates_ingress(policy):
            continue
        name, ns = policy["metadata"]["name"], policy["metadata"].get("namespace", "")
        for i, rule in enumerate((policy.get("spec") or {}).get("ingress") or ()):
            peers = rule.get("from") or ()
            where = {"policy": name, "rule": f"spec.ingress[{i}]", "ports": _ports(rule)}
            if not peers:
                out.append({**where, "source": "every source (no from)", "public": True})
            for peer in peers:
                source, public = _peer(peer, ns)
                out.append({**where, "source": source, "public": public})
    return out
