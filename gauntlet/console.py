"""Terminal output: the claims matrix and tables, with rich."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from gauntlet.environment import Environment

STYLE = {"verified": "bold green", "violated": "bold red", "not-checked": "bold bright_black"}

err = Console(stderr=True)


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
