"""Label selectors (``metav1.LabelSelector`` as the API's JSON): to a query string, and matched locally."""

from __future__ import annotations

from collections.abc import Mapping

_OPERATORS = {"In": "in", "NotIn": "notin"}


def selector_string(selector: Mapping | None) -> str:
    """``{"matchLabels": {"app": "www"}}`` -> ``app=www`` (the ``labelSelector`` query parameter)."""
    selector = selector or {}
    parts = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expr in selector.get("matchExpressions") or ():
        key, op, values = expr["key"], expr["operator"], expr.get("values") or ()
        if op in _OPERATORS:
            parts.append(f"{key} {_OPERATORS[op]} ({','.join(values)})")
        elif op == "Exists":
            parts.append(key)
        elif op == "DoesNotExist":
            parts.append(f"!{key}")
        else:
            raise ValueError(f"unknown label selector operator {op!r}")
    return ",".join(parts)


def matches(selector: Mapping | None, labels: Mapping | None) -> bool:
    """Whether ``labels`` satisfy ``selector``; an empty selector selects everything, None nothing."""
    if selector is None:
        return False
    labels = labels or {}
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or ():
        key, op, values = expr["key"], expr["operator"], set(expr.get("values") or ())
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def service_selects(service_selector: Mapping | None, labels: Mapping | None) -> bool:
    """A Service's plain ``spec.selector`` map: it selects the pods carrying all of its labels (none: no pods)."""
    if not service_selector:
        return False
    labels = labels or {}
    return all(labels.get(k) == v for k, v in service_selector.items())
