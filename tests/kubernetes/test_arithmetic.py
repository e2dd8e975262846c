"""The controllers' rollout and disruption arithmetic, and resource quantities."""

from __future__ import annotations

import math

import pytest

from gauntlet.kubernetes.arithmetic import disruption_budget, quantity_bytes, rolling_update, scaled


@pytest.mark.parametrize(("value", "total", "up", "expected"), [
    (2, 5, False, 2), ("25%", 5, False, 1), ("25%", 5, True, 2), ("100%", 5, False, 5), ("0%", 3, True, 0),
    ("1", 4, False, 1), ("33%", 3, True, 1), ("34%", 3, True, 2),
])
def test_int_or_percent_scales_like_kubernetes(value, total, up, expected):
    assert scaled(value, total, round_up=up) == expected


def test_defaults_are_a_quarter_down_and_a_quarter_up():
    plan = rolling_update({"type": "RollingUpdate"}, 5)
    assert (plan["max_unavailable"], plan["max_surge"], plan["ready_at_least"]) == (1, 2, 4)


def test_surge_only_keeps_every_pod():
    plan = rolling_update({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}}, 5)
    assert plan["ready_at_least"] == 5


def test_hundred_percent_unavailable_keeps_nothing():
    plan = rolling_update({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "100%", "maxSurge": 1}}, 5)
    assert (plan["max_unavailable"], plan["ready_at_least"]) == (5, 0)


def test_both_zero_takes_one_down_like_the_controller():
    plan = rolling_update({"rollingUpdate": {"maxUnavailable": "10%", "maxSurge": 0}}, 3)
    assert (plan["max_unavailable"], plan["ready_at_least"]) == (1, 2)


def test_recreate_keeps_nothing():
    assert rolling_update({"type": "Recreate"}, 4)["ready_at_least"] == 0


def test_statefulset_takes_one_at_a_time_and_never_surges():
    plan = rolling_update({"type": "RollingUpdate"}, 3, kind="StatefulSet")
    assert (plan["max_unavailable"], plan["max_surge"], plan["ready_at_least"]) == (1, 0, 2)


@pytest.mark.parametrize(("spec", "replicas", "guaranteed", "disruptions"), [
    ({"minAvailable": 2}, 3, 2, 1),
    ({"minAvailable": 3}, 3, 3, 0),
    ({"minAvailable": "50%"}, 3, 2, 1),  # rounds up
    ({"maxUnavailable": 1}, 5, 4, 1),
    ({"maxUnavailable": "30%"}, 5, 3, 2),  # rounds up: 1.5 -> 2
    ({"minAvailable": 4}, 1, 4, 0),        # the HPA went below the budget
    ({}, 3, 0, 3),
])
def test_disruption_budget(spec, replicas, guaranteed, disruptions):
    assert disruption_budget(spec, replicas) == {"replicas": replicas, "guaranteed": guaranteed, "disruptions": disruptions}


def test_quantities():
    assert quantity_bytes("512Mi") == 512 * 2**20
    assert quantity_bytes("1Gi") > quantity_bytes("1G") > quantity_bytes("999M")
    assert quantity_bytes(1024) == 1024
    assert math.isnan(quantity_bytes("lots"))
