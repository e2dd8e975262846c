"""Chaos Toolkit in its own process: the command, signals, the journal, and rollbacks it could not play.

``chaos run`` runs in its own process group (:class:`gauntlet.children.Child`: a Ctrl-C in the
terminal reaches gauntlet only, which forwards one SIGINT: Chaos Toolkit then stops what it does and
plays the rollbacks; a second SIGINT would cut them short, so none is sent). Its output goes, secrets
masked, to a log file and, line by line, to the operator. When it ends without a journal, or before its
rollbacks (killed), gauntlet writes the journal and plays the rollbacks itself. The journal is kept
with its secrets masked.
"""

from __future__ import annotations

import json
import re
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

from chaoslib.types import Configuration, Journal

from gauntlet.chaos.experiments import Experiment
from gauntlet.children import Child
from gauntlet.redact import redact_data
from gauntlet.run_folder import write_atomic

Progress = Callable[[str], None]

#: After an interruption, how long Chaos Toolkit may take to play its rollbacks before gauntlet plays them.
ROLLBACK_GRACE_S = 180.0


def read_events(path: Path) -> list[dict]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    out = []
    for line in lines:
        try:
            out.append(json.loads(line))
        except ValueError:
            continue
    return out


def faults(events: list[dict]) -> list[tuple[str, float]]:
    return [(e["name"], e["t"]) for e in events
            if e["event"] == "activity-start" and e.get("phase") == "method" and e.get("type") == "action"]


def chaos_command(exp: Experiment, out: Path) -> list[str]:
    """``chaos run`` with gauntlet's settings: no version check (no network), rollbacks always, journal in ``out``."""
    return [sys.executable, "-m", "chaostoolkit", "--no-version-check", "--log-file", str(out / "chaostoolkit.log"),
            "--settings", str(out / "settings.yaml"), "run", "--journal-path", str(out / "journal.json"),
            "--rollback-strategy", "always", "--var-file", str(out / "vars.json"), str(exp.path)]


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class ChaosProcess:
    """``chaos run`` in its own process group; its output goes to a log file and to ``progress``."""

    def __init__(self, argv: list[str], env: dict[str, str], log: Path, progress: Progress) -> None:
        self.log = log
        self._log = open(log, "a", encoding="utf-8")
        self._progress = progress
        self.child = Child(argv, env=env, output=self._line)
        self.proc = self.child.proc
        self.signalled: str | None = None

    def _line(self, line: str) -> None:
        line = _ANSI.sub("", line)
        self._log.write(line + "\n")
        self._log.flush()
        self._progress("chaos: " + line)

    def interrupt(self, why: str) -> None:
        """SIGINT once: Chaos Toolkit stops what it does and plays the rollbacks."""
        if self.signalled is None and self.proc.poll() is None:
            self.signalled = why
            self.child.send(signal.SIGINT)

    def wait(self, timeout: float) -> int | None:
        return self.child.wait(timeout)

    def kill(self) -> None:
        self.child.stop(first=signal.SIGKILL, grace_s=0)

    def finish(self) -> None:
        """Once it ended: nothing of its group left, its output written out."""
        self.child.stop(grace_s=0)
        self._log.close()


def wait_ignoring_interrupts(child: ChaosProcess, grace_s: float, progress: Progress) -> None:
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        try:
            if child.wait(timeout=max(0.1, deadline - time.monotonic())) is not None:
                return
        except KeyboardInterrupt:
            progress("rollbacks are running: waiting for them (they must not be cut short)")


def fallback_rollbacks(exp: Experiment, configuration: Configuration, progress: Progress) -> list[dict]:
    """Play the rollbacks here when Chaos Toolkit could not (killed, or it ended before them)."""
    from chaoslib.activity import run_activity

    runs = []
    for rb in exp.rollbacks:
        started = time.time()
        try:
            output = run_activity(rb, configuration, {})
            runs.append({"activity": rb, "status": "succeeded", "output": output, "start": started, "end": time.time(),
                         "ran_by": "gauntlet"})
            progress(f"rollback {rb.get('name')}: done by gauntlet")
        except Exception as exc:
            runs.append({"activity": rb, "status": "failed", "exception": [str(exc)], "start": started, "end": time.time(),
                         "ran_by": "gauntlet"})
            progress(f"rollback {rb.get('name')}: FAILED ({exc})")
    return runs


def write_journal(exp: Experiment, out: Path, events: list[dict], configuration: Configuration,
             progress: Progress) -> tuple[Journal, bool]:
    """Chaos Toolkit's journal; when it wrote none or ended before its rollbacks, gauntlet's, with them played."""
    path = out / "journal.json"
    journal: Journal | None = None
    try:
        journal = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        journal = None
    acted = any(e["event"] == "activity-start" and e.get("phase") == "method" and e.get("type") == "action" for e in events)
    rolled_back = any(e["event"] == "rollbacks-end" for e in events)
    fallback = bool(acted and exp.rollbacks and not rolled_back)
    if journal is None or fallback:
        journal = journal or {"experiment": exp.data, "status": "aborted", "deviated": False, "run": [], "rollbacks": [],
                              "steady_states": {"before": None, "after": None, "during": []},
                              "note": "written by gauntlet: the Chaos Toolkit process ended without a journal"}
        if fallback:
            progress("Chaos Toolkit ended before its rollbacks: gauntlet plays them")
            journal["rollbacks"] = fallback_rollbacks(exp, configuration, progress)
            journal["status"] = "aborted"
        journal["gauntlet_events"] = events
    journal = redact_data(journal)
    write_atomic(path, json.dumps(journal, indent=2, default=str))
    return journal, fallback


