"""The guard every gauntlet locustfile imports: parameters, bounds, stop condition, series.

Imported only inside a Locust process (Locust has already monkey-patched it
with gevent). It adds three Locust options, also settable as environment
variables, which is how the same files serve ``gauntlet load`` and plain
``locust`` with its web UI:

    --gauntlet-env ENV          GAUNTLET_ENV       environment name (default: local)
    --gauntlet-profile NAME     GAUNTLET_PROFILE   load profile (default: the env's first for this user)
    --gauntlet-out DIR          GAUNTLET_LOAD_OUT  where series.jsonl and outcome.json go (master/local only)

On the master (or the single local process) the guard, once a second:

- snapshots Locust's totals and appends a point (users, rps, error rate and
  p50/p95/p99 over the last window) to ``series.jsonl``;
- feeds the point to the stop condition; when the error rate or p95 stays
  beyond the profile's limit for ``stop.for_s`` seconds it ends the run and
  records the trip in ``outcome.json``;
- ends the run when ``max_requests`` finished, and at ``duration_s`` whatever
  the shape or ``--run-time`` say.

Requests are bounded before they are sent: every user takes one unit of the
request budget per request (``take``). A single process owns the whole budget;
in distributed mode the master splits it between the workers it starts with
(``gauntlet:share``), a worker whose share is spent stops its users and says
so (``gauntlet:spent``), and the run ends when every worker has.
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import Any

import gevent
from locust import events
from locust.env import Environment as LocustEnvironment
from locust.runners import MasterRunner, WorkerRunner

from gauntlet.environment import UserKind, load_environment
from gauntlet.load.params import LoadParams, default_profile, resolve
from gauntlet.load.watch import Budget, Point, Snapshot, StopWatch, Trip, Windows, shares
from gauntlet.redact import redact_data

log = logging.getLogger("gauntlet.guard")

BUDGET = Budget(None)
_PARAMS: dict[tuple, LoadParams] = {}
_SHARE_WAIT_S = 5.0
DISTRIBUTED_WINDOW_S = 3.0  # workers report every 3 s (locust.runners.WORKER_REPORT_INTERVAL)


@events.init_command_line_parser.add_listener
def _options(parser: Any) -> None:
    parser.add_argument("--gauntlet-env", env_var="GAUNTLET_ENV", default="local",
                       help="Environment name (environments/NAME.yaml, or GAUNTLET_ENVIRONMENTS_DIR).")
    parser.add_argument("--gauntlet-profile", env_var="GAUNTLET_PROFILE", default="",
                       help="Load profile of the environment; default: its first profile for this user.")
    parser.add_argument("--gauntlet-out", env_var="GAUNTLET_LOAD_OUT", default="", include_in_web_ui=False,
                       help="Folder for series.jsonl and outcome.json (written by the master or the single process).")


def _kind(environment: LocustEnvironment) -> UserKind | None:
    kinds = [getattr(u, "kind", None) for u in environment.user_classes or ()]
    return next((k for k in kinds if k), None)


def params(environment: LocustEnvironment, kind: UserKind | None = None) -> LoadParams:
    """The load parameters named by this process's options (cached per environment and profile)."""
    opts = environment.parsed_options
    env_name = getattr(opts, "gauntlet_env", None) or os.environ.get("GAUNTLET_ENV") or "local"
    profile = getattr(opts, "gauntlet_profile", None) or os.environ.get("GAUNTLET_PROFILE") or ""
    kind = kind or _kind(environment)
    key = (env_name, profile, kind, os.environ.get("GAUNTLET_ENVIRONMENTS_DIR"))
    if key not in _PARAMS:
        env = load_environment(env_name)
        _PARAMS[key] = resolve(env, profile or default_profile(env, kind or "goproxy"))
    return _PARAMS[key]


def take(environment: LocustEnvironment) -> bool:
    """One request's worth of budget; False once it is spent (the caller stops its user)."""
    if BUDGET.allowed is None and isinstance(environment.runner, WorkerRunner):
        deadline = time.monotonic() + _SHARE_WAIT_S
        while BUDGET.allowed is None and time.monotonic() < deadline:
            gevent.sleep(0.05)
        if BUDGET.allowed is None:
            log.error("no request budget from the master within %.0f s: this worker sends nothing", _SHARE_WAIT_S)
    if BUDGET.take():
        return True
    _spent(environment)
    return False


