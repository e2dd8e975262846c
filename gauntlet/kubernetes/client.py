"""The one Kubernetes API client factory of the probes and actions, and the one way to call through it.

:func:`cluster` builds (and caches per process) an API client for a kubeconfig and context,
the way Chaos Toolkit's Kubernetes extension does, from the activity ``configuration``:

- ``kubeconfig``: the kubeconfig file (default: ``$KUBECONFIG`` or ``~/.kube/config``);
- ``kube_context``: the context in it (default: its current context);
- ``kube_api_server``: the API server the environment names; a context pointing elsewhere is
  refused, so a check never reads another cluster than the one its claims are about;
- ``kube_timeout_s``: the read timeout of one call (connect: at most 5 s).

When ``$GAUNTLET_KUBE_LOOPBACK_ONLY`` is set, only an API server on loopback is contacted.

:func:`call` runs one API method and translates the client's errors at this boundary into
:mod:`gauntlet.kubernetes.errors`, with a message naming the request, the context and the API
server. Answers come back as the API's own JSON (camelCase, as in a manifest), so every probe
returns JSON-serialisable data.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import urllib3
import yaml
from chaoslib.types import Configuration, Secrets
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.client.rest import ApiException
from kubernetes.config.config_exception import ConfigException

from gauntlet import redact
from gauntlet.environment import Kubernetes
from gauntlet.exceptions import NotChecked, ResourceMissing
from gauntlet.kubernetes.errors import KubeCallFailed
from gauntlet.urls import is_loopback, same_origin

LOOPBACK_ONLY_ENV = "GAUNTLET_KUBE_LOOPBACK_ONLY"
DEFAULT_TIMEOUT_S = 10.0
CONNECT_TIMEOUT_S = 5.0

_lock = threading.Lock()
_clusters: dict[tuple, Cluster] = {}


@dataclass(frozen=True)
class Cluster:
    """An API client and what messages say about it: the context and the API server."""

    api: k8s.ApiClient
    context: str
    server: str
    timeout_s: float

    @property
    def where(self) -> str:
        return f"context {self.context} at {self.server}"


def configuration_for(kubernetes: Kubernetes) -> Configuration:
    """The Chaos Toolkit-style configuration of an environment's ``kubernetes`` section."""
    values: dict[str, Any] = {
        "kubeconfig": str(kubernetes.kubeconfig_path) if kubernetes.kubeconfig_path else None,
        "kube_context": kubernetes.context,
        "kube_api_server": str(kubernetes.api_server),
    }
    return {k: v for k, v in values.items() if v is not None}


#: Larger than any kubeconfig: beyond it the file is refused unread.
MAX_KUBECONFIG_BYTES = 4 << 20


def default_kubeconfig() -> Path:
    """``$KUBECONFIG`` (its first file) or ``~/.kube/config``: what kubectl and chaostoolkit-kubernetes use."""
    value = os.environ.get("KUBECONFIG", "")
    first = value.split(os.pathsep)[0] if value else ""
    return Path(os.path.expanduser(first or "~/.kube/config"))


