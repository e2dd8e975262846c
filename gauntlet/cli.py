"""The ``gauntlet`` command.

Exit codes: 0 success; 1 a claim violated (or the local stack failed); 2 invalid
input, a refusal, or a run that could not gather its evidence (one line on stderr,
no traceback); 3 the gate could not verify every gating claim; 128 + the signal
when interrupted (130 Ctrl-C, 143 SIGTERM, 129 SIGHUP), after the run's children
stopped and its report was written. Nothing printed carries a secret.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import typer
from rich.console import Console

from gauntlet import console, environment, history, ledger, notify, paths, report, run_folder, runner
from gauntlet.catalogue import catalogue, matches_any
from gauntlet.children import Interrupted, check_fan_out, shielded, signals_interrupt
from gauntlet.exceptions import ConfigError, GauntletError, RunError, SafetyRefusal
from gauntlet.load.params import resolve as resolve_load
from gauntlet.load.runner import check_users, check_workers
from gauntlet.redact import redact_data

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Chaos-and-conformance harness: does this deployment keep the promises its owners wrote down?")
local_app = typer.Typer(no_args_is_help=True, help="The embedded local stack (loopback only).")
app.add_typer(local_app, name="local")

out = Console()
JsonOption = typer.Option(False, "--json", help="Print one JSON object on stdout.")


def _environments_dir(value: Path | None) -> Path | None:
    if value is not None:
        os.environ["GAUNTLET_ENVIRONMENTS_DIR"] = str(value)
    return value


#: ``--environments-dir`` before the subcommand or after it: the same option, the same effect.
DirOption = typer.Option(None, "--environments-dir", envvar="GAUNTLET_ENVIRONMENTS_DIR", callback=_environments_dir,
                         help="Folder of environment files (default: environments/).")


@app.callback()
def _root(environments_dir: Path | None = DirOption) -> None:
    """gauntlet: does this deployment keep the promises its owners wrote down?"""


def _emit(data: dict) -> None:
    sys.stdout.write(json.dumps(redact_data(data), indent=2, default=str) + "\n")


def _claims_json(document: dict) -> dict:
    return {
        "environment": document["environment"],
        "run": document["run"]["id"],
        "report": document["report"],
        "status": document["run"]["status"],
        "summary": document["summary"],
        "claims": [{k: c[k] for k in ("id", "verdict", "partial", "evidence", "coverage", "findings", "gates", "known_risk",
                                      "expected", "waiver")} for c in document["claims"]],
        "regressions": document["regressions"],
    }


def _conclude(document: dict, as_json: bool, code: int) -> None:
    if as_json:
        _emit({**_claims_json(document), "exit_code": code})
    else:
        console.claims_matrix(document)
    raise typer.Exit(code)


def _with_run(env: environment.Environment, kind: str, body: Callable[[run_folder.Run], object]) -> dict:
    """Run ``body`` in a new run folder; the report is written also when interrupted (``interrupted``) or when
    ``body`` fails (``error``)."""
    run = run_folder.new_run(env, kind, "gauntlet " + shlex.join(sys.argv[1:]))
    status: run_folder.Status = "interrupted"
    try:
        body(run)
        status = "complete"
    except Exception:
        status = "error"
        raise
    finally:
        with shielded():  # a signal now waits until the report is written
            document = report.finish(run, env, status)
    return document


@app.command()
def envs(as_json: bool = JsonOption, environments_dir: Path | None = DirOption) -> None:
    """List the environments and their claim counts."""
    loaded = environment.load_all()
    if as_json:
        _emit({"environments": [{"name": e.name, "description": e.description, "production": e.production,
                                 "claims": len(e.claims), "gating": sum(c.gates for c in e.claims)} for e in loaded]})
    else:
        console.environments_table(loaded, out)


@app.command()
def claims(env: str = typer.Argument(..., help="Environment name."),
           checks: bool = typer.Option(False, "--checks", help="With each claim, the checks that will run for it."),
           as_json: bool = JsonOption, environments_dir: Path | None = DirOption) -> None:
    """Show an environment's claims, each with the sentence it comes from (and, with --checks, its checks)."""
    loaded = environment.load_environment(env)
    if as_json:
        rows = [{**c.model_dump(mode="json"), **({"checks": _claim_checks(loaded, c)} if checks else {})}
                for c in loaded.claims]
        _emit({"environment": loaded.name, "claims": rows})
    elif checks:
        console.claim_checks(loaded, {c.id: _claim_checks(loaded, c) for c in loaded.claims}, out)
    else:
        console.claims_table(loaded, out)


