"""The child processes of a run (pytest, Locust, Chaos Toolkit, go) and the signals that end a run.

Every child leads a process group of its own (``start_new_session``): a Ctrl-C in the
terminal reaches gauntlet alone, which decides what each child gets. :meth:`Child.stop`
signals the whole group (pytest-xdist's workers, Locust's, whatever a child started),
waits a bounded time, then kills what is left of the group and waits until none of it
runs, so nothing of a run outlives it and nothing is sent after gauntlet exits. A child's
output goes, secrets masked (:mod:`gauntlet.redact`), to a log file and/or to a callback,
line by line; the child learns the secrets gauntlet knows, to mask them in its own files.

:func:`signals_interrupt` makes SIGTERM (a CI cancel, a Kubernetes Job deleted) and SIGHUP
(the terminal closed) interrupt gauntlet as SIGINT does: :class:`Interrupted`, a
``KeyboardInterrupt``, is raised once; later signals are only announced while the run stops
its children and finishes its report.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, overload

from gauntlet import redact
from gauntlet.exceptions import WaitTimeout
from gauntlet.waiting import until

Sink = Callable[[str], None]
#: Longest wait, after the group was killed, for its processes to be gone.
KILL_WAIT_S = 5.0
_LINE_MAX = 65536  # a child's output is read in lines of at most this many bytes
# Runs argv[3:] after setting, before its exec (preexec_fn is unsafe with threads): an address-space limit of
# argv[2] bytes (a Go runtime sizes its reservations at start), and with a parent pid in argv[1], SIGKILL when
# that parent dies (PR_SET_PDEATHSIG: a child killed outright takes its children along).
_TRAMPOLINE = ("import ctypes, os, resource, sys; parent, limit = int(sys.argv[1]), int(sys.argv[2]); "
               "limit and resource.setrlimit(resource.RLIMIT_AS, (limit, limit)); "
               "parent and ctypes.CDLL(None).prctl(1, 9); "
               "parent and os.getppid() != parent and os._exit(137); "
               "os.execvp(sys.argv[3], sys.argv[3:])")


class Interrupted(KeyboardInterrupt):
    """SIGINT, SIGTERM or SIGHUP: stop the children, finish the report as interrupted, exit ``128 + signum``."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(signal.Signals(signum).name)

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


INTERRUPTING = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class _Signals:
    """The state of :func:`signals_interrupt`: installed or not, the signal raised, one held by :func:`shielded`."""

    def __init__(self) -> None:
        self.reset(lambda line: None)
        self.installed = False

    def reset(self, announce: Sink) -> None:
        self.caught: list[Interrupted] = []
        self.shields = 0
        self.held: int | None = None
        self.announce = announce

    def handler(self, signum: int, frame: Any) -> None:
        if self.caught:
            self.announce(f"{signal.Signals(signum).name}: already stopping after {self.caught[0].name}; "
                          "waiting (bounded) for the run's processes to end and its report to be written")
        elif self.shields:
            self.held = self.held or signum
        else:
            self.caught.append(Interrupted(signum))
            raise self.caught[0]


_signals = _Signals()


@contextmanager
def signals_interrupt(announce: Sink = lambda line: None) -> Iterator[list[Interrupted]]:
    """While inside: the first SIGINT, SIGTERM or SIGHUP raises :class:`Interrupted`, later ones are announced only.
    Yields the list that holds the one raised (a framework may turn it into an exit of its own: the CLI's does).

    A no-op outside the main thread and when already inside (the CLI enters it once for the whole command)."""
    if threading.current_thread() is not threading.main_thread() or _signals.installed:
        yield _signals.caught if _signals.installed else []
        return
    _signals.reset(announce)
    _signals.installed = True
    previous = {sig: signal.signal(sig, _signals.handler) for sig in INTERRUPTING}
    try:
        yield _signals.caught
    finally:
        _signals.installed = False
        for sig, old in previous.items():
            signal.signal(sig, old)


