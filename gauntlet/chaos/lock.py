"""One chaos run at a time per environment: a lock file that names who holds it.

``<lock dir>/<env>.lock`` is locked with ``flock`` for the whole run and holds, while
locked, who runs what (user, host, pid, experiment, since when). A second operator who
tries is refused with that sentence; a holder that died releases the lock with its
process, so a crash never leaves a stale lock. The folder is ``$GAUNTLET_LOCK_DIR``,
else ``gauntlet-chaos-locks`` in the system's temporary folder (shared by every user of
the machine); operators on several machines point ``GAUNTLET_LOCK_DIR`` at a shared disk.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import getpass
import json
import os
import socket
import tempfile
from pathlib import Path

from gauntlet.exceptions import SafetyRefusal


def lock_dir() -> Path:
    return Path(os.environ.get("GAUNTLET_LOCK_DIR") or Path(tempfile.gettempdir()) / "gauntlet-chaos-locks")


def lock_path(env: str) -> Path:
    return lock_dir() / f"{env}.lock"


def _open(env: str) -> int:
    folder = lock_dir()
    folder.mkdir(parents=True, exist_ok=True)
    try:
        folder.chmod(0o1777)  # like /tmp: every operator may lock, only the owner may remove
    except OSError:
        pass
    fd = os.open(lock_path(env), os.O_RDWR | os.O_CREAT, 0o666)
    return fd


def _describe(data: dict) -> str:
    return (f"{data.get('user', '?')}@{data.get('host', '?')} (pid {data.get('pid', '?')}) runs "
            f"{data.get('experiment', '?')} since {data.get('since', '?')}")


def _held(env: str) -> dict | None:
    """What the holder of ``env``'s lock wrote ({} while it is being written), or None when it is free."""
    if not lock_path(env).exists():
        return None
    fd = _open(env)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            try:
                return json.loads(os.pread(fd, 65536, 0).decode("utf-8", "replace"))
            except ValueError:
                return {}
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def holder(env: str) -> str | None:
    """Who holds the lock of ``env`` right now, or None when it is free."""
    data = _held(env)
    if data is None:
        return None
    return _describe(data) if data else "another process (its lock file is being written)"


def broken(env: str) -> tuple[str | None, set[str]]:
    """The experiment running against ``env`` and the components it takes down (pods, ``host:port``), if any."""
    data = _held(env) or {}
    return data.get("experiment"), set(data.get("breaks") or ())


class EnvLock:
    """The lock of one environment, held from :meth:`acquire` to :meth:`release` (or the process's end)."""

    def __init__(self, env: str, experiment: str, command: str = "") -> None:
        self.env, self.experiment, self.command = env, experiment, command
        self._fd: int | None = None

    def acquire(self) -> EnvLock:
        fd = _open(self.env)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            text = os.pread(fd, 65536, 0).decode("utf-8", "replace")
            os.close(fd)
            try:
                who = _describe(json.loads(text))
            except ValueError:
                who = "another process"
            raise SafetyRefusal(f"{self.env}: a chaos run is already in progress: {who} (lock {lock_path(self.env)}); "
                                "one run at a time per environment") from None
        data = {"environment": self.env, "experiment": self.experiment, "user": getpass.getuser(),
                "host": socket.gethostname(), "pid": os.getpid(), "command": self.command,
                "since": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(data).encode(), 0)
        os.fsync(fd)
        self._fd = fd
        return self

    def record_breaks(self, components: list[str]) -> None:
        """Say, in the lock file, which components this run takes down (checks running meanwhile expect them down)."""
        assert self._fd is not None, "record_breaks on a lock not held"
        data = json.loads(os.pread(self._fd, 65536, 0).decode("utf-8"))
        data["breaks"] = sorted(set(components))
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, json.dumps(data).encode(), 0)
        os.fsync(self._fd)

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> EnvLock:
        return self.acquire()

    def __exit__(self, *_: object) -> None:
        self.release()
