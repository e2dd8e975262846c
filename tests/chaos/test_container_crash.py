"""The container-crash recovery probe, from pod objects alone: recovered means restarted in place and Ready again."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from gauntlet.chaos import actions, probes


def pod(name: str, restarts: int, ready: bool, mark: str | None = None) -> SimpleNamespace:
    return SimpleNamespace(
        metadata=SimpleNamespace(name=name, deletion_timestamp=None,
                                 annotations={actions.KILLED_ANNOTATION: mark} if mark else {}),
        status=SimpleNamespace(conditions=[SimpleNamespace(type="Ready", status="True" if ready else "False")],
                               container_statuses=[SimpleNamespace(name="athens", restart_count=restarts)]))


@pytest.mark.parametrize(("pods", "ok", "seen"), [
    ([pod("a", 1, True, "athens:0"), pod("b", 0, True)], True, "a athens restarts 0 -> 1, Ready"),
    ([pod("a", 0, True, "athens:0")], False, "a athens restarts 0 -> 0, Ready"),  # not restarted yet
    ([pod("a", 1, False, "athens:0")], False, "a athens restarts 0 -> 1, not Ready"),  # restarted, not serving yet
    ([pod("b", 0, True)], False, "no pod carries gauntlet.dev/chaos-container-killed (replaced, not restarted?)"),
], ids=["restarted-and-ready", "not-restarted", "not-ready", "replaced"])
def test_a_killed_container_has_recovered_once_restarted_in_its_pod_and_ready(monkeypatch, pods, ok, seen):
    monkeypatch.setattr(actions, "selected_pods", lambda namespace, selector, configuration=None: pods)
    m = probes.measure_killed_containers_restarted("athens", "app.kubernetes.io/name=athens")
    assert m.ok is ok and seen in m.detail, m.detail
