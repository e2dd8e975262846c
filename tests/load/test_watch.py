"""Live figures, the stop condition and the request budget (the guard's pure parts)."""

from __future__ import annotations

import pytest

from gauntlet.load.watch import Budget, Snapshot, StopWatch, Windows, percentile, shares, window


def locust_percentile(response_times: dict[int, int], num_requests: int, percent: float) -> int:
    """Locust's own algorithm (locust.stats.calculate_response_time_percentile), copied for comparison."""
    num_of_request = int(num_requests * percent)
    processed_count = 0
    for response_time in sorted(response_times.keys(), reverse=True):
        processed_count += response_times[response_time]
        if num_requests - processed_count <= num_of_request:
            return response_time
    return 0


@pytest.mark.parametrize("q", [0.5, 0.95, 0.99])
def test_percentile_is_locusts(q):
    hist = {1: 50, 2: 20, 5: 10, 40: 10, 120: 5, 800: 4, 2300: 1}
    assert percentile(hist, 100, q) == locust_percentile(hist, 100, q)


def test_percentile_of_nothing_is_none():
    assert percentile({}, 0, 0.95) is None


def snap(t, requests, failures, hist):
    return Snapshot(t, requests, failures, hist)


def test_window_is_the_difference_of_two_snapshots():
    old = snap(1.0, 100, 1, {1: 99, 500: 1})
    new = snap(2.0, 200, 11, {1: 109, 500: 91})
    point = window(old, new, users=5)
    assert point.rps == pytest.approx(100) and point.fail_per_s == pytest.approx(10)
    assert point.error_rate == pytest.approx(0.10)
    assert point.p50_ms == 500 and point.p95_ms == 500  # the window's own requests, not the whole run's
    assert point.requests == 200 and point.users == 5


def test_windows_span_the_last_window_s():
    windows = Windows(3.0, snap(0, 0, 0, {}))
    points = [windows.add(snap(t, 10 * t, 0, {1: 10 * t}), 1) for t in range(1, 7)]
    assert [p.window_s for p in points] == [1, 2, 3, 3, 3, 3]
    assert points[-1].rps == pytest.approx(10)


def point_at(t, error_rate=None, p95=None, window_s=1.0):
    requests = 0 if error_rate is None else 100
    old = snap(t - window_s, 0, 0, {})
    hist = {} if error_rate is None else {int(p95 or 1): requests}
    return window(old, snap(t, requests, int(requests * (error_rate or 0)), hist), users=1)


def test_stop_condition_trips_after_for_s_of_breach():
    watch = StopWatch(error_rate=0.05, p95_ms=None, for_s=3)
    assert watch.observe(point_at(1, 0.5)) is None
    assert watch.observe(point_at(2, 0.5)) is None
    trip = watch.observe(point_at(3, 0.5))
    assert trip is not None and trip.metric == "error_rate" and trip.since_s == 0 and trip.at_s == 3
    assert trip.describe() == "error rate 50.0 % > 5 % for 3 s (from 0 s to 3 s)"


def test_a_tick_waking_early_still_counts_the_full_seconds():
    watch = StopWatch(error_rate=0.05, p95_ms=None, for_s=3)
    for t in (1.0003, 2.0002):
        assert watch.observe(point_at(t, 0.5)) is None
    assert watch.observe(point_at(2.9991, 0.5)) is not None


def test_a_window_within_limits_ends_the_streak():
    watch = StopWatch(error_rate=0.05, p95_ms=None, for_s=3)
    watch.observe(point_at(1, 0.5))
    watch.observe(point_at(2, 0.5))
    assert watch.observe(point_at(3, 0.0)) is None
    assert watch.observe(point_at(4, 0.5)) is None
    assert watch.observe(point_at(5, 0.5)) is None
    assert watch.observe(point_at(6, 0.5)).since_s == 3


def test_a_window_without_requests_is_no_evidence_either_way():
    watch = StopWatch(error_rate=0.05, p95_ms=None, for_s=3)
    watch.observe(point_at(1, 0.5))
    assert watch.observe(point_at(2)) is None
    assert watch.observe(point_at(3, 0.5)) is not None


def test_latency_stop_condition():
    watch = StopWatch(error_rate=None, p95_ms=1000, for_s=2)
    assert watch.observe(point_at(1, 0.0, p95=4000)) is None
    trip = watch.observe(point_at(2, 0.0, p95=4000))
    assert trip.metric == "p95_ms" and trip.describe().startswith("p95 4000 ms > 1000 ms for 2 s")


def test_error_rate_at_the_limit_is_not_a_breach():
    watch = StopWatch(error_rate=0.05, p95_ms=None, for_s=1)
    assert watch.observe(point_at(1, 0.05)) is None


@pytest.mark.parametrize(("total", "workers", "expected"), [(5000, 2, [2500, 2500]), (10, 3, [4, 3, 3]), (1, 2, [1, 0])])
def test_shares_never_add_up_to_more_than_the_budget(total, workers, expected):
    assert shares(total, workers) == expected and sum(expected) == total


def test_budget_allows_exactly_its_requests():
    budget = Budget(3)
    assert [budget.take() for _ in range(5)] == [True, True, True, False, False]
    assert budget.spent and budget.taken == 3


def test_a_budget_not_yet_known_allows_nothing():
    budget = Budget(None)
    assert budget.take() is False and not budget.spent
