"""SLO verdicts: one check per SLO with the measured figure, the stop condition, Locust failing, the fault window."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from gauntlet.environment import Environment, parse_environment
from gauntlet.load.figures import Figures
from gauntlet.load.slo import evaluate, evaluate_window, not_evidence, show, stopped_claims


def env(slos: list[dict] | None = None, names: dict[str, str] | None = None, profile: str = "smoke") -> Environment:
    """An environment with one load profile of these SLOs; ``names``: claim id -> the load pattern it names."""
    slos = slos if slos is not None else [{"metric": "error_rate", "max": 0.01}, {"metric": "p95_ms", "max": 500}]
    names = names or {"athens-protocol": f"load.error-rate@{profile}", "athens-no-git-hot-path": f"load.p95@{profile}"}
    data = {"name": "sample", "description": "d", "endpoints": [{"name": "edge", "url": "http://127.0.0.1:9", "role": "edge"}],
            "load_profiles": {profile: {"user": "goproxy", "endpoint": "edge", "users": 5, "duration_s": 20,
                                        "max_requests": 5000, "slos": slos}},
            "claims": [{"id": c, "statement": "s", "source": {"document": "d", "quote": "q"}, "evidence": [p]}
                       for c, p in names.items()]}
    return parse_environment(yaml.safe_dump(data), Path("sample.yaml"))


FIGURES = Figures(requests=12340, failures=25, rps=617.0, p50_ms=40, p95_ms=812, p99_ms=1900, avg_ms=80, max_ms=4000)
ENDED = {"ended_by": "duration", "elapsed_s": 20.0, "stop": None}


def test_each_slo_is_one_load_check_of_its_kind_for_the_claims_naming_it_with_the_measured_figure():
    results = evaluate(env(), "smoke", FIGURES, ENDED)
    assert [(r.id, r.evidence, r.kinds, r.claims, r.outcome) for r in results] == [
        ("load:smoke:error_rate", "load", ("load.error-rate",), ("athens-protocol",), "passed"),
        ("load:smoke:p95_ms", "load", ("load.p95",), ("athens-no-git-hot-path",), "failed"),
    ]
    assert results[1].message == "p95 812 ms > 500 ms (12 340 requests in 20 s, 0.2 % errors)"
    assert results[0].message == "error rate 0.2 % <= 1 % (12 340 requests in 20 s, 0.2 % errors)"
    assert results[1].details["value"] == 812 and results[1].details["measured"]["requests"] == 12340
    trend = {"rps": 617.0, "p50_ms": 40, "p95_ms": 812, "p99_ms": 1900, "error_rate": 25 / 12340}
    assert [(r.details["figures_of"], r.details["figures"]) for r in results] == [("load:smoke", trend)] * 2, \
        "the profile's figures, named once for the history whichever SLO carries them"


def test_min_slos_compare_the_other_way():
    slos = [{"metric": "rps", "min": 50}]
    low = Figures(requests=900, failures=0, rps=38.24, p50_ms=5, p95_ms=9, p99_ms=12, avg_ms=6, max_ms=30)
    (result,) = evaluate(env(slos, {"castle-www-50rps": "load.rps@capacity"}, "capacity"), "capacity", low, ENDED)
    assert result.outcome == "failed" and result.message.startswith("rps 38.2 < 50 (900 requests")


def test_an_impossible_slo_is_failed_with_the_figure():
    slos = [{"metric": "p99_ms", "max": 0.001}]
    (result,) = evaluate(env(slos, {"athens-no-git-hot-path": "load.p99@smoke"}), "smoke", FIGURES, ENDED)
    assert result.outcome == "failed" and result.message.startswith("p99 1900 ms > 0.001 ms")


def test_a_failed_error_rate_names_the_most_frequent_failure():
    slos = [{"metric": "error_rate", "max": 0}]
    failures = [{"method": "GET", "name": "/[module]/@v/list", "error": "CatchResponseError('HTTP 500')", "occurrences": 25}]
    (result,) = evaluate(env(slos, {"athens-protocol": "load.error-rate@smoke"}), "smoke", FIGURES, ENDED, failures=failures)
    assert result.message.endswith("most frequent failure: HTTP 500 on GET /[module]/@v/list (25x)")


def test_the_stop_condition_is_a_failed_check_naming_it_and_when():
    trip = {"metric": "error_rate", "value": 0.221, "limit": 0.05, "for_s": 3, "since_s": 0.0, "at_s": 3.0,
            "message": "error rate 22.1 % > 5 % for 3 s (from 0 s to 3 s)"}
    outcome = {"ended_by": "stop_condition", "elapsed_s": 3.0, "stop": trip}
    results = evaluate(env(), "smoke", FIGURES, outcome)
    stop = results[-1]
    assert stop.id == "load:smoke:stop" and stop.outcome == "failed" and stop.claims == ("athens-protocol",)
    assert stop.message.startswith("stop condition: error rate 22.1 % > 5 % for 3 s (from 0 s to 3 s): run ended at 3 s of 20 s")
    assert all("stopped early at 3 s of 20 s" in r.message for r in results[:-1])


def test_an_early_stop_breaks_capacity_claims_too():
    slos = [{"metric": "rps", "min": 50}, {"metric": "p95_ms", "max": 500}, {"metric": "error_rate", "max": 0.01}]
    names = {"a": "load.rps@peak", "b": "load.p95@peak", "c": "load.error-rate@peak"}
    assert stopped_claims(env(slos, names, "peak"), "peak", "error_rate") == ("a", "c")
    assert stopped_claims(env(slos, names, "peak"), "peak", "p95_ms") == ("a", "b")
    assert stopped_claims(env(slos[1:2], {"b": "load.p95@peak"}, "peak"), "peak", "error_rate") == ("b",)


def test_without_figures_every_slo_is_an_error_saying_why():
    results = evaluate(env(), "smoke", None, None, problem="Locust exited with code 1: ImportError")
    assert [r.outcome for r in results] == ["error", "error"]
    assert results[0].message == "no figures to judge error rate on: Locust exited with code 1: ImportError"


def test_a_locust_problem_with_figures_is_an_extra_error():
    results = evaluate(env(), "smoke", FIGURES, ENDED, problem="the load user raised an exception 3x: KeyError")
    assert results[-1].id == "load:smoke:run" and results[-1].outcome == "error"
    assert results[-1].claims == ("athens-protocol", "athens-no-git-hot-path")


def test_one_slo_can_be_evidence_for_several_claims_and_a_group_names_every_slo_of_its_profile():
    results = evaluate(env(names={"a": "load.p95@smoke", "b": "load.*@smoke"}), "smoke", FIGURES, ENDED)
    assert [(r.id, r.claims) for r in results] == [("load:smoke:error_rate", ("b",)), ("load:smoke:p95_ms", ("a", "b"))]


def test_a_fault_window_profile_is_judged_on_the_window_only():
    """``during:`` evidence: errors before and after the fault do not count; errors inside do."""
    sample = env([{"metric": "error_rate", "max": 0}], {"athens-replica-failover": "load.error-rate@failover"}, "failover")
    window = {"seconds": 10, "requests": 400, "failures": 0, "error_rate": 0.0, "worst_p95_ms": 30}
    (held,) = evaluate_window(sample, "failover", window, "athens-replica-crash", {})
    assert held.outcome == "passed" and "inside the fault window of athens-replica-crash (400 requests, 0 failed)" in held.message
    (broke,) = evaluate_window(sample, "failover", {**window, "failures": 3}, "athens-replica-crash", {})
    assert broke.outcome == "failed" and broke.message.startswith("error rate 0.8 % > 0 %")
    (empty,) = evaluate_window(sample, "failover", {**window, "requests": 0}, "athens-replica-crash", {})
    assert empty.outcome == "skipped" and empty.message.startswith("not evidence: no request of the load ran inside")


def test_not_evidence_is_a_skip_of_every_slo_for_its_claims():
    results = not_evidence(env(), "smoke", "no fault was injected")
    assert [(r.outcome, r.claims, r.message) for r in results] == [
        ("skipped", ("athens-protocol",), "not evidence: no fault was injected"),
        ("skipped", ("athens-no-git-hot-path",), "not evidence: no fault was injected")]


@pytest.mark.parametrize(("metric", "value", "text"), [
    ("error_rate", 0.0, "0.0 %"), ("error_rate", 0.002, "0.2 %"), ("error_rate", 0.0004, "0.04 %"),
    ("p95_ms", 812.4, "812 ms"), ("rps", 48.27, "48.3"),
])
def test_figures_read_as_an_engineer_reads_them(metric, value, text):
    assert show(metric, value) == text
