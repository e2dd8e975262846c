"""Terminal output: the claims matrix and tables, with rich."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from gauntlet.catalogue import CheckKind
from gauntlet.environment import Environment
from gauntlet.history import trend
from gauntlet.ledger import describe_finding
from gauntlet.redact import redact

STYLE = {"verified": "bold green", "violated": "bold red", "not-checked": "bold bright_black"}

err = Console(stderr=True)


def progress(line: str) -> None:
    """One line of progress or of an error on stderr, as written (no markup), secrets masked."""
    err.print(redact(line), markup=False, highlight=False, soft_wrap=True)


def coverage_line(claim: dict) -> str:
    """``partial: 3 of 18 kinds not passed (2 skipped, 1 not run)`` for a verified claim with gaps, else ''."""
    kinds = claim["coverage"].get("kinds", {})
    gaps = [state for state in kinds.values() if state != "passed"]
    if not claim.get("partial") or not gaps:
        return ""
    counts = ", ".join(f"{gaps.count(s)} {s.replace('-', ' ')}" for s in ("skipped", "not-run") if gaps.count(s))
    return f"partial: {len(gaps)} of {len(kinds)} kinds not passed ({counts})"


def _verdict_cell(claim: dict) -> str:
    text = f"[{STYLE[claim['verdict']]}]{claim['verdict']}[/]"
    if claim.get("partial"):
        text += f"\n[yellow]{coverage_line(claim)}[/]"
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
        findings = [describe_finding(f) for f in claim.get("findings", ())]
        table.add_row(claim["id"], "yes" if claim["gates"] else "", _verdict_cell(claim), "\n".join(evidence + findings))
    console.print(table)
    for regression in document.get("regressions", []):
        console.print(f"[yellow]regression[/] {regression}", highlight=False)
    summary = document["summary"]
    console.print(f"[green]{summary['verified']} verified[/]  [red]{summary['violated']} violated[/]  "
                  f"[bright_black]{summary['not-checked']} not checked[/]   report: {document['report']}/index.html")


def environments_table(envs: list[Environment], console: Console) -> None:
    table = Table(title="environments")
    for column in ("name", "claims", "gating", "description"):
        table.add_column(column, overflow="fold")
    for env in envs:
        table.add_row(env.name, str(len(env.claims)), str(sum(c.gates for c in env.claims)), env.description)
    console.print(table)


def claims_table(env: Environment, console: Console) -> None:
    table = Table(title=f"claims of {env.name}", show_lines=True)
    for column in ("claim", "gates", "statement", "source"):
        table.add_column(column, overflow="fold")
    for claim in env.claims:
        gates = "yes" if claim.gates else ("known risk" if claim.known_risk else "")
        table.add_row(claim.id, gates, claim.statement, f"“{claim.source.quote}”\n— {claim.source.document}")
    console.print(table)


def claim_checks(env: Environment, rows: dict[str, list[dict]], console: Console) -> None:
    """Each claim, then the checks that will run for it: kind, where declared, what it runs on."""
    for claim in env.claims:
        gates = " [blue](gates)[/]" if claim.gates else ""
        console.print(f"[bold]{claim.id}[/]{gates}: {claim.statement}", highlight=False, soft_wrap=True)
        for row in rows[claim.id]:
            on = f" on {', '.join(row['on'])}" if row["on"] else ""
            required = " [yellow]required[/]" if row["required"] else ""
            console.print(f"    {row['kind']}{required} ({row['source']}, {row['where']}){on}", highlight=False, soft_wrap=True)
        if not rows[claim.id]:
            console.print("    (no evidence: not-checked in every run)", highlight=False)


def catalogue_table(kinds: list[CheckKind], used: dict[str, list[str]], console: Console) -> None:
    table = Table(title=f"check kinds ({len(kinds)})")
    for column in ("kind", "source", "observes", "where", "used by"):
        table.add_column(column, overflow="fold")
    for kind in kinds:
        table.add_row(kind.id, kind.source, kind.observes + (" per workload" if kind.per_workload else ""), kind.where,
                      ", ".join(used[kind.id]) or "[yellow]none[/]")
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
