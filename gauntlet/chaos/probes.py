"""Probes of the chaos experiments: they read, never change, and serve Chaos Toolkit and the sampler alike.

Each probe ``name(...)`` is a Chaos Toolkit python-provider function (domain
arguments, then ``configuration``/``secrets``): it returns ``True`` when its
condition holds and raises :class:`chaoslib.exceptions.ActivityFailed` (or returns
``False`` with ``raise_on_unavailable=False``) when not; its tolerance in an
experiment is ``true``. Beside it, ``measure_name(...)`` returns the
:class:`Measurement` behind the answer (the number of Ready pods, a latency): the
timeline sampler calls that one, twice a second, to draw the steady state over time.
"""

from __future__ import annotations

import csv
import io
import math
import time
from dataclasses import dataclass
from typing import Any

import httpx
from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets

from gauntlet.exceptions import GauntletError, TargetError, WaitTimeout
from gauntlet.waiting import until

HTTP_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class Measurement:
    """What a probe saw: whether its condition holds, the number behind it, and a sentence for a report."""

    ok: bool
    value: float | None
    unit: str
    detail: str
    not_checked: bool = False  # the question could not be asked (NotChecked: 401, 403, API unreachable)


def _settle(m: Measurement, raise_on_unavailable: bool) -> bool:
    if m.ok:
        return True
    if raise_on_unavailable:
        raise ActivityFailed(m.detail)
    return False


# --------------------------------------------------------------------------- Kubernetes (gauntlet.kubernetes)
#
# A workload is a namespace and a label selector (castle's backend: two Deployments, one selector).


def measure_pods_ready(namespace: str, label_selector: str, min_ready: int,
                       configuration: Configuration | None = None, secrets: Secrets | None = None) -> Measurement:
    from gauntlet.kubernetes.pod.probes import pods_ready as list_ready

    what = f"pods {label_selector} in {namespace}"
    try:
        seen = list_ready(namespace, label_selector, int(min_ready), raise_on_too_few=False, configuration=configuration)
    except TargetError as exc:  # NotChecked goes on: the question was not asked, nothing was seen lost
        return Measurement(False, None, "pods", f"{what}: {exc}")
    detail = f"{what}: {seen['ready']} Ready of {seen['pods']}, expected at least {min_ready}"
    return Measurement(seen["ready"] >= int(min_ready), float(seen["ready"]), "pods", detail)


def pods_ready(namespace: str, label_selector: str, min_ready: int, raise_on_unavailable: bool = True,
               configuration: Configuration | None = None, secrets: Secrets | None = None) -> bool:
    """At least ``min_ready`` of the workload's pods are Ready and not terminating: they receive traffic."""
    return _settle(measure_pods_ready(namespace, label_selector, min_ready, configuration), raise_on_unavailable)


def await_pods_ready(namespace: str, label_selector: str, min_ready: int, timeout_s: float = 120, settle_s: float = 3.0,
                     configuration: Configuration | None = None, secrets: Secrets | None = None) -> float:
    """Wait (at most ``timeout_s``) until ``min_ready`` pods are Ready; the seconds it took. Raises on timeout.

    A loss shows a moment after the action that caused it (a ReplicaSet's pods are deleted by the garbage
    collector): the wait ends once the pods were seen short and then back, or after ``settle_s`` seconds of
    the count held throughout."""
    started = time.monotonic()
    seen_short, detail = False, ""

    def recovered() -> bool:
        nonlocal seen_short, detail
        m = measure_pods_ready(namespace, label_selector, min_ready, configuration)
        seen_short, detail = seen_short or not m.ok, m.detail
        return m.ok and (seen_short or time.monotonic() - started >= float(settle_s))

    until(recovered, float(timeout_s), 0.1, lambda: f"not recovered within {timeout_s} s: {detail}", error=ActivityFailed)
    return round(time.monotonic() - started, 2)


