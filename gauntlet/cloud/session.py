"""The one boto3 client factory of the cloud probes, and the two ways to call through it.

:func:`client` builds (and caches) a client for the environment's region, profile and
``endpoint_url`` (the local moto server, or none for AWS itself), in botocore's
``standard`` retry mode: throttled and transient failures are retried with exponential
backoff and jitter, up to ``aws_max_attempts`` attempts in all. Every client it makes

- refuses, before anything is sent, an operation whose name does not start with
  ``Describe``, ``List`` or ``Get`` (:class:`ReadOnlyViolation`): the checks read, never write;
- appends each operation it is asked for to ``$GAUNTLET_AWS_CALL_LOG`` when that is set
  (one JSON line: service, operation, region), so a test can prove the previous point;
- when its endpoint is loopback or ``$GAUNTLET_AWS_LOOPBACK_ONLY`` is set, refuses to send
  anywhere but loopback and never asks the instance-metadata or container credential
  endpoints (which are network calls) for credentials.

:func:`call` and :func:`pages` translate botocore's errors at this boundary into
:mod:`gauntlet.cloud.errors`, with a message naming the IAM action, the resource and the
region. Configuration follows Chaos Toolkit's AWS extension (``aws_region``,
``aws_profile_name``) so a probe serves a check and an experiment alike.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import botocore.session
from botocore.client import BaseClient
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    CredentialRetrievalError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    ParamValidationError,
    PartialCredentialsError,
    ProfileNotFound,
    ReadTimeoutError,
)
from chaoslib.types import Configuration, Secrets

from gauntlet import paths
from gauntlet.cloud.errors import CloudCallFailed, CloudConfigError, ReadOnlyViolation
from gauntlet.environment import Aws
from gauntlet.exceptions import NotChecked, ResourceMissing
from gauntlet.urls import is_loopback

READ_ONLY_PREFIXES = ("Describe", "List", "Get")
CALL_LOG_ENV = "GAUNTLET_AWS_CALL_LOG"
LOOPBACK_ONLY_ENV = "GAUNTLET_AWS_LOOPBACK_ONLY"
DEFAULT_MAX_ATTEMPTS = 5
#: CloudFront, Route 53, CLOUDFRONT-scope web ACLs and CloudFront's ACM certificates live here.
GLOBAL_REGION = "us-east-1"

_THROTTLED = frozenset({
    "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException", "TooManyRequestsException",
    "ProvisionedThroughputExceededException", "TransactionInProgressException", "RequestLimitExceeded",
    "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled", "SlowDown", "PriorRequestNotComplete",
    "EC2ThrottledException", "WAFLimitsExceededException",
})
_DENIED = frozenset({
    "AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnauthorizedAccess", "AuthorizationError",
    "Forbidden", "403",
})
_REJECTED = frozenset({
    "InvalidClientTokenId", "UnrecognizedClientException", "SignatureDoesNotMatch", "ExpiredToken",
    "ExpiredTokenException", "InvalidAccessKeyId", "MissingAuthenticationToken", "AuthFailure", "InvalidToken",
    "RequestExpired",
})
_NOT_FOUND = frozenset({
    "DBInstanceNotFound", "DBInstanceNotFoundFault", "NoSuchDistribution", "NoSuchHostedZone",
    "ResourceNotFoundException", "LoadBalancerNotFound", "TargetGroupNotFound", "ListenerNotFound",
    "RepositoryNotFoundException", "WAFNonexistentItemException", "InvalidSubnetID.NotFound",
    "InvalidGroup.NotFound", "InvalidRouteTableID.NotFound", "NotFoundException", "NoSuchEntity",
    "DBSubnetGroupNotFoundFault", "NoSuchCachePolicy", "RepositoryPolicyNotFoundException",
})
_NOT_IMPLEMENTED = frozenset({"NotImplemented", "NotImplementedException", "InternalFailure", "InternalError"})

_lock = threading.Lock()
_sessions: dict[tuple, boto3.Session] = {}
_clients: dict[tuple, BaseClient] = {}
_unreachable: dict[str, str] = {}


def configuration_for(aws: Aws) -> Configuration:
    """The Chaos Toolkit-style configuration of an environment's ``aws`` section."""
    values: dict[str, Any] = {
        "aws_region": aws.region,
        "aws_profile_name": aws.profile,
        "aws_endpoint_url": str(aws.endpoint_url).rstrip("/") if aws.endpoint_url else None,
        "aws_credentials_file": str(paths.expand(aws.credentials_file)) if aws.credentials_file else None,
        "aws_emulator": aws.emulator,
        "aws_max_attempts": aws.max_attempts,
    }
    return {k: v for k, v in values.items() if v is not None}


