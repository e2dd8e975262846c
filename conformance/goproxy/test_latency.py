"""Latency per request class, against the environment's budgets.

A cached artefact served within its budget is served from storage: the seeds' reason
for Kubernetes is that `git` on the request path made Athens slow and crash (seed 001:
"don't use `git` for the backbone of your global service"). Timing needs requests of
its own: the session's shared answers were fetched concurrently, with connection
set-up and the real go client competing for the CPU. So the shared answers warm the
caches and connections, then the window's rounds of the class's paths are timed, one
request after another, until the judged percentile is beyond the budget whatever the
rest would show. The figures are recorded in the report; the check fails only beyond
the stated budget.
"""

from __future__ import annotations

import math
import statistics

import pytest

from gauntlet.goproxy.protocol import artefact_path, list_path

PATHS = {
    "artefact": lambda m, v: (artefact_path(m, v, "info"), artefact_path(m, v, "mod")),
    "list": lambda m, v: (list_path(m),),
}


def _percentile(samples: list[float], percentile: float) -> float:
    """Nearest rank: the smallest sample that ``percentile`` % of the samples do not exceed."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(percentile / 100 * len(ordered)) - 1)]


@pytest.mark.check("latency.goproxy.within-budget")
@pytest.mark.parametrize("request_class", list(PATHS))
def test_request_class_within_budget(goproxy, environment, request_class, record_property):
    """The latency of a request class (artefacts, lists) of the probe set, warm, judged on the environment's
    window (``goproxy.latency_window``: its percentile over several rounds) is within its budget: served from
    storage, not from git."""
    budget = environment.goproxy.budgets_ms.get(request_class) if environment.goproxy else None
    if budget is None:
        pytest.skip(f"environment {environment.name} states no latency budget for {request_class} requests")
    window = environment.goproxy.latency_window
    paths = list(dict.fromkeys(p for probe in environment.goproxy.probe_set for p in PATHS[request_class](probe.module, probe.version)))
    goproxy.get_many(paths)  # warm: the budget is for cached answers
    planned = window.rounds * len(paths)
    allowed_over = planned - math.ceil(window.percentile / 100 * planned)  # samples that may lie above the judged rank
    answers = []
    for path in [p for _ in range(window.rounds) for p in paths]:  # once more are over budget, the rest is not timed
        answers.append(goproxy.fetch(path))
        if sum(a.elapsed_ms > budget for a in answers) > allowed_over:
            break
    samples = [a.elapsed_ms for a in answers]
    errors = [a.describe() for a in answers if a.status != 200]
    p50, judged = statistics.median(samples), _percentile(samples, window.percentile)
    label = f"p{window.percentile:g}"
    record_property("latency_ms", {"class": request_class, "p50": round(p50, 1), label: round(judged, 1),
                                   "samples": len(samples), "window": window.model_dump(), "budget": budget})
    assert not errors, f"{goproxy.base_url} {request_class}: expected 200 while measuring, found {errors[0]}"
    timed = (f"{len(samples)} of {planned} requests timed: the rest could not bring it back" if len(samples) < planned
             else f"{len(samples)} requests in {window.rounds} rounds")
    assert judged <= budget, (f"{goproxy.base_url} {request_class} requests: expected {label} <= {budget} ms, measured "
                              f"{label} {judged:.0f} ms (p50 {p50:.0f} ms, {timed})")
