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
4. on Ctrl-C or SIGTERM does the same and waits (bounded) for the rollbacks; if Chaos
   Toolkit did not finish them, plays the remaining rollbacks itself; a journal is
   written in every case;
5. writes ``timeline-<experiment>.json`` (the report draws it) and records one check.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

import yaml

from gauntlet.chaos import experiments, guards, kube, targets, timeline, verdict
from gauntlet.chaos.control import EVENTS_ENV, RUN_ENV
from gauntlet.chaos.experiments import Experiment
from gauntlet.chaos.lock import EnvLock, holder
from gauntlet.environment import Environment
from gauntlet.exceptions import ConfigError
from gauntlet.ledger import CheckResult
from gauntlet.report import Run, write_atomic

Progress = Callable[[str], None]

#: Seconds of steady state recorded before the fault (more with load: until Locust reports).
LEAD_S = 3.0
#: Longest wait for Locust's first figures before the fault.
LOAD_START_S = 30.0
#: After an interruption, how long Chaos Toolkit may take to play its rollbacks before gauntlet plays them.
ROLLBACK_GRACE_S = 180.0
#: After the experiment, sampling goes on until the steady state held this long (at most the deadline).
TAIL_STEADY_S = 2.0


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C: stop, roll back, write what happened."""


@dataclass
class Preflight:
    """What the checks found: the configuration the run will use and what each action will hit."""

    env: Environment
    exp: Experiment
    vars: dict[str, Any]
    configuration: dict[str, Any]
    child_env: dict[str, str] = field(default_factory=dict)
    targets: list[targets.Target] = field(default_factory=list)
    not_checked: Optional[str] = None
    emulated: Optional[str] = None


def _live_workloads(exp: Experiment, env: Environment, values: dict[str, Any], declared: set[str]) -> None:
    """Each workload's selector (the labels its live Deployments share) and, when nothing is claimed, its replicas."""
    for prefix in exp.workloads:
        workload = exp.workload(env, prefix)
        if workload is None:
            continue
        shared: Optional[dict[str, str]] = None
        replicas = 0
        for name in workload.objects:
            try:
                dep = kube.apps(values).read_namespaced_deployment(name, workload.namespace,
                                                                   _request_timeout=kube.REQUEST_TIMEOUT_S)
            except Exception as exc:
                why = f"{exc.status} {exc.reason}" if hasattr(exc, "status") else str(exc)
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


