"""Where gauntlet keeps its files: checkout, environments, reports, cache."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def environments_dir() -> Path:
    """The folder of environment files: ``$GAUNTLET_ENVIRONMENTS_DIR`` or ``environments/``."""
    return Path(os.environ.get("GAUNTLET_ENVIRONMENTS_DIR") or ROOT / "environments")


def reports_dir() -> Path:
    """Where run folders go: ``$GAUNTLET_REPORTS_DIR`` or ``reports/``."""
    return Path(os.environ.get("GAUNTLET_REPORTS_DIR") or ROOT / "reports")


def cache_dir() -> Path:
    """Built binaries, module corpus, local CA: ``$GAUNTLET_CACHE_DIR`` or ``~/.cache/gauntlet``."""
    return Path(os.environ.get("GAUNTLET_CACHE_DIR") or Path.home() / ".cache" / "gauntlet")


def state_dir() -> Path:
    """Runtime state of the local stack (pid files, logs, rendered configs)."""
    return cache_dir() / "state"


def expand(path: str) -> Path:
    """A path from an environment file: ``{cache}``, ``~`` and ``$VARS`` expanded."""
    return Path(os.path.expandvars(os.path.expanduser(path.replace("{cache}", str(cache_dir())))))
