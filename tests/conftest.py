"""Fixtures for the harness's own tests."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

MINIMAL_ENV = {
    "name": "sample",
    "description": "a sample target on loopback",
    "endpoints": [{"name": "edge", "url": "http://127.0.0.1:9", "role": "edge"}],
    "load_profiles": {
        "smoke": {"user": "goproxy", "endpoint": "edge", "users": 2, "duration_s": 10, "max_requests": 100,
                  "slos": [{"metric": "p95_ms", "max": 500}]},
    },
    "claims": [
        {"id": "sample-protocol", "statement": "serves the protocol", "gates": True, "evidence": ["goproxy.*"],
         "source": {"document": "000_b68d99118d70d8c0.txt", "quote": "Athens can run anywhere"}},
        {"id": "sample-fast", "statement": "answers fast", "gates": True, "evidence": ["load.p95@smoke"],
         "source": {"document": "000_b68d99118d70d8c0.txt", "quote": "mostly run itself"}},
        {"id": "sample-risk", "statement": "is production ready", "known_risk": True,
         "source": {"document": "000_b68d99118d70d8c0.txt", "quote": "production ready"}},
    ],
}


@pytest.fixture
def env_data() -> dict:
    """A minimal valid environment, as the YAML file's data; tests change a copy."""
    return copy.deepcopy(MINIMAL_ENV)


@pytest.fixture(scope="session")
def shipped_claim() -> Callable[..., dict]:
    """A claim as the shipped environment files make it (where it first appears), keeping only the evidence
    held by ``sources`` (``conformance:edge``, ``load``...), for test environments on loopback: ``shipped_claim(
    "athens-edge-tls", "conformance:edge", gates=False)``."""
    from gauntlet import paths
    from gauntlet.catalogue import catalogue

    claims: dict[str, dict] = {}
    for file in sorted((paths.ROOT / "environments").glob("*.yaml")):
        for data in yaml.safe_load(file.read_text())["claims"]:
            claims.setdefault(data["id"], data)

    def make(claim_id: str, *sources: str, **overrides: object) -> dict:
        data = copy.deepcopy(claims[claim_id])
        kinds = {p: catalogue().matching(p) for p in data.get("evidence", ())}
        data["evidence"] = [p for p, found in kinds.items() if found and all(k.source in sources or k.evidence in sources
                                                                              for k in found)]
        data["required"] = [p for p in data.get("required", ()) if p in data["evidence"]]
        if not any(k.per_workload for p in data["evidence"] for k in kinds[p]):
            data.pop("workloads", None)
        return {**data, **overrides}

    return make


@pytest.fixture
def local_env_data() -> dict:
    """environments/local.yaml as data to change and write elsewhere: its paths resolved as they are from
    environments/ (a copy in another folder keeps pointing at the same files)."""
    from gauntlet import paths
    from gauntlet.environment import load_environment

    return load_environment("local", paths.ROOT / "environments").model_dump(mode="json", exclude_unset=True)


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
