"""Runs evidence into a run folder: conformance suites (pytest), load profiles, chaos experiments.

Each kind runs in its own process: pytest for conformance, Locust for load
(it monkey-patches the process with gevent), Chaos Toolkit for chaos. The
results land in the run folder's ``checks.jsonl``; :mod:`gauntlet.report`
turns them into verdicts.
"""

from __future__ import annotations

import re
import signal
import sys
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TextIO

from gauntlet import paths
from gauntlet.catalogue import catalogue
from gauntlet.children import Child, check_fan_out
from gauntlet.environment import Claim, Environment, conformance_suites
from gauntlet.exceptions import ConfigError, RunError, SafetyRefusal
from gauntlet.redact import redact
from gauntlet.run_folder import Run


def check_suites(suites: Iterable[str]) -> list[str]:
    """The suites asked for, each checked to exist; all of them when none is named."""
    known = conformance_suites()
    chosen = list(dict.fromkeys(suites)) or list(known)
    for suite in chosen:
        if suite not in known:
            raise ConfigError(f"--suite: unknown conformance suite {suite!r}: expected one of {list(known)}")
    return chosen


#: After an interruption, how long pytest may take to finish the check at hand and its teardown.
CONFORMANCE_GRACE_S = 10.0
_PYTEST_EXIT = {2: "interrupted: errors during collection", 3: "internal error", 5: "no check collected"}


def run_conformance(env: Environment, run: Run, suites: Sequence[str], *, workers: int | None = None,
                    claims: Iterable[str] | None = None, environments_dir: Path | None = None,
                    quiet_stdout: bool = False) -> int:
    """Run pytest on ``conformance/<suite>`` for ``env``, recording into ``run``; returns pytest's exit code.

    pytest runs in its own process group, its output masked on the way to the terminal. Interrupted
    (Ctrl-C, SIGTERM, SIGHUP), it gets SIGINT and :data:`CONFORMANCE_GRACE_S` to write what it finished,
    then its group is killed. An exit other than "checks ran" (0, 1) raises: usage errors ConfigError,
    the others :class:`RunError` after noting the suites unavailable and the run as an error."""
    if workers is not None:
        check_fan_out("-n", workers, "pytest-xdist workers")
    args = [sys.executable, "-m", "pytest", *[f"conformance/{s}" for s in suites],
            "--env", env.name, "--gauntlet-run", str(run.dir), "-p", "no:cacheprovider", "-q", "-rfEs"]
    if environments_dir is not None:
        args += ["--environments-dir", str(environments_dir)]
    if workers is not None:
        args += ["-n", str(workers)]
    if claims is not None:
        args += ["--claims", ",".join(claims)]
    run.add_ran(*(f"conformance:{s}" for s in suites))
    tail: deque[str] = deque(maxlen=200)
    out = sys.stderr if quiet_stdout else sys.stdout

    def to(stream: TextIO, keep: bool) -> Callable[[str], None]:
        def write(line: str) -> None:
            if keep:
                tail.append(line)
            stream.write(line + "\n")
            stream.flush()
        return write

    child = Child(args, cwd=paths.ROOT, output=to(out, True), errors=to(sys.stderr, True), dies_with_parent=True)
    try:
        code = child.wait()
    finally:
        child.stop(first=signal.SIGINT, grace_s=CONFORMANCE_GRACE_S)
    if code == 4:
        errors = [line.removeprefix("ERROR: ") for line in tail if line.startswith("ERROR: ")]
        raise ConfigError(errors[-1] if errors else f"pytest refused its arguments: {' '.join(args)}")
    if code not in (0, 1):
        why = f"pytest ended with exit code {code} ({_PYTEST_EXIT.get(code, 'abnormal end')}) before running the checks"
        detail = _pytest_problem(list(tail))
        reason = f"{why}{': ' + detail if detail else ''}"
        for suite in suites:
            run.add_unavailable(f"conformance:{suite}", reason)
        run.add_error(reason)
        raise RunError(f"conformance {', '.join(suites)}: {reason}; the run is marked error: {run.dir}")
    return code


def _pytest_problem(lines: list[str]) -> str:
    """The line of pytest's output that says what went wrong: an internal error's exception, a collection
    error, or pytest's summary line."""
    for marks in (("INTERNALERROR> ",), ("E   ",), ("ERROR ",)):
        found = [line for line in lines if line.startswith(marks) and re.search(r"\w+(Error|Exception)\b|ERROR ", line)]
        if found:
            return found[-1].removeprefix("INTERNALERROR> ").removeprefix("E   ").strip()[:300]
    summary = [line for line in lines if line.strip()]
    return summary[-1].strip("= ")[:300] if summary else ""