def emulator(configuration: Configuration | None) -> str | None:
    """``"moto"`` when the AWS API is the local stack's emulator, else None."""
    values: dict[str, Any] = configuration or {}  # resolved values: text and numbers (chaoslib's type is the unresolved form)
    return values.get("aws_emulator")


def region_of(configuration: Configuration | None) -> str:
    values: dict[str, Any] = configuration or {}  # resolved values: text and numbers (chaoslib's type is the unresolved form)
    region = values.get("aws_region") or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if not region:
        raise NotChecked("no AWS region: set aws.region in the environment (or aws_region in the configuration)")
    return region


def _loopback_only(endpoint_url: str | None) -> bool:
    return is_loopback(endpoint_url) or os.environ.get(LOOPBACK_ONLY_ENV, "") not in ("", "0", "false")


def _session(profile: str | None, credentials_file: str | None, secrets: Secrets, loopback_only: bool) -> boto3.Session:
    key = (profile, credentials_file, tuple(sorted((secrets or {}).items())), loopback_only)
    with _lock:
        if key in _sessions:
            return _sessions[key]
        core = botocore.session.Session()
        if credentials_file:
            if not Path(credentials_file).is_file():
                raise NotChecked(f"the AWS credentials file {credentials_file} (aws.credentials_file) does not exist "
                                 "(for the local stack: is the cloud tier up? gauntlet local up --cloud)")
            core.set_config_variable("credentials_file", credentials_file)
        if profile:
            core.set_config_variable("profile", profile)
        try:
            if loopback_only:  # both ask a link-local HTTP endpoint: not on loopback
                resolver = core.get_component("credential_provider")
                for name in ("iam-role", "container-role"):
                    resolver.remove(name)
            session = boto3.Session(
                botocore_session=core,
                aws_access_key_id=(secrets or {}).get("aws_access_key_id"),
                aws_secret_access_key=(secrets or {}).get("aws_secret_access_key"),
                aws_session_token=(secrets or {}).get("aws_session_token"),
            )
        except ProfileNotFound as exc:
            raise _unknown_profile(profile, exc) from None
        _sessions[key] = session
        return session


def _unknown_profile(profile: str | None, exc: Exception) -> NotChecked:
    return NotChecked(f"AWS profile {profile!r} is not configured here ({exc}): add it to the AWS config or "
                      "credentials file of the identity that runs the checks")


def client(service: str, configuration: Configuration | None = None, secrets: Secrets | None = None, *,
           region: str | None = None) -> BaseClient:
    """A read-only boto3 client of ``service`` for this configuration (cached per process)."""
    values: dict[str, Any] = configuration or {}  # resolved values: text and numbers (chaoslib's type is the unresolved form)
    region = region or region_of(configuration)
    endpoint_url = values.get("aws_endpoint_url")
    profile = values.get("aws_profile_name")
    credentials_file = values.get("aws_credentials_file")
    attempts = int(values.get("aws_max_attempts", DEFAULT_MAX_ATTEMPTS))
    loopback_only = _loopback_only(endpoint_url)
    key = (service, region, endpoint_url, profile, credentials_file, attempts, loopback_only,
           tuple(sorted((secrets or {}).items())))
    with _lock:
        cached = _clients.get(key)
    if cached is not None:
        return cached
    session = _session(profile, credentials_file, secrets or {}, loopback_only)
    config = Config(retries={"mode": "standard", "total_max_attempts": attempts}, connect_timeout=5, read_timeout=30,
                    user_agent_extra="gauntlet-conformance")
    try:
        made = session.client(service, region_name=region, endpoint_url=endpoint_url, config=config)
    except ProfileNotFound as exc:
        raise _unknown_profile(profile, exc) from None
    except NoRegionError:
        raise NotChecked("no AWS region: set aws.region in the environment") from None
    made._gauntlet_profile = profile  # named in a "no credentials" message
    made.meta.events.register("before-call", _read_only)
    if loopback_only:
        made.meta.events.register("before-send", _stay_on_loopback)
    with _lock:
        return _clients.setdefault(key, made)


