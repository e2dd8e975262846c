"""The client probes: a writer and a reader holding connection pools like an application, during a failover.

The writer, every :data:`INTERVAL_S`, takes a connection from its pool, inserts the next sequence number
of the run into ``gauntlet_failover_probe`` and commits: a write is *acknowledged* when COMMIT returns.
The reader, as often, reads the run's highest sequence number back (read-only, when the chaos policy
does not allow the write probe: ``SELECT pg_is_in_recovery()``); a read that misses a write acknowledged
before it began is stale. Each pool (psycopg_pool) is what an application holds: with health checks (the
default) a connection is checked before it is handed out and every operation is bounded
(:class:`~gauntlet.database.connection.Watchdog`); without them (``db-clients-no-reconnect``) neither is.

Afterwards :meth:`ClientProbes.verify` reads the run's rows back through the endpoint (every
acknowledged write must be there, the durability of synchronous replication) and deletes them.
:func:`client_figures` and :func:`breaches` (pure) turn the operations into the figures and the
hypothesis: the longest time without a success (the unavailability window) within
``database.unavailability_budget_s``, and no acknowledged write lost.
"""

from __future__ import annotations

import itertools
import json
import logging
import threading
import time
import uuid
from collections import Counter
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from gauntlet.database.connection import Watchdog, connect, error_text, parameters, where
from gauntlet.environment import Database
from gauntlet.exceptions import GauntletError, NotChecked, WaitTimeout
from gauntlet.waiting import until

TABLE = "gauntlet_failover_probe"
INTERVAL_S = 0.05
#: Bounds with health checks: an operation, and the check of a connection before it is handed out.
OP_TIMEOUT_S, CHECK_TIMEOUT_S = 1.0, 0.5
#: Longest wait for a connection from the pool (a new one is bounded by libpq's connect_timeout).
GETCONN_TIMEOUT_S = 3.0
POOL_SIZE = 2
#: How long verify() tries to read the writes back.
VERIFY_WITHIN_S = 15.0
CLIENTS = ("writer", "reader")

logging.getLogger("psycopg.pool").addHandler(logging.NullHandler())
logging.getLogger("psycopg.pool").propagate = False  # its warnings are this module's figures


@dataclass(frozen=True)
class Op:
    """One operation of a client: when it started and ended (wall clock), whether it succeeded."""

    client: str
    start: float
    end: float
    ok: bool
    seq: int | None = None
    error: str = ""
    stale: bool = False


@dataclass(frozen=True)
class Settings:
    """What the probes connect to and how they behave."""

    db: Database
    write: bool  # chaos.db_write_probe
    health_checks: bool  # False under db-clients-no-reconnect
    budget_s: float


@dataclass
class _Shared:
    run: str
    acked: int = 0
    last_ok: dict[str, float] = field(default_factory=dict)


class _Client(threading.Thread):
    def __init__(self, name: str, settings: Settings, shared: _Shared, ops: list[Op], lock: threading.Lock,
                 stop: threading.Event) -> None:
        super().__init__(name=f"gauntlet-db-{name}", daemon=True)
        self.client, self.settings, self.shared, self.ops, self.lock, self.stop_event = name, settings, shared, ops, lock, stop
        self.watchdog = Watchdog() if settings.health_checks else None
        self.seq = 0
        kwargs = {**parameters(settings.db, f"gauntlet-{name}"), "autocommit": name == "reader"}
        self.pool = ConnectionPool("", kwargs=kwargs, min_size=1, max_size=POOL_SIZE, open=False, name=name,
                                   timeout=GETCONN_TIMEOUT_S, check=self._check if settings.health_checks else None)

    def _check(self, conn: psycopg.Connection) -> None:
        assert self.watchdog is not None
        with self.watchdog.bound(conn, CHECK_TIMEOUT_S):
            ConnectionPool.check_connection(conn)

    def _bounded(self, conn: psycopg.Connection) -> AbstractContextManager[None]:
        return self.watchdog.bound(conn, OP_TIMEOUT_S) if self.watchdog else nullcontext()

    def _once(self) -> Op:
        start = time.time()
        seq = stale = None
        try:
            with self.pool.connection() as conn, self._bounded(conn):
                if self.client == "writer":
                    self.seq += 1
                    seq = self.seq
                    conn.execute(f"INSERT INTO {TABLE} (run, seq) VALUES (%s, %s)", (self.shared.run, seq))
                    conn.commit()
                elif self.settings.write:
                    wanted = self.shared.acked
                    row = conn.execute(f"SELECT coalesce(max(seq), 0) FROM {TABLE} WHERE run = %s", (self.shared.run,)).fetchone()
                    stale = int(row[0]) < wanted  # type: ignore[index]
                else:
                    conn.execute("SELECT pg_is_in_recovery()").fetchone()
        except Exception as exc:  # every failure is a figure: refused, reset, timed out, pool exhausted
            return Op(self.client, start, time.time(), False, seq, error_text(exc))
        if self.client == "writer" and seq is not None:
            self.shared.acked = max(self.shared.acked, seq)
        return Op(self.client, start, time.time(), True, seq, stale=bool(stale))

    def run(self) -> None:
        self.pool.open(wait=False)
        next_at = time.monotonic()
        while not self.stop_event.is_set():
            op = self._once()
            with self.lock:
                self.ops.append(op)
                if op.ok:
                    self.shared.last_ok[self.client] = op.end
            next_at = max(next_at + INTERVAL_S, time.monotonic())
            self.stop_event.wait(max(0.0, next_at - time.monotonic()))

    def close(self) -> None:
        self.pool.close(timeout=2)
        if self.watchdog is not None:
            self.watchdog.stop()


