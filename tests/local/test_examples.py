"""examples/acme-modules.yaml, a deployment that is none of the seeds, with claim ids of its own: the same checks
run for it, through the local stack's edge and on the local cluster."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from gauntlet import paths

EXAMPLES = paths.ROOT / "examples"


def conformance(suite: str) -> tuple[dict, subprocess.CompletedProcess]:
    proc = subprocess.run([sys.executable, "-m", "gauntlet", "conformance", "acme-modules", "--environments-dir",
                           str(EXAMPLES), "--suite", suite, "--json"], capture_output=True, text=True, timeout=900,
                          cwd=paths.ROOT)
    assert proc.stdout, proc.stderr[-3000:]
    return json.loads(proc.stdout), proc


def verdicts(out: dict) -> dict[str, str]:
    return {c["id"]: c["verdict"] for c in out["claims"]}


@pytest.mark.local_stack
def test_its_goproxy_claims_are_verified_through_the_local_edge(stack):
    out, proc = conformance("goproxy")
    found = verdicts(out)
    assert (found["modules-resolve-for-ci"], found["modules-fast-when-cached"]) == ("verified", "verified"), out["claims"]
    kinds = next(c for c in out["claims"] if c["id"] == "modules-resolve-for-ci")["coverage"]["kinds"]
    assert kinds["goproxy.list.canonical-versions"] == "passed", kinds
    assert proc.returncode == 0, proc.stderr[-2000:]


@pytest.mark.cluster
def test_its_kubernetes_claims_are_verified_on_the_local_cluster(cluster):
    out, proc = conformance("kubernetes")
    found = verdicts(out)
    assert (found["replicas-survive-a-drain"], found["replicas-health-checked"]) == ("verified", "verified"), \
        [(c["id"], c["evidence"][:3]) for c in out["claims"] if c["verdict"] != "verified"]
    assert proc.returncode == 0, proc.stderr[-2000:]
