"""Run folders: ``reports/<timestamp>-<env>-<kind>/``.

A run is written as it goes: ``run.json`` (what and when) and ``checks.jsonl``
(one line per finished check, appended and flushed), so an interrupted run
still has its evidence. :func:`finish` judges the claims and writes
``results.json``, ``junit.xml`` and ``index.html``, each atomically (temporary
file, then rename), and points ``reports/latest`` at the run. A run ends
``complete``, ``interrupted`` (a signal), or ``error`` (a runner could not gather
its evidence: ``run.json``'s ``errors`` say why).

Secrets never reach a run folder: every record is masked on its way in
(:func:`gauntlet.redact.redact_data`), and :func:`finish` scrubs the files other
programs wrote there (Locust's report, Chaos Toolkit's journal and log).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import jinja2
import markupsafe

from gauntlet import charts, history, paths
from gauntlet.environment import Environment
from gauntlet.exceptions import ConfigError
from gauntlet.ledger import CheckResult, ClaimVerdict, Verdict, describe_finding, judge, passes_gate
from gauntlet.redact import redact, redact_data, scrub_tree

Status = Literal["running", "complete", "interrupted", "error"]
RUN_FILE, CHECKS_FILE, RESULTS_FILE = "run.json", "checks.jsonl", "results.json"
_META_FIELDS = ("id", "environment", "kind", "status")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that a reader sees the old file or the new one, never half."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


@dataclass(frozen=True)
class Run:
    """A run folder and what it is a run of."""

    dir: Path

    @property
    def meta(self) -> dict:
        """``run.json``; a ConfigError naming the file when it is not a run record (truncated, foreign)."""
        path = self.dir / RUN_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise ConfigError(f"{path}: cannot read the run record ({exc})") from None
        missing = [k for k in _META_FIELDS if not isinstance(data, dict) or not isinstance(data.get(k), str)]
        if missing:
            got = f"a {type(data).__name__}" if not isinstance(data, dict) else f"no text field {missing[0]!r}"
            raise ConfigError(f"{path}: not a gauntlet run record: expected an object with {list(_META_FIELDS)}, got {got}")
        return data

    def record(self, result: CheckResult) -> None:
        """Append one finished check, secrets masked; flushed at once so an interruption keeps it."""
        with open(self.dir / CHECKS_FILE, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(redact_data(result.to_json()), sort_keys=True, default=str) + "\n")
            handle.flush()

    def results(self) -> list[CheckResult]:
        """The checks recorded so far. A last line cut short (a write interrupted) is not evidence and is left
        out (:meth:`cut_short` says so); any other line that is not a check record is a ConfigError naming it."""
        path = self.dir / CHECKS_FILE
        lines, cut = self._lines()
        out = []
        for number, line in enumerate(lines[:-1] if cut else lines, 1):
            if not line.strip():
                continue
            try:
                out.append(CheckResult.from_json(json.loads(line)))
            except (ValueError, TypeError, KeyError, AttributeError) as exc:
                raise ConfigError(f"{path}:{number}: not a check record ({type(exc).__name__}: {exc})"[:400]) from None
        return out

    def cut_short(self) -> bool:
        """Whether ``checks.jsonl`` ends in a line that is not complete JSON and has no newline: a write cut short."""
        return self._lines()[1]

    def _lines(self) -> tuple[list[str], bool]:
        path = self.dir / CHECKS_FILE
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return [], False
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read the checks ({exc})") from None
        lines = text.splitlines()
        if not text or text.endswith("\n"):
            return lines, False
        try:
            json.loads(lines[-1])
        except ValueError:
            return lines, True
        return lines, False

    def add_ran(self, *evidence: str) -> None:
        """Note evidence sources this run executed."""
        meta = self.meta
        meta["ran"] = sorted(set(meta.get("ran", [])) | set(evidence))
        write_atomic(self.dir / RUN_FILE, json.dumps(meta, indent=2))

    def add_unavailable(self, evidence: str, why: str) -> None:
        """Note an evidence source this run could not execute, and why."""
        meta = self.meta
        meta.setdefault("unavailable", {})[evidence] = redact(why)
        write_atomic(self.dir / RUN_FILE, json.dumps(meta, indent=2))

    def add_error(self, why: str) -> None:
        """Note that a runner could not gather its evidence: the run finishes as ``error``, never ``complete``."""
        meta = self.meta
        meta["errors"] = [*meta.get("errors", []), redact(why)]
        write_atomic(self.dir / RUN_FILE, json.dumps(meta, indent=2))


def new_run(env: Environment, kind: str, command: str, reports: Path | None = None) -> Run:
    """Create ``reports/<timestamp>-<env>-<kind>/`` with its ``run.json``."""
    reports = reports or paths.reports_dir()
    started = _now()
    base = f"{started:%Y%m%dT%H%M%SZ}-{env.name}-{kind}"
    for n in range(1, 1000):
        folder = reports / (base if n == 1 else f"{base}-{n}")
        try:
            folder.mkdir(parents=True)
            break
        except FileExistsError:
            continue
        except OSError as exc:
            raise ConfigError(f"{reports}: cannot create a run folder there ({exc.strerror or exc}): set "
                              "GAUNTLET_REPORTS_DIR to a folder gauntlet may write") from None
    else:
        raise ConfigError(f"{reports}: 999 runs named {base} already: cannot create another")
    meta: dict[str, Any] = {"id": folder.name, "environment": env.name, "kind": kind, "command": redact(command),
            "started": started.isoformat(timespec="seconds"), "finished": None, "status": "running", "ran": [], "unavailable": {}}
    write_atomic(folder / RUN_FILE, json.dumps(meta, indent=2))
    return Run(folder)


def find_run(name: str | None = None, reports: Path | None = None) -> Run:
    """A run folder by name (or path), or the newest one."""
    reports = reports or paths.reports_dir()
    if name is None:
        latest = reports / "latest"
        if not latest.exists():
            raise ConfigError(f"{reports}: no run yet (reports/latest does not exist)")
        return Run(latest.resolve())
    folder = Path(name) if Path(name).is_absolute() or os.sep in name else reports / name
    if not (folder / RUN_FILE).is_file():
        known = sorted(p.name for p in reports.glob("*") if (p / RUN_FILE).is_file())[-5:]
        raise ConfigError(f"{folder}: not a run folder (no {RUN_FILE}); recent runs: {known}")
    return Run(folder)


def finish(run: Run, env: Environment, status: Status, extra: dict | None = None) -> dict:
    """Judge the run's claims and write results.json, junit.xml and index.html."""
    meta = run.meta
    if status == "complete" and meta.get("errors"):
        status = "error"
    if meta["status"] == "running" or status != "complete":
        meta["status"] = status
    meta["finished"] = meta.get("finished") or _now().isoformat(timespec="seconds")
    meta.update(extra or {})
    write_atomic(run.dir / RUN_FILE, json.dumps(meta, indent=2))
    results = run.results()
    verdicts = judge(env, results, ran=meta.get("ran", ()), unavailable=meta.get("unavailable", {}))
    document = redact_data(_results_document(run, meta, results, verdicts))
    store = history.store_path(env.history.path)
    previous = next(iter(history.recent(store, env.name, last=1, kind=meta["kind"], before=meta)), None)
    document["regressions"] = history.regressions(document, previous, env.history.tolerance)
    document["previous"] = previous.id if previous else None
    write_atomic(run.dir / RESULTS_FILE, json.dumps(document, indent=2))
    write_atomic(run.dir / "junit.xml", junit_xml(meta, results, verdicts))
    history.record(document, store)
    trend = history.trend(history.recent(store, env.name, last=14, kind=meta["kind"]))
    write_atomic(run.dir / "index.html", html(document, charts.run_charts(run.dir, trend)))
    scrub_tree(run.dir)
    _point_latest(run)
    return document


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


def _point_latest(run: Run) -> None:
    latest = run.dir.parent / "latest"
    tmp = run.dir.parent / ".latest.tmp"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    tmp.symlink_to(run.dir.name)
    os.replace(tmp, latest)


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
