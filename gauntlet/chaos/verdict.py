"""From what a chaos run saw to one check outcome for its claims.

What none of the chaos tools gives: the Chaos Toolkit journal (hypothesis before and
after, actions, rollbacks), gauntlet's timeline (time to recovery, invariants sampled
twice a second, the stop condition) and the way the run ended, combined into
``passed`` / ``failed`` / ``error`` / ``skipped`` with one sentence. The first rule that
applies wins:

1. a rollback failed -> ``error``: the environment may not be restored, say so first;
2. interrupted by the operator, or a probe or an action could not ask its question
   (:class:`~gauntlet.exceptions.NotChecked`: 401, 403, API unreachable: :func:`not_checked`)
   -> ``skipped`` (not-checked), rollbacks reported: as the same cause reads in conformance;
3. steady state not met before the method -> ``skipped``: nothing was broken, nothing learnt
   (``failed`` when the experiment's extension says ``steady_state_is_the_claim``: Multi-AZ);
4. an action failed -> ``skipped``, not evidence: the fault was not injected as planned;
5. an invariant broke at any sample -> ``failed``; so did the client probes' hypothesis (a database:
   unavailable beyond the budget, an acknowledged write lost), and a probe of the method whose question
   was answered no (an unready pod its readiness probe never took out);
6. the stop condition aborted the method -> ``failed``;
7. steady state not met after the method -> ``failed``;
8. no recovery, or slower than the deadline -> ``failed``;
9. against an emulator that cannot show the failure (moto) -> ``skipped``, saying what it showed;
10. no fault injected at all -> ``skipped``, not evidence;
11. otherwise ``passed``, with the time to recovery.

Only rules 5-8 and 11 judge the claim: a run that broke nothing is never evidence for it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from gauntlet.chaos.timeline import BURST_INTERVAL_S, Sample
from gauntlet.ledger import NOT_EVIDENCE, Outcome


@dataclass(frozen=True)
class Observed:
    """Everything a verdict is made of."""

    deadline_s: float
    journal_status: str | None = None
    before_met: bool | None = None
    before_detail: str = ""
    steady_state_is_the_claim: bool = False  # the hypothesis states the claim itself (Multi-AZ): not met is a violation
    deviated: bool = False
    after_detail: str = ""
    failed_actions: tuple[str, ...] = ()
    failed_rollbacks: tuple[str, ...] = ()
    rollbacks_ran: tuple[str, ...] = ()
    interrupted: str | None = None
    stop_condition: str | None = None
    invariant_breaches: tuple[str, ...] = ()
    faults: int = 0
    lost: bool = True  # the steady state was seen lost after a fault
    time_to_recovery_s: float | None = None
    emulated: str | None = None
    client_breaches: tuple[str, ...] = ()
    failed_probes: tuple[str, ...] = ()  # the method's probes that raised: the question asked, answered no
    client_summary: str = ""  # the client probes' figures, for every message
    notes: tuple[str, ...] = field(default=())


def _rollbacks(o: Observed) -> str:
    return f"rollbacks ran: {', '.join(o.rollbacks_ran)}" if o.rollbacks_ran else "no rollback ran"


def judge(o: Observed) -> tuple[Outcome, str]:
    ttr = f"time to recovery {o.time_to_recovery_s:g} s" if o.time_to_recovery_s is not None else "no recovery measured"
    if o.failed_rollbacks:
        return "error", (f"rollback failed: {'; '.join(o.failed_rollbacks)}: the environment may not be restored, check it now")
    if o.interrupted:
        return "skipped", f"{o.interrupted}; {_rollbacks(o)}"
    if o.before_met is False:
        if o.steady_state_is_the_claim:
            return "failed", f"steady state not met before the method (it states the claim): {o.before_detail}"
        return "skipped", f"{NOT_EVIDENCE}: steady state not met before the method, nothing was broken: {o.before_detail}"
    if o.failed_actions:
        return "skipped", (f"{NOT_EVIDENCE}: an action failed, the fault was not injected as planned: "
                           f"{'; '.join(o.failed_actions)}; {_rollbacks(o)}")
    if o.invariant_breaches:
        stop = f"; {o.stop_condition}" if o.stop_condition else ""
        return "failed", f"invariant broken: {'; '.join(o.invariant_breaches)}{stop}; {ttr}; {_rollbacks(o)}"
    if o.client_breaches:
        return "failed", f"client probes: {'; '.join(o.client_breaches)}; {o.client_summary or ttr}; {_rollbacks(o)}"
    if o.failed_probes:
        return "failed", f"the method's probes: {'; '.join(o.failed_probes)}; {ttr}; {_rollbacks(o)}"
    if o.stop_condition:
        return "failed", f"{o.stop_condition}; {ttr}; {_rollbacks(o)}"
    if o.deviated:
        return "failed", f"steady state not met after the method: {o.after_detail}; {ttr}"
    if o.faults and o.time_to_recovery_s is None:
        return "failed", f"the steady state did not come back after the fault (deadline {o.deadline_s:g} s)"
    if o.time_to_recovery_s is not None and o.time_to_recovery_s > o.deadline_s:
        return "failed", f"{ttr}, beyond the deadline of {o.deadline_s:g} s"
    if o.emulated:
        return "skipped", f"ran against an emulator: {o.emulated}; steady state held ({ttr})"
    if not o.faults:
        return "skipped", f"{NOT_EVIDENCE}: no fault was injected (the method ran no action)"
    if not o.lost:
        return "passed", (f"steady state never seen lost, sampled every {BURST_INTERVAL_S:g} s after each fault "
                          f"(time to recovery 0 s, deadline {o.deadline_s:g} s)")
    clients = f"; client probes: {o.client_summary}" if o.client_summary else ""
    return "passed", f"{ttr} (deadline {o.deadline_s:g} s){clients}"


_NOT_CHECKED = re.compile(r"\bgauntlet\.exceptions\.NotChecked: (.+)")


def not_checked(samples: list[Sample], journal: dict) -> str | None:
    """The first question the run could not ask, as ``not-checked: <why>``: a sampled probe, or an activity of
    the Chaos Toolkit journal (hypothesis before and after, method, rollbacks) that raised ``NotChecked``; None
    when every question was asked. What could not be asked was not seen lost: the run is no evidence."""
    for sample in samples:
        seen = next((m for m in sample.values.values() if m.not_checked), None)
        if seen is not None:
            return f"not-checked: {seen.detail}"
    states = journal.get("steady_states") or {}
    runs = [*((states.get("before") or {}).get("probes") or ()), *(journal.get("run") or ()),
            *((states.get("after") or {}).get("probes") or ()), *(journal.get("rollbacks") or ())]
    for run in runs:
        found = _NOT_CHECKED.search("".join(run.get("exception") or ()))
        if found:
            return f"not-checked: {run.get('activity', {}).get('name', 'activity')}: {found.group(1).strip()}"
    return None