def measure_killed_containers_restarted(namespace: str, label_selector: str, configuration: Configuration | None = None,
                                        secrets: Secrets | None = None) -> Measurement:
    """The pods a container kill marked (``gauntlet.chaos.actions.kill_container``): each restarted the killed
    container in place (its restart count above the one before the kill) and is Ready again."""
    from gauntlet.chaos import actions, kube

    what = f"killed containers of {label_selector} in {namespace}"
    try:
        pods = actions.selected_pods(namespace, label_selector, configuration)
    except Exception as exc:  # the API's answer is the observation
        return Measurement(False, None, "pods", f"{what}: {exc}")
    marked = [p for p in pods if actions.KILLED_ANNOTATION in (p.metadata.annotations or {})]
    if not marked:
        return Measurement(False, 0.0, "pods", f"{what}: no pod carries {actions.KILLED_ANNOTATION} (replaced, not restarted?)")
    back, states = 0, []
    for pod in marked:
        container, _, before = pod.metadata.annotations[actions.KILLED_ANNOTATION].rpartition(":")
        status = actions.container_status(pod, container)
        restarts = status.restart_count if status is not None else 0
        ready = kube.pod_ready(pod)
        back += restarts > int(before) and ready
        states.append(f"{pod.metadata.name} {container} restarts {before} -> {restarts}, {'Ready' if ready else 'not Ready'}")
    return Measurement(back == len(marked), float(back), "pods", f"{what}: {'; '.join(states)}")


def await_killed_containers_restarted(namespace: str, label_selector: str, timeout_s: float = 120,
                                      configuration: Configuration | None = None, secrets: Secrets | None = None) -> float:
    """Wait (at most ``timeout_s``) until every killed container was restarted in place and its pod is Ready again;
    the seconds it took. Raises on timeout."""
    started, detail = time.monotonic(), ""

    def recovered() -> bool:
        nonlocal detail
        m = measure_killed_containers_restarted(namespace, label_selector, configuration)
        detail = m.detail
        return m.ok

    until(recovered, float(timeout_s), 0.1, lambda: f"not recovered within {timeout_s} s: {detail}", error=ActivityFailed)
    return round(time.monotonic() - started, 2)


def measure_unready_pods_out(namespace: str, label_selector: str, configuration: Configuration | None = None,
                             secrets: Secrets | None = None) -> Measurement:
    """The pods an unreadiness marked (``gauntlet.chaos.actions.make_pod_unready``): each taken out of the Service by
    its readiness probe (not Ready) while its container runs on. A restarted container is the answer no at once
    (ActivityFailed): its liveness probe failed on what the readiness probe asks."""
    from gauntlet.chaos import actions, kube

    what = f"unready pods of {label_selector} in {namespace}"
    try:
        pods = actions.selected_pods(namespace, label_selector, configuration)
    except Exception as exc:  # the API's answer is the observation
        return Measurement(False, None, "pods", f"{what}: {exc}")
    marked = [(p, m) for p in pods if (m := actions.unready_marks(p)) is not None]
    if not marked:
        return Measurement(False, 0.0, "pods", f"{what}: no pod carries {actions.UNREADY_ANNOTATION} (replaced?)")
    out, states = 0, []
    for pod, (container, before, path) in marked:
        status = actions.container_status(pod, container)
        restarts = status.restart_count if status is not None else before
        if restarts != before:
            raise ActivityFailed(f"{namespace}/{pod.metadata.name}: container {container} was restarted ({before} -> "
                                 f"{restarts} restarts) when {path} was removed: expected its readiness probe to take the "
                                 "pod out of the Service, not its liveness probe to restart it")
        ready = kube.pod_ready(pod)
        out += not ready
        states.append(f"{pod.metadata.name}: {path} removed from container {container}, "
                      f"{'still Ready' if ready else 'not Ready'}, {restarts} restarts")
    return Measurement(out == len(marked), float(out), "pods", f"{what}: {'; '.join(states)}")


def await_unready_pods_out(namespace: str, label_selector: str, timeout_s: float = 25,
                           configuration: Configuration | None = None, secrets: Secrets | None = None) -> float:
    """Wait (at most ``timeout_s``) until every pod an unreadiness marked is out of the Service, its container not
    restarted; the seconds it took. Raises on timeout, or at once when the container was restarted."""
    started, detail = time.monotonic(), ""

    def out() -> bool:
        nonlocal detail
        m = measure_unready_pods_out(namespace, label_selector, configuration)
        detail = m.detail
        return m.ok

    until(out, float(timeout_s), 0.2, lambda: (f"{detail} after {timeout_s} s: expected its readiness probe to take it "
                                               "out of the Service"), error=ActivityFailed)
    return round(time.monotonic() - started, 2)


