"""One chaos run: checks, lock, sampler, optional load, ``chaos run`` in its own process, journal, verdict.

:func:`preflight` does every check that can refuse (:mod:`gauntlet.chaos.guards`) and
resolves the plan; :func:`dry_run` prints it; :func:`run_experiment` then, holding the
environment's lock:

1. starts the :class:`~gauntlet.chaos.timeline.Sampler` (steady state twice a second)
   and, with ``load``, the environment's Locust profile in its own process, and lets a
   few seconds of steady state (and of load) be recorded before the fault;
2. runs ``chaos run --rollback-strategy always`` in its own process group, with the
   kubeconfig and context pinned, gauntlet's vars and settings, the journal and logs in
   ``<run>/chaos/<experiment>/``; the control in the experiment writes its events as it goes;
3. arms the stop condition while the method runs: steady state lost for longer than
   ``chaos.steady_state_deadline_s`` sends SIGINT to Chaos Toolkit, which stops the
   method and plays the rollbacks;
4. on Ctrl-C, SIGTERM or SIGHUP does the same, stops the load beside it, and waits
   (bounded) for the rollbacks; if Chaos Toolkit did not finish them, plays the remaining
   rollbacks itself; a journal is written in every case;
5. writes ``timeline-<experiment>.json`` (the report draws it) and records one check.

A database experiment also runs the client probes (:mod:`gauntlet.database.clients`) from before the
fault to the end of the tail; their status file lets the experiment's ``await_db_clients`` probe hold
the rollbacks until they got through; afterwards their writes are read back.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from chaoslib.types import Configuration

from gauntlet.chaos import experiments, guards, kube, targets, timeline, verdict
from gauntlet.chaos.control import EVENTS_ENV, RUN_ENV
from gauntlet.chaos.experiments import Experiment
from gauntlet.chaos.load_beside import LoadBeside, join_ignoring_interrupts
from gauntlet.chaos.lock import EnvLock, holder
from gauntlet.chaos.probes import DB_CLIENTS_ENV
from gauntlet.chaos.process import (
    ROLLBACK_GRACE_S,
    ChaosProcess,
    chaos_command,
    faults,
    read_events,
    wait_ignoring_interrupts,
    write_journal,
)
from gauntlet.chaos.record import Finished, record
from gauntlet.children import Interrupted, signals_interrupt
from gauntlet.database.clients import ClientProbes, Settings
from gauntlet.environment import Environment
from gauntlet.exceptions import ConfigError, NotChecked, WaitTimeout
from gauntlet.ledger import CheckResult
from gauntlet.run_folder import Run, write_atomic
from gauntlet.urls import is_loopback
from gauntlet.waiting import until

Progress = Callable[[str], None]

#: Seconds of steady state recorded before the fault (more with load: until Locust reports).
LEAD_S = 3.0
#: Longest wait for Locust's first figures before the fault.
LOAD_START_S = 30.0
#: After the experiment, sampling goes on until the steady state held this long (at most the deadline).
TAIL_STEADY_S = 2.0


@dataclass
class Preflight:
    """What the checks found: the configuration the run will use and what each action will hit."""

    env: Environment
    exp: Experiment
    vars: dict[str, Any]
    configuration: dict[str, Any]
    child_env: dict[str, str] = field(default_factory=dict)
    targets: list[targets.Target] = field(default_factory=list)
    not_checked: str | None = None
    emulated: str | None = None


def _live_workloads(exp: Experiment, env: Environment, values: dict[str, Any], declared: set[str]) -> None:
    """Each workload's selector (the labels its live Deployments share) and, when nothing is claimed, its replicas."""
    for prefix, workload in exp.bound(env).items():
        shared: dict[str, str] | None = None
        replicas = 0
        for name in workload.objects:
            try:
                dep = kube.apps(values).read_namespaced_deployment(name, workload.namespace,
                                                                   _request_timeout=kube.REQUEST_TIMEOUT_S)
            except Exception as exc:
                why = f"{exc.status} {exc.reason}" if hasattr(exc, "status") and hasattr(exc, "reason") else str(exc)
                raise ConfigError(f"{env.name}: deployment {workload.namespace}/{name} cannot be read ({why}): "
                                  "is it deployed?") from None
            labels = dict((dep.spec.selector.match_labels or {}) if dep.spec.selector else {})
            shared = labels if shared is None else {k: v for k, v in shared.items() if labels.get(k) == v}
            replicas += dep.spec.replicas or 0
        if not shared:
            raise ConfigError(f"{env.name}: the Deployments of workload {workload.ref} share no selector label")
        if f"{prefix}_selector" in declared:
            values[f"{prefix}_selector"] = ",".join(f"{k}={v}" for k, v in sorted(shared.items()))
        if f"{prefix}_replicas" in declared and f"{prefix}_replicas" not in values:
            values[f"{prefix}_replicas"] = replicas
        if f"{prefix}_floor" in declared and f"{prefix}_floor" not in values:
            values[f"{prefix}_floor"] = max(1, values.get(f"{prefix}_replicas", replicas) - 1)


