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
from typing import Iterable, Optional, Sequence

from gauntlet import paths
from gauntlet.environment import Environment, conformance_suites
from gauntlet.exceptions import ConfigError, NotLandedYet
from gauntlet.report import Run

NOT_LANDED = {
    "load": "load runs are not built yet (issue #10: Locust users, shapes and SLO verdicts)",
    "chaos": "chaos experiments are not built yet (issue #9: chaos experiments with safety guards)",
}


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


def not_landed(kind: str) -> NotLandedYet:
    return NotLandedYet(NOT_LANDED[kind])


def run_evidence(env: Environment, run: Run, refs: Iterable[str], *, claims: Optional[Iterable[str]] = None,
                 environments_dir: Optional[Path] = None, quiet_stdout: bool = False) -> None:
    """Run every evidence source named in ``refs``; note the ones that cannot run and why."""
    refs = list(dict.fromkeys(refs))
    suites = [ref.partition(":")[2] for ref in refs if ref.startswith("conformance:")]
    for ref in refs:
        kind = ref.partition(":")[0]
        if kind in NOT_LANDED:
            run.add_unavailable(ref, NOT_LANDED[kind])
    if suites:
        run_conformance(env, run, suites, claims=claims, environments_dir=environments_dir, quiet_stdout=quiet_stdout)
