"""The catalogue of check kinds, built from the checks' own declarations.

Every check declares, in one place, the stable kind(s) it implements; claims name
kinds (or groups of them), never checks:

- a conformance test: ``@pytest.mark.check("goproxy.list.canonical-versions")`` on the
  test function, its docstring the rule it enforces; ``observes="component"`` when it
  looks at one pod or node rather than the service (a check run against an endpoint of
  role ``replica`` observes that component whatever it declares);
- a chaos experiment: ``"checks": [...]`` in its ``gauntlet`` extension, its
  ``description`` the rule;
- a load SLO: the metric's kind in :data:`LOAD_KINDS` (``load.p95``), named by a claim
  together with the profile (``load.p95@smoke``).

The catalogue is read from the source (``ast``, JSON) without importing a check, so
``gauntlet checks`` and the environment loader need neither a target nor the suites'
dependencies. A kind is ``area.topic.rule`` in lower-case kebab words; a claim's
pattern is a kind, or a group ending in ``.*`` (``edge.tls.*``: every kind below it).
"""

from __future__ import annotations

import ast
import functools
import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from gauntlet import paths

KIND = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*(\.[a-z0-9]+(-[a-z0-9]+)*)+$")
PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*(\.[a-z0-9]+(-[a-z0-9]+)*)*(\.\*)?(@[a-z0-9]+([-.][a-z0-9]+)*)?$")
Observes = Literal["service", "component"]
OBSERVES = ("service", "component")
#: A check whose function takes one of these arguments runs once per workload that a claim names.
WORKLOAD_ARGS = ("workload", "live_workload")

#: The load SLO metrics, each a kind: ``slos[].metric`` of a load profile -> (kind, what it judges).
LOAD_KINDS: dict[str, tuple[str, str]] = {
    "error_rate": ("load.error-rate", "the share of failed requests of a bounded load run stays within the SLO"),
    "p50_ms": ("load.p50", "the median latency of a bounded load run stays within the SLO"),
    "p95_ms": ("load.p95", "the 95th percentile latency of a bounded load run stays within the SLO"),
    "p99_ms": ("load.p99", "the 99th percentile latency of a bounded load run stays within the SLO"),
    "rps": ("load.rps", "a bounded load run sustains at least the SLO's requests per second"),
}


@dataclass(frozen=True)
class CheckKind:
    """One kind of check, where it is declared and what it observes."""

    id: str
    evidence: Literal["conformance", "load", "chaos"]
    source: str  # conformance:<suite>, chaos:<experiment>, load
    title: str
    rule: str
    where: str  # file:line, relative to the checkout
    observes: Observes = "service"
    per_workload: bool = False
    mutating: bool = False

    def to_json(self) -> dict:
        return {"id": self.id, "evidence": self.evidence, "source": self.source, "title": self.title,
                "observes": self.observes, "per_workload": self.per_workload, "mutating": self.mutating,
                "where": self.where, "rule": self.rule}


@dataclass(frozen=True)
class Catalogue:
    """Every kind by id, and what is wrong with the declarations (one line each)."""

    kinds: dict[str, CheckKind]
    problems: tuple[str, ...] = field(default=())

    def matching(self, pattern: str) -> list[CheckKind]:
        """The kinds a claim's pattern names (a kind, or a group ``a.b.*``), ``@profile`` ignored."""
        return [k for k in self.kinds.values() if matches(pattern, k.id)]

    def sources(self, patterns: Iterable[str]) -> list[str]:
        """The evidence sources (``conformance:goproxy``, ``chaos:node-drain``, ``load:smoke``) that hold the kinds
        these patterns name, in catalogue order."""
        out: list[str] = []
        for pattern in patterns:
            kind, _, profile = pattern.partition("@")
            for found in self.matching(kind):
                source = f"load:{profile}" if found.evidence == "load" else found.source
                if source not in out:
                    out.append(source)
        return out


def matches(pattern: str, kind: str) -> bool:
    """``edge.tls.*`` matches ``edge.tls.min-version``; a kind matches itself; ``@profile`` is ignored."""
    pattern = pattern.partition("@")[0]
    if pattern.endswith(".*"):
        return kind.startswith(pattern[:-1])
    return kind == pattern


def matches_any(patterns: Iterable[str], kinds: Iterable[str]) -> bool:
    kinds = tuple(kinds)
    return any(matches(p, k) for p in patterns for k in kinds)


# --------------------------------------------------------------------------- reading the declarations


def _rel(path: Path) -> str:
    try:
        return str(path.relative_to(paths.ROOT))
    except ValueError:
        return str(path)


def _first_line(text: str) -> str:
    return " ".join(text.strip().split("\n\n")[0].split())