_tally = {"completed": 0, "said_spent": False}
DRAIN_S = 12.0  # longer than a user's network timeout: every request sent has an answer or an error by then


def reset_budget(allowed: int | None) -> None:
    """A new test (also a restart from the web UI): a fresh budget of ``allowed`` requests."""
    global BUDGET
    BUDGET = Budget(allowed)
    _tally.update(completed=0, said_spent=False)


@events.request.add_listener
def _count(**_: Any) -> None:
    _tally["completed"] += 1


def _spent(environment: LocustEnvironment) -> None:
    """The budget is spent: once the requests still in flight have finished (so Locust's figures
    hold every request sent), end the run, or as a worker tell the master."""
    if _tally["said_spent"]:
        return
    _tally["said_spent"] = True
    gevent.spawn(_after_drain, environment)


def _after_drain(environment: LocustEnvironment) -> None:
    deadline = time.monotonic() + DRAIN_S
    while _tally["completed"] < BUDGET.taken and time.monotonic() < deadline:
        gevent.sleep(0.02)
    runner = environment.runner
    if isinstance(runner, WorkerRunner):
        log.info("request share of this worker spent (%s requests)", BUDGET.taken)
        runner.send_message("gauntlet:spent", {"taken": BUDGET.taken})
    elif GUARD is not None:
        GUARD.end("max_requests")


class Guard:
    """Bounds, stop condition and series of one run, on the master or the single process."""

    def __init__(self, environment: LocustEnvironment, p: LoadParams, out: Path | None) -> None:
        self.environment = environment
        self.p = p
        self.out = out
        self.master = isinstance(environment.runner, MasterRunner)
        self.window_s = DISTRIBUTED_WINDOW_S if self.master else 1.0
        self.stopwatch = StopWatch(p.stop.error_rate, p.stop.p95_ms, p.stop.for_s)
        self.t0: float | None = None
        self.outcome: dict | None = None
        self.shared_with: set[str] = set()
        self.spent_by: set[str] = set()
        self.greenlets: list[gevent.Greenlet] = []
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            (out / "series.jsonl").write_text("")

    # --- events -------------------------------------------------------------

    def on_test_start(self, **_: Any) -> None:
        if self.t0 is not None and self.outcome is None:
            return  # this test is already guarded
        for greenlet in self.greenlets:  # a restart from the web UI: a fresh guard
            greenlet.kill(block=False)
        self.t0, self.outcome = time.monotonic(), None
        self.stopwatch = StopWatch(self.p.stop.error_rate, self.p.stop.p95_ms, self.p.stop.for_s)
        self.shared_with, self.spent_by = set(), set()
        if self.out is not None:
            (self.out / "series.jsonl").write_text("")
        runner = self.environment.runner
        if self.master:
            workers = sorted(runner.clients.ready + runner.clients.spawning + runner.clients.running, key=lambda w: w.id)
            for worker, share in zip(workers, shares(self.p.max_requests, len(workers)), strict=True):
                runner.send_message("gauntlet:share", {"allowed": share}, client_id=worker.id)
                self.shared_with.add(worker.id)
            log.info("request budget %s split between %s workers", self.p.max_requests, len(workers))
        else:
            reset_budget(self.p.max_requests)
        self.greenlets = [gevent.spawn(self._watch), gevent.spawn_later(self.p.duration_s, self.end, "duration")]
        log.info("guard: %s/%s on %s, %s s and %s requests at most, stop condition %s",
                 self.p.environment, self.p.profile, self.p.host, self.p.duration_s, self.p.max_requests, self.p.stop)

    def on_spent(self, environment: LocustEnvironment, msg: Any, **_: Any) -> None:
        self.spent_by.add(msg.node_id)
        if self.shared_with and self.shared_with <= self.spent_by:
            self.end("max_requests")

    def on_quitting(self, **_: Any) -> None:
        """Locust is shutting down: the final point and the outcome, however the run ended."""
        for greenlet in self.greenlets:
            greenlet.kill(block=False)
        if self.t0 is None:
            return
        if self.outcome is None:
            elapsed = self._elapsed()
            self.outcome = {"ended_by": "duration" if elapsed >= self.p.duration_s - 1.5 else "stopped",
                            "elapsed_s": round(elapsed, 2), "stop": None}
        stats = self.environment.runner.stats
        self._write("outcome.json", json.dumps(redact_data({**self.outcome, "requests": stats.total.num_requests,
                                                "final": final_figures(stats), "failures": final_failures(stats),
                                                "exceptions": [{"count": e["count"], "message": e["msg"]} for e in
                                                               self.environment.runner.exceptions.values()],
                                                "params": self.p.to_json()}), indent=2))

    # --- the watch ----------------------------------------------------------

    def _elapsed(self) -> float:
        return time.monotonic() - (self.t0 or time.monotonic())

    def _snapshot(self) -> Snapshot:
        total = self.environment.runner.stats.total
        return Snapshot(self._elapsed(), total.num_requests, total.num_failures, dict(total.response_times))

    def _watch(self) -> None:
        windows = Windows(self.window_s, self._snapshot())
        tick = 1
        while self.outcome is None:
            gevent.sleep(max(0.0, tick - self._elapsed()))
            tick += 1
            snap = self._snapshot()
            point = windows.add(snap, self.environment.runner.user_count)
            self._append(point)
            trip = self.stopwatch.observe(point)
            if trip is not None:
                self.end("stop_condition", trip)
            elif snap.requests >= self.p.max_requests:
                self.end("max_requests")

    def end(self, reason: str, trip: Trip | None = None) -> None:
        """End the run now (the first reason wins); Locust then writes its CSV and HTML report."""
        if self.outcome is not None:
            return
        self.outcome = {"ended_by": reason, "elapsed_s": round(self._elapsed(), 2), "stop": trip.to_json() if trip else None}
        if trip is not None:
            log.warning("stop condition: %s: ending the run", trip.describe())
        else:
            log.info("%s reached after %.1f s: ending the run", reason, self._elapsed())
        runner = self.environment.runner
        opts = self.environment.parsed_options
        headless = opts is None or getattr(opts, "headless", True)
        gevent.spawn(runner.quit if headless else runner.stop)

    def _append(self, point: Point) -> None:
        if self.out is not None:
            with open(self.out / "series.jsonl", "a", encoding="utf-8") as handle:
                handle.write(json.dumps(point.to_json()) + "\n")

    def _write(self, name: str, text: str) -> None:
        if self.out is not None:
            tmp = self.out / f".{name}.tmp"
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, self.out / name)


