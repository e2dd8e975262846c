"""The Kubernetes API as the chaos modules reach it: one pinned kubeconfig and context, never a default.

The target check (:func:`current_target`) reads the kubeconfig file itself, so the
cluster a run would act on is known before any API call. :func:`api_client` builds a
client for an explicit kubeconfig and context (from a Chaos Toolkit ``configuration``:
``kubeconfig``, ``kube_context``; else the ``KUBECONFIG`` and ``KUBERNETES_CONTEXT``
variables chaostoolkit-kubernetes reads, which ``gauntlet chaos`` pins for the
Chaos Toolkit process). Clients come from :func:`gauntlet.kubernetes.client.cluster` (cached per process, the
API server checked when ``kube_api_server`` is given): a sampler calls probes twice a second.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chaoslib.types import Configuration

from gauntlet.kubernetes.client import default_kubeconfig, read_kubeconfig

#: Seconds one API request may take: probes run at least once a second.
REQUEST_TIMEOUT_S = 3.0


@dataclass(frozen=True)
class KubeTarget:
    """Where a kubeconfig points: the file, its current context, and that context's API server."""

    kubeconfig: Path
    current_context: str | None
    contexts: dict[str, str | None]  # context name -> API server URL of its cluster (None: not given)

    def server(self, context: str) -> str | None:
        return self.contexts.get(context)


def current_target(kubeconfig: Path) -> KubeTarget:
    """Read ``kubeconfig`` (no API call): current context and each context's server. Raises OSError/ValueError
    naming what is wrong, also for entries of the wrong type."""
    data = read_kubeconfig(kubeconfig)
    clusters, entries = data.get("clusters") or [], data.get("contexts") or []
    if not isinstance(clusters, list) or not isinstance(entries, list):
        raise ValueError("clusters and contexts: expected lists")
    servers = {c.get("name"): (c.get("cluster") or {}).get("server") if isinstance(c.get("cluster"), dict) else None
               for c in clusters if isinstance(c, dict)}
    contexts: dict[str, str | None] = {}
    for entry in entries:
        if isinstance(entry, dict) and isinstance(entry.get("name"), str):
            context = entry.get("context")
            contexts[entry["name"]] = servers.get(context.get("cluster")) if isinstance(context, dict) else None
    current = data.get("current-context")
    if current is not None and not isinstance(current, str):
        raise ValueError(f"current-context: expected a context name, got {type(current).__name__}")
    return KubeTarget(kubeconfig, current or None, contexts)


def settings(configuration: Configuration | None = None) -> tuple[str, str | None]:
    """(kubeconfig path, context) of a Chaos Toolkit configuration, else of the environment variables."""
    values: dict[str, Any] = configuration or {}  # resolved values: text (chaoslib's type is the unresolved form)
    kubeconfig = values.get("kubeconfig") or str(default_kubeconfig())
    context = values.get("kube_context") or os.environ.get("KUBERNETES_CONTEXT") or None
    return os.path.expanduser(str(kubeconfig)), context


def api_client(configuration: Configuration | None = None) -> Any:
    """The ``ApiClient`` of :func:`gauntlet.kubernetes.client.cluster` for exactly this kubeconfig and context
    (refused when ``kube_api_server`` is given and the context points elsewhere)."""
    from gauntlet.kubernetes.client import cluster

    kubeconfig, context = settings(configuration)
    pinned: dict[str, Any] = {**(configuration or {}), "kubeconfig": kubeconfig, "kube_context": context}
    return cluster({k: v for k, v in pinned.items() if v is not None}).api


def core(configuration: Configuration | None = None) -> Any:
    from kubernetes import client

    return client.CoreV1Api(api_client(configuration))


def apps(configuration: Configuration | None = None) -> Any:
    from kubernetes import client

    return client.AppsV1Api(api_client(configuration))


def pod_ready(pod: Any) -> bool:
    """Ready condition True and not terminating: the pod is an endpoint that receives traffic."""
    if pod.metadata.deletion_timestamp is not None:
        return False
    return any(c.type == "Ready" and c.status == "True" for c in (pod.status.conditions or ()))


def owned_by(pod: Any, kind: str, name: str) -> bool:
    return any(o.kind == kind and o.name == name for o in (pod.metadata.owner_references or ()))
