"""The environment's load profile beside an experiment: Locust in its own process, on the experiment's timeline.

:func:`gauntlet.load.runner.run_profile` runs in a thread of this process (Locust itself in its
own process group, bounded by the profile's duration and requests); the profile's SLO checks
are kept here, and the experiment's record judges them: on the whole run, or, for a profile
that is evidence only during this experiment (``during:``), on the fault window. Its per-second
points (``series.jsonl``) count from Locust's own start; the wall clock time of that start
is estimated as the smallest delay seen between a point and the moment it was read (the file
is polled several times a second), so its errors and latency land on the chaos timeline,
attributed to before / during / after the fault window.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from gauntlet.environment import Environment
from gauntlet.ledger import CheckResult
from gauntlet.run_folder import Run

Progress = Callable[[str], None]


@dataclass
class LoadBeside:
    """The load profile running beside the experiment, in its own thread (Locust in its own process)."""

    env: Environment
    run: Run
    profile: str
    experiment: str
    thread: threading.Thread | None = None
    error: BaseException | None = None
    anchor: float | None = None  # wall-clock time of Locust's t = 0
    results: list[CheckResult] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)

    def start(self, progress: Progress) -> None:
        from gauntlet.load.runner import run_profile

        def body() -> None:
            try:
                self.results = run_profile(self.env, self.run, self.profile, progress=progress, beside=self.experiment,
                                           stop=self.stopping)
            except BaseException as exc:  # reported with the chaos check
                self.error = exc

        self.thread = threading.Thread(target=body, name="gauntlet-chaos-load", daemon=True)
        self.thread.start()

    @property
    def series_path(self) -> Path:
        from gauntlet.load.runner import out_dir

        return out_dir(self.run, self.profile) / "series.jsonl"

    def points(self) -> list[dict]:
        from gauntlet.load.figures import read_series

        points = read_series(self.series_path)
        if points:  # the smallest delay between a point's time and when it is seen is the best anchor
            seen = time.time() - points[-1]["t"]
            self.anchor = seen if self.anchor is None else min(self.anchor, seen)
        return points

    def wall_points(self) -> list[dict]:
        points = self.points()
        if self.anchor is None:
            return []
        return [{"t": self.anchor + p["t"], "requests": round(p["rps"] * p["window_s"]),
                 "failures": round(p["fail_per_s"] * p["window_s"]), "p95_ms": p.get("p95_ms"),
                 "error_rate": p.get("error_rate")} for p in points]

    def stop(self) -> None:
        """End the load now (its Locust processes stopped, its checks recorded): the run was interrupted."""
        self.stopping.set()

    def join(self, timeout: float) -> None:
        if self.thread is not None:
            self.thread.join(timeout=timeout)


def join_ignoring_interrupts(loader: LoadBeside, progress: Progress) -> None:
    from gauntlet.load.runner import GRACE_S, STARTUP_S

    profile = loader.env.load_profile(loader.profile)
    deadline = time.monotonic() + STARTUP_S + profile.duration_s + GRACE_S
    while loader.thread is not None and loader.thread.is_alive() and time.monotonic() < deadline:
        try:
            loader.join(timeout=1.0)
        except KeyboardInterrupt:
            progress(f"the load run ends by itself within its duration ({profile.duration_s} s)")


