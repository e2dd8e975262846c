"""The cloud conformance suite against the real cloud tier (moto on 127.0.0.1:5000): green when healthy,
and each cloud fault profile fails exactly its claim's checks, with the resource, field, expected and found."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import gauntlet.local as local
from gauntlet import paths
from gauntlet.catalogue import catalogue
from gauntlet.cloud.session import CALL_LOG_ENV, LOOPBACK_ONLY_ENV, READ_ONLY_PREFIXES
from gauntlet.environment import load_environment
from gauntlet.local import cloud_tier

pytestmark = pytest.mark.local_stack

#: fault -> (the checks it must fail, words each failure's message must hold)
FAILS = {
    "db-single-az": ({"test_rds.py::test_instance_is_multi_az[artifacthub-db]"},
                     ("RDS instance artifacthub-db", "MultiAZ", "expected true", "found False")),
    "cert-not-renewable": ({"test_acm.py::test_certificate_is_renewable_by_acm[cloudfront]",
                            "test_acm.py::test_certificate_is_renewable_by_acm[alb]"},
                           ("certificate arn:aws:acm:us-east-1:", "Type", "expected AMAZON_ISSUED", "found IMPORTED")),
    "waf-missing-rate-rule": ({"test_wafv2.py::test_web_acl_rate_limits[cloudfront]", "test_wafv2.py::test_web_acl_rate_limits[alb]"},
                              ("rate-limit", "Rules", "expected a RateBasedStatement rule that blocks", "found ['aws-common-rules")),
    "alb-one-az": ({"test_elbv2.py::test_alb_spans_two_availability_zones"},
                   ("ALB k8s-artifacthub-hub-local", "AvailabilityZones", "expected at least 2", "found 1 ['us-east-1a']")),
    "target-unhealthy": ({"test_elbv2.py::test_every_target_is_healthy"},
                         ("ALB k8s-artifacthub-hub-local", "TargetHealth.State", "expected healthy", "is unused (Target.InvalidState")),
}


@pytest.fixture(scope="module")
def cloud() -> Iterator[Callable[[tuple[str, ...]], dict]]:
    """Bring the cloud tier up with these fault profiles; afterwards, healthy again if it ran before, else stopped."""
    was_running = cloud_tier.running_pid() is not None
    yield lambda faults: cloud_tier.up(faults, progress=lambda _: None)
    if was_running:
        cloud_tier.up(progress=lambda _: None)
    else:
        cloud_tier.down()


def cloud_suite(tmp: Path) -> dict:
    """``gauntlet conformance local --suite cloud --json``, with every AWS call recorded; its output and checks."""
    calls = tmp / "calls.jsonl"
    calls.unlink(missing_ok=True)
    child = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    child.update({"GAUNTLET_REPORTS_DIR": str(tmp / "reports"), CALL_LOG_ENV: str(calls), LOOPBACK_ONLY_ENV: "1",
                  "AWS_CONFIG_FILE": str(tmp / "no-config"), "AWS_EC2_METADATA_DISABLED": "true"})
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "gauntlet", "conformance", "local", "--suite", "cloud", "--json"],
                          capture_output=True, text=True, timeout=300, cwd=paths.ROOT, env=child)
    assert proc.stdout, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    out = json.loads(proc.stdout)
    out["wall_s"] = time.monotonic() - started
    out["checks"] = json.loads((Path(out["report"]) / "results.json").read_text())["checks"]
    out["calls"] = [json.loads(line) for line in calls.read_text().splitlines()] if calls.is_file() else []
    return out


def claim(out: dict, claim_id: str) -> dict:
    return next(c for c in out["claims"] if c["id"] == claim_id)


def failed(out: dict) -> set[str]:
    return {c["id"].removeprefix("conformance/cloud/") for c in out["checks"] if c["outcome"] in ("failed", "error")}


def cloud_claims() -> list[str]:
    env = load_environment("local", paths.ROOT / "environments")
    return [c.id for c in env.claims if "conformance:cloud" in catalogue().sources(c.evidence)]


def test_every_cloud_profile_has_its_failures_here():
    assert set(FAILS) == {name for name, fault in local.FAULTS.items() if fault.tier == "cloud"}
    for name, (_checks, _) in FAILS.items():
        assert local.FAULTS[name].claims_in(load_environment("local", paths.ROOT / "environments")), name


def test_healthy_cloud_tier_verifies_every_cloud_claim(cloud, tmp_path):
    cloud(())
    out = cloud_suite(tmp_path)
    assert not failed(out), [c["message"] for c in out["checks"] if c["outcome"] in ("failed", "error")]
    for claim_id in cloud_claims():
        assert claim(out, claim_id)["verdict"] == "verified", claim(out, claim_id)["evidence"]
    assert out["summary"]["violated"] == 0 and out["exit_code"] == 0
    # what moto cannot model is not passed off as evidence: it is said, next to the verdict
    assert any("moto runs no health checks" in e for e in claim(out, "ah-alb-targets-healthy")["evidence"])
    assert any("RenewalEligibility" in e for e in claim(out, "ah-certs-auto-renew")["evidence"])
    assert out["calls"] and all(c["operation"].startswith(READ_ONLY_PREFIXES) for c in out["calls"]), \
        sorted({c["operation"] for c in out["calls"]})
    print(f"\ncloud suite on the healthy cloud tier: {out['wall_s']:.1f} s wall, {len(out['checks'])} checks, "
          f"{len(out['calls'])} AWS calls")


@pytest.mark.parametrize("fault", sorted(FAILS))
def test_cloud_fault_fails_exactly_its_checks(cloud, tmp_path, fault):
    status = cloud((fault,))
    assert status["faults"] == [fault]
    out = cloud_suite(tmp_path)
    checks, words = FAILS[fault]
    assert failed(out) == checks, [c["message"] for c in out["checks"] if c["outcome"] in ("failed", "error")]
    violated = {c["id"] for c in out["claims"] if c["verdict"] == "violated"}
    assert violated == local.FAULTS[fault].claims_in(load_environment("local", paths.ROOT / "environments"))
    for check in out["checks"]:
        if check["id"].removeprefix("conformance/cloud/") in checks:
            assert all(w in check["message"] for w in words), check["message"]
    assert all(c["operation"].startswith(READ_ONLY_PREFIXES) for c in out["calls"])
