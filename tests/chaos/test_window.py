"""Steady state on a window (chaos.steady_state_window): one slow answer is a data point, a sustained breach aborts.

The target is a small loopback server whose answers are slow on purpose; the probe and Chaos Toolkit are the real ones.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from chaoslib.experiment import run_experiment

from gauntlet.chaos.probes import measure_http_ok

WINDOW = {"samples": 5, "interval_s": 0.05, "percentile": 80, "max_errors": 0}


class Answers(BaseHTTPRequestHandler):
    """200 after ``slow_s`` for the requests whose number is in ``slow`` (all of them with ``slow = None``)."""

    slow: set[int] | None = set()
    slow_s = 0.6
    count = 0

    def do_GET(self) -> None:
        type(self).count += 1
        if self.slow is None or self.count in self.slow:
            time.sleep(self.slow_s)
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def target(request: pytest.FixtureRequest) -> Iterator[str]:
    handler = type("Handler", (Answers,), {"slow": request.param, "count": 0})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/list"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("target", [{1}], indirect=True)
def test_one_slow_answer_in_the_window_keeps_the_hypothesis(target):
    held = measure_http_ok(target, max_ms=300, **WINDOW)
    assert held.ok, held.detail
    assert "5 answers 0.05 s apart: p80" in held.detail and "slowest 6" in held.detail


@pytest.mark.parametrize("target", [{1}], indirect=True)
def test_one_answer_alone_would_decide(target):
    single = measure_http_ok(target, max_ms=300)
    assert not single.ok and "(expected 200 within 300 ms)" in single.detail


@pytest.mark.parametrize("target", [None], indirect=True)
def test_a_sustained_breach_fails_the_window(target):
    breached = measure_http_ok(target, max_ms=300, **WINDOW)
    assert not breached.ok and "p80 6" in breached.detail, breached.detail


def _experiment(url: str, marker: str) -> dict:
    return {
        "version": "1.0.0", "title": "window", "description": "the windowed hypothesis decides whether the method runs",
        "steady-state-hypothesis": {"title": "served within budget", "probes": [{
            "type": "probe", "name": "served", "tolerance": True,
            "provider": {"type": "python", "module": "gauntlet.chaos.probes", "func": "http_ok",
                         "arguments": {"url": url, "max_ms": 300, **WINDOW}}}]},
        "method": [{"type": "action", "name": "mark", "provider": {
            "type": "python", "module": "os", "func": "mkdir", "arguments": {"path": marker}}}],
    }


@pytest.mark.parametrize(("target", "method_ran"), [({1}, True), (None, False)], indirect=["target"],
                         ids=["one-slow-answer", "sustained-breach"])
def test_chaos_toolkit_runs_the_method_only_on_a_held_window(target, method_ran, tmp_path):
    marker = tmp_path / "method-ran"
    journal = run_experiment(_experiment(target, str(marker)))
    assert journal["steady_states"]["before"]["steady_state_met"] is method_ran
    assert marker.exists() is method_ran, "a sustained breach aborts before the method: nothing is broken"
