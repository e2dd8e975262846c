"""Label selectors: the query string the API wants, and matching done locally."""

from __future__ import annotations

import pytest

from gauntlet.kubernetes.selectors import matches, selector_string, service_selects


def test_selector_string_orders_labels_then_expressions():
    selector = {"matchLabels": {"b": "2", "a": "1"},
                "matchExpressions": [{"key": "tier", "operator": "In", "values": ["web", "api"]},
                                     {"key": "canary", "operator": "DoesNotExist"},
                                     {"key": "zone", "operator": "Exists"},
                                     {"key": "env", "operator": "NotIn", "values": ["dev"]}]}
    assert selector_string(selector) == "a=1,b=2,tier in (web,api),!canary,zone,env notin (dev)"


def test_unknown_operator_is_refused():
    with pytest.raises(ValueError, match="unknown label selector operator 'Near'"):
        selector_string({"matchExpressions": [{"key": "x", "operator": "Near"}]})


@pytest.mark.parametrize(("selector", "labels", "expected"), [
    ({"matchLabels": {"app": "hub"}}, {"app": "hub", "x": "y"}, True),
    ({"matchLabels": {"app": "hub"}}, {"app": "web"}, False),
    ({}, {"anything": "at all"}, True),
    (None, {"app": "hub"}, False),
    ({"matchExpressions": [{"key": "app", "operator": "In", "values": ["a", "b"]}]}, {"app": "b"}, True),
    ({"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["a"]}]}, {}, True),
    ({"matchExpressions": [{"key": "app", "operator": "Exists"}]}, {}, False),
    ({"matchExpressions": [{"key": "app", "operator": "DoesNotExist"}]}, {"app": "x"}, False),
])
def test_matches(selector, labels, expected):
    assert matches(selector, labels) is expected


def test_a_service_without_selector_selects_nothing():
    assert service_selects({}, {"app": "x"}) is False
    assert service_selects({"app": "x"}, {"app": "x", "tier": "1"}) is True