@contextmanager
def shielded() -> Iterator[None]:
    """A first signal arriving inside is held until the block has ended, then raised: a report being written is
    finished before the run stops."""
    _signals.shields += 1
    try:
        yield
    finally:
        _signals.shields -= 1
        held, _signals.held = _signals.held, None
    if held is not None and not _signals.shields and not _signals.caught:
        _signals.caught.append(Interrupted(held))
        raise _signals.caught[0]


def signal_group(pgid: int, sig: int) -> None:
    """Send ``sig`` to process group ``pgid``; nothing when the group is gone."""
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def group_alive(pgid: int) -> bool:
    """Whether a process of group ``pgid`` still runs (zombies, which send nothing, do not count)."""
    proc = Path("/proc")
    if not proc.is_dir():
        try:
            os.killpg(pgid, 0)
            return True
        except (ProcessLookupError, PermissionError):
            return False
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()  # after "pid (comm) ": state, ppid, pgrp, ...
        if len(fields) > 2 and fields[2] == str(pgid) and fields[0] != "Z":
            return True
    return False


class Child:
    """One child process leading its own process group, its output masked and sent to ``log`` and/or ``output``.

    ``errors``: a separate sink for the child's stderr (else it joins stdout). ``memory_bytes``: the most address
    space it may use (``RLIMIT_AS``): an allocation beyond fails in the child, not the machine. ``dies_with_parent``:
    the child is killed when this process is (even by SIGKILL, when no cleanup runs): for the children whose work
    must not outlive the run (load, checks); not for Chaos Toolkit, whose rollbacks must be played."""

    def __init__(self, argv: Sequence[str], *, env: Mapping[str, str] | None = None, cwd: Path | None = None,
                 log: Path | None = None, output: Sink | None = None, errors: Sink | None = None,
                 memory_bytes: int | None = None, dies_with_parent: bool = False) -> None:
        self.argv = list(argv)
        self.log = log
        run = self.argv
        if memory_bytes is not None or dies_with_parent:
            run = [sys.executable, "-c", _TRAMPOLINE, str(os.getpid() if dies_with_parent else 0), str(memory_bytes or 0), *run]
        piped = log is not None or output is not None
        stderr: Any = subprocess.PIPE if errors is not None else (subprocess.STDOUT if piped else subprocess.DEVNULL)
        self.proc = subprocess.Popen(run, cwd=cwd, env={**(env if env is not None else os.environ), **redact.child_env()},
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE if piped else subprocess.DEVNULL,
                                     stderr=stderr, start_new_session=True)
        self._lock = threading.Lock()
        self._pumps = []
        if piped:
            self._pumps.append(self._pump(self.proc.stdout, output))
        if errors is not None:
            self._pumps.append(self._pump(self.proc.stderr, errors))

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _pump(self, stream: IO[bytes] | None, sink: Sink | None) -> threading.Thread:
        def run() -> None:
            handle = open(self.log, "a", encoding="utf-8") if self.log is not None else None
            try:
                for raw in iter(lambda: stream.readline(_LINE_MAX), b""):  # type: ignore[union-attr]
                    line = redact.redact(raw.decode("utf-8", "replace"))
                    if handle is not None:
                        with self._lock:
                            handle.write(line if line.endswith("\n") else line + "\n")
                            handle.flush()
                    if sink is not None:
                        sink(line.rstrip("\n"))
            finally:
                stream.close()  # type: ignore[union-attr]
                if handle is not None:
                    handle.close()

        thread = threading.Thread(target=run, name=f"output of pid {self.proc.pid}", daemon=True)
        thread.start()
        return thread

    def poll(self) -> int | None:
        return self.proc.poll()

    def send(self, sig: int) -> None:
        """``sig`` to the child's whole process group."""
        signal_group(self.proc.pid, sig)

    @overload
    def wait(self, timeout: None = None) -> int: ...
    @overload
    def wait(self, timeout: float) -> int | None: ...

    def wait(self, timeout: float | None = None) -> int | None:
        """The exit code, or None when the child still runs after ``timeout`` seconds (None: until it ends)."""
        try:
            return self.proc.wait(timeout=None if timeout is None else max(0.0, timeout))
        except subprocess.TimeoutExpired:
            return None

    def stop(self, first: int = signal.SIGTERM, grace_s: float = 10.0) -> int | None:
        """``first`` to the group (unless the child has ended), ``grace_s`` for it to end, then SIGKILL to whatever
        is left of the group; returns once none of it runs (at most :data:`KILL_WAIT_S` more). The exit code."""
        if self.proc.poll() is None:
            self.send(first)
            self.wait(grace_s)
        self.send(signal.SIGKILL)
        self.wait(KILL_WAIT_S)
        with suppress(WaitTimeout):
            until(lambda: not group_alive(self.proc.pid), KILL_WAIT_S, 0.05, f"process group {self.proc.pid} to be gone")
        self.finish()
        return self.proc.returncode

    def finish(self, timeout: float = 5.0) -> None:
        """Wait (bounded) until the child's output is written out."""
        for pump in self._pumps:
            pump.join(timeout=timeout)


