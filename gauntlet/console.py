"""Terminal output: the claims matrix and tables, with rich."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from gauntlet.environment import Environment
from gauntlet.history import trend
from gauntlet.redact import redact

STYLE = {"verified": "bold green", "violated": "bold red", "not-checked": "bold bright_black"}

err = Console(stderr=True)


def progress(line: str) -> None:
    """One line of progress or of an error on stderr, as written (no markup), secrets masked."""
    err.print(redact(line), markup=False, highlight=False, soft_wrap=True)


def _verdict_cell(claim: dict) -> str:
    text = f"[{STYLE[claim['verdict']]}]{claim['verdict']}[/]"
    if claim["expected"]:
        text += "\n[yellow]expected (known risk)[/]"
    if claim["waiver"]:
        state = "waived" if claim["waiver"]["active"] else "waiver expired"
        text += f"\n[yellow]{state} until {claim['waiver']['expires']}[/]"
    return text


def claims_matrix(document: dict, console: Console = err) -> None:
    """Print a run's claims matrix: claim, gates, verdict, first evidence."""
    table = Table(title=f"{document['environment']} · {document['run']['kind']} · {document['run']['status']}", show_lines=True)
    table.add_column("claim", overflow="fold")
    table.add_column("gates", justify="center")
    table.add_column("verdict")
    table.add_column("evidence", overflow="fold")
    for claim in document["claims"]:
        evidence = claim["evidence"][:2] + ([f"… {len(claim['evidence']) - 2} more"] if len(claim["evidence"]) > 2 else [])
        table.add_row(claim["id"], "yes" if claim["gates"] else "", _verdict_cell(claim), "\n".join(evidence))
    console.print(table)
    for regression in document.get("regressions", []):
        console.print(f"[yellow]regression[/] {regression}", highlight=False)
    summary = document["summary"]
    console.print(f"[green]{summary['verified']} verified[/]  [red]{summary['violated']} violated[/]  "
                  f"[bright_black]{summary['not-checked']} not checked[/]   report: {document['report']}/index.html")


def environments_table(envs: list[Environment], console: Console) -> None:
    table = Table(title="environments")
    for column in ("name", "target", "claims", "gating", "description"):
        table.add_column(column, overflow="fold")
    for env in envs:
        table.add_row(env.name, env.target, str(len(env.claims)), str(sum(c.gates for c in env.claims)), env.description)
    console.print(table)


def claims_table(env: Environment, console: Console) -> None:
    table = Table(title=f"claims of {env.name}", show_lines=True)
    for column in ("claim", "gates", "statement", "source"):
        table.add_column(column, overflow="fold")
    for claim in env.claims:
        gates = "yes" if claim.gates else ("known risk" if claim.known_risk else "")
        table.add_row(claim.id, gates, claim.statement, f"“{claim.source.quote}”\n— {claim.source.seed}")
    console.print(table)


def history_table(env: Environment, runs: list, console: Console) -> None:
    """Claims down, runs across (oldest left), then the trend of each figure."""
    oldest_first = list(runs)[::-1]
    table = Table(title=f"history of {env.name} (last {len(oldest_first)} runs)")
    table.add_column("claim", overflow="fold")
    for run in oldest_first:
        table.add_column(f"{run.started[5:16]}\n{run.kind}", justify="center")
    for claim in env.claims:
        cells = [run.verdicts.get(claim.id) for run in oldest_first]
        table.add_row(claim.id, *[f"[{STYLE[v]}]{v}[/]" if v else "" for v in cells])
    console.print(table)
    for name, values in trend(runs).items():
        console.print(f"{name}: " + " → ".join("—" if v is None else f"{v:g}" for v in values), highlight=False,
                      soft_wrap=True)
    for run in oldest_first:
        for regression in run.regressions:
            console.print(f"[yellow]regression[/] in {run.id}: {regression}", highlight=False, soft_wrap=True)
