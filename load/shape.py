"""The profile's load shape for Locust: steady, step, spike or soak, ending at ``duration_s``.

Add it to the locustfile list to run a profile's shape instead of the
``--users``/``--spawn-rate``/``--run-time`` of the command line or web UI:

    locust -f load/goproxy.py,load/shape.py --headless --gauntlet-env local --gauntlet-profile smoke

One ``LoadTestShape`` plays the four shapes (their stage plans are in
``gauntlet.load.shapes``): Locust picks the first shape class of its
locustfiles, so one class that reads the profile keeps the choice in the
environment file rather than in which file is listed.
"""

from __future__ import annotations

import _guard
from locust import LoadTestShape

from gauntlet.load.shapes import Stage, plan, target_at


class ProfileShape(LoadTestShape):
    """Users over time as the profile's ``shape`` says; None (the end) at ``duration_s``."""

    stages: tuple[Stage, ...] | None = None

    def tick(self) -> tuple[int, float] | None:
        if self.stages is None:
            p = _guard.params(self.runner.environment)
            self.stages = plan(p.shape, p.users, p.spawn_rate, p.duration_s, p.steps)
        return target_at(self.stages, self.get_run_time())
