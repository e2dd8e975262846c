"""The pytest plugin: ``--env``, the check marker, fixtures and the claims reporter.

Registered through the ``pytest11`` entry point and the root ``conftest.py``
(pytest-testinfra's pattern). A check is a test under ``conformance/``; it declares
the kind(s) it implements with ``@pytest.mark.check("area.topic.rule")``
(:mod:`gauntlet.catalogue`). Each collected check is evidence for the environment's
claims that name its kind (and, run for one workload, that name the workload);
checks that are evidence for no claim are deselected, and a line says how many.
"""

from __future__ import annotations

import ssl
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gauntlet import redact_pytest, transport
from gauntlet.catalogue import OBSERVES, matches_any
from gauntlet.environment import Endpoint, Environment, Workload, load_environment
from gauntlet.exceptions import GauntletError, NotChecked, TargetUnreachable
from gauntlet.ledger import UNREACHABLE, CheckResult, Outcome
from gauntlet.report import finish
from gauntlet.run_folder import Run, Status, new_run

#: The check's attribution, set at collection: claims, kinds, scope, subject; and its cause, set by the report.
CLAIMS_PROPERTY, KINDS_PROPERTY, SCOPE_PROPERTY, CAUSE_PROPERTY = (
    "gauntlet_claims", "gauntlet_kinds", "gauntlet_scope", "gauntlet_cause")
_OWN = (CLAIMS_PROPERTY, KINDS_PROPERTY, SCOPE_PROPERTY, CAUSE_PROPERTY)
HTTP_TIMEOUT = httpx.Timeout(10.0, connect=5.0)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("gauntlet")
    group.addoption("--env", default="local", metavar="NAME", help="environment to check (environments/NAME.yaml); default: local")
    group.addoption("--environments-dir", default=None, metavar="DIR", help="folder of environment files (or GAUNTLET_ENVIRONMENTS_DIR)")
    group.addoption("--claims", default=None, metavar="ID,ID", help="run only the checks that are evidence for these claims")
    group.addoption("--gauntlet-run", default=None, metavar="DIR", help="record check results into this run folder (the CLI sets it)")
    group.addoption("--no-gauntlet-report", action="store_true", help="do not write a report folder for this session")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "check(*kinds, observes='service'): the check kinds this test implements "
                                       "(gauntlet checks); observes='component' when it looks at one pod or node")
    config.pluginmanager.register(redact_pytest, "gauntlet-redact")
    if not _is_worker(config) and not config.getoption("--no-gauntlet-report"):
        config.pluginmanager.register(ClaimsReporter(config), "gauntlet-claims-reporter")


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def _environments_dir(config: pytest.Config) -> Path | None:
    value = config.getoption("--environments-dir")
    return Path(value) if value else None


def environment_of(config: pytest.Config) -> Environment:
    cached = getattr(config, "_gauntlet_environment", None)
    if cached is None:
        try:
            cached = load_environment(config.getoption("--env"), _environments_dir(config))
        except GauntletError as exc:
            raise pytest.UsageError(str(exc)) from None
        config._gauntlet_environment = cached  # type: ignore[attr-defined]
    return cached


def _folders(item: pytest.Item) -> tuple[str, ...]:
    """The folders of a test file, relative to the rootdir when it is below it."""
    path = Path(str(item.path))
    try:
        path = path.relative_to(item.config.rootpath)
    except ValueError:
        pass
    return path.parts[:-1]


def is_check(item: pytest.Item) -> bool:
    return "conformance" in _folders(item) or item.get_closest_marker("check") is not None


def check_kinds(item: pytest.Item) -> tuple[str, ...]:
    return tuple(dict.fromkeys(k for m in item.iter_markers("check") for k in m.args))


def observed(item: pytest.Item) -> tuple[str, str, str]:
    """(scope, subject, address) of a check: what its marker says, its parameters decide (a replica endpoint is a
    component, a workload is the subject), else the service."""
    marker = item.get_closest_marker("check")
    scope = (marker.kwargs.get("observes") if marker else None) or "service"
    if scope not in OBSERVES:
        raise pytest.UsageError(f"{item.nodeid}: @pytest.mark.check(observes=...): expected one of {list(OBSERVES)}")
    subject = address = ""
    for value in getattr(getattr(item, "callspec", None), "params", {}).values():
        if isinstance(value, Endpoint):
            scope, subject = (value.scope if scope == "service" else scope), value.name
            address = f"{value.url.host}:{value.url.port}"
        elif isinstance(value, Workload):
            subject = subject or value.ref
    return scope, subject, address


