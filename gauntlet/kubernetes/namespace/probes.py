"""Namespaces: their labels (e.g. the AWS load balancer controller's readiness-gate injection label,
:mod:`gauntlet.kubernetes.alb`)."""

from __future__ import annotations

from chaoslib.types import Configuration, Secrets
from kubernetes import client as k8s

from gauntlet.kubernetes.client import call, cluster
from gauntlet.kubernetes.errors import Deviation

__all__ = ["namespace_has_label", "namespace_labels"]


def namespace_labels(ns: str, configuration: Configuration | None = None, secrets: Secrets | None = None) -> dict:
    target = cluster(configuration, secrets)
    answer = call(target, f"GET Namespace {ns}", k8s.CoreV1Api(target.api).read_namespace, ns)
    return dict((answer.get("metadata") or {}).get("labels") or {})


def namespace_has_label(ns: str, key: str, value: str | None = None, raise_on_missing: bool = True,
                        configuration: Configuration | None = None, secrets: Secrets | None = None) -> bool:
    """Whether ``ns`` carries ``key`` (with ``value`` when given); raises :class:`Deviation` when not,
    unless ``raise_on_missing`` is False."""
    labels = namespace_labels(ns, configuration, secrets)
    found = key in labels and (value is None or labels[key] == value)
    if not found and raise_on_missing:
        raise Deviation(f"Namespace {ns}: label {key}={value or '*'} expected, found {labels.get(key, 'none')}")
    return found
