"""What the GOPROXY load user asks for and what counts as a good answer. Pure Python.

A user behaves like ``go get MODULE@latest`` on an empty module cache:
``@v/list``, then ``.info``, ``.mod`` and ``.zip`` of one version. Which module:
real proxy traffic is heavily skewed (a few modules are most of the
downloads), so a warm pick follows a Zipf popularity over the module set's
order (most popular first); a ``cold_ratio`` share of picks is uniform over
the whole set, reaching the long tail that an edge cache has not seen yet.
"""

from __future__ import annotations

import itertools
import json
import random
from collections.abc import Sequence

from gauntlet.goproxy.module import escape, is_valid_semver

ZIPF_S = 1.1


class ModulePicker:
    """Picks (module, version) pairs: Zipf-skewed warm head, uniform cold tail."""

    def __init__(self, modules: Sequence[tuple[str, str]], cold_ratio: float, rng: random.Random | None = None) -> None:
        if not modules:
            raise ValueError("empty module set")
        self.modules = list(modules)
        self.cold_ratio = cold_ratio
        self.rng = rng or random.Random()
        self._cum = list(itertools.accumulate(1.0 / (rank ** ZIPF_S) for rank in range(1, len(self.modules) + 1)))

    def pick(self) -> tuple[str, str]:
        if self.rng.random() < self.cold_ratio:
            return self.rng.choice(self.modules)
        return self.rng.choices(self.modules, cum_weights=self._cum, k=1)[0]


def urls(module: str, version: str) -> dict[str, str]:
    """The four protocol paths of one download, case-encoded (``!`` escapes) as the go command sends them."""
    base = f"/{escape(module)}/@v/"
    ver = escape(version)
    return {"list": base + "list", "info": f"{base}{ver}.info", "mod": f"{base}{ver}.mod", "zip": f"{base}{ver}.zip"}


def problem(step: str, module: str, version: str, status: int, body: bytes) -> str | None:
    """Why an answer would break ``go mod download``, or None when it is good."""
    if status != 200:
        return f"HTTP {status}"
    if step == "list":
        try:
            lines = body.decode("utf-8").split()
        except UnicodeDecodeError:
            return "list is not UTF-8 text"
        bad = [v for v in lines if not is_valid_semver(v)]
        return f"list holds a non-version line {bad[0]!r}" if bad else None
    if step == "info":
        try:
            info = json.loads(body)
        except ValueError:
            return "info is not JSON"
        if not isinstance(info, dict) or info.get("Version") != version:
            return f"info names version {info.get('Version') if isinstance(info, dict) else None!r}, expected {version!r}"
        return None
    if step == "mod":
        for line in body.decode("utf-8", errors="replace").splitlines():
            words = line.split("//", 1)[0].split()
            if len(words) == 2 and words[0] == "module":
                named = words[1].strip('"`')
                return None if named == module else f"go.mod names module {named!r}, expected {module!r}"
        return "go.mod has no module directive"
    if step == "zip":
        return None if body[:4] in (b"PK\x03\x04", b"PK\x05\x06") else "zip does not start with a zip header"
    raise ValueError(f"unknown step {step!r}")
