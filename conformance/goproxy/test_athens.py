"""Athens' operational endpoints, which the load balancer's health checks rely on.

Rules: gomods/athens `cmd/proxy/actions`: `/healthz` answers 200 while the process
serves, `/readyz` 200 when its storage answers, `/version` JSON build information.
"""

from __future__ import annotations

import json

import pytest


@pytest.fixture
def athens(target):
    """An Athens replica endpoint: the checks of this file run where a claim names their kinds (athens.*)."""
    if target.role != "replica":
        pytest.skip(f"{target.name} is not an Athens replica (role {target.role}): its health endpoints are not exposed")
    return target


@pytest.mark.check("athens.health.ok")
@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_health_endpoints_answer_200(athens, goproxy, path):
    """`/healthz` and `/readyz` answer 200 while the replica serves and its storage answers."""
    answer = goproxy.get(path)
    assert answer.status == 200, f"{answer.describe()}: expected 200, so the load balancer keeps this replica in the pool"


@pytest.mark.check("athens.version.json")
def test_version_endpoint_is_json(athens, goproxy):
    """`/version` answers Athens' build information as JSON."""
    answer = goproxy.get("/version")
    assert answer.status == 200, f"{answer.describe()}: expected 200 with Athens' build information"
    try:
        json.loads(answer.body)
    except ValueError:
        pytest.fail(f"{answer.describe()}: expected JSON build information")
