"""The exception tree means what it says, and the same cause gives the same outcome in every kind of evidence.

``NotChecked`` (the question could not be asked: a 403 from the Kubernetes API) is no
``TargetError``: a conformance check that meets it is skipped (the claim says not-checked), and a
chaos run that meets it (a sampled probe, a hypothesis probe in Chaos Toolkit, the plan of an
action) is skipped too, never failed. A target that gives no answer (``TargetUnreachable``) is a
deviation: a failure, ``cause: unreachable`` for a component, and a steady state not held in chaos.
Against a Kubernetes API on loopback that forbids everything; no local stack.
"""

from __future__ import annotations

import inspect
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from chaoslib.activity import execute_activity

from gauntlet import exceptions, transport
from gauntlet.chaos import targets, timeline, verdict
from gauntlet.cloud import errors as cloud_errors
from gauntlet.exceptions import GauntletError, NotChecked, TargetError, TargetUnreachable
from gauntlet.kubernetes import client as kube_client
from gauntlet.kubernetes import errors as kube_errors

pytest_plugins = ["pytester"]

FORBIDDEN = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "Forbidden", "code": 403,
             "message": 'pods is forbidden: User "gauntlet" cannot list resource "pods" in the namespace "athens"'}
POD_PROBE = {"type": "probe", "name": "athens-pods-ready", "tolerance": True,
             "provider": {"type": "python", "module": "gauntlet.chaos.probes", "func": "pods_ready",
                          "arguments": {"namespace": "athens", "label_selector": "app=athens", "min_ready": 2}}}


