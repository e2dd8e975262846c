"""Nodes: zone, pool, readiness, and whether a node is simulated (KWOK: no container runtime)."""

from __future__ import annotations

from chaoslib.types import Configuration, Secrets
from kubernetes import client as k8s

from gauntlet.kubernetes.client import call, cluster

__all__ = ["ZONE_LABEL", "nodes"]

ZONE_LABEL = "topology.kubernetes.io/zone"
KWOK_ANNOTATION = "kwok.x-k8s.io/node"


def nodes(configuration: Configuration | None = None, secrets: Secrets | None = None) -> dict[str, dict]:
    """Node name -> ``{zone, ready, simulated, labels}``."""
    target = cluster(configuration, secrets)
    answer = call(target, "LIST nodes", k8s.CoreV1Api(target.api).list_node)
    out = {}
    for node in answer.get("items") or ():
        meta = node["metadata"]
        labels = meta.get("labels") or {}
        conditions = {c["type"]: c.get("status") for c in (node.get("status") or {}).get("conditions") or ()}
        out[meta["name"]] = {
            "zone": labels.get(ZONE_LABEL) or labels.get("failure-domain.beta.kubernetes.io/zone"),
            "ready": conditions.get("Ready") == "True",
            "simulated": KWOK_ANNOTATION in (meta.get("annotations") or {}) or labels.get("type") == "kwok",
            "labels": labels,
        }
    return out
