"""GOPROXY load: users that download modules the way ``go`` does, through the edge.

Each iteration is one ``go get MODULE@latest`` on an empty module cache:
``@v/list``, then ``.info``, ``.mod`` and ``.zip`` of one version, every path
case-encoded (``github.com/!burnt!sushi/toml``) and every answer checked as the
go command would (a version list, the version's JSON, a go.mod naming the
module, a zip). Modules come from the profile's module set: a Zipf-skewed warm
head plus a ``cold_ratio`` share drawn uniformly from the long tail.

    gauntlet load local --profile smoke                       # what the harness runs
    locust -f load/goproxy.py,load/shape.py --headless \\
        --gauntlet-env local --gauntlet-profile smoke         # the same, by hand
    locust -f load/goproxy.py --gauntlet-env local            # web UI on :8089, users/run time by hand

See load/README.md for workers on other machines and as a Kubernetes Job.
"""

from __future__ import annotations

import _guard  # noqa: F401  (the guard: options, bounds, stop condition, series)
from _http import BoundedHttpUser
from locust import task

from gauntlet.load.goproxy import ModulePicker, problem, urls


class GoproxyUser(BoundedHttpUser):
    """A go client on a cold module cache, downloading one module version per iteration."""

    kind = "goproxy"

    def on_start(self) -> None:
        self.picker = ModulePicker(self.params.modules, self.params.cold_ratio)

    @task
    def download(self) -> None:
        module, version = self.picker.pick()
        for step, path in urls(module, version).items():
            name = "/[module]/@v/list" if step == "list" else f"/[module]/@v/[version].{step}"
            self.fetch(path, name, lambda status, body, step=step: problem(step, module, version, status, body))
