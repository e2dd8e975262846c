"""The CI examples users copy: valid workflows (actionlint where installed) that call the harness as documented."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from gauntlet import paths

WORKFLOWS = sorted((paths.ROOT / ".github" / "workflows").glob("*.yml"))


def steps(workflow: dict) -> list[dict]:
    return [step for job in workflow["jobs"].values() for step in job["steps"]]


def runs(workflow: dict) -> str:
    return "\n".join(step.get("run", "") for step in steps(workflow))


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_sets_up_and_keeps_the_report(path):
    workflow = yaml.safe_load(path.read_text())
    assert "make setup" in runs(workflow), f"{path.name}: set-up must be the README's"
    uploads = [s for s in steps(workflow) if s.get("uses", "").startswith("actions/upload-artifact")]
    assert uploads and all(s.get("if") == "always()" for s in uploads), f"{path.name}: reports must be uploaded also when a check fails"
    assert all(job.get("timeout-minutes") for job in workflow["jobs"].values()), f"{path.name}: every job is bounded in time"


def test_the_gate_is_a_job_whose_exit_code_decides():
    gate = yaml.safe_load((paths.ROOT / ".github" / "workflows" / "cutover-gate.yml").read_text())
    step = next(s for s in steps(gate) if "gauntlet gate" in s.get("run", ""))
    assert "continue-on-error" not in step and "|| true" not in step["run"]


def test_actionlint_accepts_every_workflow():
    actionlint = shutil.which("actionlint") or str(paths.cache_dir() / "bin" / "actionlint")
    if not Path(actionlint).is_file():
        pytest.skip("actionlint is not installed (make setup installs it when the Go module proxy is reachable)")
    proc = subprocess.run([actionlint, *map(str, WORKFLOWS)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_container_runs_as_a_non_root_user():
    dockerfile = (paths.ROOT / "Dockerfile").read_text()
    users = [line.split()[1] for line in dockerfile.splitlines() if line.startswith("USER ")]
    assert users and users[-1] not in ("root", "0"), "the image must not run as root"


def test_the_image_carries_a_pinned_go_toolchain():
    """The real-client checks of the GOPROXY suite run `go`: the image has the toolchain, at a pinned version."""
    dockerfile = (paths.ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM golang:\d+\.\d+\.\d+-\S+ AS go$", dockerfile, re.M), "expected a pinned golang stage"
    assert "COPY --from=go /usr/local/go /usr/local/go" in dockerfile and "/usr/local/go/bin" in dockerfile
