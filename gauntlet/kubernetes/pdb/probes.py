"""PodDisruptionBudgets: which ones select a workload's pods."""

from __future__ import annotations

from collections.abc import Mapping

from chaoslib.types import Configuration, Secrets
from kubernetes import client as k8s

from gauntlet.kubernetes.client import call, cluster
from gauntlet.kubernetes.selectors import matches

__all__ = ["list_pdbs", "pdbs_selecting"]


def list_pdbs(ns: str, configuration: Configuration | None = None, secrets: Secrets | None = None) -> list[dict]:
    target = cluster(configuration, secrets)
    answer = call(target, f"LIST poddisruptionbudgets in namespace {ns}",
                  k8s.PolicyV1Api(target.api).list_namespaced_pod_disruption_budget, ns)
    return sorted(answer.get("items") or [], key=lambda p: p["metadata"]["name"])


def pdbs_selecting(pod_labels: Mapping[str, str], ns: str, configuration: Configuration | None = None,
                   secrets: Secrets | None = None) -> list[dict]:
    """The budgets of ``ns`` whose selector matches pods labelled ``pod_labels``."""
    return [p for p in list_pdbs(ns, configuration, secrets) if matches((p.get("spec") or {}).get("selector"), pod_labels)]
