"""The four load shapes as stage plans: users over time, ending at the profile's duration.

``load/shape.py`` turns a plan into Locust's ``LoadTestShape.tick()``; the plan
itself is plain data so it is tested here without Locust.

- steady: ramp up at ``spawn_rate`` to ``users``, hold until the end.
- step: ``steps`` equal plateaus, the k-th at ``ceil(users * k / steps)`` users.
- spike: a tenth of the users (at least 1) for 40 % of the run, all of them for
  the middle 20 % (reached as fast as ``spawn_rate`` allows), the baseline again
  for the last 40 %: does the target recover?
- soak: a gentle ramp over the first tenth of the run (never faster than
  ``spawn_rate``), then ``users`` held for a long time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

SHAPES = ("steady", "step", "spike", "soak")


@dataclass(frozen=True)
class Stage:
    """Until ``until_s`` seconds into the run: ``users`` users, started/stopped at ``spawn_rate`` per second."""

    until_s: float
    users: int
    spawn_rate: float


def plan(shape: str, users: int, spawn_rate: float, duration_s: float, steps: int = 1) -> tuple[Stage, ...]:
    if shape not in SHAPES:
        raise ValueError(f"unknown shape {shape!r}: expected one of {', '.join(SHAPES)}")
    if shape == "steady":
        return (Stage(duration_s, users, spawn_rate),)
    if shape == "step":
        steps = max(1, min(steps, users))
        return tuple(Stage(duration_s * k / steps, math.ceil(users * k / steps), spawn_rate) for k in range(1, steps + 1))
    if shape == "spike":
        base = max(1, users // 10)
        return (Stage(duration_s * 0.4, base, spawn_rate),
                Stage(duration_s * 0.6, users, spawn_rate),
                Stage(duration_s, base, float(max(users, spawn_rate))))
    gentle = min(spawn_rate, max(users / max(duration_s * 0.1, 1.0), 0.1))
    return (Stage(duration_s, users, gentle),)


def target_at(stages: tuple[Stage, ...], t: float) -> tuple[int, float] | None:
    """(users, spawn_rate) at ``t`` seconds, or None once the plan is over (the run ends)."""
    for stage in stages:
        if t < stage.until_s:
            return stage.users, stage.spawn_rate
    return None