def confirm_production_load(env: Environment, confirm: str | None) -> None:
    """Refuse load against a production environment without the typed confirmation (its name)."""
    if env.production and confirm != env.name:
        raise SafetyRefusal(f"environment {env.name!r} is production: load against it needs --confirm {env.name}")


def run_load(env: Environment, run: Run, profile: str, *, workers: int = 0,
             progress: Callable[[str], None] | None = None, environments_dir: Path | None = None,
             remote: str | None = None, confirm: str | None = None) -> None:
    """Run one load profile with Locust (in its own processes), recording its SLO checks into ``run``.

    Load against a production environment needs the typed confirmation ``confirm == env.name``
    (the gate never gives it), as chaos does: a load run is an intervention too."""
    from gauntlet.load.runner import run_profile

    confirm_production_load(env, confirm)
    run_profile(env, run, profile, workers=workers, progress=progress, environments_dir=environments_dir, remote=remote)


def run_chaos(env: Environment, run: Run, experiment: str, *, load: str | None = None,
              progress: Callable[[str], None] | None = None) -> None:
    """Run one chaos experiment (Chaos Toolkit in its own process) under the environment's policy, into ``run``.

    Never confirms for anyone: an environment that needs ``--confirm`` is refused here."""
    from gauntlet.chaos import ChaosRun

    with ChaosRun(env, experiment, load=load, progress=progress or (lambda line: None)) as session:
        session.run(run)


def _progress_to_stderr(line: str) -> None:
    sys.stderr.write(redact(line) + "\n")
    sys.stderr.flush()


def sources_of(claims: Iterable[Claim]) -> list[str]:
    """The evidence sources (``conformance:<suite>``, ``load:<profile>``, ``chaos:<experiment>``) holding the
    check kinds these claims name."""
    return catalogue().sources(p for c in claims for p in c.evidence)


def _experiments(names: Sequence[str]) -> str:
    return f"the chaos experiment{'s' if len(names) > 1 else ''} {', '.join(map(repr, names))}"


def run_evidence(env: Environment, run: Run, refs: Iterable[str], *, claims: Iterable[str] | None = None,
                 environments_dir: Path | None = None, quiet_stdout: bool = False,
                 load_runner: Callable[..., None] = run_load, chaos_runner: Callable[..., None] = run_chaos) -> None:
    """Run every evidence source named in ``refs``; note the ones that cannot run and why.

    A load profile with ``during: [EXPERIMENT, ...]`` is evidence only alongside those chaos
    experiments (a failover profile without the failure proves nothing): it runs during
    each of them whose ``chaos:EXPERIMENT`` is among ``refs``, else it is noted as
    unavailable, never run alone. A chaos experiment the policy refuses (production
    needs a typed confirmation the gate never gives, a lock held, an unreachable
    cluster) is noted as unavailable with the refusal.
    """
    refs = list(dict.fromkeys(refs))
    suites = [ref.partition(":")[2] for ref in refs if ref.startswith("conformance:")]
    experiments = [ref.partition(":")[2] for ref in refs if ref.startswith("chaos:")]
    loads, beside = [], {}
    for ref in refs:
        kind, _, name = ref.partition(":")
        if kind != "load":
            continue
        fault_windows = env.load_profile(name).during
        if not fault_windows:
            loads.append(name)
        elif in_run := [e for e in fault_windows if e in experiments]:
            beside.update(dict.fromkeys(in_run, name))
        else:
            run.add_unavailable(ref, f"runs only during {_experiments(fault_windows)}, not on its own")
    if suites:
        try:
            run_conformance(env, run, suites, claims=claims, environments_dir=environments_dir, quiet_stdout=quiet_stdout)
        except RunError as exc:  # noted in the run (its suites unavailable, the run an error): the gate goes on
            _progress_to_stderr(f"gauntlet: error: {exc}")
    refused = set()
    for name in experiments:
        try:
            chaos_runner(env, run, name, load=beside.get(name), progress=_progress_to_stderr)
        except (SafetyRefusal, ConfigError) as exc:
            run.add_unavailable(f"chaos:{name}", f"refused before anything was done: {exc}")
            refused.add(name)
    for profile in dict.fromkeys(beside.values()):
        windows = [e for e, p in beside.items() if p == profile]
        if refused.issuperset(windows):
            run.add_unavailable(f"load:{profile}", f"runs only during {_experiments(windows)}, "
                                                   f"which {'was' if len(windows) == 1 else 'were'} refused")
    for name in loads:
        try:
            load_runner(env, run, name, progress=_progress_to_stderr, environments_dir=environments_dir)
        except SafetyRefusal as exc:
            run.add_unavailable(f"load:{name}", f"refused before anything was sent: {exc}")
        except ConfigError as exc:  # a profile that cannot run (no module set, no endpoint): the gate goes on
            run.add_unavailable(f"load:{name}", f"cannot run: {exc}")
