"""The safety rules a chaos run passes before anything is done; each refusal is a :class:`SafetyRefusal`.

In the order they are checked (the cheapest and most fundamental first, so a refused
run never reached the target at all):

1. :func:`check_policy`: the environment allows chaos (``chaos.allowed``), and a
   production environment (or one whose policy says ``confirm``) has the typed
   confirmation ``--confirm <env-name>``. No file and no network is touched.
2. :func:`check_kube_target`: the kubeconfig the run will use points, by its current
   context, at exactly the environment's context and API server URL (read from the
   file, no call), and that server answers ``GET /version``. The wrong cluster is the
   worst accident; an unreachable one is no place for an experiment either.
   :func:`check_goproxy_target`, :func:`check_db_tier` and :func:`cloud_not_checked` do the
   same for the local GOPROXY tier, the local database tier and the AWS API.
3. the lock (:mod:`gauntlet.chaos.lock`): one run at a time per environment.
4. the plan (:func:`gauntlet.chaos.targets.check`): namespaces in the allow-list, at most
   ``max_pods_per_action`` pods per action, resolved with read-only calls.
"""

from __future__ import annotations

import os
from pathlib import Path

from gauntlet.chaos import kube
from gauntlet.environment import Environment
from gauntlet.exceptions import SafetyRefusal
from gauntlet.kubernetes.client import default_kubeconfig
from gauntlet.urls import is_loopback, same_origin

REACHABLE_WITHIN_S = 5.0


def check_policy(env: Environment, confirm: str | None, flag: str = "--confirm ") -> None:
    """``chaos.allowed``, and the typed confirmation where the environment needs one (``flag``: how the operator
    gives it: ``--confirm ENV``, or ``--var gauntlet_confirm=ENV`` for a plain ``chaos run``)."""
    if not env.chaos.allowed:
        raise SafetyRefusal(f"{env.name}: chaos is not allowed here (chaos.allowed: false): nothing was done")
    if env.production or env.chaos.confirm:
        why = "a production environment" if env.production else "its chaos policy asks for confirmation"
        if not confirm:
            raise SafetyRefusal(f"{env.name} is {why}: type {flag}{env.name} to run chaos against it")
        if confirm != env.name:
            raise SafetyRefusal(f"{env.name} is {why}: {flag}{confirm!r} does not name it (expected {flag}{env.name})")


def kubeconfig_of(env: Environment) -> Path:
    """The kubeconfig a run against ``env`` uses: the environment's, else ``$KUBECONFIG`` or ``~/.kube/config``."""
    assert env.kubernetes is not None
    return env.kubernetes.kubeconfig_path or default_kubeconfig()


def check_kube_target(env: Environment, kubeconfig: Path | None = None, context: str | None = None) -> Path:
    """Refuse unless ``kubeconfig``'s current context is the environment's, its server the environment's
    API server, and that server answers. Returns the kubeconfig path."""
    if env.kubernetes is None:
        raise SafetyRefusal(f"{env.name}: the environment names no Kubernetes cluster")
    wanted_context, wanted_server = env.kubernetes.context, str(env.kubernetes.api_server).rstrip("/")
    path = kubeconfig or kubeconfig_of(env)
    try:
        target = kube.current_target(path)
    except (OSError, ValueError) as exc:
        raise SafetyRefusal(f"{env.name}: cannot read the kubeconfig {path} ({exc}): the cluster to act on is unknown") from None
    if context is not None and context != wanted_context:
        raise SafetyRefusal(f"{env.name}: the run would use context {context!r}, the environment names {wanted_context!r}")
    if target.current_context != wanted_context:
        raise SafetyRefusal(f"{env.name}: {path} points at context {target.current_context!r}, the environment names "
                            f"{wanted_context!r}: switch with `kubectl --kubeconfig {path} config use-context {wanted_context}`")
    server = target.server(wanted_context)
    if not same_origin(server, wanted_server):
        raise SafetyRefusal(f"{env.name}: context {wanted_context!r} in {path} points at {server}, the environment names "
                            f"the API server {wanted_server}")
    _reachable(env, path, wanted_context, wanted_server)
    return path


