"""Fixtures of the cloud probes' and suite's tests: moto servers on loopback, provisioned accounts,
environment files pointing at them, a throttling front, and a process environment that can
never reach AWS (no credentials, no config, no instance metadata, loopback-only clients)."""

from __future__ import annotations

import http.client
import http.server
import json
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import boto3
import httpx
import pytest

from gauntlet.cloud import session
from gauntlet.environment import Aws
from gauntlet.local import cloud_tier

#: Every claim a check of conformance/cloud is evidence for (besides Athens' Cosmos DB).
CLOUD_CLAIMS = (
    "ah-rds-multi-az", "ah-rds-postgresql", "ah-rds-private", "ah-certs-auto-renew", "ah-edge-tls",
    "ah-cloudfront-origin-alb", "ah-cloudfront-honours-origin-headers", "ah-cloudfront-errors-handled",
    "ah-maintenance-page", "ah-alb-targets-healthy", "ah-alb-from-ingress", "ah-waf-rate-limits",
    "ah-route53-alias-cloudfront", "ah-ecr-private", "ah-images-from-ecr", "ah-node-group-6-10",
    "ah-staging-production-separate",
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _moto(tmp_path_factory: pytest.TempPathFactory, name: str) -> Iterator[str]:
    port = _free_port()
    log = tmp_path_factory.mktemp(name) / "moto.log"
    proc = cloud_tier.start_moto(port, log)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        cloud_tier.wait_answering(endpoint, proc, log)
        yield endpoint
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A moto server of our own (not the local stack's), holding the read-only test accounts."""
    yield from _moto(tmp_path_factory, "moto")


@pytest.fixture(scope="session")
def scratch_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A second moto server, for tests that misconfigure what they provisioned."""
    yield from _moto(tmp_path_factory, "moto-scratch")


@pytest.fixture(autouse=True)
def no_way_to_aws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No credentials, config or metadata service from this machine; clients stay on loopback."""
    for var in list(os.environ):
        if var.startswith("AWS_") or var.startswith("GAUNTLET_AWS_"):
            monkeypatch.delenv(var)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv(session.LOOPBACK_ONLY_ENV, "1")
    session.forget_clients()
    yield
    session.forget_clients()


@pytest.fixture(scope="session")
def credentials_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Profile ``gauntlet-test`` with keys moto accepts."""
    path = tmp_path_factory.mktemp("aws") / "credentials"
    path.write_text("[gauntlet-test]\naws_access_key_id = testing\naws_secret_access_key = testing\n")
    return path


def _aws_section(name: str, endpoint: str, credentials: Path, **overrides) -> dict:
    """The ``aws`` section of a test target shaped like Artifact Hub (the ALB in us-east-2)."""
    section = {
        "region": "us-east-2", "profile": "gauntlet-test", "credentials_file": str(credentials),
        "endpoint_url": endpoint, "emulator": "moto", "max_attempts": 2,
        "rds_instances": [f"{name}-db"], "load_balancer": f"k8s-{name}-hub", "hosted_zone": f"{name}.gauntlet.localhost",
        "domain": f"{name}.gauntlet.localhost", "web_acl": f"{name}-rate-limit", "alb_web_acl": f"{name}-alb-rate-limit",
        "eks_cluster": name, "node_group": f"{name}-ng", "node_group_size": {"min": 6, "max": 10},
        "ecr_repositories": ["hub", "scanner"],
    }
    return {**section, **overrides}


@pytest.fixture
def cloud_env(shipped_claim: Callable[..., dict]) -> Callable[..., dict]:
    """An environment's data: an Artifact Hub-shaped target making every cloud claim, with this ``aws`` section."""

    def make(name: str, aws: dict) -> dict:
        claims = [shipped_claim(c, "conformance:cloud", gates=True) for c in (*CLOUD_CLAIMS, "athens-cosmos-multi-region")]
        return {"name": name, "description": f"{name}: an Artifact Hub-shaped account in moto",
                "tls": {"min_days_to_expiry": 30}, "cdn": {"provider": "cloudfront", "error_max_ttl": 60},
                "aws": aws, "claims": claims}

    return make


@pytest.fixture(scope="session")
def account(moto_server: str, credentials_file: Path) -> dict[str, dict]:
    """Two healthy Artifact Hub-shaped environments, ``ahtest`` and ``ahstage``, provisioned once; their ids.

    Read-only: a test that changes it would change every other test's account.
    """
    made = {}
    for name, sibling in (("ahtest", "ahstage"), ("ahstage", "ahtest")):
        aws = _aws_section(name, moto_server, credentials_file, separate_from=[sibling])
        made[name] = {"aws": aws, "resources": cloud_tier.provision(Aws.model_validate(aws), moto_server)}
    return made


@pytest.fixture
def scratch_account(scratch_server: str, credentials_file: Path) -> dict:
    """A freshly provisioned healthy ``ahscratch`` account on the scratch server, for a test to break."""
    cloud_tier.reset(scratch_server)
    aws = _aws_section("ahscratch", scratch_server, credentials_file)
    return {"aws": aws, "resources": cloud_tier.provision(Aws.model_validate(aws), scratch_server)}


@pytest.fixture
def admin(scratch_server: str) -> Callable[..., object]:
    """A boto3 client of the scratch server with write access: how a test misconfigures the account."""

    def make(service: str, region: str = "us-east-2"):
        return boto3.client(service, region_name=region, endpoint_url=scratch_server,
                            aws_access_key_id="testing", aws_secret_access_key="testing")

    return make


@pytest.fixture
def iam_enforced(moto_server: str) -> Iterator[Callable[[list[dict]], dict]]:
    """Turns on moto's IAM enforcement for the test; the factory makes a user with these policy statements
    (none: no user) and returns its keys. Enforcement is off again after the test."""
    iam = boto3.client("iam", region_name="us-east-1", endpoint_url=moto_server,
                       aws_access_key_id="testing", aws_secret_access_key="testing")

    def user(statements: list[dict]) -> dict:
        keys = {}
        if statements:
            name = f"auditor-{len(iam.list_users()['Users'])}"
            iam.create_user(UserName=name)
            iam.put_user_policy(UserName=name, PolicyName="checks",
                                PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}))
            key = iam.create_access_key(UserName=name)["AccessKey"]
            keys = {"aws_access_key_id": key["AccessKeyId"], "aws_secret_access_key": key["SecretAccessKey"]}
        httpx.post(f"{moto_server}/moto-api/reset-auth", content=b"0").raise_for_status()
        return keys

    try:
        yield user
    finally:
        httpx.post(f"{moto_server}/moto-api/reset-auth", content=b"inf").raise_for_status()


