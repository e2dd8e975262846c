"""A load run's figures judged against its profile's SLOs: one check per SLO, kind "load".

Check ids: ``load:<profile>:<metric>`` (``[claim]`` appended when a profile has
the same metric twice), ``load:<profile>:stop`` when the stop condition ended
the run early, ``load:<profile>:run`` when Locust itself failed. Messages carry
the measured figure, e.g. ``p95 812 ms > 500 ms (12 340 requests in 20 s, 0.2 % errors)``.

Details: ``measured`` holds all the run's figures; ``figures`` the ones worth a trend
(p50/p95/p99, rps, error rate) under ``figures_of`` = ``load:<profile>``, so the history
(``gauntlet.history``) trends each figure of a profile once, whichever SLOs it has.
"""

from __future__ import annotations

from collections import Counter
from typing import Optional

from gauntlet.environment import LoadProfile, Slo
from gauntlet.ledger import CheckResult
from gauntlet.load.figures import Figures

LABEL = {"rps": "rps", "p50_ms": "p50", "p95_ms": "p95", "p99_ms": "p99", "error_rate": "error rate"}


def _count(n: int) -> str:
    return f"{n:,}".replace(",", " ")


def show(metric: str, value: float) -> str:
    """A figure as an on-call engineer reads it: ``p95 812 ms``, ``error rate 0.2 %``, ``rps 48.3``."""
    if metric == "error_rate":
        return f"{value * 100:.1f} %" if value >= 0.001 or value == 0 else f"{value * 100:.2g} %"
    if metric == "rps":
        return f"{value:.1f}"
    return f"{value:.0f} ms"


def _limit(metric: str, value: float) -> str:
    if metric == "error_rate":
        return f"{value * 100:g} %"
    return f"{value:g}" if metric == "rps" else f"{value:g} ms"


def context(figures: Figures, elapsed_s: Optional[float]) -> str:
    took = f" in {elapsed_s:.0f} s" if elapsed_s is not None else ""
    return f"({_count(figures.requests)} requests{took}, {show('error_rate', figures.error_rate)} errors)"


def judge_slo(slo: Slo, figures: Figures) -> tuple[bool, str]:
    """(kept, "p95 812 ms > 500 ms") for one SLO on the run's figures."""
    value = figures.metric(slo.metric)
    assert value is not None
    if slo.max is not None:
        kept = value <= slo.max
        relation, limit = ("<=" if kept else ">"), slo.max
    else:
        assert slo.min is not None
        kept = value >= slo.min
        relation, limit = (">=" if kept else "<"), slo.min
    return kept, f"{LABEL[slo.metric]} {show(slo.metric, value)} {relation} {_limit(slo.metric, limit)}"


def check_ids(name: str, slos: tuple[Slo, ...]) -> list[str]:
    twice = {m for m, n in Counter(s.metric for s in slos).items() if n > 1}
    return [f"load:{name}:{s.metric}" + (f"[{s.claim}]" if s.metric in twice else "") for s in slos]


def _top_failure(failures: list[dict]) -> str:
    if not failures:
        return ""
    top = failures[0]
    error = top["error"]
    for wrapper in ("CatchResponseError(", "HTTPError("):  # as Locust's failures CSV writes them
        if error.startswith(wrapper) and error.endswith(")"):
            error = error[len(wrapper):-1].strip("'\"")
    return f"; most frequent failure: {error} on {top['method']} {top['name']} ({_count(top['occurrences'])}x)"


def stopped_claims(profile: LoadProfile, metric: str) -> tuple[str, ...]:
    """The claims an early stop on ``metric`` breaks: those with an SLO on that kind of figure
    (error rate, or latency for p95) and those with an rps SLO (the load was not held to the end);
    every claim of the profile when none matches."""
    family = {"error_rate"} if metric == "error_rate" else {"p50_ms", "p95_ms", "p99_ms"}
    hit = tuple(dict.fromkeys(s.claim for s in profile.slos if s.metric in family | {"rps"}))
    return hit or tuple(dict.fromkeys(s.claim for s in profile.slos))


def evaluate(name: str, profile: LoadProfile, figures: Optional[Figures], outcome: Optional[dict], *,
             failures: Optional[list[dict]] = None, problem: Optional[str] = None,
             duration_s: float = 0.0, details: Optional[dict] = None) -> list[CheckResult]:
    """The checks of one load run.

    ``outcome`` is the guard's ``outcome.json`` (how the run ended, the stop
    condition's trip); ``problem`` says why Locust failed, if it did.
    """
    outcome = outcome or {}
    failures = failures or []
    claims = tuple(dict.fromkeys(s.claim for s in profile.slos))
    elapsed = outcome.get("elapsed_s")
    base = {**(details or {}), "ended_by": outcome.get("ended_by"), "elapsed_s": elapsed,
            "measured": figures.to_json() if figures else None, "top_failures": failures}
    results: list[CheckResult] = []
    if figures is None or figures.requests == 0:
        why = problem or "no request finished"
        for check_id, slo in zip(check_ids(name, profile.slos), profile.slos):
            results.append(CheckResult(id=check_id, kind="load", claims=(slo.claim,), outcome="error",
                                       message=f"no figures to judge {LABEL[slo.metric]} on: {why}",
                                       duration_s=duration_s, details={**base, "slo": slo.model_dump()}))
        return results
    trip = outcome.get("stop")
    early = f"; the run stopped early at {trip['at_s']:.0f} s of {profile.duration_s} s" if trip else ""
    trend = {metric: figures.metric(metric) for metric in ("rps", "p50_ms", "p95_ms", "p99_ms", "error_rate")}
    for check_id, slo in zip(check_ids(name, profile.slos), profile.slos):
        kept, verdict = judge_slo(slo, figures)
        message = f"{verdict} {context(figures, elapsed)}{early}"
        if not kept and slo.metric == "error_rate":
            message += _top_failure(failures)
        results.append(CheckResult(id=check_id, kind="load", claims=(slo.claim,), outcome="passed" if kept else "failed",
                                   message=message, duration_s=duration_s,
                                   details={**base, "slo": slo.model_dump(), "value": figures.metric(slo.metric),
                                            "figures_of": f"load:{name}", "figures": trend}))
    if trip:
        results.append(CheckResult(
            id=f"load:{name}:stop", kind="load", claims=stopped_claims(profile, trip["metric"]), outcome="failed",
            duration_s=duration_s,
            message=f"stop condition: {trip['message']}: run ended at {trip['at_s']:.0f} s of {profile.duration_s} s "
                    f"{context(figures, None)}{_top_failure(failures)}",
            details={**base, "stop": trip}))
    if problem:
        results.append(CheckResult(id=f"load:{name}:run", kind="load", claims=claims, outcome="error",
                                   message=problem, duration_s=duration_s, details=base))
    return results
