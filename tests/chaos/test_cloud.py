"""artifacthub-db-failover driven through the RDS API without a reachable cloud tier: not-checked, with the
reason, nothing called; driven on a local database tier that is down: refused, one line."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

from gauntlet import paths


def test_without_the_local_cloud_tier_the_failover_is_not_checked_and_says_why(write_env, env_dir, monkeypatch, tmp_path,
                                                                               local_env_data):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    data = local_env_data
    data["aws"]["endpoint_url"] = f"http://127.0.0.1:{port}"
    del data["database"]  # failed over through the (unreachable) RDS API
    write_env(data, "local")
    monkeypatch.setenv("GAUNTLET_LOCK_DIR", str(tmp_path / "locks"))
    proc = subprocess.run([sys.executable, "-m", "gauntlet", "chaos", "local", "artifacthub-db-failover", "--json"],
                          capture_output=True, text=True, timeout=120, cwd=paths.ROOT, env=os.environ.copy())
    assert proc.returncode == 3, "nothing was exercised: the run could not verify the claim\n" + proc.stderr
    claim = next(c for c in json.loads(proc.stdout)["claims"] if c["id"] == "ah-rds-multi-az")
    assert claim["verdict"] == "not-checked"
    assert f"the local cloud tier (moto on http://127.0.0.1:{port}) is not up" in claim["evidence"][0]
    assert "gauntlet local up --cloud" in claim["evidence"][0]


def test_on_a_local_database_tier_that_is_down_the_failover_is_refused_in_one_line(write_env, monkeypatch, tmp_path,
                                                                                  local_env_data):
    write_env(local_env_data, "local")
    monkeypatch.setenv("GAUNTLET_CACHE_DIR", str(tmp_path / "cache"))  # no endpoint of ours runs there
    monkeypatch.setenv("GAUNTLET_LOCK_DIR", str(tmp_path / "locks"))
    proc = subprocess.run([sys.executable, "-m", "gauntlet", "chaos", "local", "artifacthub-db-failover", "--json"],
                          capture_output=True, text=True, timeout=120, cwd=paths.ROOT, env=os.environ.copy())
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert "the local database tier is not healthy" in proc.stderr and "gauntlet local up --db" in proc.stderr
    assert not (tmp_path / "reports").exists() or not list((tmp_path / "reports").glob("*chaos*")), "refused before a run"
