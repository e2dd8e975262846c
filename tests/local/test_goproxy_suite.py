"""The GOPROXY conformance suite against the real local tier: green when healthy, red on each protocol fault."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import gauntlet.local as local
from gauntlet import paths

pytestmark = pytest.mark.local_stack


def goproxy_suite() -> dict:
    proc = subprocess.run([sys.executable, "-m", "gauntlet", "conformance", "local", "--suite", "goproxy", "-n", "2", "--json"],
                          capture_output=True, text=True, timeout=600, cwd=paths.ROOT)
    assert proc.stdout, proc.stderr[-2000:]
    return json.loads(proc.stdout)


def claim(out: dict, claim_id: str) -> dict:
    return next(c for c in out["claims"] if c["id"] == claim_id)


@pytest.mark.parametrize("stack", [()], indirect=True, ids=["healthy"])
def test_healthy_tier_verifies_the_protocol(stack):
    out = goproxy_suite()
    assert claim(out, "athens-protocol")["verdict"] == "verified", claim(out, "athens-protocol")["evidence"][:3]
    assert claim(out, "athens-no-git-hot-path")["verdict"] == "verified", claim(out, "athens-no-git-hot-path")["evidence"][:3]
    assert out["summary"]["violated"] == 0, [c["evidence"][:2] for c in out["claims"] if c["verdict"] == "violated"]


@pytest.mark.parametrize(("stack", "found"), [
    (("replica-500",), "500 text/html"),
    (("edge-strips-case-escapes",), "/github.com/!burnt!sushi/toml/@v/v1.3.2.zip: 404"),
    (("origin-404-as-403",), "403 text/plain"),
], indirect=["stack"], ids=["replica-500", "edge-strips-case-escapes", "origin-404-as-403"])
def test_protocol_fault_turns_the_claim_red(stack, found):
    fault = stack["faults"][0]
    assert "athens-protocol" in local.FAULTS[fault].breaks
    out = goproxy_suite()
    protocol = claim(out, "athens-protocol")
    assert protocol["verdict"] == "violated", f"{fault}: the suite did not catch it"
    evidence = "\n".join(protocol["evidence"])
    assert found in evidence and "expected" in evidence and "https://127.0.0.1:8443/" in evidence, evidence[:1500]
