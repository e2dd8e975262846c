"""Latency per request class, against the environment's budgets.

A cached artefact served within its budget is served from storage: the seeds' reason
for Kubernetes is that `git` on the request path made Athens slow and crash (seed 001:
"don't use `git` for the backbone of your global service"). Measured figures are
recorded in the report; the check fails only beyond the stated budget.
"""

from __future__ import annotations

import math
import statistics

import pytest

from gauntlet.goproxy.module import escape

PATHS = {
    "artefact": lambda m, v: (f"{escape(m)}/@v/{escape(v)}.info", f"{escape(m)}/@v/{escape(v)}.mod"),
    "list": lambda m, v: (f"{escape(m)}/@v/list",),
}


def _percentile(samples: list[float], percentile: float) -> float:
    """Nearest rank: the smallest sample that ``percentile`` % of the samples do not exceed."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(percentile / 100 * len(ordered)) - 1)]


@pytest.mark.parametrize("request_class", list(PATHS))
@pytest.mark.check("latency.goproxy.within-budget")
def test_request_class_within_budget(goproxy, environment, request_class, record_property):
    """The latency of a request class (artefacts, lists) of the probe set, warm, judged on the environment's
    window (``goproxy.latency_window``: its percentile over several rounds) is within its budget: served from
    storage, not from git."""
    budget = environment.goproxy.budgets_ms.get(request_class) if environment.goproxy else None
    if budget is None:
        pytest.skip(f"environment {environment.name} states no latency budget for {request_class} requests")
    window = environment.goproxy.latency_window
    paths = [p for probe in environment.goproxy.probe_set for p in PATHS[request_class](probe.module, probe.version)]
    for path in paths:  # warm: the budget is for cached answers
        goproxy.get(path)
    samples, errors = [], []
    for _ in range(window.rounds):
        for path in paths:
            answer = goproxy.get(path)
            samples.append(answer.elapsed_ms)
            if answer.status != 200:
                errors.append(answer.describe())
    p50, judged = statistics.median(samples), _percentile(samples, window.percentile)
    label = f"p{window.percentile:g}"
    record_property("latency_ms", {"class": request_class, "p50": round(p50, 1), label: round(judged, 1),
                                   "samples": len(samples), "window": window.model_dump(), "budget": budget})
    assert not errors, f"{goproxy.base_url} {request_class}: expected 200 while measuring, found {errors[0]}"
    assert judged <= budget, (f"{goproxy.base_url} {request_class} requests: expected {label} <= {budget} ms, measured "
                              f"{label} {judged:.0f} ms (p50 {p50:.0f} ms, {len(samples)} requests in {window.rounds} rounds)")
