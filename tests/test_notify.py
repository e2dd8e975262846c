"""The gate's verdict reaches a Slack-compatible webhook (a local receiver), and regressions can fail the gate."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from gauntlet import paths
from gauntlet.cli import gate_exit
from gauntlet.environment import load_environment


@pytest.fixture
def receiver():
    received: list[dict] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/hooks/T000/B000", received
    httpd.shutdown()
    httpd.server_close()


def test_gate_verdict_is_announced(write_env, env_data, receiver, monkeypatch):
    url, received = receiver
    monkeypatch.setenv("GAUNTLET_TEST_WEBHOOK", url)
    env_data["notify"] = {"webhook_url": "${GAUNTLET_TEST_WEBHOOK}"}
    write_env(env_data)
    proc = subprocess.run([sys.executable, "-m", "gauntlet", "gate", "sample"], capture_output=True, text=True, timeout=120, cwd=paths.ROOT)
    assert proc.returncode == 3, proc.stderr
    assert "webhook: announced (200)" in proc.stderr
    assert url not in proc.stderr + proc.stdout, "the webhook URL is a secret: it must not be logged"
    [payload] = received
    assert payload["text"].startswith("gauntlet gate sample: NOT-CHECKED (exit 3)")
    assert "Gating claims not verified: sample-protocol, sample-fast" in payload["text"]


def test_passing_gate_is_not_announced_by_default(write_env, env_data, receiver):
    url, received = receiver
    env_data["notify"] = {"webhook_url": url}
    write_env(env_data)
    document = {"claims": [{"gates": True, "verdict": "verified", "waiver": None}], "regressions": []}
    assert gate_exit(load_environment("sample"), document) == 0
    assert received == []


@pytest.mark.parametrize(("gate_on_regression", "code"), [(False, 0), (True, 1)])
def test_regression_fails_the_gate_only_when_asked(write_env, env_data, gate_on_regression, code):
    env_data["history"] = {"gate_on_regression": gate_on_regression}
    write_env(env_data)
    document = {"claims": [{"gates": True, "verdict": "verified", "waiver": None}],
                "regressions": ["load:smoke:p95:p95_ms: 100 in r1, 180 now (tolerance 20%)"]}
    assert gate_exit(load_environment("sample"), document) == code
