"""The record of a finished experiment: its timeline file, its check and the figures history trends."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pytest

from gauntlet import paths, run_folder
from gauntlet.chaos import experiments, timeline
from gauntlet.chaos.probes import Measurement
from gauntlet.chaos.record import Finished, _load_breaches, record
from gauntlet.environment import load_environment

T0 = 1000.0


@dataclass
class Sampled:
    """What :class:`gauntlet.chaos.timeline.Sampler` hands the record: its samples, its probes, when it tripped."""

    samples: list[timeline.Sample]
    specs: list[timeline.ProbeSpec] = field(default_factory=lambda: [timeline.ProbeSpec("served", True, False, lambda: None)])
    tripped_at: float | None = None

    def snapshot(self) -> list[timeline.Sample]:
        return list(self.samples)


def sampled(*held: int) -> Sampled:
    return Sampled([timeline.Sample(T0 + i, bool(ok), {"served": Measurement(bool(ok), 10.0 + i, "ms", "served")})
                    for i, ok in enumerate(held)])


def finished(exp: experiments.Experiment, sampler: Sampled, events: list[dict], **changes) -> Finished:
    journal = {"status": "completed", "deviated": False, "run": [], "steady_states": {},
               "rollbacks": [{"activity": {"name": "restore"}, "status": "succeeded"}]}
    return Finished(**{"exp": exp, "targets": [], "emulated": None, "claims": ("claim",), "sampler": sampler, "t0": T0,
                       "events": events, "journal": journal, "fallback": False, "interrupted": None, "stop_condition": None,
                       "loader": None, "duration_s": 9.0, **changes})


def fault(name: str, at_s: float) -> dict:
    return {"event": "activity-start", "phase": "method", "type": "action", "name": name, "t": T0 + at_s}


@pytest.fixture
def env():
    return load_environment("local", paths.ROOT / "environments")


def test_a_recovered_fault_is_a_check_with_its_time_to_recovery_and_a_timeline_file(env, tmp_path):
    run = run_folder.new_run(env, "chaos", "gauntlet chaos local", reports=tmp_path)
    exp = experiments.load("athens-pod-loss")
    result = record(env, run, finished(exp, sampled(1, 1, 0, 0, 1, 1), [fault("kill", 1.5), {"event": "rollbacks-start", "t": T0 + 5}]))
    assert result.id == f"chaos:{exp.name}" and result.claims == ("claim",) and result.duration_s == 9.0
    assert result.details["figures"] == {"time_to_recovery_s": 2.5}
    assert result.details["recoveries"] == [{"fault": "kill", "at_s": 1.5, "lost": True, "time_to_recovery_s": 2.5}]
    assert result.details["artefacts"]["journal"] == f"chaos/{exp.name}/journal.json"
    doc = json.loads((run.dir / f"timeline-{exp.name}.json").read_text())
    assert [m["label"] for m in doc["markers"]] == ["fault: kill", "recovered", "rollbacks"]
    assert doc["recoveries"] == result.details["recoveries"]
    assert [r.id for r in run.results()] == [result.id]


def test_a_refusal_by_the_guard_before_any_action_is_the_interruption_the_verdict_sees(env, tmp_path):
    run = run_folder.new_run(env, "chaos", "gauntlet chaos local", reports=tmp_path)
    exp = experiments.load("athens-pod-loss")
    result = record(env, run, finished(exp, sampled(1, 1), [{"event": "refused", "reason": "not this cluster", "t": T0}]))
    assert result.outcome == "skipped" and "refused by the guard before an action: not this cluster" in result.message
    assert result.details["interrupted"] is None and result.details["figures"] == {}


@pytest.mark.parametrize(("failures", "claims", "breached"), [
    (0, ("athens-replica-failover",), False),
    (10, ("athens-replica-failover",), True),
    (10, ("athens-pods-recover",), False),  # a pod back within its deadline: the clients' failures are the load check's
])
def test_the_load_beside_breaks_the_hypothesis_with_failures_beyond_its_slo_in_the_fault_window(failures, claims, breached):
    """The load profile is the clients of the claims it and the experiment are evidence for: its failures in the
    fault window fail the experiment however rarely the probes sampled them (before and after the window they are
    the load check's alone), when one of the experiment's claims names the profile's error-rate SLO."""
    from types import SimpleNamespace

    from gauntlet.environment import Slo

    profile = SimpleNamespace(slos=[Slo(metric="p95_ms", max=500), Slo(metric="error_rate", max=0)])
    failover = SimpleNamespace(id="athens-replica-failover", evidence=("load.error-rate@pods-failover",))
    recover = SimpleNamespace(id="athens-pods-recover", evidence=("chaos.pod-loss.recovers",))
    env = SimpleNamespace(load_profile=lambda name: profile, claims=(failover, recover))
    loader = SimpleNamespace(profile="pods-failover", env=env)
    load = {"phases": {"before": {"failures": 3, "requests": 600}, "during": {"failures": failures, "requests": 3140},
                       "after": {"failures": 0, "requests": 400}}}
    found = _load_breaches(loader, load, claims)
    assert bool(found) == breached, found
    if breached:
        assert found == ["load pods-failover: 10 of 3140 requests failed in the fault window (error rate 0.32%, SLO at most 0.00%)"]
