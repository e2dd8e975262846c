"""Journal, timeline and outcome of one run, recorded: ``timeline-<experiment>.json`` and one check.

The check is ``chaos:<experiment>``, evidence for the experiment's claims the environment states;
its ``details`` hold the time to recovery (``figures.time_to_recovery_s``: history and trends),
each fault's recovery, invariant breaches, the stop condition, the rollbacks and who played them,
the plan (what each action hit), the load profile's figures per phase, the database client probes'
figures (unavailability, reconnect time, errors, lost writes), what an emulator cannot show, and the
paths of the journal, events and logs in the run folder.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from chaoslib.types import Journal

from gauntlet.chaos import timeline, verdict
from gauntlet.chaos.experiments import Experiment
from gauntlet.chaos.load_beside import LoadBeside
from gauntlet.chaos.process import faults as faults_of
from gauntlet.database import clients as db_clients
from gauntlet.database.clients import ClientProbes
from gauntlet.environment import Environment
from gauntlet.ledger import CheckResult
from gauntlet.run_folder import Run, write_atomic


def _db_figures(info: dict | None) -> dict:
    """The client probes' figures that history trends: unavailability, reconnect time, lost writes."""
    if not info or info["error"] or info["skipped"]:
        return {}
    out = {}
    for c, f in info["figures"].items():
        what = "write" if c == "writer" else "read"
        out[f"{what}_unavailable_s"] = f["unavailable_s"]
        if f["reconnect_s"] is not None:
            out[f"{what}_reconnect_s"] = f["reconnect_s"]
    if info["durability"].get("checked"):
        out["lost_writes"] = info["durability"]["lost"]
    return out


def why(run: dict) -> str:
    """The last line of an activity run's exception, without chaoslib's repeated class prefixes."""
    lines = "".join(run.get("exception") or []).strip().splitlines()
    if not lines:
        return repr(run.get("output")) if run.get("status") != "failed" else "failed"
    return re.sub(r"^(?:[\w.]+(?:Failed|Error|Exception|Deviation|NotChecked)\b: )+", "", lines[-1])[:400]


def _probe_detail(state: dict | None) -> str:
    for probe in (state or {}).get("probes") or ():
        if not probe.get("tolerance_met", True) or probe.get("status") == "failed":
            return f"{probe['activity'].get('name')}: {why(probe)}"
    return ""


def _db_clients(beside: tuple[ClientProbes, dict[str, bool], dict], served_again_at: float | None, end: float,
                t0: float) -> tuple[dict, list[str], list[dict], list[tuple[float, str]]]:
    """The client probes' figures, what broke their hypothesis, their timeline series and markers."""
    clients, stuck, durability = beside
    ops = clients.snapshot()
    figures = {c: db_clients.client_figures(ops, c, end, served_again_at, stuck.get(c, False)) for c in clients.names}
    budget = clients.settings.budget_s
    broken = [clients.error] if clients.error else db_clients.breaches(figures, durability, budget, t0)
    series, markers = [], []
    for c in clients.names:
        per_s: dict[int, list[int]] = {}
        for o in ops:
            if o.client == c:
                per_s.setdefault(int(o.end - t0), [0, 0])[0 if o.ok else 1] += 1
        label = "writes" if c == "writer" else "reads"
        series += [{"name": f"{label} acknowledged" if c == "writer" else "reads ok", "unit": "/s",
                    "points": [[t, v[0]] for t, v in sorted(per_s.items())]},
                   {"name": f"{label} failed", "unit": "/s", "points": [[t, v[1]] for t, v in sorted(per_s.items())]}]
        f = figures[c]
        if f["unavailable_s"] > 5 * db_clients.INTERVAL_S and f["unavailable_from"]:
            markers.append((f["unavailable_from"], f"{label} unavailable"))
            if f["unavailable_to"]:
                markers.append((f["unavailable_to"], f"{label} back ({f['unavailable_s']:g} s)"))
    if clients.skipped:
        figures, broken = {}, []
    info = {"figures": figures, "durability": durability, "budget_s": budget, "write_probe": clients.settings.write,
            "health_checks": clients.settings.health_checks, "error": clients.error, "skipped": clients.skipped,
            "breaches": broken}
    return info, broken, series, markers


