"""Child processes: their whole group stopped within bounds, their output masked, their deadline kept; signals
interrupt once."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pytest

from gauntlet import children, redact
from gauntlet.exceptions import ConfigError

# A child that starts a grandchild in its group, prints a secret, and ignores SIGTERM.
STUBBORN = ("import signal, subprocess, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
            "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
            "print('token=swordfish-42', flush=True); time.sleep(60)")


def test_stop_ends_the_whole_group_even_a_child_that_ignores_sigterm(tmp_path: Path):
    lines: list[str] = []
    child = children.Child([sys.executable, "-c", STUBBORN], log=tmp_path / "out.log", output=lines.append)
    deadline = time.monotonic() + 10
    while not lines and time.monotonic() < deadline:
        time.sleep(0.05)
    started = time.monotonic()
    child.stop(grace_s=0.5)
    assert time.monotonic() - started < 0.5 + children.KILL_WAIT_S
    assert not children.group_alive(child.pid), "the grandchild went with it"
    assert lines == ["token=***"] and (tmp_path / "out.log").read_text() == "token=***\n"


def test_run_stops_at_its_deadline_and_says_so():
    finished = children.run([sys.executable, "-c", "import time; print('begun', flush=True); time.sleep(60)"], 1.0)
    assert finished.expired and finished.returncode is None and finished.stdout == "begun"
    assert finished.wall_s < 1.0 + 2.0 + children.KILL_WAIT_S


def test_a_memory_limit_fails_the_child_not_the_machine():
    finished = children.run([sys.executable, "-c", "b = bytearray(2 << 30)"], 30, memory_bytes=512 << 20)
    assert finished.returncode != 0 and "MemoryError" in finished.stderr


def test_a_child_learns_the_secrets_its_parent_knows(monkeypatch):
    monkeypatch.setattr(redact, "_known", set())
    redact.register("parent-only-secret")
    finished = children.run([sys.executable, "-c", "from gauntlet.redact import redact; print(redact('x parent-only-secret'))"], 30)
    assert finished.stdout == "x ***"


def test_the_first_signal_interrupts_and_later_ones_are_only_announced():
    said: list[str] = []
    with children.signals_interrupt(said.append) as caught:
        with pytest.raises(children.Interrupted) as first:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)
        os.kill(os.getpid(), signal.SIGHUP)
        time.sleep(0.1)
    assert first.value.exit_code == 143 and caught == [first.value]
    assert said and said[0].startswith("SIGHUP: already stopping after SIGTERM")
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def test_fan_out_beyond_the_machine_is_refused():
    most, why = children.most_processes()
    children.check_fan_out("-n", most, "workers")
    with pytest.raises(ConfigError, match=rf"-n: {most + 1} workers is more than this machine holds: at most {most} \("):
        children.check_fan_out("-n", most + 1, "workers")
    with pytest.raises(ConfigError, match="-n: expected 0 or more workers, got -1"):
        children.check_fan_out("-n", -1, "workers")


def test_a_signal_during_a_shielded_block_waits_for_its_end():
    done = []
    with children.signals_interrupt() as caught:
        with pytest.raises(children.Interrupted):
            with children.shielded():
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(0.1)
                done.append("report written")
    assert done == ["report written"] and caught[0].name == "SIGTERM"


def test_a_child_that_dies_with_its_parent_goes_when_the_parent_is_killed_outright(tmp_path: Path):
    script = ("import sys, time; from gauntlet import children; "
              "c = children.Child([sys.executable, '-c', 'import time; time.sleep(60)'], dies_with_parent=True); "
              "print(c.pid, flush=True); time.sleep(60)")
    import subprocess

    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    pid = int(parent.stdout.readline())  # type: ignore[union-attr]
    time.sleep(0.3)  # the trampoline has set the death signal and exec'd
    parent.kill()
    parent.wait()
    parent.stdout.close()  # type: ignore[union-attr]
    deadline = time.monotonic() + 5
    while children.group_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not children.group_alive(pid)