class _Forbidding(BaseHTTPRequestHandler):
    """``/version`` answers (the guard's question); every other request is a 403 Forbidden Status."""

    def do_GET(self) -> None:
        status, body = (200, {"major": "1", "minor": "36"}) if self.path.rstrip("/") == "/version" else (403, FORBIDDEN)
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_DELETE = do_PATCH = do_POST = do_GET

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def forbidding_api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict]:
    """A Kubernetes API on loopback that forbids every request; the run configuration that points at it."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Forbidding)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "fake",
        "clusters": [{"name": "fake", "cluster": {"server": url}}], "users": [{"name": "u", "user": {"token": "t"}}],
        "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "u"}}]}))
    monkeypatch.setenv(kube_client.LOOPBACK_ONLY_ENV, "1")
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    monkeypatch.setattr(kube_client, "_clusters", {})
    yield {"kubeconfig": str(kubeconfig), "kube_context": "fake", "kube_api_server": url}
    server.shutdown()
    server.server_close()


def _gauntlet_errors() -> list[type]:
    modules = (exceptions, kube_errors, cloud_errors, transport)
    return [c for m in modules for _, c in inspect.getmembers(m, inspect.isclass) if issubclass(c, GauntletError)]


def test_not_checked_is_no_target_error_and_no_except_of_one_catches_the_other():
    assert not issubclass(NotChecked, TargetError) and issubclass(TargetUnreachable, TargetError)
    for cls in _gauntlet_errors():
        assert not (issubclass(cls, NotChecked) and issubclass(cls, TargetError)), cls
    with pytest.raises(NotChecked):
        try:
            raise NotChecked("403 Forbidden")
        except TargetUnreachable:
            pytest.fail("except TargetUnreachable caught a NotChecked")


CHECK_403 = '''
import pytest

from gauntlet.kubernetes.pod.probes import list_pods

CONFIGURATION = {configuration!r}

@pytest.mark.check("goproxy.info.version-matches")  # any kind a claim of the sample names: it routes the result
def test_pods_are_listed():
    """A check that asks the Kubernetes API a question it forbids."""
    assert list_pods("athens", "app=athens", CONFIGURATION)
'''


def test_a_403_is_not_checked_in_conformance(forbidding_api, pytester, write_env, env_data, env_dir):
    write_env(env_data)
    (pytester.path / "conformance" / "goproxy").mkdir(parents=True)
    (pytester.path / "conformance" / "goproxy" / "test_kube.py").write_text(CHECK_403.format(configuration=forbidding_api))
    pytester.runpytest("--env", "sample", "-p", "no:cacheprovider").assert_outcomes(skipped=1)
    results = json.loads((env_dir.parent / "reports" / "latest" / "results.json").read_text())
    check = next(r for r in results["checks"] if r["id"].endswith("test_pods_are_listed"))
    assert check["outcome"] == "skipped" and "403 Forbidden" in check["message"], check
    assert {c["id"]: c["verdict"] for c in results["claims"]}["sample-protocol"] == "not-checked"


def test_a_403_is_not_checked_in_chaos_wherever_it_is_met(forbidding_api):
    config = forbidding_api
    # the sampler, twice a second: the sample is not a steady state lost, it is a question not asked
    spec = timeline.probe_spec(POD_PROBE, config, None, steady=True, invariant=True)
    sample = timeline.Sampler([spec], deadline_s=30).sample_once()
    assert sample.values[spec.name].not_checked and "403 Forbidden" in sample.values[spec.name].detail
    why = verdict.not_checked([sample], {})
    assert why and why.startswith("not-checked: ") and "403 Forbidden" in why
    # the hypothesis probe in Chaos Toolkit: its journal entry says NotChecked, and so does the verdict
    run = execute_activity({}, POD_PROBE, config, {}, None)
    assert run["status"] == "failed"
    journal = {"steady_states": {"before": {"steady_state_met": False, "probes": [run]}}}
    why = verdict.not_checked([], journal)
    assert why and why.startswith("not-checked: athens-pods-ready: ") and "403 Forbidden" in why
    outcome, message = verdict.judge(verdict.Observed(deadline_s=30, before_met=False, interrupted=why))
    assert outcome == "skipped" and "403 Forbidden" in message
    # even after faults and a steady state seen lost, what could not be asked is not judged
    outcome, _ = verdict.judge(verdict.Observed(deadline_s=30, interrupted=why, faults=1, deviated=True,
                                                invariant_breaches=timeline.invariant_breaches([sample], (spec.name,), 0)))
    assert outcome == "skipped"
    # the plan of an action: the targets could not be listed
    action = {"type": "action", "name": "terminate-one-athens-pod",
              "provider": {"type": "python", "module": "chaosk8s.pod.actions", "func": "terminate_pods",
                           "arguments": {"label_selector": "app=athens", "ns": "athens", "qty": 1}}}
    with pytest.raises(NotChecked, match="403"):
        targets.resolve(action, config)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_unreachable_target_is_a_deviation_in_conformance_and_in_chaos(pytester, write_env, env_data, env_dir):
    url = f"http://127.0.0.1:{_closed_port()}/"
    write_env(env_data)
    (pytester.path / "conformance" / "goproxy").mkdir(parents=True)
    (pytester.path / "conformance" / "goproxy" / "test_down.py").write_text(
        "import pytest\n\nfrom gauntlet.exceptions import TargetUnreachable\n\n"
        "@pytest.mark.check('goproxy.info.version-matches', observes='component')\n"
        f"def test_replica_answers():\n    raise TargetUnreachable('GET {url}: connection refused')\n")
    pytester.runpytest("--env", "sample", "-p", "no:cacheprovider").assert_outcomes(failed=1)
    results = json.loads((env_dir.parent / "reports" / "latest" / "results.json").read_text())
    check = next(r for r in results["checks"] if r["id"].endswith("test_replica_answers"))
    assert (check["outcome"], check["cause"], check["scope"]) == ("failed", "unreachable", "component"), check
    # chaos: the same silence is the steady state not held (no answer at all), never a question not asked
    spec = timeline.probe_spec({"type": "probe", "name": "edge-ok", "tolerance": True,
                                "provider": {"type": "python", "module": "gauntlet.chaos.probes", "func": "http_ok",
                                             "arguments": {"url": url}}}, {}, None, steady=True, invariant=True)
    sample = timeline.Sampler([spec], deadline_s=30).sample_once()
    assert not sample.ok and not sample.values[spec.name].not_checked and "no answer" in sample.values[spec.name].detail
    assert verdict.not_checked([sample], {}) is None
    breaches = timeline.invariant_breaches([sample], (spec.name,), 0)
    assert verdict.judge(verdict.Observed(deadline_s=30, faults=1, invariant_breaches=tuple(breaches)))[0] == "failed"