def _goproxy_values(env: Environment, declared: set[str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    names = {e.name: e for e in env.endpoints}
    if "edge" in names:
        edge = names["edge"]
        values.update(edge_url=str(edge.url).rstrip("/"), ca_bundle=str(edge.ca_path) if edge.ca_path else None,
                      server_name=edge.server_name)
    if "lb" in names:
        values["lb_url"] = str(names["lb"].url).rstrip("/")
    if env.goproxy and env.goproxy.budgets_ms.get("list"):
        values["budget_ms"] = env.goproxy.budgets_ms["list"]
    return {k: v for k, v in values.items() if k in declared and v is not None}


#: Variables boto3 (and so chaostoolkit-aws) reads; the Chaos Toolkit process gets exactly the environment's.
AWS_VARIABLES = ("AWS_ENDPOINT_URL", "AWS_SHARED_CREDENTIALS_FILE", "AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION",
                 "AWS_EC2_METADATA_DISABLED", "GAUNTLET_AWS_LOOPBACK_ONLY")


def _aws_child_env(values: dict[str, Any]) -> dict[str, str]:
    """The AWS variables of the Chaos Toolkit process: the environment's endpoint, credentials file, profile."""
    from gauntlet.cloud.session import is_loopback

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


def preflight(env: Environment, exp: Experiment, confirm: Optional[str], *, resolve: bool = True) -> Preflight:
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
        values.update(_goproxy_values(env, declared))
    else:
        not_checked = guards.cloud_not_checked(env)
        aws = env.aws
        # Every AWS key the experiment declares comes from the environment, None included: a default of the
        # file (the local moto endpoint) must never mix with another account.
        values.update({k: values.get(k) for k in declared if k.startswith("aws_")})
        child_env.update(_aws_child_env(values))
        if aws is not None and aws.emulator == "moto":
            from gauntlet.cloud.rds import MOTO_FAILOVER

            emulated = MOTO_FAILOVER
    values = {k: v for k, v in values.items() if k in declared}
    configuration = load_configuration(exp.data.get("configuration") or {}, dict(values))
    pre = Preflight(env, exp, values, configuration, child_env, not_checked=not_checked, emulated=emulated)
    if resolve and not not_checked:
        pre.targets = targets.plan(exp.method, exp.rollbacks, configuration)
    return pre


def dry_run(env: Environment, exp: Experiment, confirm: Optional[str]) -> dict:
    """Every check, then what would be done; nothing is changed and no lock is taken."""
    pre = preflight(env, exp, confirm)
    problem = None
    try:
        targets.check(env, pre.targets)
    except Exception as exc:
        problem = str(exc)
    return {"environment": env.name, "experiment": exp.name, "title": exp.title, "claims": list(exp.claims_in(env)),
            "not_checked": pre.not_checked, "lock_held_by": holder(env.name), "configuration": pre.vars,
            "targets": [t.to_json() for t in pre.targets], "refused": problem,
            "lines": [line for t in pre.targets for line in t.lines()]}


# --------------------------------------------------------------------------- the run


def _read_events(path: Path) -> list[dict]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    out = []
    for line in lines:
        try:
            out.append(json.loads(line))
        except ValueError:
            continue
    return out


def chaos_command(exp: Experiment, out: Path) -> list[str]:
    """``chaos run`` with gauntlet's settings: no version check (no network), rollbacks always, journal in ``out``."""
    return [sys.executable, "-m", "chaostoolkit", "--no-version-check", "--log-file", str(out / "chaostoolkit.log"),
            "--settings", str(out / "settings.yaml"), "run", "--journal-path", str(out / "journal.json"),
            "--rollback-strategy", "always", "--var-file", str(out / "vars.json"), str(exp.path)]


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class _Child:
    """``chaos run`` in its own process group; its output goes to a log file and to ``progress``."""

    def __init__(self, argv: list[str], env: dict[str, str], log: Path, progress: Progress) -> None:
        self.log = log
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     start_new_session=True, env=env, text=True, bufsize=1)
        self.signalled: Optional[str] = None
        self._reader = threading.Thread(target=self._pump, args=(progress,), daemon=True)
        self._reader.start()

    def _pump(self, progress: Progress) -> None:
        with open(self.log, "a", encoding="utf-8") as handle:
            for line in self.proc.stdout:  # type: ignore[union-attr]
                line = _ANSI.sub("", line)
                handle.write(line)
                handle.flush()
                progress("chaos: " + line.rstrip())

    def interrupt(self, why: str) -> None:
        """SIGINT once: Chaos Toolkit stops what it does and plays the rollbacks."""
        if self.signalled is None and self.proc.poll() is None:
            self.signalled = why
            os.killpg(self.proc.pid, signal.SIGINT)

    def wait(self, timeout: float) -> Optional[int]:
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def kill(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()

    def finish(self) -> None:
        self._reader.join(timeout=5)


@dataclass
class _Load:
    """The load profile running beside the experiment, in its own thread (Locust in its own process)."""

    env: Environment
    run: Run
    profile: str
    thread: Optional[threading.Thread] = None
    error: Optional[BaseException] = None
    anchor: Optional[float] = None  # wall-clock time of Locust's t = 0

    def start(self, progress: Progress) -> None:
        from gauntlet.load.runner import run_profile

        def body() -> None:
            try:
                run_profile(self.env, self.run, self.profile, progress=progress)
            except BaseException as exc:  # reported with the chaos check
                self.error = exc

        self.thread = threading.Thread(target=body, name="gauntlet-chaos-load", daemon=True)
        self.thread.start()

    @property
    def series_path(self) -> Path:
        from gauntlet.load.runner import out_dir

        return out_dir(self.run, self.profile) / "series.jsonl"

    def points(self) -> list[dict]:
        from gauntlet.load.figures import read_series

        points = read_series(self.series_path)
        if points:  # the smallest delay between a point's time and when it is seen is the best anchor
            seen = time.time() - points[-1]["t"]
            self.anchor = seen if self.anchor is None else min(self.anchor, seen)
        return points

    def wall_points(self) -> list[dict]:
        points = self.points()
        if self.anchor is None:
            return []
        return [{"t": self.anchor + p["t"], "requests": round(p["rps"] * p["window_s"]),
                 "failures": round(p["fail_per_s"] * p["window_s"]), "p95_ms": p.get("p95_ms"),
                 "error_rate": p.get("error_rate")} for p in points]

    def join(self, timeout: float) -> None:
        if self.thread is not None:
            self.thread.join(timeout=timeout)


def _sampler_specs(exp: Experiment, configuration: dict) -> list[timeline.ProbeSpec]:
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


def _fallback_rollbacks(exp: Experiment, configuration: dict, progress: Progress) -> list[dict]:
    """Play the rollbacks here when Chaos Toolkit could not (killed, or it ended before them)."""
    from chaoslib.activity import run_activity

    runs = []
    for rb in exp.rollbacks:
        started = time.time()
        try:
            output = run_activity(rb, configuration, {})
            runs.append({"activity": rb, "status": "succeeded", "output": output, "start": started, "end": time.time(),
                         "ran_by": "gauntlet"})
            progress(f"rollback {rb.get('name')}: done by gauntlet")
        except Exception as exc:
            runs.append({"activity": rb, "status": "failed", "exception": [str(exc)], "start": started, "end": time.time(),
                         "ran_by": "gauntlet"})
            progress(f"rollback {rb.get('name')}: FAILED ({exc})")
    return runs


def _why(run: dict) -> str:
    """The last line of an activity run's exception, without chaoslib's repeated class prefixes."""
    lines = "".join(run.get("exception") or []).strip().splitlines()
    if not lines:
        return repr(run.get("output")) if run.get("status") != "failed" else "failed"
    return re.sub(r"^(?:[\w.]+(?:Failed|Error|Exception|Deviation|NotChecked)\b: )+", "", lines[-1])[:400]


def _probe_detail(state: Optional[dict]) -> str:
    for probe in (state or {}).get("probes") or ():
        if not probe.get("tolerance_met", True) or probe.get("status") == "failed":
            return f"{probe['activity'].get('name')}: {_why(probe)}"
    return ""


def _install_sigterm() -> Optional[Any]:
    if threading.current_thread() is not threading.main_thread():
        return None

    def handler(signum: int, frame: Any) -> None:
        raise Terminated()

    return signal.signal(signal.SIGTERM, handler)


class ChaosRun:
    """One experiment against one environment: every refusal happens on entering, before any run folder exists.

    ::

        with ChaosRun(env, "athens-pod-loss", confirm=None) as chaos:   # checks, lock, plan
            result = chaos.run(run)                                      # the experiment
    """

    def __init__(self, env: Environment, name: str, *, confirm: Optional[str] = None, load: Optional[str] = None,
                 progress: Progress = lambda line: None, command: str = "") -> None:
        self.env, self.load, self.progress = env, load, progress
        self.exp = experiments.load(name)
        if load is not None:
            profile = env.load_profile(load)
            if profile.during not in (None, name):
                raise ConfigError(f"--load {load}: this profile runs only during the experiment {profile.during!r}")
        self.claims = self.exp.claims_in(env)
        if not self.claims:
            raise ConfigError(f"experiment {name} tests {list(self.exp.claims)}, none of which {env.name} states")
        self.pre = preflight(env, self.exp, confirm, resolve=False)
        self.command = command or f"gauntlet chaos {env.name} {name}"
        self._lock: Optional[EnvLock] = None

    def __enter__(self) -> "ChaosRun":
        if self.pre.not_checked:
            return self
        self._lock = EnvLock(self.env.name, self.exp.name, self.command).acquire()
        try:
            self.pre.targets = targets.plan(self.exp.method, self.exp.rollbacks, self.pre.configuration)
            targets.check(self.env, self.pre.targets)
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
                                 {"experiment": self.exp.name, "title": self.exp.title, "limits": self.pre.emulated})
            run.record(result)
            self.progress(f"chaos {self.exp.name}: not-checked: {self.pre.not_checked}")
            return result
        if self._lock is None:
            raise RuntimeError("ChaosRun.run outside its with-block: the checks and the lock come first")
        return _run_locked(self.env, run, self.exp, self.pre, self.claims, self.load, self.progress)


def run_experiment(env: Environment, run: Run, name: str, *, confirm: Optional[str] = None, load: Optional[str] = None,
                   progress: Progress = lambda line: None) -> CheckResult:
    """Run experiment ``name`` against ``env`` into ``run``; the check it recorded. Refusals raise before anything."""
    with ChaosRun(env, name, confirm=confirm, load=load, progress=progress) as chaos:
        return chaos.run(run)


def _run_locked(env: Environment, run: Run, exp: Experiment, pre: Preflight, claims: tuple[str, ...],
                load: Optional[str], progress: Progress) -> CheckResult:
    name, deadline = exp.name, float(env.chaos.steady_state_deadline_s)
    out = run.dir / "chaos" / name
    _write_inputs(pre, out)
    for line in (line for t in pre.targets for line in t.lines()):
        progress(line)
    events_path = out / "events.jsonl"
    specs = _sampler_specs(exp, pre.configuration)
    child: Optional[_Child] = None
    stop_reason: list[str] = []

    def on_deadline(lost_s: float) -> None:
        stop_reason.append(f"stop condition: steady state lost for {lost_s:.0f} s, beyond chaos.steady_state_deadline_s "
                           f"({deadline:g} s): the method was aborted")
        progress(stop_reason[-1])
        if child is not None:
            child.interrupt("stop condition")

    sampler = timeline.Sampler(specs, deadline, on_deadline)
    loader = _Load(env, run, load) if load else None
    interrupted: Optional[str] = None
    previous_sigterm = _install_sigterm()
    started = time.monotonic()
    t0 = time.time()
    try:
        sampler.start()
        if loader is not None:
            loader.start(progress)
            waited = time.monotonic() + LOAD_START_S
            while len(loader.points()) < LEAD_S and time.monotonic() < waited and loader.thread.is_alive():  # type: ignore[union-attr]
                time.sleep(0.25)
        time.sleep(max(0.0, LEAD_S - (time.monotonic() - started)))
        merged = {**os.environ, **pre.child_env, RUN_ENV: str(run.dir), EVENTS_ENV: str(events_path),
                  "GAUNTLET_ENV": env.name, "PYTHONUNBUFFERED": "1"}
        child_env = {k: v for k, v in merged.items() if not (pre.child_env.get(k) == "")}  # "": unset
        child = _Child(chaos_command(exp, out), child_env, out / "chaostoolkit.out", progress)
        _watch(child, sampler, events_path)
    except KeyboardInterrupt as exc:
        interrupted = ("interrupted by SIGTERM" if isinstance(exc, Terminated) else "interrupted by the operator (Ctrl-C)")
        progress(f"{interrupted}: stopping the experiment, rollbacks run")
        if child is not None:
            child.interrupt(interrupted)
            _wait_ignoring_interrupts(child, ROLLBACK_GRACE_S, progress)
    finally:
        if previous_sigterm is not None:
            signal.signal(signal.SIGTERM, previous_sigterm)
    if child is not None and child.proc.poll() is None:
        progress(f"Chaos Toolkit did not end within {ROLLBACK_GRACE_S:.0f} s: killed")
        child.kill()
    if child is not None:
        child.finish()
    if interrupted is None:
        _tail(sampler, deadline)
    sampler.stop()
    events = _read_events(events_path)
    journal, fallback = _journal(exp, out, events, pre.configuration, progress)
    if loader is not None:
        progress(f"waiting for the load profile {load} to end (bounded by its duration)")
        _join_ignoring_interrupts(loader, progress)
    result = _record(env, run, exp, pre, claims, sampler, t0, events, journal, fallback,
                     interrupted or (child.signalled if child and child.signalled not in (None, "stop condition") else None),
                     stop_reason[0] if stop_reason else None, loader, time.monotonic() - started)
    if interrupted:
        raise Terminated() if "SIGTERM" in interrupted else KeyboardInterrupt()
    return result


def _watch(child: _Child, sampler: timeline.Sampler, events_path: Path) -> None:
    """Until Chaos Toolkit ends: the stop condition is armed from the first action of the method to the rollbacks."""
    faults = 0
    while child.proc.poll() is None:
        time.sleep(0.05)
        events = _read_events(events_path)
        injected = len(_faults(events))
        if injected > faults:
            sampler.burst()
            faults = injected
        rolling_back = any(e["event"] in ("rollbacks-start", "method-end") for e in events)
        sampler.arm(injected > 0 and not rolling_back)
    sampler.arm(False)


def _wait_ignoring_interrupts(child: _Child, grace_s: float, progress: Progress) -> None:
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        try:
            if child.wait(timeout=max(0.1, deadline - time.monotonic())) is not None:
                return
        except KeyboardInterrupt:
            progress("rollbacks are running: waiting for them (they must not be cut short)")


def _join_ignoring_interrupts(loader: _Load, progress: Progress) -> None:
    from gauntlet.load.runner import GRACE_S, STARTUP_S

    profile = loader.env.load_profile(loader.profile)
    deadline = time.monotonic() + STARTUP_S + profile.duration_s + GRACE_S
    while loader.thread is not None and loader.thread.is_alive() and time.monotonic() < deadline:
        try:
            loader.join(timeout=1.0)
        except KeyboardInterrupt:
            progress(f"the load run ends by itself within its duration ({profile.duration_s} s)")


def _tail(sampler: timeline.Sampler, deadline_s: float) -> None:
    """Keep sampling after the experiment until every probe, observed ones included (a replica back in the load
    balancer's pool), held for TAIL_STEADY_S; at most the deadline."""
    limit = time.monotonic() + deadline_s
    while time.monotonic() < limit:
        samples = sampler.snapshot()
        recent = [s for s in samples if s.t >= time.time() - TAIL_STEADY_S]
        if len(recent) >= 2 and all(m.ok for s in recent for m in s.values.values()):
            return
        time.sleep(timeline.INTERVAL_S)


def _journal(exp: Experiment, out: Path, events: list[dict], configuration: dict,
             progress: Progress) -> tuple[dict, bool]:
    """Chaos Toolkit's journal; when it wrote none or ended before its rollbacks, gauntlet's, with them played."""
    path = out / "journal.json"
    journal: Optional[dict] = None
    try:
        journal = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        journal = None
    acted = any(e["event"] == "activity-start" and e.get("phase") == "method" and e.get("type") == "action" for e in events)
    rolled_back = any(e["event"] == "rollbacks-end" for e in events)
    fallback = bool(acted and exp.rollbacks and not rolled_back)
    if journal is None or fallback:
        journal = journal or {"experiment": exp.data, "status": "aborted", "deviated": False, "run": [], "rollbacks": [],
                              "steady_states": {"before": None, "after": None, "during": []},
                              "note": "written by gauntlet: the Chaos Toolkit process ended without a journal"}
        if fallback:
            progress("Chaos Toolkit ended before its rollbacks: gauntlet plays them")
            journal["rollbacks"] = _fallback_rollbacks(exp, configuration, progress)
            journal["status"] = "aborted"
        journal["gauntlet_events"] = events
        write_atomic(path, json.dumps(journal, indent=2, default=str))
    return journal, fallback


def _faults(events: list[dict]) -> list[tuple[str, float]]:
    return [(e["name"], e["t"]) for e in events
            if e["event"] == "activity-start" and e.get("phase") == "method" and e.get("type") == "action"]


def _record(env: Environment, run: Run, exp: Experiment, pre: Preflight, claims: tuple[str, ...], sampler: timeline.Sampler,
            t0: float, events: list[dict], journal: dict, fallback: bool, interrupted: Optional[str],
            stop_condition: Optional[str], loader: Optional[_Load], duration_s: float) -> CheckResult:
    samples = sampler.snapshot()
    faults = _faults(events)
    recov = timeline.recoveries([(s.t, s.ok) for s in samples], faults)
    ttr = None if not recov or any(r.recovered_at is None for r in recov) else max(r.time_to_recovery_s or 0.0 for r in recov)
    markers = [(t, f"fault: {n}") for n, t in faults]
    markers += [(r.recovered_at, "recovered") for r in recov if r.recovered_at is not None and r.lost]
    markers += [(e["t"], "rollbacks") for e in events if e["event"] == "rollbacks-start"]
    if sampler.tripped_at:
        markers.append((sampler.tripped_at, "stop condition"))
    extra_series: list[dict] = []
    load_info: Optional[dict] = None
    if loader is not None:
        points = loader.wall_points()
        if faults:
            last = max(t for _, t in faults)
            recovered = max((r.recovered_at or 0.0) for r in recov) if recov else 0.0
            ends = [e["t"] for e in events if e["event"] in ("method-end", "experiment-end")]
            window = (faults[0][1], max(last, recovered, min(ends) if ends else last))
            load_info = {"profile": loader.profile, "phases": timeline.phases(points, window),
                         "error": f"{type(loader.error).__name__}: {loader.error}" if loader.error else None}
        extra_series = [
            {"name": f"load {loader.profile} p95", "unit": "ms",
             "points": [[round(p["t"] - t0, 2), p["p95_ms"]] for p in points if p["p95_ms"] is not None]},
            {"name": f"load {loader.profile} errors", "unit": "%",
             "points": [[round(p["t"] - t0, 2), round((p["error_rate"] or 0) * 100, 3)] for p in points]},
        ]
    breaches = timeline.invariant_breaches(samples, exp.invariants, t0)
    doc = timeline.document(f"chaos {exp.name} on {env.name}", samples, sampler.specs, t0, markers, ttr, extra_series,
                            recoveries=[{"fault": r.fault, "at_s": round(r.at - t0, 2), "lost": r.lost,
                                         "time_to_recovery_s": r.time_to_recovery_s} for r in recov],
                            invariant_breaches=breaches, load=load_info)
    timeline_file = run.dir / f"timeline-{exp.name}.json"
    write_atomic(timeline_file, json.dumps(doc, indent=1, default=str))
    runs = journal.get("run") or []
    failed_actions = tuple(f"{r['activity'].get('name')}: {_why(r)}"
                           for r in runs if r.get("status") == "failed" and r["activity"].get("type") == "action")
    rollbacks = journal.get("rollbacks") or []
    failed_rollbacks = tuple(f"{r['activity'].get('name')}: {_why(r)}" for r in rollbacks if r.get("status") != "succeeded")
    before = (journal.get("steady_states") or {}).get("before")
    after = (journal.get("steady_states") or {}).get("after")
    refused = next((e["reason"] for e in events if e["event"] == "refused"), None)
    observed = verdict.Observed(
        deadline_s=float(env.chaos.steady_state_deadline_s), journal_status=journal.get("status"),
        before_met=None if before is None else bool(before.get("steady_state_met")), before_detail=_probe_detail(before),
        steady_state_is_the_claim=exp.steady_state_is_the_claim,
        deviated=bool(journal.get("deviated")), after_detail=_probe_detail(after), failed_actions=failed_actions,
        failed_rollbacks=failed_rollbacks, rollbacks_ran=tuple(r["activity"].get("name") for r in rollbacks),
        interrupted=interrupted or (f"refused by the guard before an action: {refused}" if refused else None),
        stop_condition=stop_condition, invariant_breaches=tuple(breaches), faults=len(faults),
        lost=any(r.lost for r in recov),
        time_to_recovery_s=ttr, emulated=pre.emulated)
    outcome, message = verdict.judge(observed)
    if load_info:
        phases = load_info["phases"]
        message += "; load errors before/during/after: " + "/".join(
            f"{phases[p]['failures']} of {phases[p]['requests']}" for p in ("before", "during", "after"))
    rel = lambda p: str(p.relative_to(run.dir))  # noqa: E731
    details = {
        "experiment": exp.name, "title": exp.title, "tier": exp.tier, "status": journal.get("status"),
        "deviated": bool(journal.get("deviated")), "time_to_recovery_s": ttr,
        "figures": {"time_to_recovery_s": ttr} if ttr is not None else {},
        "recoveries": doc["recoveries"], "invariant_breaches": breaches, "stop_condition": stop_condition,
        "interrupted": interrupted, "rollbacks": [{"name": r["activity"].get("name"), "status": r.get("status"),
                                                   "ran_by": r.get("ran_by", "chaostoolkit")} for r in rollbacks],
        "rollbacks_played_by_gauntlet": fallback, "plan": [t.to_json() for t in pre.targets], "load": load_info,
        "limits": pre.emulated, "samples": len(samples), "deadline_s": env.chaos.steady_state_deadline_s,
        "artefacts": {"journal": rel(run.dir / "chaos" / exp.name / "journal.json"), "timeline": timeline_file.name,
                      "events": rel(run.dir / "chaos" / exp.name / "events.jsonl"),
                      "log": rel(run.dir / "chaos" / exp.name / "chaostoolkit.log")},
    }
    result = CheckResult(f"chaos:{exp.name}", "chaos", claims, outcome, message, round(duration_s, 2), details)
    run.record(result)
    return result
