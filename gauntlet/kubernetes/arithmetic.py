"""The rollout and disruption arithmetic of the Kubernetes controllers, on the API's JSON.

An int-or-percent value scales the way ``intstr.GetScaledValueFromIntOrPercent`` does:
a Deployment's ``maxUnavailable`` rounds down and ``maxSurge`` up; a PodDisruptionBudget's
``minAvailable`` and ``maxUnavailable`` both round up.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

IntOrPercent = int | str

DEFAULT_MAX_UNAVAILABLE = "25%"
DEFAULT_MAX_SURGE = "25%"


def scaled(value: IntOrPercent, total: int, round_up: bool) -> int:
    """``2`` -> 2; ``"25%"`` of 5 -> 1 (down) or 2 (up)."""
    if isinstance(value, bool):
        raise ValueError(f"expected an int or a percentage, got {value!r}")
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if not text.endswith("%"):
        return int(text)
    share = int(text[:-1]) * total / 100
    return math.ceil(share) if round_up else math.floor(share)


def rolling_update(strategy: Mapping | None, replicas: int, kind: str = "Deployment") -> dict:
    """What a rolling update of ``replicas`` pods may do: take down ``max_unavailable``, add ``max_surge``.

    ``ready_at_least`` is the fewest Ready pods the controller keeps while it rolls
    (given every pod was Ready when it started). A Deployment whose two values both come to 0
    takes one down anyway (the controller's fencepost); a StatefulSet never surges.
    """
    strategy = strategy or {}
    kind_of = strategy.get("type") or "RollingUpdate"
    if kind_of != "RollingUpdate":
        return {"type": kind_of, "replicas": replicas, "max_unavailable": replicas, "max_surge": 0, "ready_at_least": 0}
    rolling = strategy.get("rollingUpdate") or {}
    if kind == "StatefulSet":
        unavailable = scaled(rolling.get("maxUnavailable", 1), replicas, round_up=False) or 1
        surge = 0
    else:
        unavailable = scaled(rolling.get("maxUnavailable", DEFAULT_MAX_UNAVAILABLE), replicas, round_up=False)
        surge = scaled(rolling.get("maxSurge", DEFAULT_MAX_SURGE), replicas, round_up=True)
        if unavailable == 0 and surge == 0:
            unavailable = 1
    unavailable = min(unavailable, replicas)
    return {"type": kind_of, "replicas": replicas, "max_unavailable": unavailable, "max_surge": surge,
            "ready_at_least": replicas - unavailable}


def disruption_budget(spec: Mapping, replicas: int) -> dict:
    """What a PodDisruptionBudget guarantees for ``replicas`` healthy pods.

    ``guaranteed``: pods evictions may never go below; ``disruptions``: evictions allowed at once.
    A budget with neither ``minAvailable`` nor ``maxUnavailable`` guarantees nothing.
    """
    if spec.get("minAvailable") is not None:
        guaranteed = scaled(spec["minAvailable"], replicas, round_up=True)
    elif spec.get("maxUnavailable") is not None:
        guaranteed = replicas - scaled(spec["maxUnavailable"], replicas, round_up=True)
    else:
        guaranteed = 0
    guaranteed = max(0, guaranteed)
    return {"replicas": replicas, "guaranteed": guaranteed, "disruptions": max(0, replicas - guaranteed)}


_UNITS = {"": 1, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15,
          "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50}


def quantity_bytes(quantity: str | int | float) -> float:
    """A resource quantity (``512Mi``, ``1G``, ``1e9``) as a number; NaN when it is not one."""
    match = re.fullmatch(r"([0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?)([a-zA-Z]*)", str(quantity).strip())
    if match is None or match[2] not in _UNITS:
        return float("nan")
    return float(match[1]) * _UNITS[match[2]]
