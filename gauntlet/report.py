"""The report of a run: its claims judged, set against the history, and written into its run folder.

:func:`finish` is the pipeline: the run folder is closed (:func:`gauntlet.run_folder.close`),
the claims are judged from the recorded checks, compared with the previous comparable run,
and written as ``results.json``, ``junit.xml`` and ``index.html`` (with the trends of the
history), each atomically; then ``reports/latest`` points at the run.

Secrets never reach a run folder: every record is masked on its way in
(:func:`gauntlet.redact.redact_data`), and :func:`finish` scrubs the files other
programs wrote there (Locust's report, Chaos Toolkit's journal and log).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path

import jinja2
import markupsafe

from gauntlet import charts, history, run_folder
from gauntlet.environment import Environment
from gauntlet.ledger import CheckResult, ClaimVerdict, Verdict, describe_finding, judge, passes_gate
from gauntlet.redact import redact_data, scrub_tree
from gauntlet.run_folder import CHECKS_FILE, Run, Status, write_atomic

RESULTS_FILE = "results.json"


def finish(run: Run, env: Environment, status: Status, extra: dict | None = None) -> dict:
    """Close the run with ``status``, judge its claims, set them against the history and write the report:
    results.json and junit.xml (before the history is written: a history store that fails leaves them), then
    index.html with the trends; the document of results.json."""
    meta = run_folder.close(run, status, extra)
    results, verdicts, document = _judged(run, env, meta)
    store = history.store_path(env.history.path)
    _compare(document, meta, env, store)
    write_atomic(run.dir / RESULTS_FILE, json.dumps(document, indent=2))
    write_atomic(run.dir / "junit.xml", junit_xml(meta, results, verdicts))
    trend = _remember(document, meta, env, store)
    write_atomic(run.dir / "index.html", html(document, charts.run_charts(run.dir, trend)))
    scrub_tree(run.dir)
    run_folder.point_latest(run)
    return document


def _judged(run: Run, env: Environment, meta: dict) -> tuple[list[CheckResult], list[ClaimVerdict], dict]:
    """The checks recorded, the claims' verdicts, and results.json's document (secrets masked)."""
    results = run.results()
    verdicts = judge(env, results, ran=meta.get("ran", ()), unavailable=meta.get("unavailable", {}))
    return results, verdicts, redact_data(_results_document(run, meta, results, verdicts))


def _compare(document: dict, meta: dict, env: Environment, store: Path) -> None:
    """Note in ``document`` the previous comparable run (same environment and kind, started before) and the regressions since."""
    previous = next(iter(history.recent(store, env.name, last=1, kind=meta["kind"], before=meta)), None)
    document["regressions"] = history.regressions(document, previous, env.history.tolerance)
    document["previous"] = previous.id if previous else None


def _remember(document: dict, meta: dict, env: Environment, store: Path) -> dict[str, list[float | None]]:
    """Add the run to the history; the trend of the last comparable runs, this one included."""
    history.record(document, store)
    return history.trend(history.recent(store, env.name, last=14, kind=meta["kind"]))


def rebuild(run: Run, env: Environment) -> dict:
    """Write the report again from the run's evidence; a run that never finished is interrupted."""
    status = run.meta["status"]
    notes = [f"{CHECKS_FILE}: its last line was cut short (a write interrupted) and is not counted"] if run.cut_short() else []
    return finish(run, env, "interrupted" if status == "running" else status, {"notes": notes} if notes else None)


def _results_document(run: Run, meta: dict, results: list[CheckResult], verdicts: list[ClaimVerdict]) -> dict:
    counts = {v.value: sum(1 for c in verdicts if c.verdict is v) for v in Verdict}
    counts["partial"] = sum(1 for c in verdicts if c.partial)
    return {
        "run": meta,
        "environment": meta["environment"],
        "report": str(run.dir),
        "summary": counts,
        "claims": [v.to_json() for v in verdicts],
        "checks": [r.to_json() for r in results],
    }


def junit_xml(meta: dict, results: Iterable[CheckResult], verdicts: Iterable[ClaimVerdict]) -> str:
    """JUnit XML: one suite per evidence source kind, and a ``claims`` suite with one case per claim (a verified
    claim with parts unchecked carries ``coverage=partial`` and lists the gaps in its system-out)."""
    root = ET.Element("testsuites", name=f"gauntlet {meta['id']}")
    by_kind: dict[str, list[CheckResult]] = {}
    for result in results:
        by_kind.setdefault(result.evidence, []).append(result)
    for kind, items in sorted(by_kind.items()):
        suite = ET.SubElement(root, "testsuite", name=f"{meta['environment']}.{kind}", tests=str(len(items)),
                              failures=str(sum(r.outcome == "failed" for r in items)),
                              errors=str(sum(r.outcome == "error" for r in items)),
                              skipped=str(sum(r.outcome == "skipped" for r in items)))
        for r in items:
            case = ET.SubElement(suite, "testcase", classname=f"{meta['environment']}.{kind}", name=r.id, time=f"{r.duration_s:.3f}")
            props = ET.SubElement(case, "properties")
            for claim in r.claims:
                ET.SubElement(props, "property", name="claim", value=claim)
            for kind in r.kinds:
                ET.SubElement(props, "property", name="kind", value=kind)
            ET.SubElement(props, "property", name="observes", value=f"{r.scope} {r.subject}".strip())
            if r.outcome in ("failed", "error"):
                ET.SubElement(case, "failure" if r.outcome == "failed" else "error", message=r.message[:200]).text = r.message
            elif r.outcome == "skipped":
                ET.SubElement(case, "skipped", message=r.message)
    verdicts = list(verdicts)
    suite = ET.SubElement(root, "testsuite", name=f"{meta['environment']}.claims", tests=str(len(verdicts)),
                          failures=str(sum(v.verdict is Verdict.VIOLATED and not passes_gate(v.to_json()) for v in verdicts)),
                          skipped=str(sum(v.verdict is Verdict.NOT_CHECKED for v in verdicts)))
    for v in verdicts:
        case = ET.SubElement(suite, "testcase", classname=f"{meta['environment']}.claims", name=v.claim.id)
        props = ET.SubElement(case, "properties")
        ET.SubElement(props, "property", name="coverage", value="partial" if v.partial else "full")
        for finding in v.findings:
            ET.SubElement(props, "property", name="finding", value=describe_finding(finding))
        gaps = [f"{kind}: {state}" for kind, state in v.coverage.get("kinds", {}).items() if state != "passed"]
        if v.partial:
            ET.SubElement(case, "system-out").text = "partial coverage, not passed:\n" + "\n".join(gaps)
        text = "\n".join(v.evidence)
        if v.verdict is Verdict.VIOLATED and not passes_gate(v.to_json()):
            ET.SubElement(case, "failure", message=f"violated: {v.claim.statement}").text = text
        elif v.verdict is Verdict.NOT_CHECKED:
            ET.SubElement(case, "skipped", message=text[:500])
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


_templates = jinja2.Environment(
    loader=jinja2.PackageLoader("gauntlet", "templates"),
    autoescape=jinja2.select_autoescape(["html"]),
    undefined=jinja2.StrictUndefined,
)


def html(document: dict, figures: Iterable[str] = ()) -> str:
    """The self-contained report page: claims matrix first, then charts (inline SVG), details and checks."""
    return _templates.get_template("report.html").render(doc=document, charts=[markupsafe.Markup(f) for f in figures])
