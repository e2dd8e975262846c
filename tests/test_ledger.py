"""The verdict rules of gauntlet.ledger, one test (at least) per rule, each failing when its rule is broken."""

from __future__ import annotations

import datetime as dt

import pytest

from gauntlet.environment import load_environment
from gauntlet.ledger import (
    FINDING,
    UNREACHABLE,
    CheckResult,
    Verdict,
    describe_finding,
    gate_exit_code,
    judge,
    run_exit_code,
    unexpected_violation,
)

TODAY = dt.date(2026, 11, 23)
LIST, INFO = "goproxy.list.canonical-versions", "goproxy.info.version-matches"
SOURCE = {"document": "docs/promises.md", "quote": "we promise"}


def claim(id_: str, evidence: list[str], **more) -> dict:
    return {"id": id_, "statement": f"{id_} holds", "source": SOURCE, "evidence": evidence, **more}


@pytest.fixture
def env(write_env):
    data = {
        "name": "sample", "description": "a deployment of someone's own",
        "endpoints": [{"name": "edge", "url": "http://127.0.0.1:9", "role": "edge"}],
        "kubernetes": {"context": "c", "api_server": "https://127.0.0.1:6443",
                       "workloads": [{"namespace": "shop", "name": "app", "replicas": 3}]},
        "load_profiles": {"smoke": {"user": "goproxy", "endpoint": "edge", "users": 2, "duration_s": 10,
                                    "max_requests": 100, "slos": [{"metric": "p95_ms", "max": 500}]}},
        "waivers": [{"claim": "fast", "reason": "capacity work in progress", "owner": "sre", "expires": "2026-12-31"},
                    {"claim": "serves", "reason": "old", "owner": "sre", "expires": "2026-01-01"}],
        "claims": [
            claim("serves", [LIST, INFO], gates=True),
            claim("recovers", ["kubernetes.replicas.ready", "chaos.pod-loss.recovers"], gates=True,
                  required=["chaos.pod-loss.recovers"], workloads=["shop/app"]),
            claim("every-replica-serves", [LIST], about="components"),
            claim("fast", ["load.p95@smoke"], gates=True),
            claim("production-ready", ["goproxy.zip.valid"], known_risk=True),
        ],
    }
    write_env(data)
    return load_environment("sample")


def result(outcome: str, claims=("serves",), kinds=(LIST,), message: str = "", name: str = "check", **more) -> CheckResult:
    return CheckResult(id=f"conformance/goproxy/test_x.py::{name}", evidence="conformance", claims=tuple(claims),
                       outcome=outcome, message=message, kinds=tuple(kinds), **more)


def down(name: str = "replica") -> CheckResult:
    return result("failed", name=name, message="GET http://127.0.0.1:3002/x: ConnectError: connection refused",
                  scope="component", subject="athens-2", cause=UNREACHABLE,
                  claims=("serves", "every-replica-serves"))


def verdict_of(env, results, claim_id="serves", **kwargs):
    return next(v for v in judge(env, results, today=TODAY, **kwargs) if v.claim.id == claim_id)


# --- rule 1: component findings


def test_a_component_that_is_down_is_a_finding_not_a_violation_of_the_service(env):
    v = verdict_of(env, [result("passed", name="edge"), down("replica-a"), down("replica-b")])
    assert v.verdict is Verdict.VERIFIED
    assert v.findings == ({"subject": "athens-2", "scope": "component", "down": True, "checks": 2, "expected": False,
                           "observation": "GET http://127.0.0.1:3002/x: ConnectError: connection refused"},)


def test_a_finding_a_check_reports_is_shown_and_changes_no_verdict(env):
    found = {"severity": "low", "observation": "TLS edge: no OCSP response stapled"}
    reported = [result("passed", name=f"ocsp-{i}", subject="edge", details={FINDING: found}) for i in range(2)]
    v = verdict_of(env, [*reported, result("passed", name="list")])
    assert v.verdict is Verdict.VERIFIED
    assert v.findings == ({"subject": "edge", "scope": "service", "down": False, "severity": "low", "checks": 1,
                           "expected": False, "observation": "TLS edge: no OCSP response stapled"},), "once per observation"
    assert describe_finding(v.findings[0]) == "finding (low): TLS edge: no OCSP response stapled"
    assert verdict_of(env, [result("failed", name="x", details={FINDING: found})]).verdict is Verdict.VIOLATED


def test_a_claim_about_every_component_is_violated_by_one_that_is_down(env):
    v = verdict_of(env, [result("passed", name="edge", claims=("every-replica-serves",)), down()], "every-replica-serves")
    assert v.verdict is Verdict.VIOLATED and v.findings == ()
    assert v.evidence == ("conformance/goproxy/test_x.py::replica: GET http://127.0.0.1:3002/x: ConnectError: connection refused",)