def _endpoint_values(env: Environment, declared: set[str]) -> dict[str, Any]:
    """The URL of each endpoint of the environment as ``NAME_url`` (``edge_url``, ``lb_url``, ``www_url``), the edge's
    CA bundle and server name, and the GOPROXY list budget: those the experiment declares."""
    values: dict[str, Any] = {f"{e.name.replace('-', '_')}_url": str(e.url).rstrip("/") for e in env.endpoints}
    edge = next((e for e in env.endpoints if e.name == "edge"), None)
    if edge is not None:
        values.update(ca_bundle=str(edge.ca_path) if edge.ca_path else None, server_name=edge.server_name)
    if env.goproxy and env.goproxy.budgets_ms.get("list"):
        values["budget_ms"] = env.goproxy.budgets_ms["list"]
    return {k: v for k, v in values.items() if k in declared and v is not None}


#: Variables boto3 (and so chaostoolkit-aws) reads; the Chaos Toolkit process gets exactly the environment's.
AWS_VARIABLES = ("AWS_ENDPOINT_URL", "AWS_SHARED_CREDENTIALS_FILE", "AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION",
                 "AWS_EC2_METADATA_DISABLED", "GAUNTLET_AWS_LOOPBACK_ONLY")


def _aws_child_env(values: dict[str, Any]) -> dict[str, str]:
    """The AWS variables of the Chaos Toolkit process: the environment's endpoint, credentials file, profile."""
    out = {name: "" for name in AWS_VARIABLES}  # unset below what the operator's shell had
    endpoint = values.get("aws_endpoint_url")
    if endpoint:
        out["AWS_ENDPOINT_URL"] = str(endpoint)
        if is_loopback(str(endpoint)):
            out.update(AWS_EC2_METADATA_DISABLED="true", GAUNTLET_AWS_LOOPBACK_ONLY="1")
    if values.get("aws_credentials_file"):
        out["AWS_SHARED_CREDENTIALS_FILE"] = str(values["aws_credentials_file"])
    if values.get("aws_profile_name"):
        out["AWS_PROFILE"] = str(values["aws_profile_name"])
    if values.get("aws_region"):
        out["AWS_REGION"] = out["AWS_DEFAULT_REGION"] = str(values["aws_region"])
    return out


