"""Locust's own CSV statistics, read back into the figures SLOs are judged on.

Files Locust writes with ``--csv PREFIX`` (kept in the run folder as they are):
``PREFIX_stats.csv`` (one row per request name and an ``Aggregated`` row),
``PREFIX_failures.csv``, ``PREFIX_exceptions.csv`` and, with
``--csv-full-history``, ``PREFIX_stats_history.csv``.
"""

from __future__ import annotations

import csv
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Figures:
    """The run's aggregated figures: what SLO metrics are measured on."""

    requests: int
    failures: int
    rps: float
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    avg_ms: float | None
    max_ms: float | None

    @property
    def error_rate(self) -> float:
        return self.failures / self.requests if self.requests else 0.0

    def metric(self, name: str) -> float | None:
        return {"rps": self.rps, "p50_ms": self.p50_ms, "p95_ms": self.p95_ms, "p99_ms": self.p99_ms,
                "error_rate": self.error_rate if self.requests else None}[name]

    def to_json(self) -> dict:
        return {**asdict(self), "error_rate": round(self.error_rate, 6)}


def _number(text: str) -> float | None:
    try:
        return float(text)
    except (TypeError, ValueError):
        return None  # "N/A" when no request finished


def read_stats(prefix: Path) -> Figures | None:
    """The ``Aggregated`` row of ``PREFIX_stats.csv``; None when Locust wrote none."""
    path = prefix.with_name(prefix.name + "_stats.csv")
    try:
        rows = list(csv.DictReader(path.read_text(encoding="utf-8").splitlines()))
    except OSError:
        return None
    total = next((r for r in rows if r.get("Name") == "Aggregated"), None)
    if total is None:
        return None
    return Figures(
        requests=int(total["Request Count"]),
        failures=int(total["Failure Count"]),
        rps=float(total["Requests/s"]),
        p50_ms=_number(total.get("50%", "")),
        p95_ms=_number(total.get("95%", "")),
        p99_ms=_number(total.get("99%", "")),
        avg_ms=_number(total.get("Average Response Time", "")) if int(total["Request Count"]) else None,
        max_ms=_number(total.get("Max Response Time", "")) if int(total["Request Count"]) else None,
    )


def from_outcome(outcome: dict | None) -> Figures | None:
    """The guard's final figures (``outcome.json``: ``final``), complete where Locust's CSV may lag a second."""
    final = (outcome or {}).get("final")
    if not final:
        return None
    return Figures(**{k: final.get(k) for k in Figures.__dataclass_fields__})


def read_failures(prefix: Path, limit: int = 5) -> list[dict]:
    """The most frequent failures: method, name, error, occurrences."""
    path = prefix.with_name(prefix.name + "_failures.csv")
    try:
        rows = list(csv.DictReader(path.read_text(encoding="utf-8").splitlines()))
    except OSError:
        return []
    out: list[dict[str, Any]] = [{"method": r["Method"], "name": r["Name"], "error": r["Error"],
                                  "occurrences": int(r["Occurrences"])} for r in rows]
    return sorted(out, key=lambda r: -r["occurrences"])[:limit]


def read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def read_series(path: Path) -> list[dict]:
    """The guard's per-second points (``series.jsonl``); a half-written last line is skipped."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    points = []
    for line in lines:
        try:
            points.append(json.loads(line))
        except ValueError:
            continue
    return points
