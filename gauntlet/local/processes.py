"""The processes of the local stack: started in their own session with a pid file, found again by that
pid file and their command line, stopped by signalling their process group. Never by process name.
"""

from __future__ import annotations

import errno
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from gauntlet.children import signal_group
from gauntlet.exceptions import LocalStackError, WaitTimeout
from gauntlet.waiting import until


class Daemon(subprocess.Popen):
    """A component of the local stack: it outlives the handle that started it (found again by its pid file), so
    dropping the handle while it runs is expected, not the leak Popen warns of (ResourceWarning). It is still
    reaped once it exits, as any Popen."""

    def __del__(self, _maxsize: int = sys.maxsize, _warn: Callable[..., object] = lambda *_, **__: None) -> None:
        super().__del__(_maxsize, _warn)  # type: ignore[call-arg]  # typeshed omits CPython's private parameters


def start(argv: Sequence[str], log: Path, pid_file: Path | None = None, cwd: Path | None = None,
          env: Mapping[str, str] | None = None) -> Daemon:
    """Start ``argv`` in a session of its own (its group is what :func:`stop` signals), output appended to
    ``log``; its pid written to ``pid_file``."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        proc = Daemon(list(argv), cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                start_new_session=True, close_fds=True)
    if pid_file is not None:
        pid_file.write_text(f"{proc.pid}\n")
    return proc


def running_pid(pid_file: Path, *marks: str) -> int | None:
    """The pid in ``pid_file`` if that process runs and its command line holds one of ``marks`` (so a pid
    the kernel gave to another program since is not taken for ours)."""
    try:
        pid = int(pid_file.read_text())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except (OSError, ValueError):
        return None
    return pid if any(mark in cmdline for mark in marks) else None


def stop(pid_file: Path, *marks: str, grace_s: float = 5.0) -> None:
    """SIGTERM the process group of the process :func:`running_pid` finds, SIGKILL it after ``grace_s``;
    remove the pid file."""
    pid = running_pid(pid_file, *marks)
    if pid is not None:
        signal_group(pid, signal.SIGTERM)
        try:
            until(lambda: not _alive(pid), grace_s, 0.05, f"process {pid} to end")
        except WaitTimeout:
            signal_group(pid, signal.SIGKILL)
    pid_file.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    """Whether the process still holds its resources: it exists and is not yet a zombie (its command line
    is gone early in exit, before its sockets are closed)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


def ensure_free(host: str, port: int, what: str, settle_s: float = 2.0) -> None:
    """Refuse to start ``what`` when another process already listens on ``host:port``. A port whose process
    has just exited can stay refused for a moment after (its accepted connections closing): that is retried
    for up to ``settle_s``."""
    def free() -> bool:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((host, port))
            except OSError as exc:
                if exc.errno != errno.EADDRINUSE:
                    raise LocalStackError(f"cannot bind {host}:{port} ({what}): {exc}") from exc
                return False
        return True

    until(free, settle_s, 0.1, lambda: f"port {host}:{port} ({what}) is already in use by another process", error=LocalStackError)


def tail(path: Path, lines: int = 15) -> str:
    """The last lines of a log, for an error message."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""