def _reachable(env: Environment, path: Path, context: str, server: str) -> None:
    from kubernetes import client

    from gauntlet.kubernetes.client import new_client

    try:
        with new_client(path, context) as api:
            client.VersionApi(api).get_code(_request_timeout=REACHABLE_WITHIN_S)
    except Exception as exc:  # refused, timed out, TLS, 401: every one means "do not act"
        reason = getattr(exc, "reason", None) or str(exc).splitlines()[0][:200]
        raise SafetyRefusal(f"{env.name}: the API server {server} does not answer ({type(exc).__name__}: {reason}): "
                            "refusing to act on a cluster that cannot be observed") from None


def check_goproxy_target(env: Environment) -> dict:
    """The local GOPROXY tier is ours and up (every component healthy); its status."""
    from gauntlet.local import goproxy_tier

    if not goproxy_tier.fronts(str(e.url) for e in env.endpoints):
        raise SafetyRefusal(f"{env.name}: the GOPROXY-tier experiments act on the local stack's processes only, and "
                            f"no endpoint of {env.name} is its edge ({goproxy_tier.EDGE_URL})")
    status = goproxy_tier.status()
    down = [name for name, c in status["components"].items() if not c["healthy"]]
    if down:
        raise SafetyRefusal(f"{env.name}: the local GOPROXY tier is not healthy ({', '.join(down)} down): "
                            "start it with `gauntlet local up` before breaking it")
    return status


def check_db_tier(env: Environment) -> dict:
    """The local database tier is ours and up (primary, standby as its faults say, endpoint); its status."""
    from gauntlet.local import db_tier

    db = env.database
    if db is None or db.port != db_tier.PORTS["endpoint"]:
        where = f"{db.host}:{db.port}" if db else "none"
        raise SafetyRefusal(f"{env.name}: database.failover local-tier acts on the local database tier, whose endpoint is "
                            f"{db_tier.address('endpoint')}; the environment's database is {where}")
    status = db_tier.status()
    down = [name for name, c in status["components"].items() if not c["healthy"]]
    if down:
        raise SafetyRefusal(f"{env.name}: the local database tier is not healthy ({', '.join(down)} down): "
                            "start it with `gauntlet local up --db` before failing it over")
    return status


def cloud_not_checked(env: Environment) -> str | None:
    """Why the AWS experiment cannot run here (the local moto tier is down), or None; refuses a non-loopback
    endpoint that claims to be the local emulator."""
    aws = env.aws
    if aws is None:
        return "the environment names no AWS account"
    endpoint = str(aws.endpoint_url).rstrip("/") if aws.endpoint_url else None
    if aws.emulator == "moto":
        if endpoint is None or not is_loopback(endpoint):
            raise SafetyRefusal(f"{env.name}: aws.emulator is moto but aws.endpoint_url {endpoint} is not loopback")
        from gauntlet.local import cloud_tier

        if not cloud_tier.answers(endpoint):
            return (f"the local cloud tier (moto on {endpoint}) is not up: start it with `gauntlet local up --cloud`; "
                    "the failover was not exercised")
    return None


def check_aws_process(env: Environment) -> None:
    """In a process that will call AWS (chaostoolkit-aws reads ``AWS_ENDPOINT_URL`` itself): the endpoint it
    would use is the environment's (the local moto server, or AWS itself when the environment names none)."""
    wanted = str(env.aws.endpoint_url).rstrip("/") if env.aws is not None and env.aws.endpoint_url else None
    have = (os.environ.get("AWS_ENDPOINT_URL") or "").rstrip("/") or None
    if have != wanted:
        raise SafetyRefusal(f"{env.name}: this process would call the AWS API at {have or 'AWS itself'}, the environment "
                            f"names {wanted or 'AWS itself'}: set AWS_ENDPOINT_URL={wanted or ''} (or run through gauntlet chaos)")