def attributed(item: pytest.Item, env: Environment) -> tuple[str, ...]:
    """The claims of ``env`` this check is evidence for: they name one of its kinds, and the workload it ran
    for when it ran for one."""
    kinds = check_kinds(item)
    workload = next((v for v in getattr(getattr(item, "callspec", None), "params", {}).values()
                     if isinstance(v, Workload)), None)
    return tuple(c.id for c in env.claims if matches_any(c.evidence, kinds)
                 and (workload is None or workload.ref in c.workloads))


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    checks = [item for item in items if is_check(item)]
    if not checks:
        return
    env = environment_of(config)
    wanted = _wanted_claims(config, {c.id for c in env.claims})
    keep, drop = [], []
    for item in items:
        if item not in checks:
            keep.append(item)
            continue
        if not check_kinds(item):
            raise pytest.UsageError(f"{item.nodeid}: a check declares the kind it implements: "
                                    "@pytest.mark.check(\"<area>.<topic>.<rule>\") (see gauntlet checks)")
        mine = tuple(c for c in attributed(item, env) if wanted is None or c in wanted)
        if mine:
            # A warning inside a check (the target's odd certificate, a library's deprecation) is shown, never the
            # check's outcome: the harness's own tests run with warnings as errors (pyproject), its checks do not.
            item.add_marker(pytest.mark.filterwarnings("default"), append=False)
            item.user_properties += [(CLAIMS_PROPERTY, mine), (KINDS_PROPERTY, check_kinds(item)),
                                     (SCOPE_PROPERTY, observed(item))]
            keep.append(item)
        else:
            drop.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None and not _is_worker(config):
            reporter.write_line(f"gauntlet: {len(drop)} checks are evidence for no claim of {env.name}"
                                f"{' among --claims' if wanted is not None else ''}: deselected")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """gauntlet's errors in a check, in any phase: :class:`NotChecked` is a skip with its reason (the claim
    says not-checked); any other is a failure with its one-line message, never a traceback; one from a
    subject that gave no answer at all says so (``cause: unreachable``)."""
    report = yield
    excinfo = call.excinfo
    if excinfo is None or not excinfo.errisinstance(GauntletError):
        return report
    if excinfo.errisinstance(NotChecked):
        report.outcome = "skipped"
        report.longrepr = (str(item.path), item.location[1] or 0, f"Skipped: {excinfo.value}")
        return report
    report.longrepr = f"{type(excinfo.value).__name__}: {excinfo.value}"
    if excinfo.errisinstance(TargetUnreachable):
        report.user_properties = [*report.user_properties, (CAUSE_PROPERTY, UNREACHABLE)]
    return report


def _wanted_claims(config: pytest.Config, declared: set[str]) -> set[str] | None:
    value = config.getoption("--claims")
    if value is None:
        return None
    wanted = {v for v in value.split(",") if v}
    unknown = sorted(wanted - declared)
    if unknown:
        raise pytest.UsageError(f"--claims: unknown claim {unknown[0]!r} for environment {config.getoption('--env')!r}: "
                                f"expected one of {sorted(declared)}")
    return wanted