def test_a_component_that_answered_wrong_counts_against_the_claim(env):
    wrong = result("failed", name="replica", message="GET …/@v/list: 500", scope="component", subject="athens-2")
    assert verdict_of(env, [result("passed", name="edge"), wrong]).verdict is Verdict.VIOLATED


# --- rule 2: violated


def test_a_failed_check_violates_with_its_observation(env):
    v = verdict_of(env, [result("passed", name="a"), result("failed", message="GET /x/@v/list: expected 200, got 503", name="b")])
    assert v.verdict is Verdict.VIOLATED
    assert v.evidence == ("conformance/goproxy/test_x.py::b: GET /x/@v/list: expected 200, got 503",)


def test_an_error_in_setup_violates(env):
    assert verdict_of(env, [result("error", message="workload missing")]).verdict is Verdict.VIOLATED


def test_a_known_risk_violation_is_expected(env):
    v = verdict_of(env, [result("failed", claims=("production-ready",), kinds=("goproxy.zip.valid",))], "production-ready")
    assert (v.verdict, v.expected) == (Verdict.VIOLATED, True)
    assert not unexpected_violation([v.to_json()])


def test_an_active_waiver_lets_a_violation_pass_the_gate_until_it_expires(env):
    results = [result("passed", kinds=(LIST,)), result("passed", kinds=(INFO,)), result("passed", claims=("recovers",),
               kinds=("chaos.pod-loss.recovers",)), result("failed", claims=("fast",), kinds=("load.p95",))]
    verdicts = [v.to_json() for v in judge(env, results, today=TODAY)]
    fast = next(c for c in verdicts if c["id"] == "fast")
    assert fast["verdict"] == "violated" and fast["waiver"]["active"] is True
    assert gate_exit_code(verdicts) == 0
    later = [v.to_json() for v in judge(env, results, today=dt.date(2027, 1, 1))]
    assert gate_exit_code(later) == 1


def test_an_expired_waiver_is_shown_and_does_not_count(env):
    verdicts = [v.to_json() for v in judge(env, [result("failed")], today=TODAY)]
    serves = next(c for c in verdicts if c["id"] == "serves")
    assert serves["waiver"] == {"claim": "serves", "reason": "old", "owner": "sre", "expires": "2026-01-01", "active": False}
    assert gate_exit_code(verdicts) == 1


# --- rule 3: required evidence


def chaos(outcome: str, message: str = "") -> CheckResult:
    return CheckResult("chaos:app-pod-loss", "chaos", ("recovers",), outcome, message, kinds=("chaos.pod-loss.recovers",))


def test_required_evidence_that_broke_nothing_leaves_the_claim_not_checked_whatever_else_passed(env):
    ready = result("passed", claims=("recovers",), kinds=("kubernetes.replicas.ready",))
    skipped = chaos("skipped", "not evidence: steady state not met before the method, nothing was broken: 915 ms")
    v = verdict_of(env, [ready, skipped], "recovers")
    assert v.verdict is Verdict.NOT_CHECKED
    assert v.evidence == ("required evidence chaos.pod-loss.recovers proved nothing: chaos:app-pod-loss: not evidence: "
                          "steady state not met before the method, nothing was broken: 915 ms",)
    assert verdict_of(env, [ready, chaos("passed")], "recovers").verdict is Verdict.VERIFIED


def test_required_evidence_that_did_not_run_says_so_and_why(env):
    ready = result("passed", claims=("recovers",), kinds=("kubernetes.replicas.ready",))
    assert verdict_of(env, [ready], "recovers").evidence == (
        "required evidence chaos.pod-loss.recovers proved nothing: chaos:athens-pod-loss did not run in this run",)
    refused = verdict_of(env, [ready], "recovers", unavailable={"chaos:athens-pod-loss": "refused: production"})
    assert refused.evidence == ("required evidence chaos.pod-loss.recovers proved nothing: chaos:athens-pod-loss: refused: production",)


def test_a_failure_violates_even_when_the_required_evidence_is_missing(env):
    broken = result("failed", claims=("recovers",), kinds=("kubernetes.replicas.ready",), message="1 Ready of 3")
    assert verdict_of(env, [broken], "recovers").verdict is Verdict.VIOLATED


# --- rule 4: clients prove service claims


def test_a_service_claim_is_not_verified_by_components_alone(env):
    replica = result("passed", scope="component", subject="athens-1", claims=("serves", "every-replica-serves"))
    v = verdict_of(env, [replica])
    assert v.verdict is Verdict.NOT_CHECKED and v.evidence[0].startswith("only components were observed (athens-1)")
    assert verdict_of(env, [replica], "every-replica-serves").verdict is Verdict.VERIFIED