@pytest.fixture
def throttling(moto_server: str) -> Iterator[Callable[[int], dict]]:
    """A loopback front of the moto server that answers the first N requests 'Throttling' (400), then
    forwards. The factory takes N (a large N: throttled for good) and returns {"url", "requests"}."""
    state = {"throttle": 0, "requests": 0}
    target = httpx.URL(moto_server)

    class Front(http.server.BaseHTTPRequestHandler):
        def _any(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            state["requests"] += 1
            if state["requests"] <= state["throttle"]:
                if self.headers.get("X-Amz-Target"):  # JSON protocols
                    payload, kind = b'{"__type":"ThrottlingException","message":"Rate exceeded"}', "application/x-amz-json-1.1"
                else:
                    payload = (b"<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>"
                               b"<Message>Rate exceeded</Message></Error><RequestId>gauntlet</RequestId></ErrorResponse>")
                    kind = "text/xml"
                self.send_response(400)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                return
            upstream = http.client.HTTPConnection(target.host, target.port, timeout=30)
            upstream.request(self.command, self.path, body=body, headers=dict(self.headers))
            answer = upstream.getresponse()
            data = answer.read()
            self.send_response(answer.status)
            for key, value in answer.getheaders():
                if key.lower() not in ("content-length", "transfer-encoding", "connection"):
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            upstream.close()

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _any

        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Front)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def front(throttle: int) -> dict:
        state["throttle"], state["requests"] = throttle, 0
        return {"url": f"http://127.0.0.1:{server.server_address[1]}", "state": state}

    try:
        yield front
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def run_suite(env_dir: Path, tmp_path: Path) -> Callable[..., dict]:
    """Run conformance/cloud against an environment of ``env_dir`` in a child process, as the CLI does;
    returns results.json of the run with ``calls``: every AWS operation the checks asked for."""
    from gauntlet import paths

    def run(env: str, *extra: str) -> dict:
        log = tmp_path / f"calls-{env}.jsonl"
        log.unlink(missing_ok=True)
        reports = env_dir.parent / "reports"
        child = {**os.environ, session.CALL_LOG_ENV: str(log), "GAUNTLET_REPORTS_DIR": str(reports)}
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "conformance/cloud", "--env", env, "--environments-dir", str(env_dir),
             "-p", "no:cacheprovider", "-q", "-rfEs", *extra],
            cwd=paths.ROOT, env=child, capture_output=True, text=True, timeout=300)
        latest = reports / "latest" / "results.json"
        assert latest.is_file(), proc.stdout[-3000:] + proc.stderr[-3000:]
        results = json.loads(latest.read_text())
        assert "Traceback" not in proc.stdout + proc.stderr, proc.stdout[-3000:] + proc.stderr[-3000:]
        results["calls"] = [json.loads(line) for line in log.read_text().splitlines()] if log.is_file() else []
        results["output"] = proc.stdout
        return results

    return run
