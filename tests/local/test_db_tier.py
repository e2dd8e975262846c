"""The database tier itself: PostgreSQL primary and synchronous standby behind one endpoint, a failover by
hand, healing, and a clean stop. One bring-up for all of it. Run under ``flock /tmp/gauntlet-db.lock``;
the tier is left as found."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gauntlet import paths
from gauntlet.database.connection import connect
from gauntlet.environment import load_environment
from gauntlet.local import db_tier, processes
from gauntlet.local.faults import FAULTS

pytestmark = pytest.mark.local_stack


def quiet(_: str) -> None:
    pass


@pytest.fixture
def tier() -> Iterator[None]:
    was_running = db_tier.running_endpoint_pid() is not None
    yield
    if was_running:
        db_tier.up(progress=quiet)
    else:
        db_tier.down()


def _serving_port() -> int:
    db = load_environment("local", paths.ROOT / "environments").database
    assert db is not None
    with connect(db, "gauntlet-test", autocommit=True) as conn:
        port, standby = conn.execute("SELECT inet_server_port(), pg_is_in_recovery()").fetchone()
    assert standby is False, "the endpoint reaches a standby"
    return port


def _ours() -> list[str]:
    """Command lines of processes of the tier: a server of its data directories, or its endpoint."""
    marks = (str(db_tier.data_root()), str(db_tier.tier_dir() / "conf"))
    found = []
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes().decode(errors="replace").replace("\0", " ")
        except OSError:
            continue
        if proc.name.isdigit() and any(m in cmdline for m in marks):
            found.append(f"{proc.name}: {cmdline}")
    return found


def test_up_fail_over_heal_and_down_leave_nothing_running(tier):
    db_tier.down()
    started = time.monotonic()
    status = db_tier.up(progress=quiet)
    took = time.monotonic() - started
    assert all(c["healthy"] for c in status["components"].values()), status
    assert took < 15, f"the tier took {took:.1f} s to start"
    primary, standby = status["primary"], status["standby"]
    assert status["replication"] == [{"standby": standby, "state": "streaming", "sync_state": "sync"}]
    assert _serving_port() == db_tier.PORTS[primary], "the endpoint reaches the primary, as the application role"
    stats = httpx.get(f"http://{db_tier.address('endpoint stats')}/stats;csv", timeout=2).text
    up = sorted(line.split(",")[1] for line in stats.splitlines() if line.startswith("primary,db-") and ",UP," in line)
    assert up == [primary], f"the endpoint's PostgreSQL check admits the primary only, not the hot standby: {up}"

    done = db_tier.fail_over()
    assert done["fenced"] == primary and done["promoted"] == standby
    assert db_tier.frozen(primary) and db_tier.status()["fenced"] == [primary]
    deadline = time.monotonic() + 10
    while True:
        try:
            if _serving_port() == db_tier.PORTS[standby]:
                break
        except Exception:
            pass
        assert time.monotonic() < deadline, "the endpoint did not follow the promoted standby within 10 s"
        time.sleep(0.1)

    healed = db_tier.up(progress=quiet)
    assert (healed["primary"], healed["standby"], healed["fenced"]) == (standby, primary, [])
    assert healed["replication"] == [{"standby": primary, "state": "streaming", "sync_state": "sync"}]

    db_tier.down()
    assert _ours() == [], "a process of the tier is still running"
    for listener in db_tier.PORTS:
        processes.ensure_free(db_tier.HOST, db_tier.PORTS[listener], listener)
    assert not any(c["pid"] for c in db_tier.status()["components"].values())


def test_fault_profiles_of_the_tier_break_the_multi_az_claim_and_a_foreign_one_is_refused(tier):
    db = [f for f in FAULTS.values() if f.tier == "db"]
    assert sorted(f.name for f in db) == ["db-async-replication", "db-clients-no-reconnect", "db-no-standby"]
    assert all(f.breaks == ("chaos.db-failover.multi-az",) for f in db)
    with pytest.raises(Exception, match="not a database fault profile: replica-500"):
        db_tier.up(["replica-500"], progress=quiet)
