"""HorizontalPodAutoscalers (autoscaling/v2): which ones scale a workload, and on what."""

from __future__ import annotations

from chaoslib.types import Configuration, Secrets
from kubernetes import client as k8s

from gauntlet.kubernetes.client import call, cluster

__all__ = ["hpas_targeting", "metric_kinds"]


def hpas_targeting(kind: str, name: str, ns: str, configuration: Configuration | None = None,
                   secrets: Secrets | None = None) -> list[dict]:
    """The autoscalers of ``ns`` whose ``scaleTargetRef`` is this workload."""
    target = cluster(configuration, secrets)
    answer = call(target, f"LIST horizontalpodautoscalers in namespace {ns}",
                  k8s.AutoscalingV2Api(target.api).list_namespaced_horizontal_pod_autoscaler, ns)
    return [h for h in answer.get("items") or ()
            if (h.get("spec") or {}).get("scaleTargetRef", {}).get("kind") == kind
            and h["spec"]["scaleTargetRef"].get("name") == name]


def metric_kinds(hpa: dict) -> list[str]:
    """``Resource:cpu``, ``Pods:http_requests``, ``External:...``: what the autoscaler scales on."""
    kinds = []
    for metric in (hpa.get("spec") or {}).get("metrics") or ():
        source = metric.get("type", "?")
        body = metric.get(source[:1].lower() + source[1:]) or {}
        name = body.get("name") or (body.get("metric") or {}).get("name") or "?"
        kinds.append(f"{source}:{name}")
    return kinds
