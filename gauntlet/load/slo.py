"""A load run's figures judged against its profile's SLOs: one check per SLO, evidence "load".

Each SLO is a check of kind ``load.<metric>`` (:data:`gauntlet.catalogue.LOAD_KINDS`), evidence
for the claims that name it with the profile (``load.p95@smoke``). Check ids:
``load:<profile>:<metric>``, ``load:<profile>:stop`` when the stop condition ended the run
early, ``load:<profile>:run`` when Locust itself failed. Messages carry the measured figure,
e.g. ``p95 812 ms > 500 ms (12 340 requests in 20 s, 0.2 % errors)``. A profile that is evidence
only during a chaos experiment's fault (``during:``) is judged on that window
(:func:`evaluate_window`) or is not evidence at all (:func:`not_evidence`).

Details: ``measured`` holds all the run's figures; ``figures`` the ones worth a trend
(p50/p95/p99, rps, error rate) under ``figures_of`` = ``load:<profile>``, so the history
(``gauntlet.history``) trends each figure of a profile once, whichever SLOs it has.
"""

from __future__ import annotations

from gauntlet.catalogue import LOAD_KINDS, matches
from gauntlet.environment import Environment, Slo
from gauntlet.ledger import NOT_EVIDENCE, CheckResult
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


def context(figures: Figures, elapsed_s: float | None) -> str:
    took = f" in {elapsed_s:.0f} s" if elapsed_s is not None else ""
    return f"({_count(figures.requests)} requests{took}, {show('error_rate', figures.error_rate)} errors)"


def judge_slo(slo: Slo, figures: Figures) -> tuple[bool, str]:
    """(kept, "p95 812 ms > 500 ms") for one SLO on the run's figures (which hold its metric)."""
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


def check_id(name: str, slo: Slo) -> str:
    return f"load:{name}:{slo.metric}"


def kind_of(slo: Slo) -> str:
    return LOAD_KINDS[slo.metric][0]


def claims_of(env: Environment, name: str, slo: Slo) -> tuple[str, ...]:
    """The claims that name this SLO: its kind, at this profile (``load.p95@smoke``, ``load.*@smoke``)."""
    return tuple(c.id for c in env.claims
                 if any(p.partition("@")[2] == name and matches(p, kind_of(slo)) for p in c.evidence))


def _result(env: Environment, name: str, slo: Slo, outcome: str, message: str, duration_s: float,
            details: dict) -> CheckResult:
    return CheckResult(id=check_id(name, slo), evidence="load", claims=claims_of(env, name, slo), outcome=outcome,  # type: ignore[arg-type]
                       message=message, duration_s=duration_s, details={**details, "profile": name, "slo": slo.model_dump()},
                       kinds=(kind_of(slo),), subject=f"load profile {name}")


def _top_failure(failures: list[dict]) -> str:
    if not failures:
        return ""
    top = failures[0]
    error = top["error"]
    for wrapper in ("CatchResponseError(", "HTTPError("):  # as Locust's failures CSV writes them
        if error.startswith(wrapper) and error.endswith(")"):
            error = error[len(wrapper):-1].strip("'\"")
    return f"; most frequent failure: {error} on {top['method']} {top['name']} ({_count(top['occurrences'])}x)"


def stopped_claims(env: Environment, name: str, metric: str) -> tuple[str, ...]:
    """The claims an early stop on ``metric`` breaks: those of the SLOs on that kind of figure (error rate,
    or latency for p95) and of an rps SLO (the load was not held to the end); those of every SLO when none matches."""
    slos = env.load_profile(name).slos
    family = {"error_rate"} if metric == "error_rate" else {"p50_ms", "p95_ms", "p99_ms"}
    hit = [c for slo in slos if slo.metric in family | {"rps"} for c in claims_of(env, name, slo)]
    return tuple(dict.fromkeys(hit or [c for slo in slos for c in claims_of(env, name, slo)]))


