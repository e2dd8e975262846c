"""A pytest plugin (registered by :mod:`gauntlet.plugin`): secrets masked in every test report.

Each phase's report is masked where pytest makes it (in the xdist worker too), before
the terminal, JUnit XML, the claims reporter or the xdist master see it: the failure's
representation (traceback lines, locals, the crash message), a skip's reason, the
captured output and logs, and the ``record_property`` values.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest

from gauntlet.redact import redact, redact_data, redact_fields


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, pytest.TestReport]:
    report: pytest.TestReport = yield
    longrepr = report.longrepr
    if isinstance(longrepr, str):
        report.longrepr = redact(longrepr)
    elif isinstance(longrepr, tuple):
        report.longrepr = tuple(redact(v) if isinstance(v, str) else v for v in longrepr)  # type: ignore[assignment]
    elif longrepr is not None:
        redact_fields(longrepr)
    report.sections = [(title, redact(content)) for title, content in report.sections]
    report.user_properties = [(name, redact_data(value)) for name, value in report.user_properties]
    return report
