"""Deployment actions: the rolling restart ``kubectl rollout restart`` does."""

from __future__ import annotations

import datetime as dt
from typing import Any

from chaoslib.types import Configuration, Secrets
from kubernetes import client as k8s

from gauntlet.kubernetes.client import call, cluster
from gauntlet.kubernetes.errors import ActionRefused

__all__ = ["RESTARTED_AT", "rollout_restart"]

RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"


def refuse_unless_allowed(ns: str, configuration: Configuration | None) -> None:
    """The chaos policy, when the configuration carries it (``chaos_allowed``, ``chaos_namespaces``)."""
    values: dict[str, Any] = configuration or {}  # resolved values: a bool, a list (chaoslib's type is the unresolved form)
    if values.get("chaos_allowed") is False:
        raise ActionRefused(f"namespace {ns}: the chaos policy allows no action (chaos.allowed: false)")
    allowed = values.get("chaos_namespaces")
    if allowed is not None and ns not in allowed:
        raise ActionRefused(f"namespace {ns}: not among the namespaces the chaos policy allows ({', '.join(allowed) or 'none'})")


def rollout_restart(name: str, ns: str, configuration: Configuration | None = None,
                    secrets: Secrets | None = None) -> dict:
    """Stamp the pod template with the restart time: the Deployment controller replaces every pod
    under its rolling-update strategy. Returns the stamp and the new generation."""
    refuse_unless_allowed(ns, configuration)
    target = cluster(configuration, secrets)
    stamp = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    body = {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: stamp}}}}}
    answer = call(target, f"PATCH Deployment {ns}/{name} (rollout restart)",
                  k8s.AppsV1Api(target.api).patch_namespaced_deployment, name, ns, body,
                  _content_type="application/strategic-merge-patch+json")
    return {"deployment": f"{ns}/{name}", "restarted_at": stamp, "generation": answer["metadata"].get("generation")}