class ClaimsReporter:
    """Records every finished check into the run folder (testinfra's reporter-object pattern)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.run: Run | None = None
        self.owns_run = False
        self.partial: dict[str, dict] = {}

    def _ensure_run(self) -> Run:
        if self.run is None:
            given = self.config.getoption("--gauntlet-run")
            if given:
                self.run = Run(Path(given))
            else:
                env = environment_of(self.config)
                self.run = new_run(env, "conformance", "pytest " + " ".join(self.config.invocation_params.args))
                self.owns_run = True
        return self.run

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        if self.config.option.collectonly:  # nothing runs: no run folder, no history entry
            return
        if any(is_check(item) for item in session.items):
            run = self._ensure_run()
            suites = sorted({f"conformance:{_suite(item)}" for item in session.items if is_check(item)})
            run.add_ran(*suites)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        props: dict[str, Any] = dict(report.user_properties)  # values the plugin set itself (claims, kinds, scope...)
        claims = props.get(CLAIMS_PROPERTY)
        if not claims:
            return
        state = self.partial.setdefault(report.nodeid, {"outcome": "passed", "message": "", "duration": 0.0})
        state["duration"] += report.duration
        outcome, message = _phase_outcome(report)
        if outcome is not None and state["outcome"] in ("passed", "skipped"):
            state.update(outcome=outcome, message=message, cause=props.get(CAUSE_PROPERTY, ""))
        if report.when == "teardown":
            del self.partial[report.nodeid]
            scope, subject, address = props[SCOPE_PROPERTY]
            details = {k: v for k, v in report.user_properties if k not in _OWN}
            result = CheckResult(id=report.nodeid, evidence="conformance", claims=tuple(claims), outcome=state["outcome"],
                                 message=state["message"], duration_s=round(state["duration"], 3), details=details,
                                 kinds=tuple(props[KINDS_PROPERTY]), scope=scope, subject=subject,
                                 cause=state.get("cause", ""))
            if result.is_component_down():
                details.update(self._broken_by_chaos(address))
            self._ensure_run().record(result)

    def _broken_by_chaos(self, address: str) -> dict:
        """A component found down that a chaos experiment running against the environment takes down is expected."""
        from gauntlet.chaos.lock import broken

        experiment, components = broken(environment_of(self.config).name)
        return {"expected_down": experiment} if address and address in components else {}

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.run is not None and self.owns_run:
            status: Status = "interrupted" if exitstatus == pytest.ExitCode.INTERRUPTED else "complete"
            if exitstatus not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED, pytest.ExitCode.INTERRUPTED):
                self.run.add_error(f"pytest ended with exit code {int(exitstatus)} ({pytest.ExitCode(exitstatus).name})")
            finish(self.run, environment_of(self.config), status)

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if self.run is not None and self.owns_run:
            terminalreporter.write_line(f"gauntlet report: {self.run.dir / 'index.html'}")


def _suite(item: pytest.Item) -> str:
    folders = _folders(item)
    return folders[folders.index("conformance") + 1] if "conformance" in folders[:-1] else "other"


def _phase_outcome(report: pytest.TestReport) -> tuple[Outcome | None, str]:
    """The outcome one phase contributes: a skip reason, a failure's message, or nothing."""
    if report.skipped:
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        return "skipped", reason.removeprefix("Skipped: ")
    if report.failed:
        crash = getattr(report.longrepr, "reprcrash", None)
        message = crash.message if crash is not None else str(report.longrepr).strip().splitlines()[-1]
        return ("failed" if report.when == "call" else "error"), message
    return None, ""


# Fixtures: nouns, each does one thing and yields its resource.


@pytest.fixture(scope="session")
def environment(pytestconfig: pytest.Config) -> Environment:
    """The environment under test (``--env``)."""
    return environment_of(pytestconfig)


def ssl_context(env: Environment) -> ssl.SSLContext:
    """The system trust store plus every CA bundle the environment names."""
    context = ssl.create_default_context()
    for endpoint in env.endpoints:
        if endpoint.ca_path is not None:
            if not endpoint.ca_path.is_file():
                pytest.skip(f"endpoint {endpoint.name}: CA bundle {endpoint.ca_path} does not exist (is the stack up?)")
            context.load_verify_locations(cafile=str(endpoint.ca_path))
    return context


@pytest.fixture(scope="session")
def http_client(environment: Environment) -> Iterator[httpx.Client]:
    """One HTTP/2 connection pool per worker, trusting the environment's CA bundles; each request within its
    deadline and each answer within its cap (:mod:`gauntlet.transport`)."""
    with transport.client(environment.limits, verify=ssl_context(environment), http2=True, timeout=HTTP_TIMEOUT,
                          follow_redirects=False, headers={"User-Agent": "gauntlet (conformance)"}) as client:
        yield client


@pytest.fixture(scope="session")
def aws_configuration(environment: Environment) -> dict:
    """Region, profile, credentials file and endpoint of the environment's AWS account, as the
    read-only probes of ``gauntlet.cloud`` (and Chaos Toolkit) take them; skips when there is none."""
    from gauntlet.cloud.session import configuration_for

    if environment.aws is None:
        pytest.skip(f"environment {environment.name} names no AWS account")
    return configuration_for(environment.aws)