def _action(model: Any) -> str:
    """The IAM action of an operation: ``rds:DescribeDBInstances``."""
    return f"{model.service_model.signing_name}:{model.name}"


def _read_only(model: Any, context: dict | None = None, **_: Any) -> None:
    """``before-call``: log the operation when asked to, and refuse anything but a read."""
    log = os.environ.get(CALL_LOG_ENV)
    if log:
        entry = {"service": model.service_model.service_name, "operation": model.name,
                 "region": (context or {}).get("client_region")}
        with open(log, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry) + "\n")
    if not model.name.startswith(READ_ONLY_PREFIXES):
        raise ReadOnlyViolation(f"{_action(model)}: refused before sending: the cloud checks only describe, list and get")


def _stay_on_loopback(request: Any, **_: Any) -> None:
    """``before-send``: a loopback client never leaves loopback."""
    if not is_loopback(request.url):
        raise ReadOnlyViolation(f"refused to send {request.method} {urlsplit(request.url).netloc}: this AWS client may "
                                f"only reach loopback (its endpoint is loopback, or ${LOOPBACK_ONLY_ENV} is set)")


def call(aws_client: BaseClient, operation: str, *, resource: str = "", **params: Any) -> dict:
    """``aws_client.<operation>(**params)``; errors become :mod:`gauntlet.cloud.errors` naming ``resource``."""
    _fail_fast_if_unreachable(aws_client, operation, resource)
    try:
        return getattr(aws_client, operation)(**params)
    except (BotoCoreError, ClientError) as exc:
        raise _translate(exc, aws_client, operation, resource) from None


def pages(aws_client: BaseClient, operation: str, key: str, *, resource: str = "", **params: Any) -> list:
    """Every item under ``key`` (a JMESPath such as ``DistributionList.Items``) of every page of a paginated read."""
    _fail_fast_if_unreachable(aws_client, operation, resource)
    try:
        items = [item for item in aws_client.get_paginator(operation).paginate(**params).search(key) if item is not None]
    except (BotoCoreError, ClientError) as exc:
        raise _translate(exc, aws_client, operation, resource) from None
    return items


def _fail_fast_if_unreachable(aws_client: BaseClient, operation: str, resource: str) -> None:
    """An endpoint that refused a connection in this process is not asked again."""
    endpoint = aws_client.meta.endpoint_url
    if endpoint in _unreachable:
        raise NotChecked(f"{_where(aws_client, operation, resource)}: not asked: the AWS API at {endpoint} could not be "
                         f"reached earlier in this run ({_unreachable[endpoint]}){_tier_hint(endpoint)}")


def _tier_hint(endpoint: str | None) -> str:
    return " (for the local stack: is the cloud tier up? gauntlet local up --cloud)" if is_loopback(endpoint) else ""


def _where(aws_client: BaseClient, operation: str, resource: str) -> str:
    meta = aws_client.meta
    action = f"{meta.service_model.signing_name}:{meta.method_to_api_mapping.get(operation, operation)}"
    what = f" {resource}" if resource else ""
    return f"{action}{what} in {meta.region_name}"


def _attempts(aws_client: BaseClient) -> int:
    retries = aws_client.meta.config.retries or {}
    return int(retries.get("total_max_attempts") or DEFAULT_MAX_ATTEMPTS)