class ClientProbes:
    """The writer and the reader beside an experiment; their operations, and a status file for the
    experiment's ``await_db_clients`` probe (which runs in the Chaos Toolkit process)."""

    def __init__(self, settings: Settings, status_file: Path) -> None:
        self.settings, self.status_file = settings, status_file
        self.shared = _Shared(run=uuid.uuid4().hex[:12])
        self.ops: list[Op] = []
        self.error: str | None = None  # the database could not be reached at the start: a finding
        self.skipped: str | None = None  # the probes could not be run (credentials not given): not checked
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._clients: list[_Client] = []
        self._status_thread = threading.Thread(target=self._write_status, name="gauntlet-db-status", daemon=True)

    @property
    def names(self) -> tuple[str, ...]:
        return CLIENTS if self.settings.write else ("reader",)

    def start(self) -> None:
        """Create the probe table (write probe), then start the clients. A database that cannot be reached
        now is recorded (:attr:`error`), not raised: it is what the run saw."""
        try:
            if self.settings.write:
                with connect(self.settings.db, "gauntlet-setup", autocommit=True) as conn:
                    conn.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} (run text NOT NULL, seq bigint NOT NULL, "
                                 "written_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (run, seq))")
            self._clients = [_Client(n, self.settings, self.shared, self.ops, self._lock, self._stop) for n in self.names]
        except NotChecked as exc:
            self.skipped = str(exc)
            return
        except (psycopg.Error, GauntletError) as exc:
            self.error = f"the client probes could not start on {where(self.settings.db)}: {error_text(exc)}"
            return
        for client in self._clients:
            client.start()
        self._status_thread.start()

    def _write_status(self) -> None:
        from gauntlet.run_folder import write_atomic

        while not self._stop.wait(0.1):
            with self._lock:
                doc = {"clients": list(self.names), "last_ok": dict(self.shared.last_ok), "t": time.time()}
            write_atomic(self.status_file, json.dumps(doc))

    def recovered(self, since: float) -> bool:
        """Every client succeeded after ``since`` and its latest operation succeeded."""
        with self._lock:
            last = {c: next((o for o in reversed(self.ops) if o.client == c), None) for c in self.names}
        return all(o is not None and o.ok and o.end > since for o in last.values())

    def stop(self) -> dict[str, bool]:
        """Stop the clients; which of them were still stuck in an operation."""
        self._stop.set()
        for client in self._clients:
            client.join(timeout=OP_TIMEOUT_S + GETCONN_TIMEOUT_S)
        stuck = {c.client: c.is_alive() for c in self._clients}
        for client in self._clients:
            if not client.is_alive():
                client.close()
        return stuck

    def snapshot(self) -> list[Op]:
        with self._lock:
            return list(self.ops)

    def verify(self) -> dict[str, Any]:
        """Read the run's rows back (retrying while the database is away, at most VERIFY_WITHIN_S) and delete
        them: acknowledged writes missing (lost), unacknowledged ones present (in doubt)."""
        if self.skipped or self.error:
            return {"checked": False, "why": self.skipped or self.error}
        if not self.settings.write:
            return {"checked": False, "why": "read-only: the chaos policy does not allow the write probe (chaos.db_write_probe)"}
        acked = {o.seq for o in self.snapshot() if o.client == "writer" and o.ok and o.seq is not None}
        failed = {o.seq for o in self.snapshot() if o.client == "writer" and not o.ok and o.seq is not None}
        last = ""

        def read_back() -> dict[str, Any] | None:
            nonlocal last
            try:
                with connect(self.settings.db, "gauntlet-verify", autocommit=True) as conn:
                    present = {int(r[0]) for r in conn.execute(f"SELECT seq FROM {TABLE} WHERE run = %s",
                                                                (self.shared.run,)).fetchall()}
                    conn.execute(f"DELETE FROM {TABLE} WHERE run = %s", (self.shared.run,))
            except (psycopg.Error, GauntletError) as exc:
                last = error_text(exc)
                return None
            lost = sorted(acked - present)
            return {"checked": True, "acknowledged": len(acked), "lost": len(lost), "lost_seqs": lost[:20],
                    "in_doubt_committed": len(failed & present), "in_doubt_absent": len(failed - present)}

        try:
            return until(read_back, VERIFY_WITHIN_S, 0.5, "the run's rows to be read back")
        except WaitTimeout:
            return {"checked": False, "why": f"the writes could not be read back from {where(self.settings.db)}: {last}"}