def preflight(env: Environment, exp: Experiment, confirm: str | None, *, resolve: bool = True) -> Preflight:
    """Every check that can refuse, in order; nothing is changed. Raises SafetyRefusal or ConfigError."""
    from chaoslib.configuration import load_configuration

    why = exp.applies_to(env)
    if why:
        raise ConfigError(f"experiment {exp.name} does not apply to {env.name}: {why}")
    guards.check_policy(env, confirm)
    declared = set(exp.data.get("configuration") or {})
    values = experiments.base_configuration(exp, env)
    child_env: dict[str, str] = {}
    not_checked = emulated = None
    if exp.tier == "cluster":
        kubeconfig = guards.check_kube_target(env)
        values.update(kubeconfig=str(kubeconfig), kube_context=env.kubernetes.context,  # type: ignore[union-attr]
                      kube_api_server=str(env.kubernetes.api_server).rstrip("/"))  # type: ignore[union-attr]
        child_env.update(KUBECONFIG=str(kubeconfig), KUBERNETES_CONTEXT=env.kubernetes.context)  # type: ignore[union-attr]
        _live_workloads(exp, env, values, declared)
    elif exp.tier == "goproxy":
        guards.check_goproxy_target(env)
    elif exp.tier == "database" and values.get("db_failover") == "local-tier":
        guards.check_db_tier(env)
    else:  # the AWS API: a cloud experiment, or a database failed over by RDS
        not_checked = guards.cloud_not_checked(env)
        aws = env.aws
        # Every AWS key the experiment declares comes from the environment, None included: a default of the
        # file (the local moto endpoint) must never mix with another account.
        values.update({k: values.get(k) for k in declared if k.startswith("aws_")})
        child_env.update(_aws_child_env(values))
        if aws is not None and aws.emulator == "moto":
            from gauntlet.cloud.rds import MOTO_FAILOVER

            emulated = MOTO_FAILOVER
    values.update(_endpoint_values(env, declared))
    values = {k: v for k, v in values.items() if k in declared}
    configuration = load_configuration(exp.data.get("configuration") or {}, dict(values))
    pre = Preflight(env, exp, values, configuration, child_env, not_checked=not_checked, emulated=emulated)
    if resolve and not not_checked:
        _plan(pre)
    return pre


def _plan(pre: Preflight) -> bool:
    """Plan the targets of the experiment's actions; False, and the run not-checked, when the API refused a
    question of the plan (401, 403)."""
    try:
        pre.targets = targets.plan(pre.exp.method, pre.exp.rollbacks, pre.configuration)
    except NotChecked as exc:
        pre.not_checked = str(exc)
        return False
    return True


def dry_run(env: Environment, exp: Experiment, confirm: str | None) -> dict:
    """Every check, then what would be done; nothing is changed and no lock is taken."""
    pre = preflight(env, exp, confirm)
    problem = None
    try:
        targets.check(env, pre.targets)
    except Exception as exc:
        problem = str(exc)
    return {"environment": env.name, "experiment": exp.name, "title": exp.title,
            "claims": [c.id for c in exp.claims_in(env)],
            "not_checked": pre.not_checked, "lock_held_by": holder(env.name), "configuration": pre.vars,
            "targets": [t.to_json() for t in pre.targets], "refused": problem,
            "lines": [line for t in pre.targets for line in t.lines()]}


# --------------------------------------------------------------------------- the run


def _db_clients(env: Environment, exp: Experiment, out: Path) -> ClientProbes | None:
    """The client probes of a database experiment, where the environment names the database; their settings:
    the write probe only where the chaos policy allows it, the pool as the local tier's faults say."""
    db = env.database
    if exp.tier != "database" or db is None:
        return None
    health_checks = True
    if db.failover == "local-tier":
        from gauntlet.local import db_tier

        health_checks = db_tier.status()["client_health_checks"]
    settings = Settings(db, write=env.chaos.db_write_probe, health_checks=health_checks, budget_s=db.unavailability_budget_s)
    return ClientProbes(settings, out / "db-clients.json")


def _sampler_specs(exp: Experiment, configuration: Configuration) -> list[timeline.ProbeSpec]:
    specs = [timeline.probe_spec(p, configuration, None, steady=True, invariant=p.get("name") in exp.invariants)
             for p in exp.probes]
    ext = next(e for e in exp.data["extensions"] if e.get("name") == experiments.EXTENSION)
    specs += [timeline.probe_spec(p, configuration, None, steady=False, invariant=False) for p in ext.get("observe") or ()]
    return specs


def _write_inputs(pre: Preflight, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / "vars.json", json.dumps({"configuration": pre.vars}, indent=2, default=str))
    write_atomic(out / "settings.yaml", yaml.safe_dump({"runtime": {"rollbacks": {"strategy": "always"}}}))
    write_atomic(out / "plan.json", json.dumps([t.to_json() for t in pre.targets], indent=2))


