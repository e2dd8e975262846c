"""artifacthub-db-failover driven through the RDS API of the local cloud tier (moto): what such a run can
show, and its fault. (local.yaml drives it on the database tier: tests/local/test_chaos_db.py; here its
copy without the database section, so the failover goes through RDS.)

moto accepts reboot_db_instance(ForceFailover=True) and promotes no standby: the run is
not-checked with that sentence, never verified. The ``db-single-az`` fault profile makes the
hypothesis (the claim itself: Multi-AZ) fail: violated. Run under ``flock /tmp/gauntlet-cloud.lock``;
the tier is left as found.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import yaml

from gauntlet import paths
from gauntlet.local import cloud_tier

pytestmark = [pytest.mark.local_stack, pytest.mark.slow]


@pytest.fixture
def cloud(request, tmp_path, monkeypatch, local_env_data):
    """The cloud tier with the fault profiles given as indirect parameter; afterwards as it was found."""
    before = cloud_tier.status()
    cloud_tier.up(list(getattr(request, "param", ())), progress=lambda _: None)
    monkeypatch.setenv("GAUNTLET_REPORTS_DIR", str(tmp_path / "reports"))
    monkeypatch.setenv("GAUNTLET_LOCK_DIR", str(tmp_path / "locks"))
    data = local_env_data
    del data["database"]
    (tmp_path / "environments").mkdir()
    (tmp_path / "environments" / "local.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    monkeypatch.setenv("GAUNTLET_ENVIRONMENTS_DIR", str(tmp_path / "environments"))
    yield
    if before["moto"]["pid"] is None:
        cloud_tier.down()
    else:
        cloud_tier.up(before["faults"], progress=lambda _: None)


def failover() -> tuple[int, dict, str]:
    proc = subprocess.run([sys.executable, "-m", "gauntlet", "chaos", "local", "artifacthub-db-failover", "--json"],
                          capture_output=True, text=True, timeout=300, cwd=paths.ROOT, env=os.environ.copy())
    claim = next(c for c in json.loads(proc.stdout)["claims"] if c["id"] == "ah-rds-multi-az")
    return proc.returncode, claim, proc.stderr


def test_on_moto_the_failover_runs_and_is_reported_for_what_it_is(cloud):
    code, claim, err = failover()
    assert code == 3, err[-3000:]
    assert claim["verdict"] == "not-checked", "an emulator that promotes no standby never verifies a failover"
    assert "ran against an emulator: moto accepts reboot_db_instance(ForceFailover=True)" in claim["evidence"][0]
    assert "Action: fail-over-the-database" in err


@pytest.mark.parametrize("cloud", [("db-single-az",)], indirect=True)
def test_a_single_az_database_violates_the_claim_before_anything_is_rebooted(cloud):
    code, claim, err = failover()
    assert code == 1, err[-3000:]
    assert claim["verdict"] == "violated"
    assert "MultiAZ False" in claim["evidence"][0] and "Action: fail-over-the-database" not in err