def evaluate(env: Environment, name: str, figures: Figures | None, outcome: dict | None, *,
             failures: list[dict] | None = None, problem: str | None = None,
             duration_s: float = 0.0, details: dict | None = None) -> list[CheckResult]:
    """The checks of one load run of profile ``name``.

    ``outcome`` is the guard's ``outcome.json`` (how the run ended, the stop
    condition's trip); ``problem`` says why Locust failed, if it did.
    """
    profile = env.load_profile(name)
    outcome = outcome or {}
    failures = failures or []
    elapsed = outcome.get("elapsed_s")
    base = {**(details or {}), "ended_by": outcome.get("ended_by"), "elapsed_s": elapsed,
            "measured": figures.to_json() if figures else None, "top_failures": failures}
    if figures is None or figures.requests == 0:
        why = problem or "no request finished"
        return [_result(env, name, slo, "error", f"no figures to judge {LABEL[slo.metric]} on: {why}", duration_s, base)
                for slo in profile.slos]
    results: list[CheckResult] = []
    trip = outcome.get("stop")
    early = f"; the run stopped early at {trip['at_s']:.0f} s of {profile.duration_s} s" if trip else ""
    trend = {metric: figures.metric(metric) for metric in ("rps", "p50_ms", "p95_ms", "p99_ms", "error_rate")}
    for slo in profile.slos:
        kept, verdict = judge_slo(slo, figures)
        message = f"{verdict} {context(figures, elapsed)}{early}"
        if not kept and slo.metric == "error_rate":
            message += _top_failure(failures)
        results.append(_result(env, name, slo, "passed" if kept else "failed", message, duration_s,
                               {**base, "value": figures.metric(slo.metric), "figures_of": f"load:{name}", "figures": trend}))
    everyone = tuple(dict.fromkeys(c for slo in profile.slos for c in claims_of(env, name, slo)))
    if trip:
        results.append(CheckResult(
            id=f"load:{name}:stop", evidence="load", claims=stopped_claims(env, name, trip["metric"]), outcome="failed",
            duration_s=duration_s, subject=f"load profile {name}", kinds=tuple(kind_of(s) for s in profile.slos),
            message=f"stop condition: {trip['message']}: run ended at {trip['at_s']:.0f} s of {profile.duration_s} s "
                    f"{context(figures, None)}{_top_failure(failures)}",
            details={**base, "profile": name, "stop": trip}))
    if problem:
        results.append(CheckResult(id=f"load:{name}:run", evidence="load", claims=everyone, outcome="error",
                                   message=problem, duration_s=duration_s, subject=f"load profile {name}",
                                   kinds=tuple(kind_of(s) for s in profile.slos), details={**base, "profile": name}))
    return results


def not_evidence(env: Environment, name: str, why: str, details: dict | None = None) -> list[CheckResult]:
    """The profile's SLO checks as skipped: figures that cannot prove their claims (``during:`` evidence
    outside a fault window)."""
    return [_result(env, name, slo, "skipped", f"{NOT_EVIDENCE}: {why}", 0.0, details or {})
            for slo in env.load_profile(name).slos]


def evaluate_window(env: Environment, name: str, window: dict, experiment: str, details: dict) -> list[CheckResult]:
    """The SLOs of a ``during:`` profile judged on the fault window of ``experiment`` only: ``window`` holds the
    requests, failures, seconds and worst per-second p95 of the load inside it (:func:`gauntlet.chaos.timeline.phases`)."""
    requests = int(window.get("requests") or 0)
    if not requests:
        return not_evidence(env, name, f"no request of the load ran inside the fault window of {experiment}", details)
    figures = Figures(requests=requests, failures=int(window.get("failures") or 0),
                      rps=round(requests / max(1, window.get("seconds") or 1), 1), p50_ms=None,
                      p95_ms=window.get("worst_p95_ms"), p99_ms=None, avg_ms=None, max_ms=None)
    out = []
    for slo in env.load_profile(name).slos:
        if figures.metric(slo.metric) is None:
            out.append(_result(env, name, slo, "skipped", f"{NOT_EVIDENCE}: the fault window's per-second figures hold "
                                                         f"no {LABEL[slo.metric]}", 0.0, details))
            continue
        kept, verdict = judge_slo(slo, figures)
        out.append(_result(env, name, slo, "passed" if kept else "failed",
                           f"{verdict} inside the fault window of {experiment} ({_count(requests)} requests, "
                           f"{_count(figures.failures)} failed)", 0.0,
                           {**details, "window": window, "value": figures.metric(slo.metric)}))
    return out
