"""Deployments: rollout progress and readiness."""

from __future__ import annotations

import ssl
import time
from collections.abc import Sequence

from chaoslib.types import Configuration, Secrets

from gauntlet.kubernetes.client import cluster
from gauntlet.kubernetes.errors import Deviation
from gauntlet.kubernetes.tracking import ReadyTracker
from gauntlet.kubernetes.workload.probes import read_workload

__all__ = ["deployment_ready", "deployment_rollout_status", "rollout_status", "watch_rollout"]


def rollout_status(deployment: dict) -> dict:
    """Where a Deployment's rollout stands (``kubectl rollout status``'s rules), from the object itself."""
    spec, status = deployment.get("spec") or {}, deployment.get("status") or {}
    meta = deployment["metadata"]
    wanted = spec.get("replicas", 1)
    progressing: dict = next((c for c in status.get("conditions") or () if c.get("type") == "Progressing"), {})
    counts = {k: status.get(k, 0) for k in ("replicas", "updatedReplicas", "readyReplicas", "availableReplicas",
                                            "unavailableReplicas")}
    observed = status.get("observedGeneration", 0) >= meta.get("generation", 0)
    complete = (observed and counts["updatedReplicas"] == wanted and counts["replicas"] == wanted
                and counts["availableReplicas"] == wanted)
    return {"deployment": f"{meta['namespace']}/{meta['name']}", "generation": meta.get("generation"),
            "observed": observed, "wanted": wanted, **counts, "complete": complete,
            "failed": progressing.get("reason") == "ProgressDeadlineExceeded",
            "progressing": {k: progressing.get(k) for k in ("status", "reason", "message")}}


def deployment_rollout_status(name: str, ns: str, configuration: Configuration | None = None,
                              secrets: Secrets | None = None) -> dict:
    return rollout_status(read_workload(name, ns, "Deployment", configuration, secrets))


def deployment_ready(name: str, ns: str, min_ready: int | None = None, raise_on_unready: bool = True,
                     configuration: Configuration | None = None, secrets: Secrets | None = None) -> dict:
    """``readyReplicas`` against ``min_ready`` (default: ``spec.replicas``); raises :class:`Deviation` below it
    unless ``raise_on_unready`` is False."""
    deployment = read_workload(name, ns, "Deployment", configuration, secrets)
    wanted = (deployment.get("spec") or {}).get("replicas", 1)
    ready = (deployment.get("status") or {}).get("readyReplicas", 0)
    floor = wanted if min_ready is None else min_ready
    result = {"deployment": f"{ns}/{name}", "replicas": wanted, "ready": ready, "min_ready": floor, "ok": ready >= floor}
    if raise_on_unready and not result["ok"]:
        raise Deviation(f"Deployment {ns}/{name}: {ready} Ready replicas, expected at least {floor}")
    return result


def watch_rollout(name: str, ns: str, min_ready: int, generation: int | None = None, services: Sequence[str] = (),
                  url: str | None = None, verify: bool | str | ssl.SSLContext = True, interval_s: float = 1.0,
                  timeout_s: float = 300.0, raise_on_dip: bool = True, tracker: ReadyTracker | None = None,
                  configuration: Configuration | None = None, secrets: Secrets | None = None) -> dict:
    """Sample a Deployment's rollout every ``interval_s`` until it completes (at ``generation`` or later) or
    ``timeout_s`` passes: Ready pods (not terminating), ready endpoints of each of ``services``, and the
    status of ``GET url`` when given. Between samples, watches see every change (:mod:`gauntlet.kubernetes.tracking`);
    pass a ``tracker`` started before the rollout was triggered to see its very first moments (times count from
    the tracker's start).

    Returns the samples, ``rollout_s`` (None if it did not complete), the worst sample, the lowest counts the
    watches saw and the failures; raises :class:`Deviation` when Ready pods fell below ``min_ready``, a Service
    had no ready endpoint, a request failed or the rollout did not complete, unless ``raise_on_dip`` is False.
    """
    if tracker is None:
        from gauntlet.kubernetes.selectors import selector_string
        from gauntlet.kubernetes.workload.probes import pod_selector

        target = cluster(configuration, secrets)
        deployment = read_workload(name, ns, "Deployment", configuration, secrets)
        with ReadyTracker(target, ns, selector_string(pod_selector(deployment)), services) as own:
            return watch_rollout(name, ns, min_ready, generation, services, url, verify, interval_s, timeout_s,
                                 raise_on_dip, own, configuration, secrets)
    samples, status, generation = _sample_rollout(name, ns, min_ready, generation, services, url, verify, interval_s,
                                                  timeout_s, tracker, configuration, secrets)
    rollout_s = samples[-1]["t"] if _completed(status, generation) and not status.get("failed") else None
    worst, no_endpoints = _worst(samples, services, tracker)
    http_failures = _http_failures(samples)
    result = {
        "deployment": f"{ns}/{name}", "generation": generation, "min_ready": min_ready, "rollout_s": rollout_s,
        "completed": rollout_s is not None, "progress_deadline_exceeded": status.get("failed", False),
        "samples": samples, "worst": worst, "below_min_ready": _below_min_ready(samples, worst, min_ready),
        "without_endpoints": {s: ts for s, ts in no_endpoints.items() if ts}, "http_failures": http_failures,
        "timeout_s": timeout_s, "interval_s": interval_s,
    }
    if raise_on_dip and (result["below_min_ready"] or result["without_endpoints"] or http_failures or rollout_s is None):
        raise Deviation(f"rollout of Deployment {ns}/{name}: worst sample {worst}, completed {rollout_s is not None}")
    return result