def _db_summary(info: dict) -> str:
    if info["skipped"]:
        return f"not run: {info['skipped']}"
    parts = []
    for c, f in info["figures"].items():
        what = "writes" if c == "writer" else "reads"
        back = f"reconnected {f['reconnect_s']:g} s after the database served again" if f["reconnect_s"] is not None else (
            "never back" if not f["recovered"] else "never interrupted")
        parts.append(f"{what} unavailable {f['unavailable_s']:g} s ({f['errors']} errors, {back})")
    d = info["durability"]
    parts.append(f"{d['lost']} of {d['acknowledged']} acknowledged writes lost" if d.get("checked") else
                 f"durability not checked: {d.get('why')}")
    return "; ".join(parts) + f" (budget {info['budget_s']:g} s)"


@dataclass(frozen=True)
class Finished:
    """What a finished experiment left behind, as :mod:`gauntlet.chaos.session` gathered it."""

    exp: Experiment
    targets: list  # the plan: what each action hit
    emulated: str | None  # what an emulator cannot show; None on a real target
    claims: tuple[str, ...]
    sampler: timeline.Sampler
    t0: float  # wall-clock time the sampling started
    events: list[dict]
    journal: Journal
    fallback: bool  # gauntlet played the rollbacks Chaos Toolkit did not
    interrupted: str | None  # a signal, or why Chaos Toolkit was interrupted (the stop condition has its own field)
    stop_condition: str | None
    loader: LoadBeside | None
    duration_s: float
    beside: tuple[ClientProbes, dict[str, bool], dict] | None = None  # the client probes, who stuck, durability


@dataclass(frozen=True)
class Measured:
    """What the samples, the faults and what ran beside show: the figures of the timeline and of the verdict."""

    samples: list[timeline.Sample]
    faults: list[tuple[str, float]]
    recoveries: list[timeline.Recovery]
    time_to_recovery_s: float | None
    invariant_breaches: list[str]
    load: dict | None  # the load profile's phases around the fault window; None without load or without a fault
    db: dict | None  # the client probes' figures; None when none ran
    client_breaches: list[str]
    series: list[dict]  # beyond the probes': the load profile's and the client probes'
    markers: list[tuple[float, str]]


def record(env: Environment, run: Run, done: Finished) -> CheckResult:
    """Write the experiment's timeline, judge it and record its check, then the load profile's checks beside it."""
    seen = _measure(done)
    timeline_file = _write_timeline(env, run, done, seen)
    outcome, message = verdict.judge(_observed(env, done, seen))
    result = CheckResult(f"chaos:{done.exp.name}", "chaos", done.claims, outcome, message + _load_errors(seen.load),
                         round(done.duration_s, 2), _details(env, run, done, seen, timeline_file), kinds=done.exp.checks,
                         subject=done.exp.name)
    run.record(result)
    if done.loader is not None:
        _record_load(env, run, done.exp, done.loader, seen.load)
    return result


def _measure(done: Finished) -> Measured:
    """The faults and each one's recovery, the invariant breaches, and the figures of what ran beside."""
    samples = done.sampler.snapshot()
    faults = faults_of(done.events)
    recov = timeline.recoveries([(s.t, s.ok) for s in samples], faults)
    load, series = _load_figures(done.loader, done, faults, recov) if done.loader is not None else (None, [])
    db, client_breaches, db_series, db_markers = _client_probes(done, samples, recov)
    client_breaches += _load_breaches(done.loader, load, done.claims)
    return Measured(samples, faults, recov, _time_to_recovery(recov), timeline.invariant_breaches(samples, done.exp.invariants, done.t0),
                    load, db, client_breaches, series + db_series, _markers(done, faults, recov) + db_markers)


def _client_probes(done: Finished, samples: list[timeline.Sample], recov: list[timeline.Recovery]
                   ) -> tuple[dict | None, list[str], list[dict], list[tuple[float, str]]]:
    """What :func:`_db_clients` makes of the client probes, timed from the database serving again; nothing when none ran."""
    if done.beside is None:
        return None, [], [], []
    served_again = next((r.recovered_at for r in recov), None)
    end = samples[-1].t if samples else done.t0 + done.duration_s
    return _db_clients(done.beside, served_again, end, done.t0)


def _load_breaches(loader: LoadBeside | None, load: dict | None, claims: tuple[str, ...]) -> list[str]:
    """The load beside the experiment is the clients of the claims both are evidence for: failures in the fault
    window beyond an error-rate SLO one of the experiment's ``claims`` names break its hypothesis, however rarely
    its own probes sampled them. A claim of the experiment that names no such SLO (a pod back within a deadline) is
    not the clients' to break: their failures are the load check's, judged for the claims that name it."""
    from gauntlet.load import slo

    if loader is None or load is None:
        return []
    during = load["phases"]["during"]
    limits = [s.max for s in loader.env.load_profile(loader.profile).slos if s.metric == "error_rate" and s.max is not None
              and set(slo.claims_of(loader.env, loader.profile, s)) & set(claims)]
    if not limits or not during["requests"] or during["failures"] / during["requests"] <= min(limits):
        return []
    return [f"load {loader.profile}: {during['failures']} of {during['requests']} requests failed in the fault window "
            f"(error rate {during['failures'] / during['requests']:.2%}, SLO at most {min(limits):.2%})"]