# --------------------------------------------------------------------------- figures (pure)


def client_figures(ops: list[Op], client: str, end: float, served_again_at: float | None, stuck: bool = False) -> dict:
    """One client's figures: successes, errors (by kind), the longest time without a success (from the
    success before it to the one ending it; open when the run ended without one), and the reconnect time:
    from the database serving again (``served_again_at``) to the client's first success after it."""
    mine = sorted((o for o in ops if o.client == client), key=lambda o: o.start)
    oks = [o.end for o in mine if o.ok]
    errors = [o for o in mine if not o.ok]
    gaps: list[tuple[float, float, float | None]] = [(b - a, a, b) for a, b in itertools.pairwise(oks)]  # open: no end
    still_failing = stuck or bool(mine and not mine[-1].ok)
    if oks and still_failing:
        gaps.append((end - oks[-1], oks[-1], None))
    if not oks and mine:
        gaps.append((end - mine[0].start, mine[0].start, None))
    length, since, until = max(gaps, key=lambda g: g[0]) if gaps else (0.0, None, None)
    reconnect = None
    if served_again_at is not None and until is not None:
        reconnect = round(max(0.0, until - served_again_at), 2)
    return {"ok": len(oks), "errors": len(errors), "unavailable_s": round(length, 2), "unavailable_from": since,
            "unavailable_to": until, "recovered": until is not None or not still_failing, "reconnect_s": reconnect,
            "stale_reads": sum(o.stale for o in mine),
            "error_kinds": dict(Counter(o.error for o in errors).most_common(3))}


def breaches(figures: dict[str, dict], durability: dict, budget_s: float, t0: float) -> list[str]:
    """The hypothesis of the client probes, as sentences of what broke it."""
    out = []
    for client, f in figures.items():
        what = "writes were not acknowledged" if client == "writer" else "reads failed"
        if f["unavailable_s"] > budget_s:
            since = f"{f['unavailable_from'] - t0:.1f} s" if f["unavailable_from"] else "the start"
            until = f"to {f['unavailable_to'] - t0:.1f} s" if f["unavailable_to"] else "and never came back"
            out.append(f"{client}: {what} for {f['unavailable_s']:g} s (from {since} {until}; {f['errors']} errors), "
                       f"beyond database.unavailability_budget_s ({budget_s:g} s)")
        if f["stale_reads"]:
            out.append(f"{client}: {f['stale_reads']} reads missed a write already acknowledged")
    if durability.get("checked") and durability["lost"]:
        out.append(f"{durability['lost']} of {durability['acknowledged']} acknowledged writes lost in the failover "
                   f"(seq {', '.join(map(str, durability['lost_seqs']))})")
    elif durability.get("checked") is False and "read-only" not in durability.get("why", ""):
        out.append(durability["why"])
    return out
