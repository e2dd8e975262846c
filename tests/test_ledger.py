"""The verdict rules: violated beats verified beats not-checked; all-skipped is never verified."""

from __future__ import annotations

import datetime as dt

import pytest

from gauntlet.environment import load_environment
from gauntlet.ledger import CheckResult, Verdict, gate_exit_code, judge, unexpected_violation

TODAY = dt.date(2026, 11, 23)


def result(outcome: str, claims=("sample-protocol",), message: str = "", name: str = "check") -> CheckResult:
    return CheckResult(id=f"conformance/goproxy/test_x.py::{name}", kind="conformance", claims=tuple(claims), outcome=outcome, message=message)


@pytest.fixture
def env(write_env, env_data):
    env_data["waivers"] = [
        {"claim": "sample-fast", "reason": "capacity work in progress", "owner": "sre", "expires": "2026-12-31"},
        {"claim": "sample-protocol", "reason": "old", "owner": "sre", "expires": "2026-01-01"},
    ]
    write_env(env_data)
    return load_environment("sample")


def verdict_of(env, results, claim="sample-protocol", **kwargs):
    return next(v for v in judge(env, results, today=TODAY, **kwargs) if v.claim.id == claim)


def test_passed_check_verifies(env):
    v = verdict_of(env, [result("passed")])
    assert v.verdict is Verdict.VERIFIED
    assert v.evidence == ("conformance/goproxy/test_x.py::check: passed",)


def test_failed_check_violates_with_its_observation(env):
    v = verdict_of(env, [result("passed", name="a"), result("failed", message="GET /x/@v/list: expected 200, got 503", name="b")])
    assert v.verdict is Verdict.VIOLATED
    assert v.evidence == ("conformance/goproxy/test_x.py::b: GET /x/@v/list: expected 200, got 503",)


def test_error_in_setup_violates(env):
    assert verdict_of(env, [result("error", message="connection refused")]).verdict is Verdict.VIOLATED


def test_all_skipped_is_not_checked_never_verified(env):
    v = verdict_of(env, [result("skipped", message="no go binary on PATH", name="a"), result("skipped", message="no cluster", name="b")])
    assert v.verdict is Verdict.NOT_CHECKED
    assert any("no go binary on PATH" in e for e in v.evidence)


def test_partly_skipped_with_a_pass_is_verified_and_says_what_was_skipped(env):
    v = verdict_of(env, [result("passed", name="a"), result("skipped", message="no go binary", name="b")])
    assert v.verdict is Verdict.VERIFIED
    assert "conformance/goproxy/test_x.py::b: skipped (no go binary)" in v.evidence


def test_no_result_says_why(env):
    assert verdict_of(env, []).evidence == ("its evidence (conformance:goproxy) was not run in this run",)
    assert verdict_of(env, [], ran=["conformance:goproxy"]).evidence == ("no check in conformance:goproxy is evidence for this claim yet",)
    fast = verdict_of(env, [], claim="sample-fast", unavailable={"load:smoke": "load runs are not built yet"})
    assert fast.evidence == ("load:smoke: load runs are not built yet",)
    assert verdict_of(env, [], claim="sample-risk").evidence == ("no check provides evidence for this claim yet",)


def test_results_for_other_claims_do_not_count(env):
    assert verdict_of(env, [result("passed", claims=("sample-fast",))]).verdict is Verdict.NOT_CHECKED


def test_known_risk_violation_is_expected(env):
    v = verdict_of(env, [result("failed", claims=("sample-risk",))], claim="sample-risk")
    assert (v.verdict, v.expected) == (Verdict.VIOLATED, True)
    assert not unexpected_violation([v.to_json()])


def test_active_waiver_lets_a_violation_pass_the_gate(env):
    verdicts = [v.to_json() for v in judge(env, [result("passed"), result("failed", claims=("sample-fast",))], today=TODAY)]
    fast = next(c for c in verdicts if c["id"] == "sample-fast")
    assert fast["verdict"] == "violated" and fast["waiver"]["active"] is True
    assert gate_exit_code(verdicts) == 0


def test_expired_waiver_no_longer_counts(env):
    verdicts = [v.to_json() for v in judge(env, [result("failed"), result("passed", claims=("sample-fast",))], today=TODAY)]
    protocol = next(c for c in verdicts if c["id"] == "sample-protocol")
    assert protocol["waiver"] == {"claim": "sample-protocol", "reason": "old", "owner": "sre", "expires": "2026-01-01", "active": False}
    assert gate_exit_code(verdicts) == 1


def test_waiver_expires_after_its_date(env):
    later = dt.date(2027, 1, 1)
    verdicts = [v.to_json() for v in judge(env, [result("passed"), result("failed", claims=("sample-fast",))], today=later)]
    assert gate_exit_code(verdicts) == 1


@pytest.mark.parametrize(("outcomes", "code"), [
    ({"sample-protocol": "passed", "sample-fast": "passed"}, 0),
    ({"sample-protocol": "failed", "sample-fast": "passed"}, 1),
    ({"sample-protocol": "passed"}, 3),
    ({"sample-protocol": "skipped", "sample-fast": "passed"}, 3),
    ({"sample-protocol": "failed"}, 1),
    ({}, 3),
])
def test_gate_exit_code(write_env, env_data, outcomes, code):
    write_env(env_data)
    env = load_environment("sample")
    results = [result(o, claims=(c,), name=c) for c, o in outcomes.items()]
    assert gate_exit_code([v.to_json() for v in judge(env, results, today=TODAY)]) == code


def test_non_gating_claims_do_not_decide_the_gate(write_env, env_data):
    write_env(env_data)
    env = load_environment("sample")
    results = [result("passed", claims=("sample-protocol", "sample-fast")), result("failed", claims=("sample-risk",))]
    assert gate_exit_code([v.to_json() for v in judge(env, results, today=TODAY)]) == 0
