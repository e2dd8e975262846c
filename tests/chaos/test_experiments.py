"""The experiment files: valid Chaos Toolkit experiments, each guarded, each implementing kinds some environment's claims name."""

from __future__ import annotations

import pytest
from chaoslib.experiment import ensure_experiment_is_valid

from gauntlet import paths
from gauntlet.catalogue import matches_any
from gauntlet.chaos import experiments, targets
from gauntlet.environment import load_all, load_environment

NAMES = experiments.names()
ISSUE = {"athens-pod-loss", "castle-backend-replicaset-loss", "castle-www-pod-loss-at-min", "node-drain", "zone-outage",
         "artifacthub-hub-pod-loss", "athens-replica-crash", "artifacthub-db-failover"}


def test_every_experiment_the_issue_names_exists():
    assert ISSUE <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_each_file_is_a_valid_chaos_toolkit_experiment_with_the_guard(name):
    exp = experiments.load(name)
    ensure_experiment_is_valid(exp.data)  # what `chaos run` checks first: providers importable, arguments known
    named = [c.id for e in load_all(paths.ROOT / "environments") for c in e.claims if matches_any(c.evidence, exp.checks)]
    assert exp.checks and named, f"{name}: no shipped environment's claim names {exp.checks}"
    assert exp.probes, "a steady-state hypothesis checked before and after"
    assert any(a["type"] == "action" for a in exp.method)


@pytest.mark.parametrize("name", NAMES)
def test_each_action_and_rollback_has_a_resolvable_blast_radius(name):
    exp = experiments.load(name)
    for activity in exp.method + exp.rollbacks:
        if activity["type"] == "action":
            assert targets.call_of(activity) in targets.RESOLVERS, activity["name"]


def test_every_experiment_applies_to_the_local_stack():
    local = load_environment("local", paths.ROOT / "environments")
    assert {n: experiments.load(n).applies_to(local) for n in NAMES} == {n: None for n in NAMES}
