"""artifacthub-db-failover on the local database tier: a real failover measured by the client probes, and
each database fault profile turning the claim violated with the figures. Run under
``flock /tmp/gauntlet-db.lock``; the tier is left as found."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from gauntlet import paths
from gauntlet.local import db_tier

pytestmark = [pytest.mark.local_stack, pytest.mark.slow]


@pytest.fixture
def tier(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The tier with the fault profiles given as indirect parameter; afterwards as it was found."""
    before = db_tier.status()
    db_tier.up(list(getattr(request, "param", ())), progress=lambda _: None)
    monkeypatch.setenv("GAUNTLET_REPORTS_DIR", str(tmp_path / "reports"))
    monkeypatch.setenv("GAUNTLET_LOCK_DIR", str(tmp_path / "locks"))
    yield
    if before["components"]["db-endpoint"]["pid"] is None:
        db_tier.down()
    else:
        db_tier.up(before["faults"], progress=lambda _: None)


def failover() -> tuple[int, dict, dict, dict]:
    """Exit code, the claim, the check (message, details) and the timeline of one run of the experiment."""
    proc = subprocess.run([sys.executable, "-m", "gauntlet", "chaos", "local", "artifacthub-db-failover", "--json"],
                          capture_output=True, text=True, timeout=300, cwd=paths.ROOT, env=os.environ.copy())
    document = json.loads(proc.stdout)
    claim = next(c for c in document["claims"] if c["id"] == "ah-rds-multi-az")
    run = Path(document["report"])
    check = next(c for c in json.loads((run / "results.json").read_text())["checks"]
                 if c["id"] == "chaos:artifacthub-db-failover")
    timeline = json.loads((run / "timeline-artifacthub-db-failover.json").read_text())
    return proc.returncode, claim, check, timeline


def test_a_healthy_failover_is_verified_with_a_measured_window_and_no_lost_write(tier):
    code, claim, check, timeline = failover()
    figures = check["details"]["figures"]
    assert code == 0 and claim["verdict"] == "verified", check["message"]
    # a real interruption (the probes succeed every 50 ms otherwise), within the budget of local.yaml
    assert 0.5 < figures["write_unavailable_s"] <= 10 and 0.5 < figures["read_unavailable_s"] <= 10, figures
    assert figures["lost_writes"] == 0 and check["details"]["db_clients"]["durability"]["acknowledged"] > 50
    assert "0 of" in check["message"] and "acknowledged writes lost" in check["message"]
    labels = [m["label"] for m in timeline["markers"]]
    assert "fault: fail-over-the-database" in labels and "writes unavailable" in labels, labels
    assert any(label.startswith("writes back (") for label in labels), labels
    assert {"writes acknowledged", "writes failed", "reads ok", "db-topology"} <= {s["name"] for s in timeline["series"]}
    status = db_tier.status()
    assert status["standby"] and status["replication"][0]["sync_state"] == "sync", "rolled back to primary + standby"


@pytest.mark.parametrize(("tier", "fragment", "figure"), [
    (("db-async-replication",), "acknowledged writes lost in the failover", "lost_writes"),
    (("db-no-standby",), "writes were not acknowledged for", "write_unavailable_s"),
    (("db-clients-no-reconnect",), "writes were not acknowledged for", "write_reconnect_s"),
], indirect=["tier"], ids=["async-replication", "no-standby", "clients-no-reconnect"])
def test_each_database_fault_profile_violates_the_claim_with_the_figures(tier, fragment, figure):
    code, claim, check, _ = failover()
    figures = check["details"]["figures"]
    assert code == 1 and claim["verdict"] == "violated", check["message"]
    assert check["message"].startswith("client probes: ") and fragment in check["message"], check["message"]
    if figure == "lost_writes":
        assert figures["lost_writes"] > 0, figures
    elif figure == "write_unavailable_s":
        assert figures["write_unavailable_s"] > 10 and "beyond database.unavailability_budget_s (10 s)" in check["message"]
    else:  # the database served again within seconds, the clients did not follow it
        assert figures["time_to_recovery_s"] < 10 < figures["write_unavailable_s"], figures
        assert figures["write_reconnect_s"] > 5, figures


@pytest.mark.parametrize("tier", [("db-no-standby",)], indirect=True, ids=["no-standby"])
def test_sigterm_during_the_outage_restores_the_database_and_leaves_the_journal(tier):
    """Without a standby the database stays down until the rollback: SIGTERM to gauntlet then plays it at once."""
    import signal
    import time

    proc = subprocess.Popen([sys.executable, "-m", "gauntlet", "chaos", "local", "artifacthub-db-failover"], cwd=paths.ROOT,
                            env=os.environ.copy(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not db_tier.status()["fenced"]:  # the failover is in, nothing promoted
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"the failover never fenced the primary; gauntlet said:\n{proc.communicate()[1][:4000]}")
        time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode != 0 and "rollbacks run" in err, err[-3000:]
    status = db_tier.status()
    assert status["primary"] and not status["fenced"], f"the rollback restored the instance on SIGTERM: {status}"
    run = max(Path(os.environ["GAUNTLET_REPORTS_DIR"]).glob("*-local-chaos"))
    journal = json.loads((run / "chaos" / "artifacthub-db-failover" / "journal.json").read_text())
    assert [(r["activity"]["name"], r["status"]) for r in journal["rollbacks"]] == [("restore-the-standby", "succeeded")]
