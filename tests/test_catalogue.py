"""The catalogue of check kinds: built from the checks' own declarations, each problem one line, patterns."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from gauntlet import paths
from gauntlet.catalogue import LOAD_KINDS, _build, catalogue, matches


def build(tmp_path: Path, files: dict[str, str], experiments: dict[str, dict] | None = None):
    """A catalogue of a checkout holding these conformance files (``suite/test_x.py`` -> text) and experiments."""
    for name, text in files.items():
        (tmp_path / "conformance" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "conformance" / name).write_text(text)
    (tmp_path / "experiments").mkdir(exist_ok=True)
    for name, data in (experiments or {}).items():
        (tmp_path / "experiments" / f"{name}.json").write_text(json.dumps(data))
    return _build(tmp_path / "conformance", tmp_path / "experiments")


CHECK = '''import pytest

@pytest.mark.check("shop.api.answers", observes="component")
def test_api_answers(workload):
    """The API answers: rule 1."""
'''


def test_a_check_declares_its_kind_what_it_observes_and_where(tmp_path):
    cat = build(tmp_path, {"shop/test_api.py": CHECK})
    kind = cat.kinds["shop.api.answers"]
    assert (kind.source, kind.observes, kind.per_workload, kind.title) == (
        "conformance:shop", "component", True, "The API answers: rule 1.")
    assert kind.where.endswith("conformance/shop/test_api.py:4") and cat.problems == ()


@pytest.mark.parametrize(("text", "problem"), [
    ("def test_bare():\n    '''x'''\n", "test_bare: a check declares the kind it implements: @pytest.mark.check"),
    ("import pytest\n\n@pytest.mark.check('Shop API')\ndef test_bad():\n    '''x'''\n",
     "check kind 'Shop API': expected dotted kebab-case words"),
    ("import pytest\n\n@pytest.mark.check('shop.api.answers')\ndef test_undocumented():\n    pass\n",
     "test_undocumented: a check's docstring cites the rule it enforces"),
    ("import pytest\n\npytestmark = pytest.mark.check('shop.api.all')\n\ndef test_x():\n    '''x'''\n",
     "pytestmark: declare @pytest.mark.check on each test function, not on the module"),
    ("import pytest\nK = 'shop.api.x'\n\n@pytest.mark.check(K)\ndef test_name():\n    '''x'''\n",
     "@pytest.mark.check: expected the kinds as string literals"),
])
def test_each_wrong_declaration_is_one_line_naming_where(tmp_path, text, problem):
    cat = build(tmp_path, {"shop/test_bad.py": text})
    assert len(cat.problems) >= 1 and "\n" not in cat.problems[0]
    assert any(problem in p for p in cat.problems), cat.problems
    assert all(re.match(r"^conformance/shop/test_bad\.py(:\d+)?[: ]", p.removeprefix(str(tmp_path) + "/")) for p in cat.problems)


def test_two_checks_of_one_kind_are_refused(tmp_path):
    cat = build(tmp_path, {"shop/test_api.py": CHECK, "shop/test_again.py": CHECK})
    assert any("check kind 'shop.api.answers' is already declared at" in p for p in cat.problems), cat.problems


def test_an_experiment_declares_its_kinds_in_its_extension(tmp_path):
    cat = build(tmp_path, {}, {"pod-loss": {"title": "t", "description": "d", "extensions": [
        {"name": "gauntlet", "checks": ["chaos.pod-loss.recovers"], "targets": ["app"]}]}, "bare": {"title": "t"}})
    assert cat.kinds["chaos.pod-loss.recovers"].source == "chaos:pod-loss" and cat.kinds["chaos.pod-loss.recovers"].per_workload
    assert any("bare.json: extensions.gauntlet.checks: expected the check kinds" in p for p in cat.problems)


def test_load_metrics_are_kinds():
    assert {kind for kind, _ in LOAD_KINDS.values()} <= set(catalogue().kinds)


def test_the_checkouts_catalogue_has_no_problems_and_every_kind_points_at_its_declaration():
    cat = catalogue()
    assert cat.problems == ()
    for kind in cat.kinds.values():
        file, _, line = kind.where.partition(":")
        if kind.evidence == "conformance":
            source = (paths.ROOT / file).read_text().splitlines()
            assert source[int(line) - 1].startswith("def test_"), kind.where
            assert f'"{kind.id}"' in "\n".join(source[int(line) - 6:int(line)]), f"{kind.id} not declared above {kind.where}"


@pytest.mark.parametrize(("pattern", "kind", "expected"), [
    ("edge.tls.*", "edge.tls.min-version", True),
    ("edge.*", "edge.tls.min-version", True),
    ("edge.tls.min-version", "edge.tls.min-version", True),
    ("edge.tls", "edge.tls.min-version", False),
    ("edge.t*", "edge.tls.min-version", False),
    ("edge.tls.*", "edge.tlsx.min-version", False),
    ("load.p95@smoke", "load.p95", True),
])
def test_patterns(pattern, kind, expected):
    assert matches(pattern, kind) is expected