@dataclass(frozen=True)
class Finished:
    """A child run to its end or to its deadline: exit code, output (masked), whether the deadline expired."""

    returncode: int | None
    stdout: str
    stderr: str
    expired: bool
    wall_s: float


def run(argv: Sequence[str], deadline_s: float, *, env: Mapping[str, str] | None = None,
        cwd: Path | None = None, keep_bytes: int = 1 << 20, memory_bytes: int | None = None) -> Finished:
    """Run ``argv`` to its end, or until ``deadline_s`` and then stop its group; at most ``keep_bytes`` of each
    output stream are kept (the rest is read and dropped); ``memory_bytes`` as for :class:`Child`. It dies with
    this process."""
    out: list[str] = []
    err: list[str] = []

    def keeper(lines: list[str]) -> Sink:
        size = [0]

        def keep(line: str) -> None:
            if size[0] < keep_bytes:
                lines.append(line)
                size[0] += len(line) + 1
        return keep

    started = time.monotonic()
    child = Child(argv, env=env, cwd=cwd, output=keeper(out), errors=keeper(err), memory_bytes=memory_bytes,
                  dies_with_parent=True)
    try:
        code = child.wait(deadline_s)
    finally:
        expired = child.poll() is None
        child.stop(grace_s=2.0)
    return Finished(code if not expired else None, "\n".join(out), "\n".join(err), expired,
                    round(time.monotonic() - started, 2))


#: What one more local process (a pytest-xdist or Locust worker) may take, for the fan-out bound.
PROCESS_MB = 200
PROCESSES_PER_CPU = 4


def most_processes() -> tuple[int, str]:
    """How many worker processes this machine holds: :data:`PROCESSES_PER_CPU` per CPU, and no more than
    the available memory gives at :data:`PROCESS_MB` each; with the reason, for the refusal."""
    cpus = os.cpu_count() or 1
    most, why = PROCESSES_PER_CPU * cpus, f"{PROCESSES_PER_CPU} per CPU, {cpus} CPUs"
    try:
        meminfo = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines() if ":" in line)
        available_mb = int(meminfo["MemAvailable"].split()[0]) // 1024
    except (OSError, KeyError, ValueError):
        return most, why
    if available_mb // PROCESS_MB < most:
        most, why = max(1, available_mb // PROCESS_MB), f"{PROCESS_MB} MB each of {available_mb} MB available"
    return most, why


def check_fan_out(option: str, value: int, what: str) -> None:
    """Refuse a number of local worker processes below 0 or beyond :func:`most_processes` (ConfigError)."""
    from gauntlet.exceptions import ConfigError

    most, why = most_processes()
    if value < 0:
        raise ConfigError(f"{option}: expected 0 or more {what}, got {value}")
    if value > most:
        raise ConfigError(f"{option}: {value} {what} is more than this machine holds: at most {most} ({why})")
