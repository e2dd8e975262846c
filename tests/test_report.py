"""The report writer: results, JUnit, HTML, interrupted runs, no secrets."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from gauntlet import report, run_folder
from gauntlet.environment import load_environment
from gauntlet.ledger import CheckResult


@pytest.fixture
def env(write_env, env_data):
    write_env(env_data)
    return load_environment("sample")


def check(outcome: str, claim: str = "sample-protocol", message: str = "") -> CheckResult:
    kinds, details = (("load.p95",), {"profile": "smoke"}) if claim == "sample-fast" else (("goproxy.zip.valid",), {})
    return CheckResult(id=f"conformance/goproxy/test_x.py::test_{outcome}", evidence="conformance", claims=(claim,),
                       outcome=outcome, message=message, kinds=kinds, details=details)


def test_finished_run_writes_results_junit_and_html(env):
    run = run_folder.new_run(env, "conformance", "gauntlet conformance sample")
    run.add_ran("conformance:goproxy")
    run.record(check("failed", message="GET https://edge/x/@v/list: expected 200, got 503"))
    run.record(check("passed", claim="sample-fast"))
    document = report.finish(run, env, "complete")

    results = json.loads((run.dir / "results.json").read_text())
    assert results == document
    assert results["report"] == str(run.dir)
    assert {c["id"]: c["verdict"] for c in results["claims"]} == {
        "sample-protocol": "violated", "sample-fast": "verified", "sample-risk": "not-checked"}
    assert results["summary"] == {"verified": 1, "violated": 1, "not-checked": 1, "partial": 0}

    junit = ET.parse(run.dir / "junit.xml").getroot()
    claims_suite = next(s for s in junit.iter("testsuite") if s.get("name") == "sample.claims")
    assert claims_suite.get("failures") == "1" and claims_suite.get("skipped") == "1"
    failure = next(c for c in claims_suite.iter("testcase") if c.get("name") == "sample-protocol").find("failure")
    assert "expected 200, got 503" in failure.text

    page = (run.dir / "index.html").read_text()
    assert page.index('id="claims-matrix"') < page.index("<h2>Details</h2>"), "the claims matrix comes first"
    assert 'data-claim="sample-protocol" data-verdict="violated"' in page
    assert "<script" not in page and "http://" not in page.replace("http://127.0.0.1:9", ""), "the page is self-contained"
    assert (run.dir.parent / "latest").resolve() == run.dir


def test_partial_coverage_shows_in_the_json_the_junit_and_the_page(env):
    """sample-protocol names goproxy.*: one kind passed and the rest not run is verified, in part, and says so."""
    run = run_folder.new_run(env, "conformance", "gauntlet conformance sample")
    run.record(check("passed"))
    run.record(CheckResult("conformance/goproxy/test_x.py::test_go", "conformance", ("sample-protocol",), "skipped",
                           "no go binary on PATH", kinds=("goproxy.go-client.download-verifies",)))
    document = report.finish(run, env, "complete")
    protocol = next(c for c in document["claims"] if c["id"] == "sample-protocol")
    assert (protocol["verdict"], protocol["partial"]) == ("verified", True)
    assert protocol["coverage"]["kinds"]["goproxy.zip.valid"] == "passed"
    assert protocol["coverage"]["kinds"]["goproxy.go-client.download-verifies"] == "skipped"
    assert protocol["coverage"]["kinds"]["goproxy.list.canonical-versions"] == "not-run"
    assert document["summary"]["partial"] == 1
    junit = ET.parse(run.dir / "junit.xml").getroot()
    case = next(c for c in junit.iter("testcase") if c.get("name") == "sample-protocol")
    assert {p.get("name"): p.get("value") for p in case.iter("property")}["coverage"] == "partial"
    assert "goproxy.go-client.download-verifies: skipped" in case.find("system-out").text
    assert case.find("failure") is None and case.find("skipped") is None, "verified: neither failed nor skipped"
    page = (run.dir / "index.html").read_text()
    assert "partial coverage" in page and 'class="kind-skipped">skipped' in page
    assert "1 of the verified only partly checked" in page


def test_interrupted_run_leaves_a_valid_partial_report(env):
    run = run_folder.new_run(env, "gate", "gauntlet gate sample")
    run.record(check("passed"))
    # The process dies here: no finish(). The report is rebuilt from what was recorded.
    document = report.rebuild(run_folder.find_run(run.dir.name), env)
    assert document["run"]["status"] == "interrupted"
    assert next(c for c in document["claims"] if c["id"] == "sample-protocol")["verdict"] == "verified"
    assert json.loads((run.dir / "results.json").read_text())["run"]["status"] == "interrupted"
    assert "interrupted" in (run.dir / "index.html").read_text()


def test_interrupted_finish_is_marked(env):
    run = run_folder.new_run(env, "conformance", "c")
    assert report.finish(run, env, "interrupted")["run"]["status"] == "interrupted"
    assert report.rebuild(run, env)["run"]["status"] == "interrupted", "rebuilding keeps the interruption"


def test_secrets_never_reach_the_report(env, monkeypatch):
    monkeypatch.setenv("DB_PASSWORD", "hunter2-very-secret")
    run = run_folder.new_run(env, "conformance", "gauntlet conformance sample --set db.password=hunter2-very-secret")
    run.record(check("failed", message="connect postgres://hub:hunter2-very-secret@db:5432 failed; Authorization: Bearer abc.def"))
    report.finish(run, env, "complete")
    for name in ("run.json", "checks.jsonl", "results.json", "junit.xml", "index.html"):
        text = (run.dir / name).read_text()
        assert "hunter2-very-secret" not in text, f"{name} leaks a secret"
        assert "abc.def" not in text, f"{name} leaks a bearer token"


def test_html_escapes_target_text(env):
    run = run_folder.new_run(env, "conformance", "c")
    run.record(check("failed", message="<script>alert(1)</script> came back"))
    report.finish(run, env, "complete")
    page = (run.dir / "index.html").read_text()
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page