def _mark(node: ast.expr, name: str) -> ast.Call | None:
    """``pytest.mark.<name>(...)`` as a call node, else None."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == name:
        inner = node.func.value
        if isinstance(inner, ast.Attribute) and inner.attr == "mark":
            return node
    return None


def _is_mark(node: ast.expr, name: str) -> bool:
    target = node.func if isinstance(node, ast.Call) else node
    return isinstance(target, ast.Attribute) and target.attr == name and \
        isinstance(target.value, ast.Attribute) and target.value.attr == "mark"


def _module_marks(tree: ast.Module) -> list[ast.expr]:
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "pytestmark" for t in node.targets):
            return list(node.value.elts) if isinstance(node.value, (ast.List, ast.Tuple)) else [node.value]
    return []


def _conformance(root: Path, kinds: dict[str, CheckKind], problems: list[str]) -> None:
    for path in sorted(root.glob("*/test_*.py")):
        suite, rel = path.parent.name, _rel(path)
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=rel)
        except (OSError, SyntaxError, UnicodeDecodeError) as exc:
            problems.append(f"{rel}: cannot read the checks ({exc})")
            continue
        module_marks = _module_marks(tree)
        if any(_mark(m, "check") for m in module_marks):
            problems.append(f"{rel}: pytestmark: declare @pytest.mark.check on each test function, not on the module")
        module_mutating = any(_is_mark(m, "mutating") for m in module_marks)
        for node in tree.body:
            if not (isinstance(node, ast.FunctionDef) and node.name.startswith("test_")):
                continue
            where = f"{rel}:{node.lineno}"
            calls = [c for c in (_mark(d, "check") for d in node.decorator_list) if c is not None]
            if not calls:
                problems.append(f"{where} {node.name}: a check declares the kind it implements: "
                                "@pytest.mark.check(\"<area>.<topic>.<rule>\")")
                continue
            declared = _declared(calls, where, node.name, problems)
            if declared is None:
                continue
            ids, observes = declared
            doc = ast.get_docstring(node) or ""
            if not doc:
                problems.append(f"{where} {node.name}: a check's docstring cites the rule it enforces")
            args = {a.arg for a in node.args.args}
            mutating = module_mutating or any(_is_mark(d, "mutating") for d in node.decorator_list)
            for kind in ids:
                _add(kinds, problems, CheckKind(
                    id=kind, evidence="conformance", source=f"conformance:{suite}", title=_first_line(doc),
                    rule=" ".join(doc.split()), where=where, observes=observes,
                    per_workload=bool(args & set(WORKLOAD_ARGS)), mutating=mutating))


def _declared(calls: list[ast.Call], where: str, name: str, problems: list[str]) -> tuple[list[str], Observes] | None:
    ids: list[str] = []
    observes: Observes = "service"
    for call in calls:
        for arg in call.args:
            if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
                problems.append(f"{where} {name}: @pytest.mark.check: expected the kinds as string literals")
                return None
            ids.append(arg.value)
        for keyword in call.keywords:
            value = keyword.value.value if isinstance(keyword.value, ast.Constant) else None
            if keyword.arg != "observes" or value not in OBSERVES:
                problems.append(f"{where} {name}: @pytest.mark.check: only observes=\"service\" or \"component\" is known")
                return None
            observes = value  # type: ignore[assignment]
    if not ids:
        problems.append(f"{where} {name}: @pytest.mark.check: expected at least one kind")
        return None
    return ids, observes


def _add(kinds: dict[str, CheckKind], problems: list[str], kind: CheckKind) -> None:
    if not KIND.match(kind.id):
        problems.append(f"{kind.where}: check kind {kind.id!r}: expected dotted kebab-case words such as "
                        "'edge.tls.min-version'")
    elif kind.id in kinds:
        problems.append(f"{kind.where}: check kind {kind.id!r} is already declared at {kinds[kind.id].where}: "
                        "one check per kind")
    else:
        kinds[kind.id] = kind


def experiments_dir() -> Path:
    """``$GAUNTLET_CHAOS_EXPERIMENTS_DIR`` (tests) or ``chaos_experiments/``."""
    return Path(os.environ.get("GAUNTLET_CHAOS_EXPERIMENTS_DIR") or paths.ROOT / "chaos_experiments")


def _chaos(root: Path, kinds: dict[str, CheckKind], problems: list[str]) -> None:
    for path in sorted(root.glob("*.json")):
        rel = _rel(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            problems.append(f"{rel}: cannot read the experiment ({exc})")
            continue
        ext = next((e for e in (data.get("extensions") or ()) if isinstance(e, dict) and e.get("name") == "gauntlet"), {})
        declared = ext.get("checks") or []
        if not declared or not all(isinstance(k, str) for k in declared):
            problems.append(f"{rel}: extensions.gauntlet.checks: expected the check kinds the experiment implements")
            continue
        for kind in declared:
            _add(kinds, problems, CheckKind(
                id=kind, evidence="chaos", source=f"chaos:{path.stem}", title=str(data.get("title", path.stem)),
                rule=" ".join(str(data.get("description", "")).split()), where=rel,
                per_workload=bool(ext.get("targets"))))


def _load(kinds: dict[str, CheckKind], problems: list[str]) -> None:
    where = "gauntlet/catalogue.py:LOAD_KINDS"
    for kind, title in LOAD_KINDS.values():
        _add(kinds, problems, CheckKind(id=kind, evidence="load", source="load", title=title, rule=title, where=where))


@functools.lru_cache(maxsize=4)
def _build(conformance: Path, chaos: Path) -> Catalogue:
    kinds: dict[str, CheckKind] = {}
    problems: list[str] = []
    _conformance(conformance, kinds, problems)
    _chaos(chaos, kinds, problems)
    _load(kinds, problems)
    return Catalogue(kinds, tuple(problems))


def catalogue() -> Catalogue:
    """The catalogue of this checkout (``conformance/``, the experiments folder, the load metrics)."""
    return _build(paths.ROOT / "conformance", experiments_dir())
