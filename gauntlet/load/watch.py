"""Live figures of a running load test, the stop condition and the request budget.

Locust keeps cumulative counters and a response-time histogram (rounded
milliseconds -> count). The guard in ``load/_guard.py`` snapshots them once a
second; the difference of two snapshots is a window of the run, from which
come the series points (rps, p95, error rate over time) and the stop
condition's observations. Pure Python, so it is tested without Locust.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import asdict, dataclass

TICK_SLACK_S = 0.05  # a 1 s tick may wake a few ms early: 2.998 s of breach is 3 s


def percentile(histogram: Mapping[int, int], count: int, q: float) -> float | None:
    """The ``q`` percentile of a response-time histogram, computed as Locust does
    (``calculate_response_time_percentile``); None when it holds no request."""
    if count <= 0:
        return None
    wanted = int(count * q)
    seen = 0
    for value in sorted(histogram, reverse=True):
        seen += histogram[value]
        if count - seen <= wanted:
            return float(value)
    return 0.0


@dataclass(frozen=True)
class Snapshot:
    """Locust's cumulative totals at ``t`` seconds into the run."""

    t: float
    requests: int
    failures: int
    histogram: Mapping[int, int]


@dataclass(frozen=True)
class Point:
    """Figures over the window ``(t - window_s, t]``: one point of the series."""

    t: float
    window_s: float
    users: int
    requests: int  # cumulative, for progress against max_requests
    failures: int
    rps: float
    fail_per_s: float
    error_rate: float | None
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None

    @property
    def window_requests(self) -> int:
        return round(self.rps * self.window_s)

    def to_json(self) -> dict:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def window(old: Snapshot, new: Snapshot, users: int) -> Point:
    """The point for the window between two snapshots."""
    span = max(new.t - old.t, 1e-9)
    requests = new.requests - old.requests
    failures = new.failures - old.failures
    delta = {k: n - old.histogram.get(k, 0) for k, n in new.histogram.items() if n - old.histogram.get(k, 0) > 0}
    count = sum(delta.values())
    return Point(
        t=new.t, window_s=span, users=users, requests=new.requests, failures=new.failures,
        rps=requests / span, fail_per_s=failures / span,
        error_rate=failures / requests if requests > 0 else None,
        p50_ms=percentile(delta, count, 0.50), p95_ms=percentile(delta, count, 0.95), p99_ms=percentile(delta, count, 0.99),
    )


class Windows:
    """Snapshots of the last ``window_s`` seconds; each new one yields the point over that window."""

    def __init__(self, window_s: float, first: Snapshot, tick_s: float = 1.0) -> None:
        self.window_s = window_s
        self._snaps: deque[Snapshot] = deque([first], maxlen=max(1, round(window_s / tick_s)) + 1)

    def add(self, snap: Snapshot, users: int) -> Point:
        """The point over the last ``window_s`` (fewer at the start); snapshots come every ``tick_s``."""
        self._snaps.append(snap)
        return window(self._snaps[0], snap, users)


@dataclass(frozen=True)
class Trip:
    """The stop condition held: ``metric`` beyond ``limit`` from ``since_s`` to ``at_s``."""

    metric: str  # "error_rate" or "p95_ms"
    value: float
    limit: float
    for_s: int
    since_s: float
    at_s: float

    def describe(self) -> str:
        if self.metric == "error_rate":
            what = f"error rate {self.value * 100:.1f} % > {self.limit * 100:g} %"
        else:
            what = f"p95 {self.value:.0f} ms > {self.limit:g} ms"
        return f"{what} for {self.at_s - self.since_s:.0f} s (from {self.since_s:.0f} s to {self.at_s:.0f} s)"

    def to_json(self) -> dict:
        return {**asdict(self), "message": self.describe()}


class StopWatch:
    """Trips once the error rate or p95 of every window stays beyond its limit for ``for_s`` seconds.

    A window within limits ends the streak; a window without any finished
    request is no evidence either way and leaves the streak as it is.
    """

    def __init__(self, error_rate: float | None, p95_ms: float | None, for_s: int) -> None:
        self.error_rate, self.p95_ms, self.for_s = error_rate, p95_ms, for_s
        self.since: float | None = None

    def breach(self, point: Point) -> tuple[str, float, float] | None:
        if self.error_rate is not None and point.error_rate is not None and point.error_rate > self.error_rate:
            return "error_rate", point.error_rate, self.error_rate
        if self.p95_ms is not None and point.p95_ms is not None and point.p95_ms > self.p95_ms:
            return "p95_ms", point.p95_ms, self.p95_ms
        return None

    def observe(self, point: Point) -> Trip | None:
        if point.error_rate is None:  # no request finished in this window
            return None
        breach = self.breach(point)
        if breach is None:
            self.since = None
            return None
        if self.since is None:
            self.since = max(point.t - point.window_s, 0.0)
        if point.t - self.since >= self.for_s - TICK_SLACK_S:
            metric, value, limit = breach
            return Trip(metric, value, limit, self.for_s, self.since, point.t)
        return None


def shares(total: int, workers: int) -> list[int]:
    """Split a request budget between workers: they never add up to more than ``total``."""
    workers = max(workers, 1)
    base, extra = divmod(total, workers)
    return [base + (1 if i < extra else 0) for i in range(workers)]


class Budget:
    """Requests this process may still start; :meth:`take` before each one."""

    def __init__(self, allowed: int | None) -> None:
        self.allowed = allowed  # None: not known yet (a worker before the master's share), nothing may start
        self.taken = 0

    def take(self) -> bool:
        if self.allowed is None or self.taken >= self.allowed:
            return False
        self.taken += 1
        return True

    @property
    def spent(self) -> bool:
        return self.allowed is not None and self.taken >= self.allowed
