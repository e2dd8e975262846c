"""The command line: JSON contracts, exit codes, one-line errors without tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from gauntlet import paths


def gauntlet(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gauntlet", *args], capture_output=True, text=True, timeout=120, cwd=paths.ROOT)


def assert_one_line_error(proc: subprocess.CompletedProcess, *fragments: str) -> None:
    assert proc.returncode == 2, f"expected exit 2, got {proc.returncode}: {proc.stderr}"
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, f"expected one error line, got {lines}"
    for fragment in fragments:
        assert fragment in lines[0], f"expected {fragment!r} in {lines[0]!r}"


def test_envs_json_lists_each_environment_with_claim_counts(write_env, env_data):
    write_env(env_data)
    proc = gauntlet("envs", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["environments"] == [
        {"name": "sample", "description": "a sample target on loopback", "production": False, "claims": 3, "gating": 2}]


def test_claims_json_has_statement_source_and_gates(write_env, env_data):
    write_env(env_data)
    claims = json.loads(gauntlet("claims", "sample", "--json").stdout)["claims"]
    assert claims[0]["id"] == "sample-protocol"
    assert claims[0]["source"] == {"document": "000_b68d99118d70d8c0.txt", "quote": "Athens can run anywhere"}
    assert [c["gates"] for c in claims] == [True, True, False]


def test_gate_is_not_green_when_checks_are_missing(write_env, env_data, env_dir):
    write_env(env_data)
    proc = gauntlet("gate", "sample", "--json")
    assert proc.returncode == 3, proc.stderr
    out = json.loads(proc.stdout)
    assert out["environment"] == "sample" and Path(out["report"]).is_dir()
    fast = next(c for c in out["claims"] if c["id"] == "sample-fast")
    assert fast["verdict"] == "not-checked" and "a goproxy profile needs a module set" in fast["evidence"][0]
    assert {"id", "verdict", "evidence"} <= set(out["claims"][0])


@pytest.mark.parametrize("before", [True, False], ids=["before-the-subcommand", "after-it"])
def test_environments_dir_option_points_elsewhere(tmp_path, env_data, before):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "sample.yaml").write_text(yaml.safe_dump(env_data))
    option = ["--environments-dir", str(folder)]
    proc = gauntlet(*option, "claims", "sample", "--json") if before else gauntlet("claims", "sample", *option, "--json")
    assert [c["id"] for c in json.loads(proc.stdout)["claims"]] == ["sample-protocol", "sample-fast", "sample-risk"], proc.stderr


def test_claims_with_checks_shows_each_claims_checks_in_one_hop():
    out = json.loads(gauntlet("claims", "local", "--checks", "--json").stdout)
    checks = {c["id"]: c["checks"] for c in out["claims"]}
    rows = {r["kind"]: r for r in checks["athens-pods-recover"]}
    assert rows["kubernetes.probes.readiness"]["where"].startswith("conformance/kubernetes/test_probes.py:")
    assert rows["kubernetes.probes.readiness"]["on"] == ["athens/athens"]
    assert rows["chaos.pod-loss.recovers"]["source"] == "chaos:athens-pod-loss" and rows["chaos.pod-loss.recovers"]["required"]
    assert {r["kind"] for r in checks["athens-no-git-hot-path"]} >= {"latency.goproxy.within-budget", "load.p95"}
    text = gauntlet("claims", "local", "--checks").stdout
    assert "kubernetes.probes.readiness (conformance:kubernetes, conformance/kubernetes/test_probes.py:" in text


def test_checks_lists_the_catalogue_with_who_uses_each_kind():
    proc = gauntlet("checks", "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    kinds = {k["id"]: k for k in out["kinds"]}
    assert out["problems"] == []
    assert kinds["edge.tls.min-version"]["observes"] == "service" and "local" in kinds["edge.tls.min-version"]["used_by"]
    assert kinds["kubernetes.in-pod.no-git-process"]["observes"] == "component"
    assert kinds["chaos.replica-crash.no-client-errors"]["source"] == "chaos:athens-replica-crash"
    assert "load.p99" in out["unused"], "a kind no environment names is reported"
    assert "unused: load.p99" in gauntlet("checks").stdout


@pytest.mark.parametrize(("args", "fragments"), [
    (["claims", "nowhere"], ["unknown environment 'nowhere'"]),
    (["conformance", "sample", "--suite", "dns"], ["--suite: unknown conformance suite 'dns'"]),
    (["load", "sample", "--profile", "nightly"], ["unknown load profile 'nightly'", "['smoke']"]),
    (["load", "sample", "--profile", "smoke"], ["a goproxy profile needs a module set"]),
    (["chaos", "sample", "meteor-strike"], ["unknown experiment 'meteor-strike'"]),
    (["report", "20990101T000000Z-sample-gate"], ["not a run folder"]),
    (["gate", "broken"], ["broken.yaml: claims[0].gates: expected true or false"]),
])
def test_bad_input_exits_2_with_one_line(write_env, env_data, args, fragments):
    write_env(env_data)
    env_data["name"] = "broken"
    env_data["claims"][0]["gates"] = "maybe"
    write_env(env_data)
    assert_one_line_error(gauntlet(*args), *fragments)


def test_load_on_production_needs_the_typed_confirmation(write_env, env_data, env_dir):
    env_data["production"] = True
    write_env(env_data)
    assert_one_line_error(gauntlet("load", "sample", "--profile", "smoke"), "is production: load against it needs --confirm sample")
    assert not (env_dir.parent / "reports").exists(), "refused before a run folder exists"


def test_missing_environments_dir_exits_2(tmp_path):
    assert_one_line_error(gauntlet("--environments-dir", str(tmp_path / "none"), "envs"), "environments folder not found")
