"""SLO verdicts: one check per SLO with the measured figure, the stop condition, Locust failing."""

from __future__ import annotations

import pytest

from gauntlet.environment import LoadProfile
from gauntlet.load.figures import Figures
from gauntlet.load.slo import check_ids, evaluate, show, stopped_claims


def profile(**changes) -> LoadProfile:
    data = {"user": "goproxy", "endpoint": "edge", "users": 5, "duration_s": 20, "max_requests": 5000,
            "slos": [{"claim": "athens-protocol", "metric": "error_rate", "max": 0.01},
                     {"claim": "athens-no-git-hot-path", "metric": "p95_ms", "max": 500}]}
    return LoadProfile.model_validate({**data, **changes})


FIGURES = Figures(requests=12340, failures=25, rps=617.0, p50_ms=40, p95_ms=812, p99_ms=1900, avg_ms=80, max_ms=4000)
ENDED = {"ended_by": "duration", "elapsed_s": 20.0, "stop": None}


def test_each_slo_is_one_load_check_for_its_claim_with_the_measured_figure():
    results = evaluate("smoke", profile(), FIGURES, ENDED)
    assert [(r.id, r.kind, r.claims, r.outcome) for r in results] == [
        ("load:smoke:error_rate", "load", ("athens-protocol",), "passed"),
        ("load:smoke:p95_ms", "load", ("athens-no-git-hot-path",), "failed"),
    ]
    assert results[1].message == "p95 812 ms > 500 ms (12 340 requests in 20 s, 0.2 % errors)"
    assert results[0].message == "error rate 0.2 % <= 1 % (12 340 requests in 20 s, 0.2 % errors)"
    assert results[1].details["value"] == 812 and results[1].details["measured"]["requests"] == 12340
    trend = {"rps": 617.0, "p50_ms": 40, "p95_ms": 812, "p99_ms": 1900, "error_rate": 25 / 12340}
    assert [(r.details["figures_of"], r.details["figures"]) for r in results] == [("load:smoke", trend)] * 2, \
        "the profile's figures, named once for the history whichever SLO carries them"


def test_min_slos_compare_the_other_way():
    slos = [{"claim": "castle-www-50rps", "metric": "rps", "min": 50}]
    low = Figures(requests=900, failures=0, rps=38.24, p50_ms=5, p95_ms=9, p99_ms=12, avg_ms=6, max_ms=30)
    (result,) = evaluate("capacity", profile(slos=slos), low, ENDED)
    assert result.outcome == "failed" and result.message.startswith("rps 38.2 < 50 (900 requests")


def test_an_impossible_slo_is_failed_with_the_figure():
    slos = [{"claim": "athens-no-git-hot-path", "metric": "p99_ms", "max": 0.001}]
    (result,) = evaluate("smoke", profile(slos=slos), FIGURES, ENDED)
    assert result.outcome == "failed" and result.message.startswith("p99 1900 ms > 0.001 ms")


def test_a_failed_error_rate_names_the_most_frequent_failure():
    slos = [{"claim": "athens-protocol", "metric": "error_rate", "max": 0}]
    failures = [{"method": "GET", "name": "/[module]/@v/list", "error": "CatchResponseError('HTTP 500')", "occurrences": 25}]
    (result,) = evaluate("smoke", profile(slos=slos), FIGURES, ENDED, failures=failures)
    assert result.message.endswith("most frequent failure: HTTP 500 on GET /[module]/@v/list (25x)")


def test_the_stop_condition_is_a_failed_check_naming_it_and_when():
    trip = {"metric": "error_rate", "value": 0.221, "limit": 0.05, "for_s": 3, "since_s": 0.0, "at_s": 3.0,
            "message": "error rate 22.1 % > 5 % for 3 s (from 0 s to 3 s)"}
    outcome = {"ended_by": "stop_condition", "elapsed_s": 3.0, "stop": trip}
    results = evaluate("smoke", profile(), FIGURES, outcome)
    stop = results[-1]
    assert stop.id == "load:smoke:stop" and stop.outcome == "failed" and stop.claims == ("athens-protocol",)
    assert stop.message.startswith("stop condition: error rate 22.1 % > 5 % for 3 s (from 0 s to 3 s): run ended at 3 s of 20 s")
    assert all("stopped early at 3 s of 20 s" in r.message for r in results[:-1])


def test_an_early_stop_breaks_capacity_claims_too():
    slos = [{"claim": "a", "metric": "rps", "min": 50}, {"claim": "b", "metric": "p95_ms", "max": 500},
            {"claim": "c", "metric": "error_rate", "max": 0.01}]
    assert stopped_claims(profile(slos=slos), "error_rate") == ("a", "c")
    assert stopped_claims(profile(slos=slos), "p95_ms") == ("a", "b")
    assert stopped_claims(profile(slos=slos[1:2]), "error_rate") == ("b",)


def test_without_figures_every_slo_is_an_error_saying_why():
    results = evaluate("smoke", profile(), None, None, problem="Locust exited with code 1: ImportError")
    assert [r.outcome for r in results] == ["error", "error"]
    assert results[0].message == "no figures to judge error rate on: Locust exited with code 1: ImportError"


def test_a_locust_problem_with_figures_is_an_extra_error():
    results = evaluate("smoke", profile(), FIGURES, ENDED, problem="the load user raised an exception 3x: KeyError")
    assert results[-1].id == "load:smoke:run" and results[-1].outcome == "error"
    assert results[-1].claims == ("athens-protocol", "athens-no-git-hot-path")


def test_the_same_metric_twice_gets_the_claim_in_its_id():
    slos = profile(slos=[{"claim": "a", "metric": "p95_ms", "max": 1}, {"claim": "b", "metric": "p95_ms", "max": 2},
                         {"claim": "a", "metric": "rps", "min": 1}]).slos
    assert check_ids("peak", slos) == ["load:peak:p95_ms[a]", "load:peak:p95_ms[b]", "load:peak:rps"]


@pytest.mark.parametrize(("metric", "value", "text"), [
    ("error_rate", 0.0, "0.0 %"), ("error_rate", 0.002, "0.2 %"), ("error_rate", 0.0004, "0.04 %"),
    ("p95_ms", 812.4, "812 ms"), ("rps", 48.27, "48.3"),
])
def test_figures_read_as_an_engineer_reads_them(metric, value, text):
    assert show(metric, value) == text
