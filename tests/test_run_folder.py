"""Run folders: named by time, environment and kind, written atomically, found by name or as the latest."""

from __future__ import annotations

import json

import pytest

from gauntlet import run_folder
from gauntlet.environment import load_environment
from gauntlet.exceptions import ConfigError


@pytest.fixture
def env(write_env, env_data):
    write_env(env_data)
    return load_environment("sample")


def test_run_folder_is_named_by_time_env_and_kind(env):
    run = run_folder.new_run(env, "conformance", "gauntlet conformance sample")
    assert run.dir.name.endswith("-sample-conformance")
    assert run.meta["status"] == "running"
    second = run_folder.new_run(env, "conformance", "again")
    assert second.dir != run.dir, "two runs in the same second must not share a folder"


def test_atomic_write_never_leaves_a_half_file(tmp_path, monkeypatch):
    target = tmp_path / "results.json"
    target.write_text('{"old": true}')

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(run_folder.os, "replace", broken_replace)
    with pytest.raises(OSError):
        run_folder.write_atomic(target, '{"new": true}')
    assert json.loads(target.read_text()) == {"old": True}


def test_unknown_run_is_a_clear_error(env):
    with pytest.raises(ConfigError, match="no run yet"):
        run_folder.find_run()
    with pytest.raises(ConfigError, match="not a run folder"):
        run_folder.find_run("20990101T000000Z-sample-gate")
