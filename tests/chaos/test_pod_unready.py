"""The unready-pod probe, from pod objects alone: out means not Ready while the container runs on, not restarted."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from chaoslib.exceptions import ActivityFailed

from gauntlet.chaos import actions, probes

MARK = "athens:2:/var/lib/athens/.ready"


def pod(name: str, restarts: int, ready: bool, mark: str | None = None) -> SimpleNamespace:
    return SimpleNamespace(
        metadata=SimpleNamespace(name=name, deletion_timestamp=None,
                                 annotations={actions.UNREADY_ANNOTATION: mark} if mark else {}),
        status=SimpleNamespace(conditions=[SimpleNamespace(type="Ready", status="True" if ready else "False")],
                               container_statuses=[SimpleNamespace(name="athens", restart_count=restarts)]))


@pytest.mark.parametrize(("pods", "ok", "seen"), [
    ([pod("a", 2, False, MARK), pod("b", 0, True)], True, "a: /var/lib/athens/.ready removed from container athens, not Ready, 2 restarts"),
    ([pod("a", 2, True, MARK)], False, "a: /var/lib/athens/.ready removed from container athens, still Ready, 2 restarts"),
    ([pod("b", 0, True)], False, "no pod carries gauntlet.dev/chaos-unready (replaced?)"),
], ids=["out", "still-in", "replaced"])
def test_an_unready_pod_is_out_once_not_ready(monkeypatch, pods, ok, seen):
    monkeypatch.setattr(actions, "selected_pods", lambda namespace, selector, configuration=None: pods)
    m = probes.measure_unready_pods_out("athens", "app.kubernetes.io/name=athens")
    assert m.ok is ok and seen in m.detail, m.detail


def test_a_container_its_liveness_probe_restarted_is_a_failed_answer_at_once(monkeypatch):
    """Restarted instead of taken out: the liveness probe failed on what the readiness probe asks."""
    monkeypatch.setattr(actions, "selected_pods", lambda namespace, selector, configuration=None: [pod("a", 3, False, MARK)])
    with pytest.raises(ActivityFailed, match=r"athens/a: container athens was restarted \(2 -> 3 restarts\) when "
                                             r"/var/lib/athens/\.ready was removed: expected its readiness probe"):
        probes.measure_unready_pods_out("athens", "app.kubernetes.io/name=athens")
