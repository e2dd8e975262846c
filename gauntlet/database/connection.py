"""Connections to the environment's database: parameters, one fresh connection, bounded operations.

The ``database`` section names the endpoint and the credentials by reference: ``user`` literally or
as ``${VAR}``, the password as ``${VAR}`` or a libpq ``passfile``. :func:`parameters` resolves them in
this process's environment at the moment of connecting; an unset variable is :class:`NotChecked`
naming the variable, never its value. :func:`where` is what a message may say about the target.
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg

from gauntlet.environment import Database
from gauntlet.exceptions import NotChecked
from gauntlet.redact import redact, register

_REF = re.compile(r"^\$\{(\w+)\}$")


def _resolve(field: str, value: str) -> str:
    match = _REF.match(value)
    if match is None:
        return value
    found = os.environ.get(match.group(1))
    if not found:
        raise NotChecked(f"database.{field}: the variable {match.group(1)} is not set: the client probes cannot log in")
    return found


def where(db: Database) -> str:
    """``host:port/name``: the target as a message may name it."""
    return f"{db.host}:{db.port}/{db.name}"


def parameters(db: Database, application_name: str) -> dict[str, Any]:
    """libpq connection parameters for ``db`` (secrets resolved here, from this process's environment)."""
    params: dict[str, Any] = {"host": db.host, "port": db.port, "dbname": db.name, "user": _resolve("user", db.user),
                              "sslmode": db.sslmode, "connect_timeout": db.connect_timeout_s,
                              "application_name": application_name}
    if db.password is not None:
        params["password"] = _resolve("password", db.password)
        register(params["password"])  # masked wherever a driver's message quotes it
    if db.passfile_path is not None:
        if not os.access(db.passfile_path, os.R_OK):
            raise NotChecked(f"database.passfile: {db.passfile_path} cannot be read: the client probes cannot log in")
        params["passfile"] = str(db.passfile_path)
    if db.sslrootcert:
        params["sslrootcert"] = os.path.expanduser(db.sslrootcert)
    return params


def connect(db: Database, application_name: str, **kwargs: Any) -> psycopg.Connection:
    """One new connection through the endpoint."""
    return psycopg.connect(**parameters(db, application_name), **kwargs)


def error_text(exc: BaseException) -> str:
    """The first line of an error, kind first, with anything secret masked."""
    first = (str(exc).strip().splitlines() or [""])[0]
    return redact(f"{type(exc).__name__}: {first}")[:200]


class Watchdog:
    """Bounds one operation at a time on a connection, as a client's socket timeout does: past its deadline
    the connection's socket is shut down, so the operation ends with an error and the pool discards the
    connection. (libpq has no timeout for a server that stops answering on an open connection.)"""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._armed: tuple[float, int] | None = None
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="gauntlet-db-watchdog", daemon=True)
        self._thread.start()

    @contextmanager
    def bound(self, conn: psycopg.Connection, seconds: float) -> Iterator[None]:
        with self._lock:
            self._armed = (time.monotonic() + seconds, conn.fileno())
        try:
            yield
        finally:
            with self._lock:
                self._armed = None

    def _watch(self) -> None:
        while not self._stopped.wait(0.02):
            with self._lock:
                if self._armed is None or time.monotonic() < self._armed[0]:
                    continue
                fd, self._armed = self._armed[1], None
                try:
                    with socket.socket(fileno=os.dup(fd)) as sock:
                        sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    continue

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=1)
