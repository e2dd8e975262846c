"""Consistency: the edge and every replica serve the same bytes for the same request.

Rule: module versions are immutable (Go Modules Reference, "Module proxies": a proxy
must serve the same content for a version forever); replicas behind one ingress that
disagree break builds at random, depending on which one answers.
"""

from __future__ import annotations

import hashlib

import pytest


@pytest.mark.check("goproxy.consistency.same-bytes")
@pytest.mark.parametrize("kind", ["info", "mod", "zip"])
def test_every_endpoint_serves_the_same_bytes(goproxies, module, version, kind):
    """The edge and every origin and replica answer one request with the same status and bytes."""
    if len(goproxies) < 2:
        pytest.skip("fewer than two endpoints serve the protocol: nothing to compare")
    answers = {name: getattr(client, kind)(module, version) for name, client in goproxies.items()}
    digests = {name: (a.status, hashlib.sha256(a.body).hexdigest()[:16]) for name, a in answers.items()}
    assert len(set(digests.values())) == 1, (
        f"{module}@{version} .{kind}: expected the same answer from every endpoint, found (status, sha256) " +
        ", ".join(f"{name}={d}" for name, d in digests.items()))
