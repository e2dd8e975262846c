"""`gauntlet local up --cluster [--fault ...]`, `down`, `status --json`: the cluster tier wired in, no process started."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

import gauntlet.local as local
from gauntlet import cli
from gauntlet.local import cloud_tier, goproxy_tier, kube_cluster, kube_pki


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple]:
    """Every tier's up/down recorded instead of run; status() answers as if the cluster ran."""
    seen: list[tuple] = []
    monkeypatch.setattr(goproxy_tier, "up", lambda faults, progress, cdn="frontdoor": seen.append(("goproxy", faults)))
    monkeypatch.setattr(cloud_tier, "up", lambda faults, progress: seen.append(("cloud", faults)))
    monkeypatch.setattr(kube_cluster, "up", lambda faults, progress: seen.append(("cluster", faults)))
    for tier in (goproxy_tier, cloud_tier, kube_cluster):
        monkeypatch.setattr(tier, "down", lambda tier=tier: seen.append((tier.__name__.rsplit(".", 1)[-1], "down")))
    cluster_components = {name: {"healthy": True, "address": f"127.0.0.1:{port}", "pid": 4242}
                          for name, port in kube_cluster.PORTS.items() if name in kube_cluster.COMPONENTS}
    monkeypatch.setattr(kube_cluster, "status", lambda: {
        "components": cluster_components, "api_server": kube_pki.API_SERVER, "context": kube_pki.CONTEXT,
        "kubeconfig": str(kube_pki.kubeconfig_path()), "faults": ["no-pdb"]})
    return seen


def test_up_cluster_routes_each_fault_to_its_tier(calls: list[tuple]) -> None:
    result = CliRunner().invoke(cli.app, ["local", "up", "--cluster", "--fault", "no-pdb", "--fault", "edge-legacy-tls",
                                          "--json"])
    assert result.exit_code == 0, result.output
    assert calls == [("goproxy", ["edge-legacy-tls"]), ("cluster", ["no-pdb"])]


def test_a_cluster_fault_implies_the_cluster_tier_and_none_means_no_cluster(calls: list[tuple]) -> None:
    local.up(["hpa-min-1"], progress=lambda _: None)
    local.up([], progress=lambda _: None)
    assert calls == [("goproxy", []), ("cluster", ["hpa-min-1"]), ("goproxy", [])]


def test_down_stops_every_tier(calls: list[tuple]) -> None:
    assert CliRunner().invoke(cli.app, ["local", "down"]).exit_code == 0
    assert [c for c in calls if c[1] == "down"] == [("goproxy_tier", "down"), ("cloud_tier", "down"),
                                                    ("kube_cluster", "down")]


def test_status_json_carries_the_cluster_components_and_kubeconfig(calls: list[tuple]) -> None:
    result = CliRunner().invoke(cli.app, ["local", "status", "--json"])
    assert result.exit_code == 0, result.output
    status = json.loads(result.stdout)
    assert status["kubeconfig"] == str(kube_pki.kubeconfig_path())
    assert {"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"} <= set(status["components"])
    assert status["cluster"]["context"] == "gauntlet-local" and "no-pdb" in status["faults"]


def test_unknown_fault_is_refused_before_anything_starts(calls: list[tuple]) -> None:
    result = CliRunner().invoke(cli.app, ["local", "up", "--cluster", "--fault", "no-such-fault"])
    assert result.exit_code != 0 and not calls
