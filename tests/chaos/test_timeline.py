"""Time to recovery, load attribution and the stop condition, from samples alone."""

from __future__ import annotations

import time

from gauntlet.chaos import timeline
from gauntlet.chaos.probes import Measurement
from gauntlet.chaos.timeline import ProbeSpec, Sampler, phases, recoveries


def steady(*pattern: int, step: float = 0.5) -> list[tuple[float, bool]]:
    return [(i * step, bool(v)) for i, v in enumerate(pattern)]


def test_time_to_recovery_runs_from_the_fault_to_the_first_sample_of_the_final_steady_run():
    samples = steady(1, 1, 1, 0, 0, 1, 0, 1, 1, 1)  # a relapse at 3.0 s: recovered only at 3.5 s
    (r,) = recoveries(samples, [("kill", 1.2)])
    assert r.lost and r.recovered_at == 3.5 and r.time_to_recovery_s == 2.3


def test_a_steady_state_never_lost_recovers_in_zero_seconds():
    (r,) = recoveries(steady(1, 1, 1, 1), [("kill", 0.4)])
    assert not r.lost and r.time_to_recovery_s == 0.0


def test_a_steady_state_still_lost_at_the_end_did_not_recover():
    (r,) = recoveries(steady(1, 1, 0, 0, 0), [("outage", 0.9)])
    assert r.lost and r.recovered_at is None and r.time_to_recovery_s is None


def test_each_fault_is_judged_up_to_the_next_one():
    first, second = recoveries(steady(1, 0, 1, 1, 0, 0, 1, 1), [("one", 0.4), ("all-but-one", 1.9)])
    assert first.time_to_recovery_s == 0.6 and second.time_to_recovery_s == 1.1


def test_load_errors_and_latency_are_attributed_before_during_and_after_the_fault_window():
    points = [{"t": float(t), "requests": 10, "failures": f, "p95_ms": p} for t, f, p in
              [(1, 0, 5), (2, 0, 6), (3, 2, 90), (4, 1, 40), (5, 0, 7)]]
    split = phases(points, (2.5, 4.0))
    assert split["before"] == {"seconds": 2, "requests": 20, "failures": 0, "error_rate": 0.0, "worst_p95_ms": 6}
    assert split["during"] == {"seconds": 2, "requests": 20, "failures": 3, "error_rate": 0.15, "worst_p95_ms": 90}
    assert split["after"]["failures"] == 0 and split["after"]["seconds"] == 1


def test_the_stop_condition_fires_once_when_the_steady_state_is_lost_beyond_the_deadline_while_armed():
    fired: list[float] = []
    lost = ProbeSpec("lost", steady=True, invariant=False, call=lambda: Measurement(False, 0.0, "pods", "0 Ready"))
    sampler = Sampler([lost], deadline_s=0.3, on_deadline=fired.append, interval_s=0.05)
    sampler.start()
    time.sleep(0.5)
    assert fired == [], "not armed: before the method (or during rollbacks) the stop condition does not apply"
    sampler.arm()
    time.sleep(0.8)
    sampler.stop()
    assert len(fired) == 1 and fired[0] > 0.3
    assert len(sampler.samples) >= 1.0 / 0.05, "sampled more than once a second"


def test_the_timeline_file_is_the_reports_chart_format_with_the_steady_state_and_each_probe():
    spec = ProbeSpec("ready", steady=True, invariant=False, call=lambda: Measurement(True, 3.0, "pods", "3 Ready"))
    samples = [timeline.Sample(100.0, True, {"ready": Measurement(True, 3.0, "pods", "3 Ready")}),
               timeline.Sample(100.5, False, {"ready": Measurement(False, 2.0, "pods", "2 Ready")})]
    doc = timeline.document("chaos x on y", samples, [spec], 100.0, [(100.2, "fault: kill")], 1.5)
    assert doc["series"][0] == {"name": "steady state", "unit": "held", "points": [[0.0, 1], [0.5, 0]]}
    assert doc["series"][1] == {"name": "ready", "unit": "pods", "points": [[0.0, 3.0], [0.5, 2.0]]}
    assert doc["markers"] == [{"t": 0.2, "label": "fault: kill"}] and doc["time_to_recovery_s"] == 1.5
    assert [c["held"] for c in doc["changes"]] == [True, False]