def _time_to_recovery(recov: list[timeline.Recovery]) -> float | None:
    """The longest recovery; None when no fault was injected or one never recovered."""
    if not recov or any(r.recovered_at is None for r in recov):
        return None
    return max(r.time_to_recovery_s or 0.0 for r in recov)


def _markers(done: Finished, faults: list[tuple[str, float]], recov: list[timeline.Recovery]) -> list[tuple[float, str]]:
    """Each fault, each recovery from a lost steady state, the rollbacks and the stop condition, on the timeline."""
    markers = [(t, f"fault: {n}") for n, t in faults]
    markers += [(r.recovered_at, "recovered") for r in recov if r.recovered_at is not None and r.lost]
    markers += [(e["t"], "rollbacks") for e in done.events if e["event"] == "rollbacks-start"]
    if done.sampler.tripped_at:
        markers.append((done.sampler.tripped_at, "stop condition"))
    return markers


def _load_figures(loader: LoadBeside, done: Finished, faults: list[tuple[str, float]],
                  recov: list[timeline.Recovery]) -> tuple[dict | None, list[dict]]:
    """The load profile's figures before, during and after the fault window (None when no fault was injected),
    and its p95 and error series."""
    t0 = done.t0
    points = loader.wall_points()
    info = None
    if faults:
        info = {"profile": loader.profile, "phases": timeline.phases(points, _fault_window(done.events, faults, recov)),
                "error": f"{type(loader.error).__name__}: {loader.error}" if loader.error else None}
    series = [
        {"name": f"load {loader.profile} p95", "unit": "ms",
         "points": [[round(p["t"] - t0, 2), p["p95_ms"]] for p in points if p["p95_ms"] is not None]},
        {"name": f"load {loader.profile} errors", "unit": "%",
         "points": [[round(p["t"] - t0, 2), round((p["error_rate"] or 0) * 100, 3)] for p in points]},
    ]
    return info, series


def _fault_window(events: list[dict], faults: list[tuple[str, float]], recov: list[timeline.Recovery]) -> tuple[float, float]:
    """From the first fault to the latest of: the last fault, the last recovery, the first end of the method."""
    last = max(t for _, t in faults)
    recovered = max((r.recovered_at or 0.0) for r in recov) if recov else 0.0
    ends = [e["t"] for e in events if e["event"] in ("method-end", "experiment-end")]
    return faults[0][1], max(last, recovered, min(ends) if ends else last)


def _recovery_rows(recov: list[timeline.Recovery], t0: float) -> list[dict]:
    return [{"fault": r.fault, "at_s": round(r.at - t0, 2), "lost": r.lost, "time_to_recovery_s": r.time_to_recovery_s}
            for r in recov]


def _write_timeline(env: Environment, run: Run, done: Finished, seen: Measured) -> Path:
    """``timeline-<experiment>.json``: the samples, the markers and the figures, for the report's charts."""
    doc = timeline.document(f"chaos {done.exp.name} on {env.name}", seen.samples, done.sampler.specs, done.t0, seen.markers,
                            seen.time_to_recovery_s, seen.series, recoveries=_recovery_rows(seen.recoveries, done.t0),
                            invariant_breaches=seen.invariant_breaches, load=seen.load, db_clients=seen.db)
    path = run.dir / f"timeline-{done.exp.name}.json"
    write_atomic(path, json.dumps(doc, indent=1, default=str))
    return path


