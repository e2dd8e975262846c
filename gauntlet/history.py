"""Run history: every finished run's summary in SQLite, and regressions against the previous comparable run.

The store is ``reports/history.sqlite`` unless the environment names another path
(``history.path``: a shared disk). Comparable runs have the same environment and kind.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from gauntlet import paths

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY, environment TEXT NOT NULL, kind TEXT NOT NULL, started TEXT NOT NULL,
    status TEXT NOT NULL, report TEXT NOT NULL, summary TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS verdicts (
    run TEXT NOT NULL REFERENCES runs(id), claim TEXT NOT NULL, verdict TEXT NOT NULL, PRIMARY KEY (run, claim));
CREATE TABLE IF NOT EXISTS figures (
    run TEXT NOT NULL REFERENCES runs(id), name TEXT NOT NULL, value REAL NOT NULL, PRIMARY KEY (run, name));
CREATE TABLE IF NOT EXISTS regressions (
    run TEXT NOT NULL REFERENCES runs(id), what TEXT NOT NULL);
"""

#: figures worth a trend: name -> True when higher is better.
HIGHER_IS_BETTER = {"rps": True, "p50_ms": False, "p95_ms": False, "p99_ms": False, "error_rate": False, "time_to_recovery_s": False,
                    # a database failover, as its client probes saw it
                    "write_unavailable_s": False, "read_unavailable_s": False, "write_reconnect_s": False,
                    "read_reconnect_s": False, "lost_writes": False}
#: the smallest change of a figure that can count as a regression, whatever the tolerance: a p95 of
#: 1 ms becoming 2 ms on loopback, or one failed request in ten thousand, is noise, not a regression.
NOISE_FLOOR = {"rps": 0.0, "p50_ms": 5.0, "p95_ms": 5.0, "p99_ms": 10.0, "error_rate": 0.001, "time_to_recovery_s": 1.0,
               "write_unavailable_s": 1.0, "read_unavailable_s": 1.0, "write_reconnect_s": 1.0, "read_reconnect_s": 1.0,
               "lost_writes": 0.5}


def store_path(configured: str | None = None) -> Path:
    return paths.expand(configured) if configured else paths.reports_dir() / "history.sqlite"


def _connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path, timeout=30)
    connection.executescript(SCHEMA)
    return connection


def figures(document: dict) -> dict[str, float]:
    """The trend figures of a run, from its checks' details: ``<figures_of>:<figure>`` -> value, where
    ``figures_of`` names what was measured (the check's id unless its details say, e.g. ``load:smoke``)."""
    out: dict[str, float] = {}
    for check in document["checks"]:
        details = check.get("details") or {}
        for name, value in details.get("figures", {}).items():
            if name in HIGHER_IS_BETTER and isinstance(value, (int, float)):
                out[f"{details.get('figures_of', check['id'])}:{name}"] = float(value)
    return out


def record(document: dict, path: Path) -> None:
    """Append (or replace) one finished run's summary."""
    run = document["run"]
    with closing(_connect(path)) as db, db:
        db.execute("DELETE FROM verdicts WHERE run = ?", (run["id"],))
        db.execute("DELETE FROM figures WHERE run = ?", (run["id"],))
        db.execute("DELETE FROM regressions WHERE run = ?", (run["id"],))
        db.execute("INSERT OR REPLACE INTO runs VALUES (?, ?, ?, ?, ?, ?, ?)",
                   (run["id"], run["environment"], run["kind"], run["started"], run["status"], document["report"],
                    json.dumps(document["summary"])))
        db.executemany("INSERT INTO verdicts VALUES (?, ?, ?)", [(run["id"], c["id"], c["verdict"]) for c in document["claims"]])
        db.executemany("INSERT INTO figures VALUES (?, ?, ?)", [(run["id"], k, v) for k, v in figures(document).items()])
        db.executemany("INSERT INTO regressions VALUES (?, ?)", [(run["id"], r) for r in document.get("regressions", ())])


@dataclass(frozen=True)
class Past:
    """One earlier run as the history holds it."""

    id: str
    kind: str
    started: str
    status: str
    report: str
    verdicts: dict[str, str]
    figures: dict[str, float]
    regressions: list[str]


def recent(path: Path, environment: str, last: int = 10, kind: str | None = None, before: dict | None = None) -> list[Past]:
    """The newest ``last`` runs of an environment (optionally of one kind, started before a run's meta), newest first."""
    if not path.exists():
        return []
    query = "SELECT id, kind, started, status, report FROM runs WHERE environment = ?"
    args: list = [environment]
    if kind:
        query, args = query + " AND kind = ?", args + [kind]
    if before:
        query, args = query + " AND started <= ? AND id != ?", args + [before["started"], before["id"]]
    query += " ORDER BY started DESC, id DESC LIMIT ?"
    with closing(_connect(path)) as db:
        rows = db.execute(query, (*args, last)).fetchall()
        return [Past(id_, kind_, started, status, report,
                     dict(db.execute("SELECT claim, verdict FROM verdicts WHERE run = ?", (id_,)).fetchall()),
                     dict(db.execute("SELECT name, value FROM figures WHERE run = ?", (id_,)).fetchall()),
                     [what for (what,) in db.execute("SELECT what FROM regressions WHERE run = ? ORDER BY rowid", (id_,))])
                for id_, kind_, started, status, report in rows]


def regressions(document: dict, previous: Past | None, tolerance: float) -> list[str]:
    """What got worse since the previous comparable run: claims that left `verified`, figures worse by more
    than the tolerance (a share of the previous value) and more than the figure's :data:`NOISE_FLOOR`."""
    if previous is None:
        return []
    found = []
    for claim in document["claims"]:
        before = previous.verdicts.get(claim["id"])
        if before == "verified" and claim["verdict"] != "verified":
            found.append(f"claim {claim['id']}: {before} in {previous.id}, {claim['verdict']} now")
    for name, value in figures(document).items():
        old = previous.figures.get(name)
        if old is None:
            continue
        figure = name.rsplit(":", 1)[1]
        change = old - value if HIGHER_IS_BETTER[figure] else value - old
        if change > tolerance * abs(old) and change > NOISE_FLOOR[figure]:
            found.append(f"{name}: {old:g} in {previous.id}, {value:g} now (tolerance {tolerance:.0%})")
    return found


def trend(runs: Iterable[Past]) -> dict[str, list[float | None]]:
    """Per figure, its values over the given runs (oldest first); None where a run lacks it."""
    runs = list(runs)[::-1]
    names = sorted({n for r in runs for n in r.figures})
    return {n: [r.figures.get(n) for r in runs] for n in names}
