"""The ``gauntlet`` command.

Exit codes: 0 success; 1 a claim violated (or the local stack failed); 2 invalid
input or a refusal (one line on stderr, no traceback); 3 the gate could not
verify every gating claim.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
from pathlib import Path
from typing import Callable, List, Optional

import typer
from rich.console import Console

from gauntlet import console, environment, history, ledger, notify, paths, report, runner
from gauntlet.exceptions import ConfigError, GauntletError, NotLandedYet, SafetyRefusal

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Chaos-and-conformance harness: does this deployment keep the promises its owners wrote down?")
local_app = typer.Typer(no_args_is_help=True, help="The embedded local stack (loopback only).")
app.add_typer(local_app, name="local")

out = Console()
JsonOption = typer.Option(False, "--json", help="Print one JSON object on stdout.")


@app.callback()
def _root(environments_dir: Optional[Path] = typer.Option(
        None, "--environments-dir", envvar="GAUNTLET_ENVIRONMENTS_DIR", help="Folder of environment files.")) -> None:
    if environments_dir is not None:
        os.environ["GAUNTLET_ENVIRONMENTS_DIR"] = str(environments_dir)


def _emit(data: dict) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def _claims_json(document: dict) -> dict:
    return {
        "environment": document["environment"],
        "report": document["report"],
        "status": document["run"]["status"],
        "summary": document["summary"],
        "claims": [{k: c[k] for k in ("id", "verdict", "evidence", "gates", "known_risk", "expected", "waiver")} for c in document["claims"]],
        "regressions": document["regressions"],
    }


def _conclude(document: dict, as_json: bool, code: int) -> None:
    if as_json:
        _emit({**_claims_json(document), "exit_code": code})
    else:
        console.claims_matrix(document)
    raise typer.Exit(code)


def _with_run(env: environment.Environment, kind: str, body: Callable[[report.Run], None]) -> dict:
    """Run ``body`` in a new run folder; the report is written also when interrupted."""
    run = report.new_run(env, kind, "gauntlet " + shlex.join(sys.argv[1:]))
    status: report.Status = "interrupted"
    try:
        body(run)
        status = "complete"
    finally:
        document = report.finish(run, env, status)
    return document


@app.command()
def envs(as_json: bool = JsonOption) -> None:
    """List the environments and their claim counts."""
    loaded = environment.load_all()
    if as_json:
        _emit({"environments": [{"name": e.name, "target": e.target, "description": e.description, "production": e.production,
                                 "claims": len(e.claims), "gating": sum(c.gates for c in e.claims)} for e in loaded]})
    else:
        console.environments_table(loaded, out)


@app.command()
def claims(env: str = typer.Argument(..., help="Environment name."), as_json: bool = JsonOption) -> None:
    """Show an environment's claims, each with the sentence it comes from."""
    loaded = environment.load_environment(env)
    if as_json:
        _emit({"environment": loaded.name, "claims": [c.model_dump(mode="json") for c in loaded.claims]})
    else:
        console.claims_table(loaded, out)


@app.command()
def conformance(env: str = typer.Argument(..., help="Environment name."),
                suite: List[str] = typer.Option([], "--suite", "-s", help="Suite to run (repeatable); default: all."),
                workers: Optional[int] = typer.Option(None, "-n", help="pytest-xdist workers (a number or 0)."),
                as_json: bool = JsonOption) -> None:
    """Run conformance suites against an environment and report per claim."""
    loaded = environment.load_environment(env)
    suites = runner.check_suites(suite)
    document = _with_run(loaded, "conformance", lambda run: runner.run_conformance(
        loaded, run, suites, workers=workers, quiet_stdout=as_json))
    _conclude(document, as_json, 1 if ledger.unexpected_violation(document["claims"]) else 0)


@app.command()
def load(env: str = typer.Argument(..., help="Environment name."),
         profile: str = typer.Option(..., "--profile", help="Load profile of the environment."),
         workers: int = typer.Option(0, "--workers", help="Locust worker processes (distributed mode)."),
         as_json: bool = JsonOption) -> None:
    """Run a bounded load profile and turn its SLOs into claim verdicts."""
    environment.load_environment(env).load_profile(profile)
    raise runner.not_landed("load")


@app.command()
def chaos(env: str = typer.Argument(..., help="Environment name."),
          experiment: str = typer.Argument(..., help="Experiment name (chaos_experiments/NAME)."),
          dry_run: bool = typer.Option(False, "--dry-run", help="Resolve targets and print what would be done."),
          as_json: bool = JsonOption) -> None:
    """Run a chaos experiment under the environment's policy."""
    environment.load_environment(env)
    raise runner.not_landed("chaos")


