"""The documented confirmation of a plain ``chaos run`` (``--var gauntlet_confirm=ENV``) reaches the guard.

Chaos Toolkit drops a ``--var`` its experiment does not declare, so every experiment declares
``gauntlet_confirm``. Against a production environment on the recording API: without it, or naming
another environment, the control refuses before any write; with it, the experiment acts (the API
sees the pods deleted).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gauntlet import paths

pytestmark = pytest.mark.slow


def chaos_run(kubeconfig: Path, api_url: str, *variables: str) -> subprocess.CompletedProcess:
    argv = [sys.executable, "-m", "chaostoolkit", "--no-version-check", "--no-log-file", "run", "--no-verify-tls",
            "--journal-path", str(kubeconfig.with_name("journal.json")),
            "--var", "gauntlet_env=fakeprod", "--var", f"kube_api_server={api_url}"]
    for variable in variables:
        argv += ["--var", variable]
    env = {**os.environ, "KUBECONFIG": str(kubeconfig), "KUBERNETES_CONTEXT": "fake", "GAUNTLET_CHAOS_RUN": ""}
    return subprocess.run([*argv, str(paths.ROOT / "chaos_experiments" / "athens-pod-loss.json")], capture_output=True,
                          text=True, timeout=180, cwd=paths.ROOT, env=env)


@pytest.mark.parametrize(("confirm", "refusal"), [
    (None, "fakeprod is a production environment: type --var gauntlet_confirm=fakeprod to run chaos against it"),
    ("fakestaging", "fakeprod is a production environment: --var gauntlet_confirm='fakestaging' does not name it "
                    "(expected --var gauntlet_confirm=fakeprod)"),
], ids=["no-confirmation", "another-environment"])
def test_a_plain_chaos_run_of_production_without_the_confirmation_is_refused_before_any_write(
        guarded, serving_kube, confirm, refusal):
    path = guarded(server=serving_kube.url, production=True, confirm=True)
    ran = chaos_run(path, serving_kube.url, *([f"gauntlet_confirm={confirm}"] if confirm else []))
    assert f"gauntlet refused the experiment: {refusal}" in ran.stdout + ran.stderr, ran.stdout[-3000:]
    assert serving_kube.writes == []


def test_a_plain_chaos_run_with_the_typed_confirmation_acts(guarded, serving_kube):
    path = guarded(server=serving_kube.url, production=True, confirm=True)
    ran = chaos_run(path, serving_kube.url, "gauntlet_confirm=fakeprod")
    assert "gauntlet refused" not in ran.stdout + ran.stderr, ran.stdout[-3000:]
    deleted = [p for method, p in serving_kube.writes if method == "DELETE" and "/namespaces/athens/pods/" in p]
    assert deleted, f"no pod deleted: {ran.stdout[-3000:]}"