def _claim_checks(env: environment.Environment, claim: environment.Claim) -> list[dict]:
    """The checks that run for a claim: each kind its evidence names, where it is declared, what it runs on."""
    rows = []
    for pattern in claim.evidence:
        profile = pattern.partition("@")[2]
        for kind in catalogue().matching(pattern):
            on = (list(claim.workloads) if kind.per_workload else [f"load profile {profile}"] if profile else [])
            rows.append({"pattern": pattern, "kind": kind.id, "source": f"load:{profile}" if profile else kind.source,
                         "where": kind.where, "observes": kind.observes, "on": on, "title": kind.title,
                         "required": any(pattern == r for r in claim.required)})
    return rows


@app.command()
def checks(env: str | None = typer.Option(None, "--env", help="Only the kinds this environment's claims name."),
           as_json: bool = JsonOption, environments_dir: Path | None = DirOption) -> None:
    """The catalogue of check kinds: what each checks, what it observes, where it is declared, who uses it.

    Built from the checks' own declarations (``@pytest.mark.check``, the experiments' ``checks``, the
    load metrics). Exit 2 when a declaration is wrong (each problem on one line)."""
    cat = catalogue()
    envs = [environment.load_environment(env)] if env else environment.load_all()
    used = {k: [e.name for e in envs if any(matches_any(c.evidence, [k]) for c in e.claims)] for k in cat.kinds}
    kinds = [k for k in cat.kinds.values() if not env or used[k.id]]
    if as_json:
        _emit({"kinds": [{**k.to_json(), "used_by": used[k.id]} for k in kinds], "problems": list(cat.problems),
               "unused": [k for k, names in used.items() if not names and not env]})
    else:
        console.catalogue_table(kinds, used, out)
        for kind in (k for k, names in used.items() if not names and not env):
            out.print(f"unused: {kind} ({cat.kinds[kind].where}) is evidence for no claim of {', '.join(e.name for e in envs)}",
                      highlight=False, soft_wrap=True)
    if cat.problems:
        for problem in cat.problems:
            console.err.print(f"gauntlet: error: {problem}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(2)


@app.command()
def schema() -> None:
    """Print the JSON Schema of an environment file (for editors: validation and completion)."""
    _emit(environment.Environment.model_json_schema())


@app.command()
def conformance(env: str = typer.Argument(..., help="Environment name."),
                suite: list[str] = typer.Option([], "--suite", "-s", help="Suite to run (repeatable); default: all."),
                workers: int | None = typer.Option(None, "-n", help="pytest-xdist workers (a number or 0)."),
                as_json: bool = JsonOption, environments_dir: Path | None = DirOption) -> None:
    """Run conformance suites against an environment and report per claim."""
    loaded = environment.load_environment(env)
    suites = runner.check_suites(suite)
    if workers is not None:
        check_fan_out("-n", workers, "pytest-xdist workers")
    document = _with_run(loaded, "conformance", lambda run: runner.run_conformance(
        loaded, run, suites, workers=workers, quiet_stdout=as_json))
    _conclude(document, as_json, ledger.run_exit_code(document["claims"]))


@app.command()
def load(env: str = typer.Argument(..., help="Environment name."),
         profile: str = typer.Option(..., "--profile", help="Load profile of the environment."),
         workers: int = typer.Option(0, "--workers", help="Locust worker processes (distributed mode)."),
         master_bind: str | None = typer.Option(
             None, "--master-bind", help="HOST:PORT: the --workers run elsewhere (other machines, a Kubernetes Job); "
                                         "start only Locust's master there and wait for them (load/README.md)."),
         confirm: str | None = typer.Option(None, "--confirm", metavar="ENV", help="Typed confirmation, the "
                                               "environment's name: required to load a production environment."),
         as_json: bool = JsonOption, environments_dir: Path | None = DirOption) -> None:
    """Run a bounded load profile with Locust and turn its SLOs into claim verdicts.

    Locust runs headless in its own process (or a master and N workers: Locust's
    distributed mode on this machine); live progress goes to stderr, Locust's
    CSV and HTML report to the run folder (load/PROFILE/). Exit 1 when a claim
    is violated. Workers elsewhere or as a Kubernetes Job: see load/README.md.
    """
    loaded = environment.load_environment(env)
    runner.confirm_production_load(loaded, confirm)  # refusals come before a run folder exists
    check_workers(workers, master_bind)
    if not loaded.load_profile(profile).during:  # a fault-window profile is not run on its own: nothing to resolve
        check_users(resolve_load(loaded, profile), workers)
    document = _with_run(loaded, "load", lambda run: runner.run_load(
        loaded, run, profile, workers=workers, remote=master_bind, confirm=confirm, progress=console.progress))
    _conclude(document, as_json, ledger.run_exit_code(document["claims"]))


@app.command()
def chaos(env: str = typer.Argument(..., help="Environment name."),
          experiment: str | None = typer.Argument(None, help="Experiment name (chaos_experiments/NAME); none with --list."),
          list_: bool = typer.Option(False, "--list", help="Show the experiments that apply here and the claims each tests."),
          dry_run: bool = typer.Option(False, "--dry-run", help="Run every check, resolve the targets and print exactly "
                                                                  "what would be done; change nothing."),
          confirm: str | None = typer.Option(None, "--confirm", metavar="ENV", help="Typed confirmation, the "
                                                "environment's name: required for production (and where the policy asks)."),
          load: str | None = typer.Option(None, "--load", metavar="PROFILE", help="Run the environment's load profile "
                                             "(Locust, its own process) during the experiment, on the same timeline."),
          as_json: bool = JsonOption, environments_dir: Path | None = DirOption) -> None:
    """Run a chaos experiment under the environment's policy and report per claim.

    Refused before anything is done (exit 2, one line): policy chaos.allowed false,
    production without --confirm ENV, a kubeconfig whose current context or API server
    is not the environment's, an API server that does not answer, another run holding
    the environment's lock, a namespace outside chaos.namespaces, an action that would
    take down more than chaos.max_pods_per_action pods. Rollbacks run also on Ctrl-C
    and SIGTERM; the journal and timeline go to the run folder (chaos/NAME/). Exit 1
    when a claim is violated (a known risk's expected violation does not count).
    """
    from gauntlet import chaos as chaos_

    loaded = environment.load_environment(env)
    if list_:
        given = [flag for flag, value in (("EXPERIMENT", experiment), ("--dry-run", dry_run), ("--confirm", confirm),
                                          ("--load", load)) if value not in (None, False)]
        if given:
            raise ConfigError(f"--list shows the experiments and runs none: it cannot be combined with {', '.join(given)}")
        _chaos_list(loaded, as_json)
        return
    if dry_run and load is not None:
        raise ConfigError("--dry-run changes nothing and sends no load: it cannot be combined with --load")
    if experiment is None:
        raise ConfigError(f"EXPERIMENT: expected an experiment name, or --list (one of {chaos_.experiments.names()})")
    if dry_run:
        _chaos_dry_run(chaos_.dry_run(loaded, chaos_.load(experiment), confirm), as_json)
        return
    with chaos_.ChaosRun(loaded, experiment, confirm=confirm, load=load, progress=console.progress,
                         command="gauntlet " + shlex.join(sys.argv[1:])) as session:
        document = _with_run(loaded, "chaos", session.run)
    _conclude(document, as_json, ledger.run_exit_code(document["claims"]))


def _chaos_list(env: environment.Environment, as_json: bool) -> None:
    from gauntlet.chaos import experiments, lock

    rows: list[dict[str, Any]] = []
    for exp in experiments.load_all():
        why = exp.applies_to(env)
        rows.append({"name": exp.name, "title": exp.title, "tier": exp.tier, "checks": list(exp.checks),
                     "applies": why is None, "why_not": why, "claims": [c.id for c in exp.claims_in(env)]})
    held = lock.holder(env.name)
    if as_json:
        _emit({"environment": env.name, "chaos_allowed": env.chaos.allowed, "lock_held_by": held, "experiments": rows})
        return
    policy = env.chaos
    out.print(f"{env.name}: chaos {'allowed' if policy.allowed else 'NOT allowed'}; namespaces {list(policy.namespaces)}, "
              f"at most {policy.max_pods_per_action} pods per action, deadline {policy.steady_state_deadline_s} s"
              + ("; --confirm required" if env.production or policy.confirm else "")
              + (f"; in progress: {held}" if held else ""), highlight=False)
    for row in rows:
        state = "[green]applies[/]" if row["applies"] else f"[bright_black]does not apply: {row['why_not']}[/]"
        claims = ", ".join(row["claims"]) or "(none of its claims is stated here)"
        out.print(f"[bold]{row['name']}[/] ({row['tier']}) {state}\n    {row['title']}\n    claims: {claims}", highlight=False)


def _chaos_dry_run(plan: dict, as_json: bool) -> None:
    if as_json:
        _emit(plan)
    else:
        out.print(f"dry run of {plan['experiment']} on {plan['environment']}: nothing was changed", highlight=False)
        out.print(f"claims: {', '.join(plan['claims'])}", highlight=False)
        if plan["not_checked"]:
            out.print(f"would be not-checked: {plan['not_checked']}", highlight=False)
        for line in plan["lines"]:
            out.print(line, markup=False, highlight=False)
        if plan["lines"]:
            out.print("(resolved now; each action is resolved and checked again right before it runs)", highlight=False)
        if plan["lock_held_by"]:
            out.print(f"the environment's lock is held: {plan['lock_held_by']}", highlight=False)
    if plan["refused"]:
        raise SafetyRefusal(plan["refused"])


def gate_document(env: environment.Environment, quiet_stdout: bool) -> dict:
    """Run every check that is evidence for a gating claim of ``env``."""
    gating = [c for c in env.claims if c.gates]
    return _with_run(env, "gate", lambda run: runner.run_evidence(
        env, run, runner.sources_of(gating), claims=[c.id for c in gating], quiet_stdout=quiet_stdout))


def gate_exit(env: environment.Environment, document: dict) -> int:
    """The gate's exit code, a regression counting as a violation when the environment asks; announced if configured."""
    code = ledger.gate_exit_code(document["claims"], full_coverage=env.gate.full_coverage)
    if code == 0 and env.history.gate_on_regression and document["regressions"]:
        code = 1
    if env.notify is not None:
        console.progress(f"webhook: {notify.announce(env.notify, document, code)}")
    return code


@app.command()
def gate(env: str = typer.Argument(..., help="Environment name."), as_json: bool = JsonOption,
         environments_dir: Path | None = DirOption) -> None:
    """Pre-cutover gate: exit 0 only if every gating claim is verified (1 violated, 3 not checked, or only
    partly checked where the environment asks for full coverage: gate.full_coverage)."""
    loaded = environment.load_environment(env)
    document = gate_document(loaded, as_json)
    _conclude(document, as_json, gate_exit(loaded, document))


@app.command("history")
def history_(env: str = typer.Argument(..., help="Environment name."),
             last: int = typer.Option(10, "--last", min=1, help="How many runs."),
             as_json: bool = JsonOption, environments_dir: Path | None = DirOption) -> None:
    """Per-claim verdicts over the last N runs and the trend of load figures."""
    loaded = environment.load_environment(env)
    runs = history.recent(history.store_path(loaded.history.path), loaded.name, last=last)
    if as_json:
        _emit({"environment": loaded.name, "runs": [vars(r) for r in runs], "trend": history.trend(runs)})
    else:
        console.history_table(loaded, runs, out)


@app.command("report")
def report_(run: str | None = typer.Argument(None, help="Run folder name; default: the one reports/latest points at "
                                                         "(the run last finished or rebuilt)."),
            as_json: bool = JsonOption, environments_dir: Path | None = DirOption) -> None:
    """Rebuild and show a run's report (an unfinished run is marked interrupted)."""
    found = run_folder.find_run(run)
    document = report.rebuild(found, environment.load_environment(found.meta["environment"]))
    _conclude(document, as_json, 0)


def _local() -> ModuleType:
    import gauntlet.local as local  # the local stack's modules, only for the commands that use them

    return local


@local_app.command("up")
def local_up(fault: list[str] = typer.Option([], "--fault", help="Fault profile to start with (repeatable)."),
             cloud: bool = typer.Option(False, "--cloud", help="Also start the cloud tier: moto on 127.0.0.1:5000 as the "
                                        "Artifact Hub AWS account (implied by a cloud fault profile)."),
             cluster: bool = typer.Option(False, "--cluster", help="Also start the cluster tier: a Kubernetes control plane "
                                          "on 127.0.0.1:6443 with KWOK nodes and the seed workloads (implied by a "
                                          "cluster fault profile; builds its binaries once, ~10 min)."),
             db: bool = typer.Option(False, "--db", help="Also start the database tier: PostgreSQL primary and "
                                     "synchronous standby behind the endpoint 127.0.0.1:5433 (implied by a database "
                                     "fault profile)."),
             as_json: bool = JsonOption) -> None:
    """Start the local stack on loopback (installs what is missing)."""
    local = _local()
    unknown = [f for f in fault if f not in local.FAULTS]
    if unknown:
        raise ConfigError(f"--fault: unknown fault profile {unknown[0]!r}: expected one of {sorted(local.FAULTS)}")
    status = local.up(fault, progress=lambda line: console.err.print(line), cloud=cloud, cluster=cluster, db=db)
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
    width = max((len(name) for name in status["components"]), default=12)
    for name, component in status["components"].items():
        health = "[green]healthy[/]" if component["healthy"] else "[red]down[/]"
        out.print(f"{name:<{width}} {component['address']:<28} {health}  pid {component['pid'] or '-'}")
    faults = ", ".join(status.get("faults") or []) or "none"
    out.print(f"edge: {status.get('edge_url')}   CA bundle: {status.get('ca_bundle')}   faults: {faults}")
    if status.get("components", {}).get("moto", {}).get("pid"):
        cloud = status["cloud"]
        out.print(f"cloud: {cloud['endpoint_url']}   profile {cloud['profile']} ({cloud['credentials_file']})")
    if status.get("cluster", {}).get("components", {}).get("kube-apiserver", {}).get("pid"):
        cluster = status["cluster"]
        out.print(f"cluster: {cluster['api_server']}   kubeconfig {cluster['kubeconfig']} (context {cluster['context']})")
    if status.get("db", {}).get("primary"):
        db = status["db"]
        streams = ", ".join(f"{r['standby']} {r['state']} ({r['sync_state']})" for r in db["replication"]) or "no standby"
        out.print(f"db: {db['endpoint']}/{db['database']} -> primary {db['primary']}; {streams}   passfile {db['passfile']}")


@app.command()
def run(as_json: bool = JsonOption) -> None:
    """The main job on the embedded default: every tier of the local stack up (the first time builds the
    cluster's binaries: minutes), gate on `local`, print the report path."""
    local = _local()
    local.up((), progress=lambda line: console.err.print(line, markup=False), cloud=True, cluster=True, db=True)
    loaded = environment.load_environment("local", paths.ROOT / "environments")
    document = gate_document(loaded, as_json)
    _conclude(document, as_json, gate_exit(loaded, document))


def main() -> None:
    """Entry point: gauntlet's own errors become one line (secrets masked) and an exit code, never a traceback;
    SIGTERM and SIGHUP interrupt like Ctrl-C (:func:`gauntlet.children.signals_interrupt`)."""
    with signals_interrupt(console.progress) as caught:
        try:
            app()
        except (ConfigError, SafetyRefusal, RunError) as exc:
            console.progress(f"gauntlet: error: {exc}")
            sys.exit(2)
        except GauntletError as exc:
            console.progress(f"gauntlet: error: {exc}")
            sys.exit(1)
        except (KeyboardInterrupt, SystemExit) as exc:  # typer turns an interruption into exit 130
            if not caught and not isinstance(exc, KeyboardInterrupt):
                raise
            signalled = caught[0] if caught else Interrupted(signal.SIGINT)
            console.progress(f"gauntlet: interrupted ({signalled.name}); the run's processes are stopped and its "
                             "report is marked interrupted")
            sys.exit(signalled.exit_code)
