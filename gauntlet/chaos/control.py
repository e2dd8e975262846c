"""The Chaos Toolkit control every gauntlet experiment declares: the guard in the Chaos Toolkit process.

``gauntlet chaos`` checks everything before it starts ``chaos run``; this control
checks again from inside, so that

- right before each action of the method, the action's targets are resolved again and
  the policy's limits (namespaces, pods per action) applied to what it would hit *now*;
  a breach interrupts the run (``InterruptExecution``) before the action, and the
  rollbacks run;
- a plain ``chaos run chaos_experiments/X.json`` (no gauntlet around it) gets the same
  rules as ``gauntlet chaos``: environment ``gauntlet_env`` of the configuration
  (``$GAUNTLET_ENV``, default ``local``), its policy (``--var gauntlet_confirm=<env>``
  is the typed confirmation: every experiment declares ``gauntlet_confirm``, since Chaos
  Toolkit drops a ``--var`` the configuration does not declare), the kubeconfig check, the
  lock, the plan;
- every activity's start and end is appended to ``$GAUNTLET_CHAOS_EVENTS`` (JSON lines)
  as it happens: the timeline marks the faults from it, live;
- Chaos Toolkit's log and console output, and the events, have their secrets masked
  (:mod:`gauntlet.redact`): an API answer quoting a token stays out of them.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chaoslib.exceptions import InterruptExecution
from chaoslib.types import Activity, Configuration, Experiment, Secrets

from gauntlet import redact
from gauntlet.exceptions import GauntletError

if TYPE_CHECKING:  # for the annotation only: the functions import the environment module where they use it
    from gauntlet.environment import Environment

#: Set by ``gauntlet chaos`` for the Chaos Toolkit process: the checks before the run are done, the lock is held.
RUN_ENV = "GAUNTLET_CHAOS_RUN"
EVENTS_ENV = "GAUNTLET_CHAOS_EVENTS"

_state: dict[str, Any] = {"phase": "hypothesis", "env": None, "lock": None}


def _event(**data: Any) -> None:
    path = os.environ.get(EVENTS_ENV)
    if not path:
        return
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(redact.redact_data({"t": time.time(), **data}), default=str) + "\n")
        handle.flush()


def _environment(configuration: Configuration | None) -> Environment:
    from gauntlet.environment import load_environment

    values: dict[str, Any] = configuration or {}  # resolved values: text (chaoslib's type is the unresolved form)
    if _state["env"] is None:
        _state["env"] = load_environment(values.get("gauntlet_env") or os.environ.get("GAUNTLET_ENV") or "local")
    return _state["env"]


def before_experiment_control(context: Experiment, configuration: Configuration | None = None, secrets: Secrets | None = None,
                              **kwargs: Any) -> None:
    values: dict[str, Any] = configuration or {}  # resolved values: text (chaoslib's type is the unresolved form)
    redact.install_log_filter("chaostoolkit")  # its handlers exist once Chaos Toolkit runs the experiment
    _register_kube_secrets(configuration)
    _event(event="experiment-start", title=context.get("title"))
    from gauntlet.chaos import guards
    from gauntlet.chaos.experiments import EXTENSION

    ext: dict = next((e for e in context.get("extensions") or () if e.get("name") == EXTENSION), {})
    tier = ext.get("tier")
    if tier == "database":  # failed over by RDS (the AWS API) or on the local database tier
        tier = "cloud" if values.get("db_failover") == "rds" else "database"
    if tier == "cloud":  # chaostoolkit-aws follows AWS_ENDPOINT_URL, whoever set it
        try:
            guards.check_aws_process(_environment(configuration))
        except GauntletError as exc:
            raise InterruptExecution(f"gauntlet refused the experiment: {exc}") from None
    if os.environ.get(RUN_ENV):
        return
    # A plain `chaos run`: the whole preflight of `gauntlet chaos`, here.
    from gauntlet.chaos import targets
    from gauntlet.chaos.lock import EnvLock

    try:
        env = _environment(configuration)
        guards.check_policy(env, values.get("gauntlet_confirm"), flag="--var gauntlet_confirm=")
        if tier == "cluster":
            from gauntlet.chaos import kube

            kubeconfig, kube_context = kube.settings(configuration)
            guards.check_kube_target(env, Path(kubeconfig), kube_context)
        elif tier == "goproxy":
            guards.check_goproxy_target(env)
        elif tier == "database":
            guards.check_db_tier(env)
        elif tier == "cloud":
            why = guards.cloud_not_checked(env)
            if why:
                raise InterruptExecution(f"gauntlet: not run: {why}")
        _state["lock"] = EnvLock(env.name, context.get("title", "?"), "chaos run").acquire()
        targets.check(env, targets.plan(context.get("method") or [], context.get("rollbacks") or [], configuration or {}, secrets))
    except GauntletError as exc:
        _release()
        raise InterruptExecution(f"gauntlet refused the experiment: {exc}") from None


def _register_kube_secrets(configuration: Configuration | None) -> None:
    """The tokens of the kubeconfig chaostoolkit-kubernetes will use (read_kubeconfig registers them): masked
    wherever an answer quotes them."""
    from gauntlet.chaos import kube
    from gauntlet.kubernetes.client import read_kubeconfig

    try:
        read_kubeconfig(Path(kube.settings(configuration)[0]))
    except (OSError, ValueError):
        pass  # no kubeconfig to read: nothing of it can leak


def before_method_control(context: Experiment, **kwargs: Any) -> None:
    _state["phase"] = "method"


def before_rollback_control(context: Experiment, **kwargs: Any) -> None:
    _state["phase"] = "rollback"
    _event(event="rollbacks-start")


def before_activity_control(context: Activity, configuration: Configuration | None = None, secrets: Secrets | None = None,
                            **kwargs: Any) -> None:
    phase = _state["phase"]
    if context.get("type") == "action" and phase == "method":
        from gauntlet.chaos import targets

        try:
            target = targets.resolve(context, configuration or {}, secrets)
            targets.check(_environment(configuration), [target])
        except GauntletError as exc:
            _event(event="refused", name=context.get("name"), reason=str(exc))
            raise InterruptExecution(f"gauntlet refused action {context.get('name')!r} before it ran: {exc}") from None
        _event(event="activity-start", name=context.get("name"), type="action", phase=phase, target=target.to_json())
        return
    _event(event="activity-start", name=context.get("name"), type=context.get("type"), phase=phase)


def after_activity_control(context: Activity, state: Any = None, **kwargs: Any) -> None:
    run = state if isinstance(state, dict) else {}
    output = run.get("output")
    _event(event="activity-end", name=context.get("name"), type=context.get("type"), phase=_state["phase"],
           status=run.get("status"), output=json.dumps(output, default=str)[:500] if output is not None else None,
           exception="".join(run.get("exception") or [])[-500:] or None)


def after_method_control(context: Experiment, **kwargs: Any) -> None:
    _state["phase"] = "after"
    _event(event="method-end")


def after_rollback_control(context: Experiment, **kwargs: Any) -> None:
    _event(event="rollbacks-end")


def after_experiment_control(context: Experiment, state: Any = None, **kwargs: Any) -> None:
    _event(event="experiment-end", status=(state or {}).get("status") if isinstance(state, dict) else None)
    _release()


def cleanup_control() -> None:
    _release()


def _release() -> None:
    lock = _state.get("lock")
    if lock is not None:
        lock.release()
        _state["lock"] = None