class ChaosRun:
    """One experiment against one environment: every refusal happens on entering, before any run folder exists.

    ::

        with ChaosRun(env, "athens-pod-loss", confirm=None) as chaos:   # checks, lock, plan
            result = chaos.run(run)                                      # the experiment
    """

    def __init__(self, env: Environment, name: str, *, confirm: str | None = None, load: str | None = None,
                 progress: Progress = lambda line: None, command: str = "") -> None:
        self.env, self.load, self.progress = env, load, progress
        self.exp = experiments.load(name)
        if load is not None:
            profile = env.load_profile(load)
            if profile.during and name not in profile.during:
                raise ConfigError(f"--load {load}: this profile runs only during the experiments {', '.join(profile.during)}")
        self.claims = tuple(c.id for c in self.exp.claims_in(env))
        if not self.claims:
            raise ConfigError(f"experiment {name} implements {', '.join(self.exp.checks)}: no claim of {env.name} names "
                              "them (claims[].evidence)")
        self.pre = preflight(env, self.exp, confirm, resolve=False)
        self.command = command or f"gauntlet chaos {env.name} {name}"
        self._lock: EnvLock | None = None

    def __enter__(self) -> ChaosRun:
        if self.pre.not_checked:
            return self
        self._lock = EnvLock(self.env.name, self.exp.name, self.command).acquire()
        try:
            if not _plan(self.pre):
                self.__exit__()
                return self
            targets.check(self.env, self.pre.targets)
            self._lock.record_breaks([c for t in self.pre.targets for c in t.breaks])
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *_: object) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def run(self, run: Run) -> CheckResult:
        """Run the experiment into ``run``; the check it recorded. Ctrl-C/SIGTERM: rollbacks, journal, then re-raised."""
        check_id = f"chaos:{self.exp.name}"
        run.add_ran(check_id)
        if self.pre.not_checked:
            result = CheckResult(check_id, "chaos", self.claims, "skipped", self.pre.not_checked, 0.0,
                                 {"experiment": self.exp.name, "title": self.exp.title, "limits": self.pre.emulated},
                                 kinds=self.exp.checks, subject=self.exp.name)
            run.record(result)
            self.progress(f"chaos {self.exp.name}: not-checked: {self.pre.not_checked}")
            return result
        if self._lock is None:
            raise RuntimeError("ChaosRun.run outside its with-block: the checks and the lock come first")
        return _run_locked(self.env, run, self.exp, self.pre, self.claims, self.load, self.progress)


def run_experiment(env: Environment, run: Run, name: str, *, confirm: str | None = None, load: str | None = None,
                   progress: Progress = lambda line: None) -> CheckResult:
    """Run experiment ``name`` against ``env`` into ``run``; the check it recorded. Refusals raise before anything."""
    with ChaosRun(env, name, confirm=confirm, load=load, progress=progress) as chaos:
        return chaos.run(run)


