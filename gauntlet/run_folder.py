"""Run folders: ``reports/<timestamp>-<env>-<kind>/``, named, created, closed and pointed at by ``reports/latest``.

A run is written as it goes: ``run.json`` (what and when) and ``checks.jsonl``
(one line per finished check, appended and flushed), so an interrupted run
still has its evidence. A run ends ``complete``, ``interrupted`` (a signal), or
``error`` (a runner could not gather its evidence: ``run.json``'s ``errors`` say
why); :mod:`gauntlet.report` then writes its report there. Every file is written
atomically (:func:`write_atomic`), and every record is masked on its way in
(:func:`gauntlet.redact.redact_data`).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from gauntlet import paths
from gauntlet.environment import Environment
from gauntlet.exceptions import ConfigError
from gauntlet.ledger import CheckResult
from gauntlet.redact import redact, redact_data

Status = Literal["running", "complete", "interrupted", "error"]
RUN_FILE, CHECKS_FILE = "run.json", "checks.jsonl"
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
    """A run folder by name (or path), or the one ``reports/latest`` points at: the run last finished or rebuilt
    (``gauntlet report OLD`` repoints it), not necessarily the newest."""
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




def close(run: Run, status: Status, extra: dict | None = None) -> dict:
    """End the run in ``run.json`` and return it: ``status`` (``error`` for a complete run a runner noted errors
    in; a run already ended keeps its status unless this one is not ``complete``), when it finished (the first
    time), and ``extra``."""
    meta = run.meta
    if status == "complete" and meta.get("errors"):
        status = "error"
    if meta["status"] == "running" or status != "complete":
        meta["status"] = status
    meta["finished"] = meta.get("finished") or _now().isoformat(timespec="seconds")
    meta.update(extra or {})
    write_atomic(run.dir / RUN_FILE, json.dumps(meta, indent=2))
    return meta


def point_latest(run: Run) -> None:
    """Point ``reports/latest`` at the run, in one rename (a reader sees the old link or the new one)."""
    latest = run.dir.parent / "latest"
    tmp = run.dir.parent / ".latest.tmp"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    tmp.symlink_to(run.dir.name)
    os.replace(tmp, latest)
