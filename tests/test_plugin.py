"""The pytest plugin: check kinds attributed to claims, deselection, recording under xdist, bad markers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

CHECKS = '''
import pytest

from gauntlet.exceptions import TargetUnreachable

@pytest.mark.check("goproxy.list.canonical-versions")
def test_list_is_served(environment):
    """The list is served."""
    assert environment.name == "sample"

@pytest.mark.check("goproxy.zip.valid")
def test_zip_is_valid():
    """The zip is valid."""
    assert False, "GET http://127.0.0.1:9/x/@v/v1.0.0.zip: expected a zip, got text/html"

@pytest.mark.check("goproxy.go-client.download-verifies")
def test_skipped_when_no_go():
    """The go command downloads."""
    pytest.skip("no go binary on PATH")

@pytest.mark.check("edge.tls.min-version")
def test_for_another_claim():
    """A kind no claim of sample names."""
    assert False, "must never run against sample"

@pytest.mark.check("goproxy.info.version-matches")
def test_replica_is_down():
    """A component that does not answer."""
    raise TargetUnreachable("GET http://127.0.0.1:3002/x/@v/v1.info: ConnectError: connection refused")
'''


@pytest.fixture
def checks(pytester: pytest.Pytester, write_env, env_data, env_dir: Path) -> pytest.Pytester:
    write_env(env_data)
    (pytester.path / "conformance" / "goproxy").mkdir(parents=True)
    (pytester.path / "conformance" / "goproxy" / "test_sample.py").write_text(CHECKS)
    return pytester


def latest_results(env_dir: Path) -> dict:
    return json.loads((env_dir.parent / "reports" / "latest" / "results.json").read_text())


def verdicts(results: dict) -> dict[str, str]:
    return {c["id"]: c["verdict"] for c in results["claims"]}


def test_checks_become_claim_verdicts(checks, env_dir):
    outcome = checks.runpytest("--env", "sample", "conformance")
    outcome.assert_outcomes(passed=1, failed=2, skipped=1, deselected=1)
    outcome.stdout.fnmatch_lines(["gauntlet: 1 checks are evidence for no claim of sample: deselected"])
    results = latest_results(env_dir)
    assert verdicts(results) == {"sample-protocol": "violated", "sample-fast": "not-checked", "sample-risk": "not-checked"}
    protocol = next(c for c in results["claims"] if c["id"] == "sample-protocol")
    assert protocol["evidence"] == [
        "conformance/goproxy/test_sample.py::test_zip_is_valid: AssertionError: "
        "GET http://127.0.0.1:9/x/@v/v1.0.0.zip: expected a zip, got text/html\nassert False",
        "conformance/goproxy/test_sample.py::test_replica_is_down: TargetUnreachable: "
        "GET http://127.0.0.1:3002/x/@v/v1.info: ConnectError: connection refused"]
    down = next(c for c in results["checks"] if c["id"].endswith("test_replica_is_down"))
    assert (down["kinds"], down["scope"], down["cause"]) == (["goproxy.info.version-matches"], "service", "unreachable")
    assert "gauntlet report:" in outcome.stdout.str()


def test_results_merge_under_xdist(checks, env_dir):
    outcome = checks.runpytest_subprocess("--env", "sample", "-n", "2", "conformance")
    outcome.assert_outcomes(passed=1, failed=2, skipped=1)
    results = latest_results(env_dir)
    assert sorted(c["id"].split("::")[1] for c in results["checks"]) == [
        "test_list_is_served", "test_replica_is_down", "test_skipped_when_no_go", "test_zip_is_valid"]
    assert verdicts(results)["sample-protocol"] == "violated"
    assert all(c["kinds"] for c in results["checks"]), "the kinds cross from the workers too"


def test_claims_option_selects_checks(checks, env_dir, write_env, env_data):
    env_data["claims"][1]["evidence"] = ["load.p95@smoke", "goproxy.go-client.download-verifies"]
    write_env(env_data)
    outcome = checks.runpytest("--env", "sample", "--claims", "sample-fast", "conformance")
    outcome.assert_outcomes(skipped=1, deselected=4)


def test_unknown_claim_in_claims_option(checks):
    outcome = checks.runpytest("--env", "sample", "--claims", "sample-nope", "conformance")
    assert outcome.ret == pytest.ExitCode.USAGE_ERROR
    outcome.stderr.fnmatch_lines(["*--claims: unknown claim 'sample-nope' for environment 'sample'*"])


def test_check_without_a_kind_is_refused(checks):
    (checks.path / "conformance" / "goproxy" / "test_unmarked.py").write_text("def test_orphan():\n    assert True\n")
    outcome = checks.runpytest("--env", "sample", "conformance")
    assert outcome.ret == pytest.ExitCode.USAGE_ERROR
    outcome.stderr.fnmatch_lines(["*test_unmarked.py::test_orphan: a check declares the kind it implements: "
                                  "@pytest.mark.check(\"<area>.<topic>.<rule>\")*"])


def test_a_kind_no_claim_names_is_deselected_and_counted(checks):
    (checks.path / "conformance" / "goproxy" / "test_unused.py").write_text(
        "import pytest\n\n@pytest.mark.check('weather.made-up.rule')\ndef test_unused():\n    assert False\n")
    outcome = checks.runpytest("--env", "sample", "conformance")
    outcome.assert_outcomes(passed=1, failed=2, skipped=1, deselected=2)
    outcome.stdout.fnmatch_lines(["gauntlet: 2 checks are evidence for no claim of sample: deselected"])


def test_a_warning_inside_a_check_never_decides_its_outcome(checks, env_dir):
    """The checks run with the project's ini (warnings as errors, pyproject.toml): a warning is shown, not a failure."""
    checks.makeini("[pytest]\nfilterwarnings = error\n")
    (checks.path / "conformance" / "goproxy" / "test_sample.py").write_text(
        "import warnings\n\nimport pytest\n\n@pytest.mark.check('goproxy.list.canonical-versions')\n"
        "def test_warns():\n    warnings.warn('the target sent something odd', DeprecationWarning)\n")
    outcome = checks.runpytest("--env", "sample", "conformance")
    outcome.assert_outcomes(passed=1, warnings=1)


def test_unknown_environment_is_a_usage_error(checks):
    outcome = checks.runpytest("--env", "nowhere", "conformance")
    assert outcome.ret == pytest.ExitCode.USAGE_ERROR
    outcome.stderr.fnmatch_lines(["*unknown environment 'nowhere'*"])


def test_interrupted_session_is_marked(checks, env_dir):
    (checks.path / "conformance" / "goproxy" / "test_ctrl_c.py").write_text(
        "import pytest\n\n@pytest.mark.check('goproxy.list.canonical-versions')\ndef test_ctrl_c():\n    raise KeyboardInterrupt\n")
    checks.runpytest_subprocess("--env", "sample", "conformance")
    assert latest_results(env_dir)["run"]["status"] == "interrupted"


def test_harness_tests_outside_conformance_write_no_report(pytester, env_dir, write_env, env_data):
    write_env(env_data)
    pytester.makepyfile(test_plain="def test_plain():\n    assert 1 + 1 == 2\n")
    pytester.runpytest().assert_outcomes(passed=1)
    assert not (env_dir.parent / "reports").exists()


def test_collect_only_writes_no_run(checks, env_dir):
    checks.runpytest("--env", "sample", "conformance", "--collect-only").assert_outcomes()
    assert not (env_dir.parent / "reports").exists(), "nothing ran: no run folder, no history entry"
