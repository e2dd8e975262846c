"""One outcome per run, from the journal, the timeline and how the run ended (gauntlet.chaos.verdict)."""

from __future__ import annotations

import pytest

from gauntlet.chaos.verdict import Observed, judge

BASE = dict(deadline_s=60, before_met=True, faults=1, time_to_recovery_s=4.2, rollbacks_ran=("uncordon",))


@pytest.mark.parametrize(("changes", "outcome", "fragment"), [
    ({}, "passed", "time to recovery 4.2 s (deadline 60 s)"),
    ({"lost": False, "time_to_recovery_s": 0.0}, "passed", "steady state never seen lost, sampled every 0.1 s after each fault"),
    ({"failed_rollbacks": ("uncordon: 403",), "interrupted": "interrupted"}, "error", "the environment may not be restored"),
    ({"interrupted": "interrupted by the operator (Ctrl-C)"}, "skipped", "rollbacks ran: uncordon"),
    ({"before_met": False, "before_detail": "www: 3 Ready"}, "skipped", "not evidence: steady state not met before the "
                                                                         "method, nothing was broken: www: 3 Ready"),
    ({"failed_actions": ("drain: 403",)}, "skipped", "not evidence: an action failed, the fault was not injected as planned"),
    ({"invariant_breaches": ("at 3.0 s: no endpoint",)}, "failed", "invariant broken: at 3.0 s: no endpoint"),
    ({"failed_probes": ("its-readiness-probe-takes-it-out: still Ready",), "lost": False, "time_to_recovery_s": 0.0},
     "failed", "the method's probes: its-readiness-probe-takes-it-out: still Ready; time to recovery 0 s"),
    ({"failed_probes": ("out: restarted",), "failed_actions": ("drain: 403",)}, "skipped", "an action failed"),
    ({"stop_condition": "stop condition: lost for 61 s", "time_to_recovery_s": None}, "failed", "lost for 61 s"),
    ({"deviated": True, "after_detail": "2 Ready"}, "failed", "not met after the method: 2 Ready"),
    ({"time_to_recovery_s": None}, "failed", "did not come back"),
    ({"time_to_recovery_s": 75.0}, "failed", "beyond the deadline of 60 s"),
    ({"emulated": "moto ignores ForceFailover"}, "skipped", "ran against an emulator: moto ignores ForceFailover"),
    ({"faults": 0, "time_to_recovery_s": None}, "skipped", "not evidence: no fault was injected"),
    ({"client_breaches": ("3 of 40 acknowledged writes lost in the failover",), "client_summary": "writes unavailable 1.6 s",
      "deviated": True}, "failed", "client probes: 3 of 40 acknowledged writes lost in the failover; writes unavailable 1.6 s"),
    ({"client_summary": "writes unavailable 2.1 s; 0 of 190 acknowledged writes lost"}, "passed",
     "(deadline 60 s); client probes: writes unavailable 2.1 s; 0 of 190 acknowledged writes lost"),
])
def test_the_first_rule_that_applies_decides(changes, outcome, fragment):
    got, message = judge(Observed(**{**BASE, **changes}))
    assert got == outcome and fragment in message, message