def _sample_rollout(name: str, ns: str, min_ready: int, generation: int | None, services: Sequence[str], url: str | None,
                    verify: bool | str | ssl.SSLContext, interval_s: float, timeout_s: float, tracker: ReadyTracker,
                    configuration: Configuration | None, secrets: Secrets | None) -> tuple[list[dict], dict, int | None]:
    """The samples until the rollout completes at ``generation`` (default: the Deployment's now), fails or
    ``timeout_s`` passes; the last rollout status; the generation waited for."""
    import httpx

    from gauntlet.kubernetes.pod.probes import pods_ready
    from gauntlet.kubernetes.selectors import selector_string
    from gauntlet.kubernetes.service.probes import service_endpoints
    from gauntlet.kubernetes.workload.probes import pod_selector

    deployment = read_workload(name, ns, "Deployment", configuration, secrets)
    selector = selector_string(pod_selector(deployment))
    generation = generation or deployment["metadata"].get("generation")
    client = httpx.Client(verify=verify, timeout=min(5.0, max(1.0, interval_s * 2)), follow_redirects=False) if url else None
    started = tracker.started
    samples: list[dict] = []
    status: dict = {}
    try:
        while True:
            t = round(time.monotonic() - started, 2)
            sample: dict = {"t": t, "ready": pods_ready(ns, selector, min_ready, False, configuration, secrets)["ready"],
                            "endpoints": {s: len(service_endpoints(s, ns, 0, False, configuration, secrets)["ready"])
                                          for s in services}}
            if client is not None and url is not None:
                try:
                    sample["http"] = client.get(url).status_code
                except httpx.HTTPError as exc:
                    sample["http"] = type(exc).__name__
            status = rollout_status(read_workload(name, ns, "Deployment", configuration, secrets))
            sample["updated"] = status["updatedReplicas"]
            samples.append(sample)
            tracker.raise_if_failed()
            if _completed(status, generation) or status["failed"] or t >= timeout_s:
                break
            time.sleep(max(0.0, interval_s - (time.monotonic() - started - t)))
    finally:
        if client is not None:
            client.close()
    return samples, status, generation


def _completed(status: dict, generation: int | None) -> bool:
    """The rollout is complete at the generation waited for (an older generation complete is not this rollout)."""
    return bool(status.get("complete")) and (status.get("generation") or 0) >= (generation or 0)


def _worst(samples: list[dict], services: Sequence[str], tracker: ReadyTracker) -> tuple[dict, dict[str, list[float]]]:
    """The worst moment of each measure, from the samples and from the watches between them; and, per Service,
    the times it was seen without a ready endpoint."""
    seen = [{"ready": x["ready"], "t": x["t"]} for x in samples] + ([tracker.lowest_ready] if tracker.lowest_ready else [])
    low = _lowest(seen)
    worst: dict = {"ready": low["ready"], "at_s": low["t"], "endpoints": {}}
    no_endpoints: dict[str, list[float]] = {}
    for service in services:
        seen = [{"ready": x["endpoints"].get(service, 0), "t": x["t"]} for x in samples]
        seen += [tracker.lowest_endpoints[service]] if service in tracker.lowest_endpoints else []
        low = _lowest(seen)
        worst["endpoints"][service] = {"ready": low["ready"], "at_s": low["t"]}
        no_endpoints[service] = sorted({x["t"] for x in seen if x["ready"] == 0})
    return worst, no_endpoints


def _lowest(seen: list[dict]) -> dict:
    """The lowest count seen, at its first time."""
    return min(seen, key=lambda x: (x["ready"], x["t"]))


def _http_failures(samples: list[dict]) -> list[dict]:
    """The samples whose ``GET url`` got no answer or a 5xx."""
    return [x for x in samples if "http" in x and not (isinstance(x["http"], int) and x["http"] < 500)]


def _below_min_ready(samples: list[dict], worst: dict, min_ready: int) -> list[float]:
    """The times Ready pods were below ``min_ready``: in a sample, or at the worst moment the watches saw."""
    return sorted({x["t"] for x in samples if x["ready"] < min_ready} | ({worst["at_s"]} if worst["ready"] < min_ready else set()))
