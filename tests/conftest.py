"""Fixtures for the harness's own tests."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Callable

import pytest
import yaml

MINIMAL_ENV = {
    "name": "sample",
    "description": "a sample target on loopback",
    "target": "athens",
    "endpoints": [{"name": "edge", "url": "http://127.0.0.1:9", "role": "edge"}],
    "load_profiles": {
        "smoke": {"user": "goproxy", "endpoint": "edge", "users": 2, "duration_s": 10, "max_requests": 100,
                  "slos": [{"claim": "sample-fast", "metric": "p95_ms", "max": 500}]},
    },
    "claims": [
        {"id": "sample-protocol", "statement": "serves the protocol", "gates": True, "evidence": ["conformance:goproxy"],
         "source": {"seed": "000_b68d99118d70d8c0.txt", "quote": "Athens can run anywhere"}},
        {"id": "sample-fast", "statement": "answers fast", "gates": True, "evidence": ["load:smoke"],
         "source": {"seed": "000_b68d99118d70d8c0.txt", "quote": "mostly run itself"}},
        {"id": "sample-risk", "statement": "is production ready", "known_risk": True,
         "source": {"seed": "000_b68d99118d70d8c0.txt", "quote": "production ready"}},
    ],
}


@pytest.fixture
def env_data() -> dict:
    """A minimal valid environment, as the YAML file's data; tests change a copy."""
    return copy.deepcopy(MINIMAL_ENV)


@pytest.fixture
def env_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty environments folder that gauntlet uses, and a reports folder beside it."""
    folder = tmp_path / "environments"
    folder.mkdir()
    monkeypatch.setenv("GAUNTLET_ENVIRONMENTS_DIR", str(folder))
    monkeypatch.setenv("GAUNTLET_REPORTS_DIR", str(tmp_path / "reports"))
    return folder


@pytest.fixture
def write_env(env_dir: Path) -> Callable[[dict], Path]:
    """Write an environment's data as ``<name>.yaml`` into the environments folder."""

    def write(data: dict, name: str | None = None) -> Path:
        path = env_dir / f"{name or data.get('name', 'sample')}.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        return path

    return write


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Fast unit tests first; tests that need the local stack after them."""
    items.sort(key=lambda item: any(item.get_closest_marker(m) for m in ("local_stack", "cluster")))