def gate_document(env: environment.Environment, quiet_stdout: bool) -> dict:
    """Run every check that is evidence for a gating claim of ``env``."""
    gating = [c for c in env.claims if c.gates]
    refs = [ref for c in gating for ref in c.evidence]
    return _with_run(env, "gate", lambda run: runner.run_evidence(
        env, run, refs, claims=[c.id for c in gating], quiet_stdout=quiet_stdout))


def gate_exit(env: environment.Environment, document: dict) -> int:
    """The gate's exit code, a regression counting as a violation when the environment asks; announced if configured."""
    code = ledger.gate_exit_code(document["claims"])
    if code == 0 and env.history.gate_on_regression and document["regressions"]:
        code = 1
    if env.notify is not None:
        console.err.print(f"webhook: {notify.announce(env.notify, document, code)}", markup=False)
    return code


@app.command()
def gate(env: str = typer.Argument(..., help="Environment name."), as_json: bool = JsonOption) -> None:
    """Pre-cutover gate: exit 0 only if every gating claim is verified (1 violated, 3 not checked)."""
    loaded = environment.load_environment(env)
    document = gate_document(loaded, as_json)
    _conclude(document, as_json, gate_exit(loaded, document))


@app.command("history")
def history_(env: str = typer.Argument(..., help="Environment name."),
             last: int = typer.Option(10, "--last", min=1, help="How many runs."),
             as_json: bool = JsonOption) -> None:
    """Per-claim verdicts over the last N runs and the trend of load figures."""
    loaded = environment.load_environment(env)
    runs = history.recent(history.store_path(loaded.history.path), loaded.name, last=last)
    if as_json:
        _emit({"environment": loaded.name, "runs": [vars(r) for r in runs], "trend": history.trend(runs)})
    else:
        console.history_table(loaded, runs, out)


@app.command("report")
def report_(run: Optional[str] = typer.Argument(None, help="Run folder name; default: the latest."),
            as_json: bool = JsonOption) -> None:
    """Rebuild and show a run's report (an unfinished run is marked interrupted)."""
    found = report.find_run(run)
    document = report.rebuild(found, environment.load_environment(found.meta["environment"]))
    _conclude(document, as_json, 0)


def _local():
    try:
        import gauntlet.local as local
    except ImportError as exc:
        raise NotLandedYet("the local stack is not built yet (issue #4: local stack, GOPROXY tier)") from exc
    return local


@local_app.command("up")
def local_up(fault: List[str] = typer.Option([], "--fault", help="Fault profile to start with (repeatable)."),
             as_json: bool = JsonOption) -> None:
    """Start the local stack on loopback (installs what is missing)."""
    local = _local()
    unknown = [f for f in fault if f not in local.FAULTS]
    if unknown:
        raise ConfigError(f"--fault: unknown fault profile {unknown[0]!r}: expected one of {sorted(local.FAULTS)}")
    status = local.up(fault, progress=lambda line: console.err.print(line))
    _show_status(status, as_json)


@local_app.command("down")
def local_down() -> None:
    """Stop everything the local stack started, and nothing else."""
    _local().down()


@local_app.command("status")
def local_status(as_json: bool = JsonOption) -> None:
    """Show each component of the local stack: address, health, pid."""
    _show_status(_local().status(), as_json)


def _show_status(status: dict, as_json: bool) -> None:
    if as_json:
        _emit(status)
        return
    for name, component in status["components"].items():
        health = "[green]healthy[/]" if component["healthy"] else "[red]down[/]"
        out.print(f"{name:<12} {component['address']:<28} {health}  pid {component['pid'] or '-'}")
    out.print(f"edge: {status.get('edge_url')}   CA bundle: {status.get('ca_bundle')}   faults: {', '.join(status.get('faults') or []) or 'none'}")


@app.command()
def run(as_json: bool = JsonOption) -> None:
    """The main job on the embedded default: local stack up, gate on `local`, print the report path."""
    local = _local()
    local.up((), progress=lambda line: console.err.print(line))
    loaded = environment.load_environment("local", paths.ROOT / "environments")
    document = gate_document(loaded, as_json)
    _conclude(document, as_json, gate_exit(loaded, document))


def main() -> None:
    """Entry point: gauntlet's own errors become one line and an exit code, never a traceback."""
    try:
        app()
    except (ConfigError, SafetyRefusal) as exc:
        console.err.print(f"gauntlet: error: {exc}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(2)
    except GauntletError as exc:
        console.err.print(f"gauntlet: error: {exc}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(1)
    except KeyboardInterrupt:
        console.err.print("gauntlet: interrupted; the run's report is marked interrupted")
        sys.exit(130)