def _observed(env: Environment, done: Finished, seen: Measured) -> verdict.Observed:
    """What :func:`gauntlet.chaos.verdict.judge` rules on, from the journal and the figures."""
    journal = done.journal
    steady_states = journal.get("steady_states") or {}
    before, after = steady_states.get("before"), steady_states.get("after")
    rollbacks = journal.get("rollbacks") or []
    return verdict.Observed(
        deadline_s=float(env.chaos.steady_state_deadline_s), journal_status=journal.get("status"),
        before_met=None if before is None else bool(before.get("steady_state_met")), before_detail=_probe_detail(before),
        steady_state_is_the_claim=done.exp.steady_state_is_the_claim,
        deviated=bool(journal.get("deviated")), after_detail=_probe_detail(after), failed_actions=_failed(journal, "action"),
        failed_rollbacks=_failed_rollbacks(journal), rollbacks_ran=tuple(r["activity"].get("name") for r in rollbacks),
        interrupted=_interrupted(done), stop_condition=done.stop_condition, invariant_breaches=tuple(seen.invariant_breaches),
        faults=len(seen.faults), lost=any(r.lost for r in seen.recoveries), time_to_recovery_s=seen.time_to_recovery_s,
        emulated=done.emulated, client_breaches=tuple(seen.client_breaches), failed_probes=_failed(journal, "probe"),
        client_summary=_db_summary(seen.db) if seen.db and not seen.db["error"] else "")


def _failed(journal: dict, kind: str) -> tuple[str, ...]:
    """The method's activities of ``kind`` (action, probe) that failed, each with why."""
    return tuple(f"{r['activity'].get('name')}: {why(r)}"
                 for r in journal.get("run") or [] if r.get("status") == "failed" and r["activity"].get("type") == kind)


def _failed_rollbacks(journal: dict) -> tuple[str, ...]:
    return tuple(f"{r['activity'].get('name')}: {why(r)}" for r in journal.get("rollbacks") or [] if r.get("status") != "succeeded")


def _interrupted(done: Finished) -> str | None:
    """A signal, else the guard's refusal before an action, else nothing."""
    refused = next((e["reason"] for e in done.events if e["event"] == "refused"), None)
    return done.interrupted or (f"refused by the guard before an action: {refused}" if refused else None)


def _load_errors(load: dict | None) -> str:
    """The load profile's failures per phase, for the check's message; empty without load figures."""
    if not load:
        return ""
    phases = load["phases"]
    return "; load errors before/during/after: " + "/".join(
        f"{phases[p]['failures']} of {phases[p]['requests']}" for p in ("before", "during", "after"))


def _details(env: Environment, run: Run, done: Finished, seen: Measured, timeline_file: Path) -> dict:
    """The check's ``details``: the figures history trends, what was seen, what was played, where the files are."""
    exp, journal, ttr = done.exp, done.journal, seen.time_to_recovery_s
    return {
        "experiment": exp.name, "title": exp.title, "tier": exp.tier, "status": journal.get("status"),
        "deviated": bool(journal.get("deviated")), "time_to_recovery_s": ttr,
        "figures": {**({"time_to_recovery_s": ttr} if ttr is not None else {}), **_db_figures(seen.db)},
        "db_clients": seen.db,
        "recoveries": _recovery_rows(seen.recoveries, done.t0), "invariant_breaches": seen.invariant_breaches,
        "stop_condition": done.stop_condition, "interrupted": done.interrupted,
        "rollbacks": [{"name": r["activity"].get("name"), "status": r.get("status"), "ran_by": r.get("ran_by", "chaostoolkit")}
                      for r in journal.get("rollbacks") or []],
        "rollbacks_played_by_gauntlet": done.fallback, "plan": [t.to_json() for t in done.targets], "load": seen.load,
        "limits": done.emulated, "samples": len(seen.samples), "deadline_s": env.chaos.steady_state_deadline_s,
        "steady_state_window": env.chaos.steady_state_window.model_dump(),
        "artefacts": _artefacts(run, exp, timeline_file),
    }


def _artefacts(run: Run, exp: Experiment, timeline_file: Path) -> dict[str, str]:
    """The experiment's files, relative to the run folder."""
    out = run.dir / "chaos" / exp.name
    return {"journal": str((out / "journal.json").relative_to(run.dir)), "timeline": timeline_file.name,
            "events": str((out / "events.jsonl").relative_to(run.dir)), "log": str((out / "chaostoolkit.log").relative_to(run.dir))}


def _record_load(env: Environment, run: Run, exp: Experiment, loader: LoadBeside, load_info: dict | None) -> None:
    """The load profile's SLO checks: as the whole run measured them, or, for a profile that is evidence only
    during this experiment, on its fault window; not evidence when no fault was injected."""
    from gauntlet.load import slo

    if exp.name not in env.load_profile(loader.profile).during:
        results = loader.results
    elif load_info is None:
        results = slo.not_evidence(env, loader.profile, f"no fault was injected by {exp.name}: the load ran beside "
                                                        "an experiment that broke nothing")
    else:
        results = slo.evaluate_window(env, loader.profile, load_info["phases"]["during"], exp.name,
                                      {"experiment": exp.name, "phases": load_info["phases"]})
    for result in results:
        run.record(result)
