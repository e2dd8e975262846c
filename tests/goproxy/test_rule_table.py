"""The rule table of conformance/goproxy/README.md, the suite's checks and the fault profiles agree.

Every check kind of the suite has a row; every row names a kind of the catalogue, or says why none can check
it; a fault a row names breaks that kind by name and is run by tests/local/test_goproxy_suite.py.
"""

from __future__ import annotations

import re

from gauntlet import paths
from gauntlet.catalogue import catalogue
from gauntlet.local.faults import FAULTS

README = paths.ROOT / "conformance" / "goproxy" / "README.md"
SUITE_TEST = paths.ROOT / "tests" / "local" / "test_goproxy_suite.py"


def rows() -> list[dict[str, str]]:
    lines = README.read_text().split("## Rule table", 1)[1].splitlines()
    table = [line for line in lines if line.startswith("|")]
    header = [cell.strip() for cell in table[0].strip("|").split("|")]
    return [dict(zip(header, (cell.strip() for cell in line.strip("|").split("|")), strict=False)) for line in table[2:]]


def ticked(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


def test_every_kind_of_the_suite_has_a_row_and_every_row_a_kind_of_the_catalogue():
    kinds = {k.id for k in catalogue().kinds.values() if k.source == "conformance:goproxy"}
    cited = {kind for row in rows() for kind in ticked(row["Check kind"])}
    assert kinds - cited == set(), "kinds without a row"
    assert cited - kinds == set(), "rows naming kinds the suite does not declare"


def test_every_row_is_seen_red_on_a_fault_that_breaks_it_or_says_why_not():
    suite_test = SUITE_TEST.read_text()
    for row in rows():
        kinds, faults = ticked(row["Check kind"]), ticked(row["Seen red on"])
        if not (kinds and faults):
            assert row["Notes"], f"{row['Rule']}: no check or no fault, and no reason given"
            continue
        for fault in faults:
            assert fault in FAULTS and FAULTS[fault].tier == "goproxy", f"{row['Rule']}: unknown fault {fault}"
            assert set(kinds) <= set(FAULTS[fault].breaks), f"{row['Rule']}: {fault} does not name {kinds} among what it breaks"
            assert f'"{fault}"' in suite_test, f"{row['Rule']}: {fault} is not run by {SUITE_TEST.name}"
