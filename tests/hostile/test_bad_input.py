"""Misuse gets one line on stderr naming the file or flag, the field and what was expected; exit 2, no traceback.

Every case runs the real command line with a timeout of its own; the ones that used to take
unbounded time or memory (a 50 MB file, deep nesting, aliases that repeat each other) must
also answer within seconds.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.slow


@pytest.fixture
def env_text(hostile_env, target) -> tuple[Path, str]:
    """The hostile environment file and its text, to spoil."""
    path = hostile_env(target.url)
    return path, path.read_text()


@pytest.mark.parametrize(("spoil", "fragments"), [
    (lambda t: t + "waivers:\n- {claim: athens-protocol, reason: r, owner: o, expires: 2030-13-45}\n",
     ["waivers[0].expires: expected a date as YYYY-MM-DD, got '2030-13-45'"]),
    (lambda t: t + "production: false\nproduction: true\n", ["production: duplicate key 'production' (first on line"]),
    (lambda t: t + "production: true\nproduction: false\n", ["production: duplicate key 'production'"]),
    (lambda t: t.replace("description: a", "description: b\ndescription: a"), ["description: duplicate key 'description'"]),
    (lambda t: t + "notes: " + "[" * 100_000 + "]" * 100_000 + "\n", ["notes[0][0][0]…: nested deeper than 32 levels"]),
    (lambda t: t + "".join(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}" if i else "x"] * 10) + "]\n" for i in range(9)),
     ["more than 100000 values (aliases counted as what they repeat)"]),
    (lambda t: t + "x: " + "a" * 50_000_000 + "\n", ["larger than 1 MiB: not an environment file"]),
    (lambda t: t.replace("max_requests: 1000000", f"max_requests: {10 ** 40}"),
     ["load_profiles.steady.max_requests: expected less than or equal to 1000000000"]),
    (lambda t: t.replace("users: 4", "users: 10000000").replace("spawn_rate: 4", "spawn_rate: 1000000"),
     ["load_profiles.steady.users: expected less than or equal to 100000", "(and 1 more errors)"]),
    (lambda t: t.replace("url: http://", "url: ftp://ops:planted-Pw-7f3c9e@"),
     ["endpoints[0].url: expected an http or https URL", "ftp://ops:***@"]),
], ids=["impossible-date", "duplicate-key", "duplicate-key-other-order", "duplicate-top-key", "deep-nesting",
        "aliases", "huge-file", "max-requests", "users-and-spawn-rate", "password-in-a-bad-url"])
def test_a_bad_environment_file_is_one_line_in_bounded_time(env_text, cli, spoil, fragments):
    path, text = env_text
    path.write_text(spoil(text))
    ran = cli("claims", "hostile", timeout=30)
    line = ran.assert_one_line_error(str(path), *fragments)
    assert "planted-Pw-7f3c9e" not in line
    assert ran.wall_s < 10, f"took {ran.wall_s:.1f} s"


@pytest.mark.parametrize(("args", "fragments"), [
    (["chaos", "hostile", "--list", "--dry-run", "athens-pod-loss"],
     ["--list shows the experiments and runs none: it cannot be combined with EXPERIMENT, --dry-run"]),
    (["chaos", "hostile", "athens-pod-loss", "--dry-run", "--load", "steady"], ["--dry-run changes nothing", "--load"]),
    (["conformance", "hostile", "-n", "-1"], ["-n: expected 0 or more pytest-xdist workers, got -1"]),
    (["conformance", "hostile", "-n", "10000"], ["-n: 10000 pytest-xdist workers is more than this machine holds: at most"]),
    (["load", "hostile", "--profile", "steady", "--workers", "10000"],
     ["--workers: 10000 Locust worker processes is more than this machine holds"]),
    (["load", "hostile", "--profile", "steady", "--workers", "-1"], ["--workers: expected 0 or more"]),
    (["load", "hostile", "--profile", "steady", "--workers", "5000", "--master-bind", "0.0.0.0:5557"],
     ["--workers: 5000 remote workers is more than one Locust master serves: at most 1000"]),
], ids=["list-with-dry-run", "dry-run-with-load", "negative-n", "huge-n", "huge-workers", "negative-workers",
        "huge-remote-workers"])
def test_conflicting_or_unbounded_flags_are_one_line(env_text, cli, args, fragments, reports):
    ran = cli(*args, timeout=30)
    ran.assert_one_line_error(*fragments)
    assert not reports.exists() or not any(reports.iterdir()), "refused before a run folder exists"


def test_more_users_than_one_locust_process_holds_asks_for_workers(env_text, cli):
    path, text = env_text
    path.write_text(text.replace("users: 4", "users: 20000"))
    cli("load", "hostile", "--profile", "steady").assert_one_line_error(
        "load_profiles.steady.users: 20000 users in 1 Locust process is more than 5000 per process: run it with --workers 4")


def test_an_unusable_reports_folder_is_one_line(env_text, cli, tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("GAUNTLET_REPORTS_DIR", str(blocker))
    cli("gate", "hostile").assert_one_line_error(f"{blocker}: cannot create a run folder there (Not a directory)")
    monkeypatch.setenv("GAUNTLET_REPORTS_DIR", str(blocker / "reports"))
    cli("gate", "hostile").assert_one_line_error(f"{blocker / 'reports'}: cannot create a run folder there (Not a directory)")


@pytest.fixture
def finished_run(env_text) -> Path:
    """A finished run of the hostile environment with one check recorded: its folder."""
    from gauntlet import report, run_folder
    from gauntlet.environment import load_environment
    from gauntlet.ledger import CheckResult

    env = load_environment("hostile")
    run = run_folder.new_run(env, "conformance", "gauntlet conformance hostile")
    run.add_ran("conformance:goproxy")
    run.record(CheckResult("conformance/goproxy/test_protocol.py::test_list", "conformance", ("athens-protocol",), "passed"))
    report.finish(run, env, "complete")
    return run.dir


@pytest.mark.parametrize(("spoil", "fragments"), [
    (lambda run: (run / "run.json").write_text((run / "run.json").read_text()[:40]), ["run.json: cannot read the run record"]),
    (lambda run: (run / "run.json").write_text("[1, 2]"), ["run.json: not a gauntlet run record", "got a list"]),
    (lambda run: (run / "run.json").write_text('{"id": "x"}'), ["run.json: not a gauntlet run record", "no text field 'environment'"]),
    (lambda run: (run / "checks.jsonl").write_text('{"foo": 1}\n' + (run / "checks.jsonl").read_text()),
     ["checks.jsonl:1: not a check record"]),
], ids=["truncated-run-record", "run-record-a-list", "foreign-run-record", "foreign-check-record"])
def test_reporting_a_broken_run_is_one_line(finished_run, cli, spoil, fragments):
    (finished_run / "checks.jsonl").touch()
    spoil(finished_run)
    cli("report", finished_run.name).assert_one_line_error(*fragments)


def test_a_last_check_cut_short_is_left_out_and_said(finished_run, cli):
    with open(finished_run / "checks.jsonl", "a") as handle:
        handle.write('{"id": "conformance/goproxy/test_protocol.py::test_x", "kind": "confor')
    ran = cli("report", finished_run.name, "--json")
    assert ran.returncode == 0, ran.stderr
    notes = json.loads((finished_run / "run.json").read_text())["notes"]
    assert notes == ["checks.jsonl: its last line was cut short (a write interrupted) and is not counted"]


@pytest.mark.parametrize(("kubeconfig", "fragments"), [
    ("clusters: [\n  - {name: fake\n", ["cannot read the kubeconfig", "not valid YAML at line"]),
    ("just a string\n", ["cannot read the kubeconfig", "not a kubeconfig (expected a mapping, got str)"]),
    ("clusters: {name: fake}\ncontexts: 3\n", ["cannot read the kubeconfig", "clusters and contexts: expected lists"]),
    ("current-context: [fake]\n", ["cannot read the kubeconfig", "current-context: expected a context name, got list"]),
], ids=["not-yaml", "not-a-mapping", "wrong-types", "context-not-a-name"])
def test_a_bad_kubeconfig_refuses_the_chaos_run_in_one_line(guarded, kube_api, cli, kubeconfig, fragments):
    path = guarded()
    path.write_text(kubeconfig)
    cli("chaos", "fakeprod", "athens-pod-loss").assert_one_line_error(str(path), *fragments)
    assert kube_api.requests == []


def test_a_bad_kubeconfig_is_not_checked_in_the_kubernetes_suite(guarded, kube_api, cli, reports, env_dir):
    path = guarded()
    path.write_text("clusters: [\n  - {name: fake\n")
    env = yaml.safe_load((env_dir / "fakeprod.yaml").read_text())
    env["claims"].append({"id": "athens-is-deployed-well", "statement": "runs as deployed", "evidence": ["kubernetes.*"],
                          "workloads": ["athens/athens"],
                          "source": {"document": "000_b68d99118d70d8c0.txt", "quote": "moving the hosting infrastructure"}})
    (env_dir / "fakeprod.yaml").write_text(yaml.safe_dump(env))
    ran = cli("conformance", "fakeprod", "--suite", "kubernetes", "--json", timeout=180)
    assert ran.returncode in (0, 1), ran.stderr[-3000:]
    assert "Traceback" not in ran.stdout
    checks = [json.loads(line) for line in ((reports / "latest").resolve() / "checks.jsonl").read_text().splitlines()]
    assert checks and all(c["outcome"] == "skipped" for c in checks), [(c["id"], c["outcome"]) for c in checks]
    assert any("not valid YAML" in c["message"] for c in checks), checks[0]["message"]
