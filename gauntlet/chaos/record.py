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
from gauntlet.report import Run, write_atomic


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


def record(env: Environment, run: Run, exp: Experiment, targets: list, emulated: str | None, claims: tuple[str, ...], sampler: timeline.Sampler,
            t0: float, events: list[dict], journal: Journal, fallback: bool, interrupted: str | None,
            stop_condition: str | None, loader: LoadBeside | None, duration_s: float,
            beside: tuple[ClientProbes, dict[str, bool], dict] | None = None) -> CheckResult:
    samples = sampler.snapshot()
    faults = faults_of(events)
    recov = timeline.recoveries([(s.t, s.ok) for s in samples], faults)
    ttr = None if not recov or any(r.recovered_at is None for r in recov) else max(r.time_to_recovery_s or 0.0 for r in recov)
    markers = [(t, f"fault: {n}") for n, t in faults]
    markers += [(r.recovered_at, "recovered") for r in recov if r.recovered_at is not None and r.lost]
    markers += [(e["t"], "rollbacks") for e in events if e["event"] == "rollbacks-start"]
    if sampler.tripped_at:
        markers.append((sampler.tripped_at, "stop condition"))
    extra_series: list[dict] = []
    load_info: dict | None = None
    if loader is not None:
        points = loader.wall_points()
        if faults:
            last = max(t for _, t in faults)
            recovered = max((r.recovered_at or 0.0) for r in recov) if recov else 0.0
            ends = [e["t"] for e in events if e["event"] in ("method-end", "experiment-end")]
            window = (faults[0][1], max(last, recovered, min(ends) if ends else last))
            load_info = {"profile": loader.profile, "phases": timeline.phases(points, window),
                         "error": f"{type(loader.error).__name__}: {loader.error}" if loader.error else None}
        extra_series = [
            {"name": f"load {loader.profile} p95", "unit": "ms",
             "points": [[round(p["t"] - t0, 2), p["p95_ms"]] for p in points if p["p95_ms"] is not None]},
            {"name": f"load {loader.profile} errors", "unit": "%",
             "points": [[round(p["t"] - t0, 2), round((p["error_rate"] or 0) * 100, 3)] for p in points]},
        ]
    breaches = timeline.invariant_breaches(samples, exp.invariants, t0)
    db_info: dict | None = None
    client_breaches: list[str] = []
    if beside is not None:
        served_again = next((r.recovered_at for r in recov), None)
        end = samples[-1].t if samples else t0 + duration_s
        db_info, client_breaches, db_series, db_markers = _db_clients(beside, served_again, end, t0)
        extra_series += db_series
        markers += db_markers
    doc = timeline.document(f"chaos {exp.name} on {env.name}", samples, sampler.specs, t0, markers, ttr, extra_series,
                            recoveries=[{"fault": r.fault, "at_s": round(r.at - t0, 2), "lost": r.lost,
                                         "time_to_recovery_s": r.time_to_recovery_s} for r in recov],
                            invariant_breaches=breaches, load=load_info, db_clients=db_info)
    timeline_file = run.dir / f"timeline-{exp.name}.json"
    write_atomic(timeline_file, json.dumps(doc, indent=1, default=str))
    runs = journal.get("run") or []
    failed_actions = tuple(f"{r['activity'].get('name')}: {why(r)}"
                           for r in runs if r.get("status") == "failed" and r["activity"].get("type") == "action")
    rollbacks = journal.get("rollbacks") or []
    failed_rollbacks = tuple(f"{r['activity'].get('name')}: {why(r)}" for r in rollbacks if r.get("status") != "succeeded")
    before = (journal.get("steady_states") or {}).get("before")
    after = (journal.get("steady_states") or {}).get("after")
    refused = next((e["reason"] for e in events if e["event"] == "refused"), None)
    observed = verdict.Observed(
        deadline_s=float(env.chaos.steady_state_deadline_s), journal_status=journal.get("status"),
        before_met=None if before is None else bool(before.get("steady_state_met")), before_detail=_probe_detail(before),
        steady_state_is_the_claim=exp.steady_state_is_the_claim,
        deviated=bool(journal.get("deviated")), after_detail=_probe_detail(after), failed_actions=failed_actions,
        failed_rollbacks=failed_rollbacks, rollbacks_ran=tuple(r["activity"].get("name") for r in rollbacks),
        interrupted=interrupted or (f"refused by the guard before an action: {refused}" if refused else None),
        stop_condition=stop_condition, invariant_breaches=tuple(breaches), faults=len(faults),
        lost=any(r.lost for r in recov),
        time_to_recovery_s=ttr, emulated=emulated, client_breaches=tuple(client_breaches),
        client_summary=_db_summary(db_info) if db_info and not db_info["error"] else "")
    outcome, message = verdict.judge(observed)
    if load_info:
        phases = load_info["phases"]
        message += "; load errors before/during/after: " + "/".join(
            f"{phases[p]['failures']} of {phases[p]['requests']}" for p in ("before", "during", "after"))

    def rel(path: Path) -> str:
        return str(path.relative_to(run.dir))

    details = {
        "experiment": exp.name, "title": exp.title, "tier": exp.tier, "status": journal.get("status"),
        "deviated": bool(journal.get("deviated")), "time_to_recovery_s": ttr,
        "figures": {**({"time_to_recovery_s": ttr} if ttr is not None else {}), **_db_figures(db_info)},
        "db_clients": db_info,
        "recoveries": doc["recoveries"], "invariant_breaches": breaches, "stop_condition": stop_condition,
        "interrupted": interrupted, "rollbacks": [{"name": r["activity"].get("name"), "status": r.get("status"),
                                                   "ran_by": r.get("ran_by", "chaostoolkit")} for r in rollbacks],
        "rollbacks_played_by_gauntlet": fallback, "plan": [t.to_json() for t in targets], "load": load_info,
        "limits": emulated, "samples": len(samples), "deadline_s": env.chaos.steady_state_deadline_s,
        "steady_state_window": env.chaos.steady_state_window.model_dump(),
        "artefacts": {"journal": rel(run.dir / "chaos" / exp.name / "journal.json"), "timeline": timeline_file.name,
                      "events": rel(run.dir / "chaos" / exp.name / "events.jsonl"),
                      "log": rel(run.dir / "chaos" / exp.name / "chaostoolkit.log")},
    }
    result = CheckResult(f"chaos:{exp.name}", "chaos", claims, outcome, message, round(duration_s, 2), details,
                         kinds=exp.checks, subject=exp.name)
    run.record(result)
    if loader is not None:
        _record_load(env, run, exp, loader, load_info if faults else None)
    return result


def _record_load(env: Environment, run: Run, exp: Experiment, loader: LoadBeside, load_info: dict | None) -> None:
    """The load profile's SLO checks: as the whole run measured them, or, for a profile that is evidence only
    during this experiment, on its fault window; not evidence when no fault was injected."""
    from gauntlet.load import slo

    if env.load_profile(loader.profile).during != exp.name:
        results = loader.results
    elif load_info is None:
        results = slo.not_evidence(env, loader.profile, f"no fault was injected by {exp.name}: the load ran beside "
                                                        "an experiment that broke nothing")
    else:
        results = slo.evaluate_window(env, loader.profile, load_info["phases"]["during"], exp.name,
                                      {"experiment": exp.name, "phases": load_info["phases"]})
    for result in results:
        run.record(result)
