"""EKS probes: a cluster and its managed node group."""

from __future__ import annotations

from chaoslib.types import Configuration, Secrets

from gauntlet.cloud.session import call, client, jsonable


def describe_cluster(name: str, configuration: Configuration | None = None, secrets: Secrets | None = None) -> dict:
    eks = client("eks", configuration, secrets)
    return jsonable(call(eks, "describe_cluster", resource=f"EKS cluster {name!r}", name=name)["cluster"])


def describe_nodegroup(cluster: str, nodegroup: str, configuration: Configuration | None = None,
                       secrets: Secrets | None = None) -> dict:
    """The managed node group (``scalingConfig``: ``minSize``, ``maxSize``, ``desiredSize``; ``status``)."""
    eks = client("eks", configuration, secrets)
    return jsonable(call(eks, "describe_nodegroup", resource=f"node group {nodegroup!r} of {cluster!r}",
                         clusterName=cluster, nodegroupName=nodegroup)["nodegroup"])
