"""One chaos run at a time per environment; the lock names who holds it and dies with its holder."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from gauntlet.chaos.lock import EnvLock, holder
from gauntlet.exceptions import SafetyRefusal


@pytest.fixture(autouse=True)
def _locks(tmp_path, monkeypatch):
    monkeypatch.setenv("GAUNTLET_LOCK_DIR", str(tmp_path / "locks"))


def test_a_second_operator_is_refused_with_the_name_of_the_holder():
    with EnvLock("staging", "node-drain", "gauntlet chaos staging node-drain"):
        with pytest.raises(SafetyRefusal, match=rf"staging: a chaos run is already in progress: .*\(pid {os.getpid()}\) "
                                                r"runs node-drain since"):
            EnvLock("staging", "zone-outage").acquire()
        assert "runs node-drain" in holder("staging")
        EnvLock("production", "zone-outage").acquire().release()  # other environments are not held
    assert holder("staging") is None
    EnvLock("staging", "zone-outage").acquire().release()


def test_a_holder_that_dies_releases_the_lock(tmp_path):
    code = "from gauntlet.chaos.lock import EnvLock; import time; EnvLock('staging', 'node-drain').acquire(); time.sleep(60)"
    proc = subprocess.Popen([sys.executable, "-c", code], env=os.environ.copy())
    try:
        for _ in range(100):
            if holder("staging"):
                break
            time.sleep(0.1)
        assert f"(pid {proc.pid})" in holder("staging")
    finally:
        proc.kill()
        proc.wait()
    assert holder("staging") is None
