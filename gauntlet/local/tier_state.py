"""A tier's state file (``run/state.json`` in its folder): what it was started with, its fault profiles first.

It is written once the tier is up and removed when it goes down, so a tier that finds its own state with the
wanted fault profiles may be reused, and any other is restarted.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def read(path: Path) -> dict[str, Any] | None:
    """The state :func:`write` left; None when there is none (the tier was stopped) or it cannot be read."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write(path: Path, state: dict[str, Any]) -> None:
    path.write_text(json.dumps(state, indent=2))