def _translate(exc: Exception, aws_client: BaseClient, operation: str, resource: str) -> Exception:
    where = _where(aws_client, operation, resource)
    endpoint = aws_client.meta.endpoint_url
    attempts = _attempts(aws_client)
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code, message = str(error.get("Code", "")), error.get("Message", "") or ""
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        if code in _THROTTLED:
            return NotChecked(f"{where}: throttled ({code}: {message}) on all {attempts} attempts, with exponential "
                              "backoff between them; not checked this time")
        if code in _DENIED or (status == 403 and code not in _REJECTED):
            return NotChecked(f"{where}: access denied ({code}: {message}); grant the read-only permission "
                              f"{where.split()[0]} to the identity the checks run as")
        if code in _REJECTED:
            return NotChecked(f"{where}: the credentials were rejected ({code}: {message}); renew them, or check "
                              "the profile and that the region is enabled for the account")
        if code in _NOT_FOUND:
            return ResourceMissing(f"{where}: not found ({code}: {message}); is the environment's aws section right "
                                   "(identifier, region, account)?", code)
        if status >= 500 or code in _NOT_IMPLEMENTED:
            return NotChecked(f"{where}: the API at {endpoint} answered HTTP {status} {code or ''} after {attempts} "
                              "attempts (an emulator that does not implement this call, or an outage); not checked")
        return CloudCallFailed(f"{where}: {code or status}: {message}")
    if isinstance(exc, (NoCredentialsError, PartialCredentialsError, CredentialRetrievalError)):
        profile = getattr(aws_client, "_gauntlet_profile", None)
        named = f" for profile {profile!r}" if profile else ""
        return NotChecked(f"{where}: no AWS credentials{named} ({exc}): configure the environment's aws.profile "
                          "or set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY for the identity that runs the checks")
    if isinstance(exc, EndpointConnectionError) and not isinstance(exc, ConnectTimeoutError):
        _unreachable[endpoint] = str(exc)
        return NotChecked(f"{where}: cannot reach the AWS API at {endpoint} ({exc}) after {attempts} attempts{_tier_hint(endpoint)}")
    if isinstance(exc, (ConnectTimeoutError, ReadTimeoutError, ConnectionClosedError)):
        return NotChecked(f"{where}: the AWS API at {endpoint} did not answer in time ({exc}) after {attempts} attempts")
    if isinstance(exc, ParamValidationError):
        return CloudConfigError(f"{where}: {exc}")
    if isinstance(exc, ProfileNotFound):
        return _unknown_profile(getattr(aws_client, "_gauntlet_profile", None), exc)
    return CloudCallFailed(f"{where}: {type(exc).__name__}: {exc}")


def process_environment(configuration: Configuration | None) -> dict[str, str]:
    """Environment variables that point a child process's boto3 (a Chaos Toolkit run with chaosaws, which
    takes no endpoint of its own) at the same account: region, profile, credentials file and endpoint."""
    settings: dict[str, Any] = configuration or {}  # resolved values: text and numbers (chaoslib's type is the unresolved form)
    values = {
        "AWS_REGION": settings.get("aws_region"),
        "AWS_DEFAULT_REGION": settings.get("aws_region"),
        "AWS_PROFILE": settings.get("aws_profile_name"),
        "AWS_SHARED_CREDENTIALS_FILE": settings.get("aws_credentials_file"),
        "AWS_ENDPOINT_URL": settings.get("aws_endpoint_url"),
    }
    if _loopback_only(settings.get("aws_endpoint_url")):
        values["AWS_EC2_METADATA_DISABLED"] = "true"
    return {k: v for k, v in values.items() if v}


def jsonable(value: Any) -> Any:
    """``value`` with datetimes as ISO 8601 text and bytes dropped: what a probe may return."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items() if k != "ResponseMetadata" and not isinstance(v, (bytes, bytearray))}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    return value


def forget_clients() -> None:
    """Drop cached sessions, clients and unreachable endpoints (tests; a changed credentials file)."""
    with _lock:
        _sessions.clear()
        _clients.clear()
        _unreachable.clear()
