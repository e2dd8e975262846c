"""The pytest plugin: ``--env``, the claim marker, fixtures and the claims reporter.

Registered through the ``pytest11`` entry point and the root ``conftest.py``
(pytest-testinfra's pattern). A check is a test under ``conformance/``; it must
declare the claims it is evidence for with ``@pytest.mark.claim("id", ...)``.
Checks for claims the environment does not make are deselected.
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Iterator, Optional

import httpx
import pytest

from gauntlet import redact_pytest, transport
from gauntlet.environment import Environment, known_claim_ids, load_environment
from gauntlet.exceptions import GauntletError
from gauntlet.ledger import CheckResult, Outcome
from gauntlet.report import Run, finish, new_run

CLAIMS_PROPERTY = "gauntlet_claims"
HTTP_TIMEOUT = httpx.Timeout(10.0, connect=5.0)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("gauntlet")
    group.addoption("--env", default="local", metavar="NAME", help="environment to check (environments/NAME.yaml); default: local")
    group.addoption("--environments-dir", default=None, metavar="DIR", help="folder of environment files (or GAUNTLET_ENVIRONMENTS_DIR)")
    group.addoption("--claims", default=None, metavar="ID,ID", help="run only the checks that are evidence for these claims")
    group.addoption("--gauntlet-run", default=None, metavar="DIR", help="record check results into this run folder (the CLI sets it)")
    group.addoption("--no-gauntlet-report", action="store_true", help="do not write a report folder for this session")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "claim(*ids): the claims this check is evidence for")
    config.pluginmanager.register(redact_pytest, "gauntlet-redact")
    if not _is_worker(config) and not config.getoption("--no-gauntlet-report"):
        config.pluginmanager.register(ClaimsReporter(config), "gauntlet-claims-reporter")


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def _environments_dir(config: pytest.Config) -> Optional[Path]:
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
    return "conformance" in _folders(item) or item.get_closest_marker("claim") is not None


def claim_ids(item: pytest.Item) -> tuple[str, ...]:
    return tuple(dict.fromkeys(i for m in item.iter_markers("claim") for i in m.args))


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    checks = [item for item in items if is_check(item)]
    if not checks:
        return
    env = environment_of(config)
    declared = {c.id for c in env.claims}
    known = known_claim_ids(_environments_dir(config)) | declared
    wanted = _wanted_claims(config, declared)
    keep, drop = [], []
    for item in items:
        if item not in checks:
            keep.append(item)
            continue
        ids = claim_ids(item)
        if not ids:
            raise pytest.UsageError(f"{item.nodeid}: a check must name the claims it is evidence for: @pytest.mark.claim(\"<claim id>\")")
        unknown = [i for i in ids if i not in known]
        if unknown:
            raise pytest.UsageError(f"{item.nodeid}: @pytest.mark.claim: unknown claim id {unknown[0]!r}: expected an id declared by an environment file")
        mine = tuple(i for i in ids if i in declared and (wanted is None or i in wanted))
        if mine:
            item.user_properties.append((CLAIMS_PROPERTY, mine))
            keep.append(item)
        else:
            drop.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def _wanted_claims(config: pytest.Config, declared: set[str]) -> Optional[set[str]]:
    value = config.getoption("--claims")
    if value is None:
        return None
    wanted = {v for v in value.split(",") if v}
    unknown = sorted(wanted - declared)
    if unknown:
        raise pytest.UsageError(f"--claims: unknown claim {unknown[0]!r} for environment {config.getoption('--env')!r}: expected one of {sorted(declared)}")
    return wanted


class ClaimsReporter:
    """Records every finished check into the run folder (testinfra's reporter-object pattern)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.run: Optional[Run] = None
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
        claims = dict(report.user_properties).get(CLAIMS_PROPERTY)
        if not claims:
            return
        state = self.partial.setdefault(report.nodeid, {"outcome": "passed", "message": "", "duration": 0.0})
        state["duration"] += report.duration
        outcome, message = _phase_outcome(report)
        if outcome is not None and state["outcome"] in ("passed", "skipped"):
            state["outcome"], state["message"] = outcome, message
        if report.when == "teardown":
            del self.partial[report.nodeid]
            details = {k: v for k, v in report.user_properties if k != CLAIMS_PROPERTY}
            result = CheckResult(id=report.nodeid, kind="conformance", claims=tuple(claims), outcome=state["outcome"],
                                 message=state["message"], duration_s=round(state["duration"], 3), details=details)
            self._ensure_run().record(result)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.run is not None and self.owns_run:
            status = "interrupted" if exitstatus == pytest.ExitCode.INTERRUPTED else "complete"
            if exitstatus not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED, pytest.ExitCode.INTERRUPTED):
                self.run.add_error(f"pytest ended with exit code {int(exitstatus)} ({pytest.ExitCode(exitstatus).name})")
            finish(self.run, environment_of(self.config), status)

    def pytest_terminal_summary(self, terminalreporter) -> None:
        if self.run is not None and self.owns_run:
            terminalreporter.write_line(f"gauntlet report: {self.run.dir / 'index.html'}")


def _suite(item: pytest.Item) -> str:
    folders = _folders(item)
    return folders[folders.index("conformance") + 1] if "conformance" in folders[:-1] else "other"


def _phase_outcome(report: pytest.TestReport) -> tuple[Optional[Outcome], str]:
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
def kube_api(environment: Environment):
    """A Kubernetes API client for the environment's context; skips when there is no cluster."""
    from kubernetes import config as kube_config
    from kubernetes.config.config_exception import ConfigException

    from gauntlet.kubernetes.client import default_kubeconfig, read_kubeconfig

    cluster = environment.kubernetes
    if cluster is None:
        pytest.skip(f"environment {environment.name} names no Kubernetes cluster")
    kubeconfig = cluster.kubeconfig_path
    if kubeconfig is not None and not kubeconfig.is_file():
        pytest.skip(f"kubeconfig {kubeconfig} does not exist (is the cluster tier up?)")
    try:
        read_kubeconfig(kubeconfig or default_kubeconfig())  # refuses a file that is no kubeconfig; masks its tokens
        client = kube_config.new_client_from_config(config_file=str(kubeconfig) if kubeconfig else None, context=cluster.context)
    except (ConfigException, OSError, ValueError, TypeError, AttributeError, KeyError) as exc:
        pytest.skip(f"kubeconfig has no usable context {cluster.context!r}: {type(exc).__name__}: {exc}")
    with client:
        yield client


@pytest.fixture(scope="session")
def aws_configuration(environment: Environment) -> dict:
    """Region, profile, credentials file and endpoint of the environment's AWS account, as the
    read-only probes of ``gauntlet.cloud`` (and Chaos Toolkit) take them; skips when there is none."""
    from gauntlet.cloud.session import configuration_for

    if environment.aws is None:
        pytest.skip(f"environment {environment.name} names no AWS account")
    return configuration_for(environment.aws)
