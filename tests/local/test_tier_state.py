"""A tier's state file: what :func:`write` left is read back; no file, garbage or another shape reads as none."""

from __future__ import annotations

from pathlib import Path

import pytest

from gauntlet.local import tier_state


def test_the_state_written_is_read_back(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    tier_state.write(path, {"faults": ["replica-500"], "cdn": "frontdoor"})
    assert tier_state.read(path) == {"faults": ["replica-500"], "cdn": "frontdoor"}


@pytest.mark.parametrize("text", [None, "", "{half", "[1, 2]"], ids=["missing", "empty", "truncated", "a list"])
def test_a_state_that_cannot_be_read_is_none(tmp_path: Path, text: str | None) -> None:
    path = tmp_path / "state.json"
    if text is not None:
        path.write_text(text)
    assert tier_state.read(path) is None
