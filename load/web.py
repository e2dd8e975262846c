"""Web-tier load (castle's ``www``): users browsing the profile's pages.

Each iteration requests one of the profile's ``paths`` (default ``/``); any
2xx, after redirects, is a success. Capacity claims (castle: "at least 50 rps"
at the HPA minimum) are SLOs on the achieved rps of this user.

    gauntlet load castle --profile capacity
    locust -f load/web.py --gauntlet-env castle --gauntlet-profile capacity   # web UI
"""

from __future__ import annotations

import random

import _guard  # noqa: F401  (the guard: options, bounds, stop condition, series)
from _http import BoundedHttpUser
from locust import task


def _ok(status: int, body: bytes) -> str | None:
    return None if 200 <= status < 300 else f"HTTP {status}"


class WebUser(BoundedHttpUser):
    """A browser on the www tier: one page per iteration, think time in between."""

    kind = "web"

    @task
    def page(self) -> None:
        path = random.choice(self.params.paths)
        self.fetch(path, path, _ok)
