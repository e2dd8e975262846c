"""Planted secrets reach no output: every file of the run folder (and the history), stdout and stderr.

Planted: a password in the endpoint's URL (``http://user:password@host``), which httpx and Locust
send as basic auth to a target that echoes the request's headers in its body (as text, as a
Python repr after a literal ``\\n``, as JSON), so failure messages quote it; and a kubeconfig's
bearer token, which a Kubernetes API echoes in its 403 answers to the chaos run's probes. The
target must have seen them (else the test proves nothing), and the run folder must show the
mask where they were.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from gauntlet.redact import MASK

pytestmark = pytest.mark.slow

USER, PASSWORD = "ops", "planted-Pw-7f3c9e"
BASIC = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()


def leaks(secrets: list[str], reports: Path, *streams: str) -> list[str]:
    """Where any of ``secrets`` appears: files under ``reports`` (bytes, the history database too) and streams."""
    found = []
    for path in sorted(p for p in reports.rglob("*") if p.is_file()):
        data = path.read_bytes()
        found += [f"{path.relative_to(reports)}: {s}" for s in secrets if s.encode() in data]
    for i, stream in enumerate(streams):
        found += [f"stream {i}: {s}" for s in secrets if s in stream]
    return found


def with_password(url: str) -> str:
    return url.replace("http://", f"http://{USER}:{PASSWORD}@")


@pytest.mark.parametrize("target", ["echo"], indirect=True)
def test_a_password_in_the_url_and_its_echo_reach_no_output_of_a_conformance_run(target, hostile_env, reports, cli):
    hostile_env(with_password(target.url), timeout_s=2)
    ran = cli("conformance", "hostile", "--suite", "goproxy", timeout=300)
    assert ran.returncode == 1, ran.stderr[-3000:]
    assert any(h.get("Authorization") == f"Basic {BASIC}" for _, _, _, h in target.requests), "basic auth was sent"
    assert leaks([PASSWORD, BASIC], reports, ran.stdout, ran.stderr) == []
    results = json.loads(((reports / "latest").resolve() / "results.json").read_text())
    assert f"http://{USER}:{MASK}@127.0.0.1" in json.dumps(results), "the URL is there, its password masked"
    assert f"Authorization: {MASK}" in json.dumps(results), "the echoed header is there, its value masked"


@pytest.mark.parametrize("target", ["echo"], indirect=True)
def test_a_password_in_the_url_and_its_echo_reach_no_output_of_a_load_run(target, hostile_env, env_dir, reports, cli):
    import yaml

    path = hostile_env(with_password(target.url))
    data = yaml.safe_load(path.read_text())
    data["load_profiles"]["steady"].update(user="goproxy", duration_s=4, users=2)
    path.write_text(yaml.safe_dump(data))
    ran = cli("load", "hostile", "--profile", "steady", timeout=120)
    assert ran.returncode == 1, ran.stderr[-3000:]
    assert any(h.get("Authorization") == f"Basic {BASIC}" for _, _, _, h in target.requests), "basic auth was sent"
    assert leaks([PASSWORD, BASIC], reports, ran.stdout, ran.stderr) == []
    run = (reports / "latest").resolve()
    assert (run / "load" / "steady" / "locust.html").is_file() and (run / "load" / "steady" / "locust.log").is_file()
    check = json.loads((run / "checks.jsonl").read_text().splitlines()[0])
    assert check["details"]["host"] == f"http://{USER}:{MASK}@127.0.0.1:{target.server_address[1]}"
    assert f"http://{USER}:{MASK}@127.0.0.1" in ran.stderr, "the progress line names the host, its password masked"


def test_a_bearer_token_echoed_by_the_kubernetes_api_reaches_no_output_of_a_chaos_run(guarded, token_echoing_kube,
                                                                                     reports, cli):
    guarded(server=token_echoing_kube.url, steady_state_deadline_s=3)
    ran = cli("chaos", "fakeprod", "athens-pod-loss", timeout=180)
    assert "Bearer not-a-secret" == token_echoing_kube.authorization, "the token was sent"
    run = (reports / "latest").resolve()
    out = run / "chaos" / "athens-pod-loss"
    for name in ("chaostoolkit.log", "chaostoolkit.out", "events.jsonl", "journal.json"):
        assert (out / name).is_file(), f"{name} missing: {ran.stderr[-3000:]}"
    assert leaks(["not-a-secret"], reports, ran.stdout, ran.stderr) == []
    assert f"Authorization: {MASK}" in (out / "journal.json").read_text(), "the 403 answer is there, the token masked"