def _run_locked(env: Environment, run: Run, exp: Experiment, pre: Preflight, claims: tuple[str, ...],
                load: str | None, progress: Progress) -> CheckResult:
    name, deadline = exp.name, float(env.chaos.steady_state_deadline_s)
    out = run.dir / "chaos" / name
    _write_inputs(pre, out)
    for line in (line for t in pre.targets for line in t.lines()):
        progress(line)
    events_path = out / "events.jsonl"
    specs = _sampler_specs(exp, pre.configuration)
    child: ChaosProcess | None = None
    stop_reason: list[str] = []

    def on_deadline(lost_s: float) -> None:
        stop_reason.append(f"stop condition: steady state lost for {lost_s:.0f} s, beyond chaos.steady_state_deadline_s "
                           f"({deadline:g} s): the method was aborted")
        progress(stop_reason[-1])
        if child is not None:
            child.interrupt("stop condition")

    sampler = timeline.Sampler(specs, deadline, on_deadline)
    loader = LoadBeside(env, run, load, exp.name) if load else None
    clients = _db_clients(env, exp, out)
    with signals_interrupt(progress):  # a no-op under the CLI, which is inside it already
        interrupted: KeyboardInterrupt | None = None
        started = time.monotonic()
        t0 = time.time()
        try:
            sampler.start()
            if clients is not None:
                clients.start()
            if loader is not None:
                loader.start(progress)
                with suppress(WaitTimeout):
                    until(lambda: len(loader.points()) >= LEAD_S or not loader.thread.is_alive(),  # type: ignore[union-attr]
                          LOAD_START_S, 0.25, f"{LEAD_S:g} s of load before the experiment")
            time.sleep(max(0.0, LEAD_S - (time.monotonic() - started)))
            merged = {**os.environ, **pre.child_env, RUN_ENV: str(run.dir), EVENTS_ENV: str(events_path),
                      "GAUNTLET_ENV": env.name, "PYTHONUNBUFFERED": "1",
                      **({DB_CLIENTS_ENV: str(clients.status_file)} if clients and not (clients.error or clients.skipped) else {})}
            child_env = {k: v for k, v in merged.items() if not (pre.child_env.get(k) == "")}  # "": unset
            child = ChaosProcess(chaos_command(exp, out), child_env, out / "chaostoolkit.out", progress)
            _watch(child, sampler, events_path)
        except KeyboardInterrupt as exc:
            interrupted = exc
            progress(f"{_why(exc)}: stopping the experiment, rollbacks run")
            if loader is not None:
                loader.stop()
            if child is not None:
                child.interrupt(_why(exc))
                wait_ignoring_interrupts(child, ROLLBACK_GRACE_S, progress)
        if child is not None and child.proc.poll() is None:
            progress(f"Chaos Toolkit did not end within {ROLLBACK_GRACE_S:.0f} s: killed")
            child.kill()
        if child is not None:
            child.finish()
        if interrupted is None:
            _tail(sampler, deadline, clients)
        sampler.stop()
        beside = None
        if clients is not None:
            stuck = clients.stop()
            beside = (clients, stuck, clients.verify())
        events = read_events(events_path)
        journal, fallback = write_journal(exp, out, events, pre.configuration, progress)
        if loader is not None:
            progress(f"waiting for the load profile {load} to end" + (" (stopping it)" if interrupted else
                                                                       " (bounded by its duration)"))
            join_ignoring_interrupts(loader, progress)
        signalled = child.signalled if child and child.signalled not in (None, "stop condition") else None
        signalled = signalled or verdict.not_checked(sampler.snapshot(), journal)
        result = record(env, run, Finished(exp, pre.targets, pre.emulated, claims, sampler, t0, events, journal, fallback,
                                           _why(interrupted) if interrupted else signalled,
                                           stop_reason[0] if stop_reason else None, loader, time.monotonic() - started, beside))
    if interrupted:
        raise interrupted
    return result


def _why(exc: KeyboardInterrupt) -> str:
    if isinstance(exc, Interrupted) and exc.name != "SIGINT":
        return f"interrupted by {exc.name}"
    return "interrupted by the operator (Ctrl-C)"


def _watch(child: ChaosProcess, sampler: timeline.Sampler, events_path: Path) -> None:
    """Until Chaos Toolkit ends: the stop condition is armed from the first action of the method to the rollbacks."""
    seen = 0
    while child.proc.poll() is None:
        time.sleep(0.05)
        events = read_events(events_path)
        injected = len(faults(events))
        if injected > seen:
            sampler.burst()
            seen = injected
        rolling_back = any(e["event"] in ("rollbacks-start", "method-end") for e in events)
        sampler.arm(injected > 0 and not rolling_back)
    sampler.arm(False)


def _tail(sampler: timeline.Sampler, deadline_s: float, clients: ClientProbes | None = None) -> None:
    """Keep sampling after the experiment until every probe, observed ones included (a replica back in the load
    balancer's pool), held for TAIL_STEADY_S, and the client probes succeed again; at most the deadline."""

    def steady() -> bool:
        recent = [s for s in sampler.snapshot() if s.t >= time.time() - TAIL_STEADY_S]
        settled = clients is None or bool(clients.error or clients.skipped) or clients.recovered(time.time() - TAIL_STEADY_S)
        return len(recent) >= 2 and all(m.ok for s in recent for m in s.values.values()) and settled

    with suppress(WaitTimeout):
        until(steady, deadline_s, timeline.INTERVAL_S, f"the steady state held {TAIL_STEADY_S:g} s after the experiment")


