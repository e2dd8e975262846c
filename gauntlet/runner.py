"""Runs evidence into a run folder: conformance suites (pytest), load profiles, chaos experiments.

Each kind runs in its own process: pytest for conformance, Locust for load
(it monkey-patches the process with gevent), Chaos Toolkit for chaos. The
results land in the run folder's ``checks.jsonl``; :mod:`gauntlet.report`
turns them into verdicts.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Callable, Iterable, Optional, Sequence

from gauntlet import paths
from gauntlet.catalogue import catalogue
from gauntlet.environment import Claim, Environment, conformance_suites
from gauntlet.exceptions import ConfigError, SafetyRefusal
from gauntlet.report import Run


def check_suites(suites: Iterable[str]) -> list[str]:
    """The suites asked for, each checked to exist; all of them when none is named."""
    known = conformance_suites()
    chosen = list(dict.fromkeys(suites)) or list(known)
    for suite in chosen:
        if suite not in known:
            raise ConfigError(f"--suite: unknown conformance suite {suite!r}: expected one of {list(known)}")
    return chosen


def run_conformance(env: Environment, run: Run, suites: Sequence[str], *, workers: Optional[int] = None,
                    claims: Optional[Iterable[str]] = None, environments_dir: Optional[Path] = None,
                    quiet_stdout: bool = False) -> int:
    """Run pytest on ``conformance/<suite>`` for ``env``, recording into ``run``; returns pytest's exit code."""
    args = [sys.executable, "-m", "pytest", *[f"conformance/{s}" for s in suites],
            "--env", env.name, "--gauntlet-run", str(run.dir), "-p", "no:cacheprovider", "-q", "-rfEs"]
    if environments_dir is not None:
        args += ["--environments-dir", str(environments_dir)]
    if workers is not None:
        args += ["-n", str(workers)]
    if claims is not None:
        args += ["--claims", ",".join(claims)]
    run.add_ran(*(f"conformance:{s}" for s in suites))
    proc = subprocess.run(args, cwd=paths.ROOT, stdout=sys.stderr if quiet_stdout else None, stderr=subprocess.PIPE, text=True)
    sys.stderr.write(proc.stderr)
    if proc.returncode == 4:
        errors = [line.removeprefix("ERROR: ") for line in proc.stderr.splitlines() if line.startswith("ERROR: ")]
        raise ConfigError(errors[-1] if errors else f"pytest refused its arguments: {' '.join(args)}")
    return proc.returncode


def confirm_production_load(env: Environment, confirm: Optional[str]) -> None:
    """Refuse load against a production environment without the typed confirmation (its name)."""
    if env.production and confirm != env.name:
        raise SafetyRefusal(f"environment {env.name!r} is production: load against it needs --confirm {env.name}")


def run_load(env: Environment, run: Run, profile: str, *, workers: int = 0,
             progress: Optional[Callable[[str], None]] = None, environments_dir: Optional[Path] = None,
             remote: Optional[str] = None, confirm: Optional[str] = None) -> None:
    """Run one load profile with Locust (in its own processes), recording its SLO checks into ``run``.

    Load against a production environment needs the typed confirmation ``confirm == env.name``
    (the gate never gives it), as chaos does: a load run is an intervention too."""
    from gauntlet.load.runner import run_profile

    confirm_production_load(env, confirm)
    run_profile(env, run, profile, workers=workers, progress=progress, environments_dir=environments_dir, remote=remote)


def run_chaos(env: Environment, run: Run, experiment: str, *, load: Optional[str] = None,
              progress: Optional[Callable[[str], None]] = None) -> None:
    """Run one chaos experiment (Chaos Toolkit in its own process) under the environment's policy, into ``run``.

    Never confirms for anyone: an environment that needs ``--confirm`` is refused here."""
    from gauntlet.chaos import ChaosRun

    with ChaosRun(env, experiment, load=load, progress=progress or (lambda line: None)) as session:
        session.run(run)


def _progress_to_stderr(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def sources_of(claims: Iterable[Claim]) -> list[str]:
    """The evidence sources (``conformance:<suite>``, ``load:<profile>``, ``chaos:<experiment>``) holding the
    check kinds these claims name."""
    return catalogue().sources(p for c in claims for p in c.evidence)


def run_evidence(env: Environment, run: Run, refs: Iterable[str], *, claims: Optional[Iterable[str]] = None,
                 environments_dir: Optional[Path] = None, quiet_stdout: bool = False,
                 load_runner: Callable[..., None] = run_load, chaos_runner: Callable[..., None] = run_chaos) -> None:
    """Run every evidence source named in ``refs``; note the ones that cannot run and why.

    A load profile with ``during: EXPERIMENT`` is evidence only alongside that chaos
    experiment (a failover profile without the failure proves nothing): it runs during
    the experiment when ``chaos:EXPERIMENT`` is among ``refs``, else it is noted as
    unavailable, never run alone. A chaos experiment the policy refuses (production
    needs a typed confirmation the gate never gives, a lock held, an unreachable
    cluster) is noted as unavailable with the refusal.
    """
    refs = list(dict.fromkeys(refs))
    suites = [ref.partition(":")[2] for ref in refs if ref.startswith("conformance:")]
    experiments = [ref.partition(":")[2] for ref in refs if ref.startswith("chaos:")]
    loads, during = [], {}
    for ref in refs:
        kind, _, name = ref.partition(":")
        if kind == "load":
            experiment = env.load_profile(name).during
            if experiment and experiment in experiments:
                during[experiment] = name
            elif experiment:
                run.add_unavailable(ref, f"runs only during the chaos experiment {experiment!r}, not on its own")
            else:
                loads.append(name)
    if suites:
        run_conformance(env, run, suites, claims=claims, environments_dir=environments_dir, quiet_stdout=quiet_stdout)
    for name in experiments:
        try:
            chaos_runner(env, run, name, load=during.get(name), progress=_progress_to_stderr)
        except (SafetyRefusal, ConfigError) as exc:
            run.add_unavailable(f"chaos:{name}", f"refused before anything was done: {exc}")
            if name in during:
                run.add_unavailable(f"load:{during[name]}", f"runs only during the chaos experiment {name!r}, which was refused")
    for name in loads:
        try:
            load_runner(env, run, name, progress=_progress_to_stderr, environments_dir=environments_dir)
        except SafetyRefusal as exc:
            run.add_unavailable(f"load:{name}", f"refused before anything was sent: {exc}")
        except ConfigError as exc:  # a profile that cannot run (no module set, no endpoint): the gate goes on
            run.add_unavailable(f"load:{name}", f"cannot run: {exc}")