def measure_replica_sets_ready(namespace: str, label_selector: str, min_sets: int,
                               configuration: Configuration | None = None, secrets: Secrets | None = None) -> Measurement:
    from gauntlet.kubernetes.pod.probes import list_pods, pod_summary

    what = f"ReplicaSets of {label_selector} in {namespace}"
    try:
        pods = list_pods(namespace, label_selector, configuration)
    except TargetError as exc:  # NotChecked goes on: the question was not asked, nothing was seen lost
        return Measurement(False, None, "replica-sets", f"{what}: {exc}")
    # name#uid: a ReplicaSet created again by its Deployment keeps its name (same template), not its uid
    holding = sorted({f"{o['name']}#{o.get('uid', '')[:8]}" for p in pods
                      if (lambda s: s["ready"] and not s["terminating"])(pod_summary(p))
                      for o in p["metadata"].get("ownerReferences") or () if o.get("kind") == "ReplicaSet"})
    detail = f"{what}: {len(holding)} hold Ready pods ({', '.join(holding) or 'none'}), expected at least {min_sets}"
    return Measurement(len(holding) >= int(min_sets), float(len(holding)), "replica-sets", detail)


def replica_sets_ready(namespace: str, label_selector: str, min_sets: int, raise_on_unavailable: bool = True,
                       configuration: Configuration | None = None, secrets: Secrets | None = None) -> bool:
    """At least ``min_sets`` ReplicaSets of the workload hold Ready pods (castle: "2 replica-sets for resiliency")."""
    return _settle(measure_replica_sets_ready(namespace, label_selector, min_sets, configuration), raise_on_unavailable)


def measure_service_ready(namespace: str, service: str, min_ready: int = 1,
                          configuration: Configuration | None = None, secrets: Secrets | None = None) -> Measurement:
    from gauntlet.kubernetes.service.probes import service_endpoints

    what = f"Service {namespace}/{service}"
    try:
        seen = service_endpoints(service, namespace, int(min_ready), raise_on_too_few=False, configuration=configuration)
    except TargetError as exc:  # NotChecked goes on: the question was not asked, nothing was seen lost
        return Measurement(False, None, "endpoints", f"{what}: {exc}")
    detail = f"{what}: {len(seen['ready'])} ready endpoints, expected at least {min_ready}"
    return Measurement(len(seen["ready"]) >= int(min_ready), float(len(seen["ready"])), "endpoints", detail)


def service_ready(namespace: str, service: str, min_ready: int = 1, raise_on_unavailable: bool = True,
                  configuration: Configuration | None = None, secrets: Secrets | None = None) -> bool:
    """The Service has at least ``min_ready`` ready endpoints: traffic still has somewhere to go."""
    return _settle(measure_service_ready(namespace, service, min_ready, configuration), raise_on_unavailable)


def measure_traffic_only_after_gates(namespace: str, label_selector: str, service: str | None = None,
                                     require_gate: bool = True, configuration: Configuration | None = None,
                                     secrets: Secrets | None = None) -> Measurement:
    from gauntlet.kubernetes.alb import READINESS_GATE_PREFIX
    from gauntlet.kubernetes.pod.probes import became_ready_after_gates, list_pods, pod_summary
    from gauntlet.kubernetes.service.probes import service_endpoints

    what = f"pods {label_selector} in {namespace}"
    try:
        pods = [pod_summary(p) for p in list_pods(namespace, label_selector, configuration)]
        serving = set(service_endpoints(service, namespace, 0, raise_on_too_few=False, configuration=configuration)["ready"]
                      ) if service else set()
    except TargetError as exc:  # NotChecked goes on: the question was not asked, nothing was seen lost
        return Measurement(False, None, "pods", f"{what}: {exc}")
    bad = []
    for pod in pods:
        if pod["terminating"] or not (pod["ready"] or pod["name"] in serving):
            continue
        gates = [g for g in pod["readiness_gates"] if g.startswith(READINESS_GATE_PREFIX)]
        if not gates:
            if require_gate:
                bad.append(f"{pod['name']} takes traffic without a {READINESS_GATE_PREFIX}* readiness gate")
            continue
        if pod["name"] in serving and not pod["ready"]:
            bad.append(f"{pod['name']} is a ready endpoint of {service} while not Ready")
        bad += [f"{pod['name']}: {late}" for late in became_ready_after_gates(pod)]
    detail = f"{what}: " + ("; ".join(bad) if bad else "every pod taking traffic became Ready only after its readiness gate")
    return Measurement(not bad, float(len(bad)), "pods", detail)