# --- rule 5: verified, with coverage


def test_a_pass_verifies_and_coverage_says_which_kinds_passed(env):
    v = verdict_of(env, [result("passed", kinds=(LIST,)), result("passed", kinds=(INFO,), name="info")])
    assert v.verdict is Verdict.VERIFIED and not v.partial
    assert v.coverage["kinds"] == {LIST: "passed", INFO: "passed"}


def test_verified_with_a_kind_skipped_or_not_run_is_partial_and_says_what(env):
    skipped = result("skipped", kinds=(INFO,), message="no go binary", name="info")
    v = verdict_of(env, [result("passed"), skipped])
    assert v.verdict is Verdict.VERIFIED and v.partial
    assert v.coverage["kinds"] == {LIST: "passed", INFO: "skipped"}
    assert "conformance/goproxy/test_x.py::info: no go binary (skipped)" in v.evidence
    assert verdict_of(env, [result("passed")]).coverage["kinds"][INFO] == "not-run"


def test_full_coverage_makes_a_partly_checked_gating_claim_block_the_gate(env):
    results = [result("passed"), result("passed", claims=("recovers",), kinds=("chaos.pod-loss.recovers",)),
               result("passed", claims=("fast",), kinds=("load.p95",), details={"profile": "smoke"})]
    verdicts = [v.to_json() for v in judge(env, results, today=TODAY)]
    assert [c["partial"] for c in verdicts if c["gates"]] == [True, True, False]
    assert gate_exit_code(verdicts) == 0
    assert gate_exit_code(verdicts, full_coverage=True) == 3


# --- rule 6: not checked


def test_all_skipped_is_not_checked_never_verified(env):
    v = verdict_of(env, [result("skipped", message="no go binary on PATH", name="a"), result("skipped", message="no cluster", name="b")])
    assert v.verdict is Verdict.NOT_CHECKED
    assert v.evidence == ("all checks skipped: conformance/goproxy/test_x.py::a: no go binary on PATH",
                          "all checks skipped: conformance/goproxy/test_x.py::b: no cluster")


def test_no_result_says_why(env):
    assert verdict_of(env, []).evidence == ("conformance:goproxy did not run in this run",)
    assert verdict_of(env, [], ran=["conformance:goproxy"]).evidence == (
        "no check of conformance:goproxy was attributed to it",)
    fast = verdict_of(env, [], "fast", unavailable={"load:smoke": "refused before anything was sent"})
    assert fast.evidence == ("load:smoke: refused before anything was sent",)
    assert verdict_of(env, [down()]).evidence == ("every check of it observed a component that was down (see the findings)",)


def test_results_for_other_claims_do_not_count(env):
    assert verdict_of(env, [result("passed", claims=("fast",))]).verdict is Verdict.NOT_CHECKED


# --- exit codes


@pytest.mark.parametrize(("outcomes", "code"), [
    ({"serves": "passed", "fast": "passed", "recovers": "passed"}, 0),
    ({"serves": "failed", "fast": "passed", "recovers": "passed"}, 1),
    ({"serves": "passed", "recovers": "passed"}, 3),
    ({"serves": "skipped", "fast": "passed", "recovers": "passed"}, 3),
    ({"serves": "failed"}, 1),
    ({}, 3),
])
def test_gate_exit_code(env, outcomes, code):
    kinds = {"serves": (LIST,), "fast": ("load.p95",), "recovers": ("chaos.pod-loss.recovers",)}
    results = [result(o, claims=(c,), kinds=kinds[c], name=c) for c, o in outcomes.items()]
    assert gate_exit_code([v.to_json() for v in judge(env, results, today=TODAY)]) == code


def test_non_gating_claims_do_not_decide_the_gate(env):
    results = [result("passed"), result("passed", claims=("fast", "recovers"), kinds=("load.p95", "chaos.pod-loss.recovers")),
               result("failed", claims=("production-ready",), kinds=("goproxy.zip.valid",))]
    assert gate_exit_code([v.to_json() for v in judge(env, results, today=TODAY)]) == 0


def test_a_run_exits_3_when_a_gating_claim_it_produced_evidence_for_is_not_verified(env):
    """``gauntlet load`` of a fault-window profile on its own, ``gauntlet conformance`` without the chaos a claim
    requires: the run could not verify what it checked."""
    ready = result("passed", claims=("recovers",), kinds=("kubernetes.replicas.ready",))
    assert run_exit_code([v.to_json() for v in judge(env, [result("passed")], today=TODAY)]) == 0
    assert run_exit_code([v.to_json() for v in judge(env, [result("passed"), ready], today=TODAY)]) == 3
    assert run_exit_code([v.to_json() for v in judge(env, [result("failed"), ready], today=TODAY)]) == 1