def read_kubeconfig(kubeconfig: Path) -> dict:
    """A kubeconfig's data, its users' credentials registered for masking (:mod:`gauntlet.redact`).
    Raises OSError, or ValueError naming what is wrong (not YAML, not a mapping, too large)."""
    with open(kubeconfig, "rb") as handle:
        raw = handle.read(MAX_KUBECONFIG_BYTES + 1)
    if len(raw) > MAX_KUBECONFIG_BYTES:
        raise ValueError(f"larger than {MAX_KUBECONFIG_BYTES >> 20} MiB: not a kubeconfig")
    try:
        data = yaml.safe_load(raw.decode("utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise ValueError(f"not valid YAML{where}: {getattr(exc, 'problem', None) or exc}") from None
    if not isinstance(data, dict):
        raise ValueError(f"not a kubeconfig (expected a mapping, got {type(data).__name__})")
    redact.register_kubeconfig(data)
    return data


def _load(kubeconfig: str | None, context: str | None) -> tuple[k8s.Configuration, str]:
    if kubeconfig is not None and not Path(kubeconfig).is_file():
        raise NotChecked(f"kubeconfig {kubeconfig} does not exist (for the local stack: is the cluster tier up? "
                         "gauntlet local up --cluster)")
    settings = k8s.Configuration()
    try:
        read_kubeconfig(Path(kubeconfig) if kubeconfig else default_kubeconfig())
        contexts, active = k8s_config.list_kube_config_contexts(config_file=kubeconfig)
        names = [c["name"] for c in contexts]
        chosen = context or (active or {}).get("name")
        if chosen is None or chosen not in names:
            where = kubeconfig or os.environ.get("KUBECONFIG") or "~/.kube/config"
            raise NotChecked(f"kubeconfig {where} has no context {chosen!r} (it has: {', '.join(names) or 'none'}): "
                             "add it, or set kubernetes.context/kubeconfig in the environment")
        k8s_config.load_kube_config(config_file=kubeconfig, context=chosen, client_configuration=settings,
                                    persist_config=False)
    except (ConfigException, OSError, ValueError, TypeError, AttributeError, KeyError) as exc:  # also a file of wrong types
        where = kubeconfig or os.environ.get("KUBECONFIG") or "~/.kube/config"
        raise NotChecked(f"kubeconfig {where}, context {context!r}: not usable ({type(exc).__name__}: {exc})") from None
    return settings, chosen


def cluster(configuration: Configuration | None = None, secrets: Secrets | None = None) -> Cluster:
    """The API client for this configuration (cached per process); raises :class:`NotChecked` when unusable."""
    values: dict[str, Any] = configuration or {}  # resolved values: text and numbers (chaoslib's type is the unresolved form)
    kubeconfig = values.get("kubeconfig")
    context = values.get("kube_context")
    expected = values.get("kube_api_server")
    timeout = float(values.get("kube_timeout_s", DEFAULT_TIMEOUT_S))
    key = (kubeconfig, context, expected, timeout)
    with _lock:
        cached = _clusters.get(key)
    if cached is not None:
        return cached
    settings, chosen = _load(kubeconfig, context)
    server = settings.host.rstrip("/")
    if expected and not same_origin(server, expected):
        raise NotChecked(f"context {chosen} points at {server}, not at the environment's API server {expected.rstrip('/')} "
                         "(kubernetes.api_server): refusing to check another cluster")
    if os.environ.get(LOOPBACK_ONLY_ENV, "") not in ("", "0", "false") and not is_loopback(server):
        raise NotChecked(f"context {chosen} points at {server}: not contacted, only loopback is allowed here "
                         f"(${LOOPBACK_ONLY_ENV})")
    made = Cluster(_client(settings), chosen, server, timeout)
    with _lock:
        return _clusters.setdefault(key, made)


def new_client(kubeconfig: Path, context: str) -> k8s.ApiClient:
    """A new API client for ``context`` of ``kubeconfig``, not cached: the caller closes it (the local stack's
    set-up, the chaos guard's reachability check). :class:`NotChecked` when the kubeconfig is unusable."""
    settings, _ = _load(str(kubeconfig), context)
    return _client(settings)


def _client(settings: k8s.Configuration) -> k8s.ApiClient:
    settings.retries = 1
    return k8s.ApiClient(configuration=settings)


def _status_message(exc: ApiException) -> str:
    body = exc.body.decode(errors="replace") if isinstance(exc.body, bytes) else (exc.body or "")
    try:
        return json.loads(body).get("message") or body.strip()
    except (ValueError, AttributeError):
        return body.strip()[:300] or (exc.reason or "")


def translate(target: Cluster, what: str, exc: BaseException) -> Exception:
    """The :mod:`gauntlet.kubernetes.errors` exception for an error of the Kubernetes client (to raise ``from None``)."""
    if isinstance(exc, ApiException):
        message = _status_message(exc)
        if exc.status == 401:
            return NotChecked(f"{what}: 401 Unauthorized: the API server refused the credentials of {target.where} "
                              "(expired or unknown): renew them")
        if exc.status == 403:
            return NotChecked(f"{what}: 403 Forbidden (RBAC): {message}: grant the user of {target.where} "
                              "read access (get, list, watch) there, or run with a context that has it")
        if exc.status == 404:
            return ResourceMissing(f"{what}: not found ({target.where})")
        return KubeCallFailed(f"{what}: {exc.status} {exc.reason}: {message} ({target.where})")
    if isinstance(exc, (urllib3.exceptions.HTTPError, OSError)):
        reason = getattr(exc, "reason", None) or exc
        return NotChecked(f"{what}: cannot reach the Kubernetes API at {target.server} (context {target.context}): "
                          f"{type(reason).__name__}: {_short(reason)}")
    return KubeCallFailed(f"{what}: {type(exc).__name__}: {exc} ({target.where})")


def request_timeout(target: Cluster, read_s: float | None = None) -> tuple[float, float]:
    read = target.timeout_s if read_s is None else read_s
    return min(CONNECT_TIMEOUT_S, target.timeout_s), read


def call(target: Cluster, what: str, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``method(*args, **kwargs)`` of a typed API (``CoreV1Api(target.api).list_namespaced_pod``), as JSON.

    ``what`` names the request in messages: ``GET Deployment castle/www``.
    """
    try:
        data = method(*args, _preload_content=False, _request_timeout=request_timeout(target), **kwargs).data
    except (ApiException, urllib3.exceptions.HTTPError, OSError) as exc:
        raise translate(target, what, exc) from None
    if not data:
        return {}
    try:
        return json.loads(data)
    except ValueError as exc:
        raise KubeCallFailed(f"{what}: the answer is not JSON ({target.where}): {data[:200]!r}") from exc


def _short(reason: object) -> str:
    text = str(reason)
    # urllib3 prefixes the connection object's repr: keep what the socket said.
    if ">: " in text:
        text = text.split(">: ", 1)[1]
    return text[:300]


def server_version(configuration: Configuration | None = None, secrets: Secrets | None = None) -> dict:
    """The API server's version (``GET /version``, readable by anyone authenticated): proves it answers."""
    target = cluster(configuration, secrets)
    return call(target, f"GET {target.server}/version", k8s.VersionApi(target.api).get_code)