def traffic_only_after_gates(namespace: str, label_selector: str, service: str | None = None,
                             require_gate: bool = True, raise_on_unavailable: bool = True,
                             configuration: Configuration | None = None, secrets: Secrets | None = None) -> bool:
    """No pod of the workload takes traffic (Ready, or a ready endpoint of ``service``) before its load balancer
    readiness gate (``target-health.elbv2.k8s.aws/...``) is True, judged by the conditions' transition times, so a
    pod that was Ready too early is caught even between two samples; with ``require_gate`` every such pod carries
    the gate (seed 004: "registered to the application load balancer and healthy to receive traffic")."""
    return _settle(measure_traffic_only_after_gates(namespace, label_selector, service, require_gate, configuration),
                   raise_on_unavailable)


# --------------------------------------------------------------------------- HTTP


def _percentile(values: list[float], percentile: float) -> float:
    """Nearest-rank percentile: the smallest value at least ``percentile`` % of the values do not exceed."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(percentile / 100 * len(ordered)) - 1)]


def measure_http_ok(url: str, max_ms: float = 1000, ca_bundle: str | None = None, server_name: str | None = None,
                    samples: int = 1, interval_s: float = 0.0, percentile: float = 100.0, max_errors: int = 0,
                    configuration: Configuration | None = None, secrets: Secrets | None = None) -> Measurement:
    """``samples`` GETs ``interval_s`` apart (the environment's ``chaos.steady_state_window``): the window holds when
    the ``percentile`` of the answers' latencies is within ``max_ms`` and at most ``max_errors`` answers were not a
    200 (or no answer at all). One slow answer in a window is a data point, not a verdict."""
    import os
    import ssl

    verify: Any = ssl.create_default_context(cafile=os.path.expanduser(ca_bundle)) if ca_bundle else True
    headers = {"Host": server_name} if server_name else {}
    extensions = {"sni_hostname": server_name} if server_name else {}
    samples, errors, latencies, seen = max(1, int(samples)), [], [], []
    with httpx.Client(verify=verify, timeout=HTTP_TIMEOUT_S) as http:
        for i in range(samples):
            if i:
                time.sleep(float(interval_s))
            started = time.monotonic()
            try:
                answer = http.get(url, headers=headers, extensions=extensions)
            except httpx.HTTPError as exc:
                errors.append(f"no answer ({type(exc).__name__}: {exc})")
                continue
            ms = (time.monotonic() - started) * 1000
            seen.append(f"{answer.status_code} in {ms:.0f} ms")
            if answer.status_code == 200:
                latencies.append(ms)
            else:
                errors.append(f"{answer.status_code}")
    worst = _percentile(latencies, float(percentile)) if latencies else None
    ok = len(errors) <= int(max_errors) and worst is not None and worst <= float(max_ms)
    if samples == 1:
        detail = (f"GET {url}: {seen[0]} (expected 200 within {max_ms:g} ms)" if seen
                  else f"GET {url}: {errors[0]}")
    else:
        slowest = f", slowest {max(latencies):.0f} ms" if latencies else ""
        detail = (f"GET {url}: {samples} answers {interval_s:g} s apart: p{percentile:g} "
                  f"{'-' if worst is None else f'{worst:.0f} ms'} (expected within {max_ms:g} ms){slowest}, "
                  f"{len(errors)} errors (at most {max_errors}){': ' + ', '.join(errors[:3]) if errors else ''}")
    return Measurement(ok, None if worst is None else round(worst, 1), "ms", detail)


def http_ok(url: str, max_ms: float = 1000, ca_bundle: str | None = None, server_name: str | None = None,
            samples: int = 1, interval_s: float = 0.0, percentile: float = 100.0, max_errors: int = 0,
            raise_on_unavailable: bool = True, configuration: Configuration | None = None,
            secrets: Secrets | None = None) -> bool:
    """``GET url`` answers 200 within ``max_ms`` (the environment's latency budget), judged over a window of
    ``samples`` answers (:func:`measure_http_ok`)."""
    return _settle(measure_http_ok(url, max_ms, ca_bundle, server_name, samples, interval_s, percentile, max_errors,
                                   configuration), raise_on_unavailable)


def measure_lb_servers_up(stats_url: str, backend: str, min_up: int,
                          configuration: Configuration | None = None, secrets: Secrets | None = None) -> Measurement:
    try:
        answer = httpx.get(stats_url.rstrip("/") + ";csv", timeout=HTTP_TIMEOUT_S)
        answer.raise_for_status()
    except httpx.HTTPError as exc:
        return Measurement(False, None, "servers", f"HAProxy stats {stats_url}: no answer ({exc})")
    rows = list(csv.DictReader(io.StringIO(answer.text.lstrip("# "))))
    servers = {r["svname"]: r["status"] for r in rows if r.get("pxname") == backend and r.get("svname") not in ("FRONTEND", "BACKEND")}
    up = sorted(name for name, status in servers.items() if status.startswith("UP"))
    listed = ", ".join(f"{n} {s}" for n, s in sorted(servers.items()))
    detail = f"load balancer backend {backend}: {len(up)} of {len(servers)} servers UP ({listed})"
    return Measurement(len(up) >= int(min_up), float(len(up)), "servers", detail)


def lb_servers_up(stats_url: str, backend: str, min_up: int, raise_on_unavailable: bool = True,
                  configuration: Configuration | None = None, secrets: Secrets | None = None) -> bool:
    """At least ``min_up`` servers of an HAProxy backend pass their health checks (the stats page's CSV)."""
    return _settle(measure_lb_servers_up(stats_url, backend, min_up, configuration), raise_on_unavailable)


# --------------------------------------------------------------------------- AWS


def measure_rds_available(db_instance_identifier: str, multi_az: bool = True,
                          configuration: Configuration | None = None, secrets: Secrets | None = None) -> Measurement:
    from gauntlet.cloud import rds

    try:
        db = rds.describe_db_instance(db_instance_identifier, configuration, secrets)
    except TargetError as exc:  # NotChecked goes on: the question was not asked, nothing was seen lost
        return Measurement(False, None, "", f"RDS instance {db_instance_identifier}: {exc}")
    status, zone, standby = db.get("DBInstanceStatus"), db.get("AvailabilityZone"), db.get("SecondaryAvailabilityZone")
    ok = status == "available" and (bool(db.get("MultiAZ")) or not multi_az)
    detail = (f"RDS instance {db_instance_identifier}: {status}, MultiAZ {db.get('MultiAZ')}, zone {zone}"
              + (f", standby in {standby}" if standby else "") + (" (expected available and Multi-AZ)" if multi_az else ""))
    return Measurement(ok, 1.0 if ok else 0.0, "available", detail)


def rds_available(db_instance_identifier: str, multi_az: bool = True, raise_on_unavailable: bool = True,
                  configuration: Configuration | None = None, secrets: Secrets | None = None) -> bool:
    """The RDS instance is ``available`` and (with ``multi_az``) runs in a Multi-AZ setup."""
    return _settle(measure_rds_available(db_instance_identifier, multi_az, configuration, secrets), raise_on_unavailable)


def await_rds_available(db_instance_identifier: str, timeout_s: float = 600, multi_az: bool = True,
                        configuration: Configuration | None = None, secrets: Secrets | None = None) -> float:
    """Wait (at most ``timeout_s``) until the instance is available (and Multi-AZ) again; the seconds it took.

    A reboot takes a moment to show: the first answers may still say ``available``, so the wait starts
    after the instance was seen in another state, or after 5 s."""
    started = time.monotonic()
    seen_other, detail = False, ""

    def available() -> bool:
        nonlocal seen_other, detail
        m = measure_rds_available(db_instance_identifier, multi_az, configuration, secrets)
        seen_other, detail = seen_other or not m.ok, m.detail
        return m.ok and (seen_other or time.monotonic() - started > 5)

    until(available, float(timeout_s), 1.0, lambda: f"not available again within {timeout_s} s: {detail}", error=ActivityFailed)
    return round(time.monotonic() - started, 2)


# --------------------------------------------------------------------------- the database (gauntlet.database)
#
# ``failover`` is the environment's ``database.failover``: ``rds`` asks the RDS API about the instance,
# ``local-tier`` the endpoint of the local database tier (and, for the topology, the tier itself).

#: Set by ``gauntlet chaos`` for the Chaos Toolkit process: the client probes' status file.
DB_CLIENTS_ENV = "GAUNTLET_DB_CLIENTS"


def _database(configuration: Configuration | None) -> Any:
    from gauntlet.environment import load_environment

    values: dict[str, Any] = configuration or {}  # resolved values: text (chaoslib's type is the unresolved form)
    env = load_environment(values.get("gauntlet_env") or "local")
    if env.database is None:
        raise GauntletError(f"{env.name}: the environment names no database (database section)")
    return env.database


def measure_db_serving(db_instance_identifier: str, failover: str = "rds", configuration: Configuration | None = None,
                       secrets: Secrets | None = None) -> Measurement:
    if failover == "rds":
        return measure_rds_available(db_instance_identifier, True, configuration, secrets)
    from gauntlet.database.connection import connect, error_text, where

    try:
        db = _database(configuration)
        started = time.monotonic()
        with connect(db, "gauntlet-steady-state", autocommit=True) as conn:
            standby = conn.execute("SELECT pg_is_in_recovery()").fetchone()[0]  # type: ignore[index]
    except Exception as exc:  # refused, timed out, credentials missing: the database does not serve
        place = (configuration or {}).get("db_endpoint", "endpoint")
        return Measurement(False, None, "ms", f"database {place}: no primary answers ({error_text(exc)})")
    ms = round((time.monotonic() - started) * 1000, 1)
    what = "a standby (read-only)" if standby else "the primary"
    return Measurement(not standby, ms, "ms", f"database {where(db)}: {what} answers in {ms:g} ms (expected the primary)")


def db_serving(db_instance_identifier: str, failover: str = "rds", raise_on_unavailable: bool = True,
               configuration: Configuration | None = None, secrets: Secrets | None = None) -> bool:
    """The database serves its clients: on RDS the instance is available and Multi-AZ (the API says so); on the
    local database tier its endpoint reaches a primary (its standby is what the failover shows)."""
    return _settle(measure_db_serving(db_instance_identifier, failover, configuration, secrets), raise_on_unavailable)


def await_db_serving(db_instance_identifier: str, failover: str = "rds", timeout_s: float = 600,
                     configuration: Configuration | None = None, secrets: Secrets | None = None) -> float:
    """Wait (at most ``timeout_s``) until the database serves again; the seconds it took. Raises on timeout."""
    if failover == "rds":
        return await_rds_available(db_instance_identifier, timeout_s, True, configuration, secrets)
    started, detail = time.monotonic(), ""

    def serving() -> bool:
        nonlocal detail
        m = measure_db_serving(db_instance_identifier, failover, configuration, secrets)
        detail = m.detail
        return m.ok

    until(serving, float(timeout_s), 0.1, lambda: f"not serving again within {timeout_s} s: {detail}", error=ActivityFailed)
    return round(time.monotonic() - started, 2)


def measure_db_topology(db_instance_identifier: str, failover: str = "rds", configuration: Configuration | None = None,
                        secrets: Secrets | None = None) -> Measurement:
    if failover == "rds":
        m = measure_rds_available(db_instance_identifier, True, configuration, secrets)
        return Measurement(m.ok, m.value, "standbys", m.detail)
    from gauntlet.local import db_tier

    st = db_tier.status()
    streams = ", ".join(f"{s['standby']} {s['state']} ({s['sync_state']})" for s in st["replication"]) or "no standby streaming"
    fenced = f"; fenced: {', '.join(st['fenced'])}" if st["fenced"] else ""
    detail = f"database tier: primary {st['primary'] or 'none'}; {streams}{fenced}"
    healthy = all(c["healthy"] for c in st["components"].values())  # as its fault profiles configure it
    return Measurement(healthy, float(len(st["replication"])), "standbys", detail)


def await_db_clients(db_instance_identifier: str, failover: str = "rds", timeout_s: float = 120,
                     configuration: Configuration | None = None, secrets: Secrets | None = None) -> dict:
    """Wait (at most ``timeout_s``) until every client probe that ``gauntlet chaos`` runs beside the experiment
    succeeded again after this call began, so the rollbacks do not cut their measurement short; what they
    did. Never raises: the figures are judged by gauntlet. At once without client probes (a plain ``chaos
    run``) and while the database itself does not serve (there is nothing to reconnect to)."""
    import json
    import os
    from pathlib import Path

    path = os.environ.get(DB_CLIENTS_ENV)
    if not path:
        return {"client_probes": False}
    if not measure_db_serving(db_instance_identifier, failover, configuration, secrets).ok:
        return {"client_probes": True, "database_serving": False}
    started, status = time.time(), {}

    def recovered() -> bool:
        nonlocal status
        try:
            status = json.loads(Path(path).read_text())
        except (OSError, ValueError):
            status = {}
        last = status.get("last_ok") or {}
        return bool(status.get("clients")) and all(last.get(c, 0) > started for c in status["clients"])

    try:
        until(recovered, float(timeout_s), 0.1, "the client probes to succeed again")
    except WaitTimeout:
        return {"client_probes": True, "recovered_after_s": None, "waited_s": timeout_s, "last_ok": status.get("last_ok")}
    return {"client_probes": True, "recovered_after_s": round(time.time() - started, 2)}