def final_figures(stats: Any) -> dict:
    """The run's aggregated figures as Locust holds them at the end. Locust's own CSV is rewritten
    once a second and not at shutdown, so it can miss the last second; these are complete."""
    total = stats.total
    some = total.num_requests > 0
    percentile = (lambda q: float(total.get_response_time_percentile(q))) if some else (lambda q: None)
    return {"requests": total.num_requests, "failures": total.num_failures, "rps": total.total_rps,
            "p50_ms": percentile(0.5), "p95_ms": percentile(0.95), "p99_ms": percentile(0.99),
            "avg_ms": total.avg_response_time if some else None, "max_ms": total.max_response_time if some else None}


def final_failures(stats: Any, limit: int = 5) -> list[dict]:
    errors = sorted(stats.errors.values(), key=lambda e: -e.occurrences)[:limit]
    return [{"method": e.method, "name": e.name, "error": _error_text(e), "occurrences": e.occurrences} for e in errors]


def _error_text(error: Any) -> str:
    text = error.error if isinstance(error.error, str) else repr(error.error)
    for wrapper in ("CatchResponseError(", "HTTPError("):
        if text.startswith(wrapper) and text.endswith(")"):
            text = text[len(wrapper):-1].strip("'\"")
    return text


GUARD: Guard | None = None


def _on_share(environment: LocustEnvironment, msg: Any, **_: Any) -> None:
    reset_budget(int(msg.data["allowed"]))
    log.info("request share of this worker: %s", BUDGET.allowed)


@events.init.add_listener
def _init(environment: LocustEnvironment, runner: Any = None, **_: Any) -> None:
    global GUARD
    runner = runner or environment.runner
    if isinstance(runner, WorkerRunner):
        runner.register_message("gauntlet:share", _on_share)
        return
    p = params(environment)
    out_option = getattr(environment.parsed_options, "gauntlet_out", "") or os.environ.get("GAUNTLET_LOAD_OUT", "")
    GUARD = Guard(environment, p, Path(out_option) if out_option else None)
    environment.events.test_start.add_listener(GUARD.on_test_start)
    environment.events.quitting.add_listener(GUARD.on_quitting)
    if isinstance(runner, MasterRunner):
        runner.register_message("gauntlet:spent", GUARD.on_spent)
