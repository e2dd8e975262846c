"""Every change, not only once a second: watches that keep the lowest Ready count a rollout reached.

Sampling once a second misses a dip shorter than a second (simulated pods become Ready at once; so
do real ones behind a fast probe). :class:`ReadyTracker` lists, then watches, the pods of a selector
and the EndpointSlices of some Services, and after every event records how many pods were Ready
(and not terminating) and how many ready endpoints each Service had: the lowest of each, and when.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import urllib3
from kubernetes import client as k8s
from kubernetes.client.rest import ApiException
from kubernetes.watch.watch import iter_resp_lines

from gauntlet.kubernetes.client import Cluster, call, request_timeout, translate
from gauntlet.kubernetes.errors import KubeCallFailed

_WATCH_WINDOW_S = 5


def _ready_pod(pod: dict) -> bool:
    if pod["metadata"].get("deletionTimestamp"):
        return False
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in (pod.get("status") or {}).get("conditions") or ())


def _ready_endpoints(slices: dict[str, dict], service: str) -> int:
    names = set()
    for piece in slices.values():
        if (piece["metadata"].get("labels") or {}).get("kubernetes.io/service-name") != service:
            continue
        for endpoint in piece.get("endpoints") or ():
            if (endpoint.get("conditions") or {}).get("ready", True):
                names.add((endpoint.get("targetRef") or {}).get("name") or ",".join(endpoint.get("addresses") or ()))
    return len(names)


class _Watcher(threading.Thread):
    """List, then watch, one kind of object; call ``changed(objects)`` after the list and every event."""

    def __init__(self, target: Cluster, what: str, method: Callable[..., Any], ns: str, selector: str,
                 changed: Callable[[dict[str, dict]], None], stop: threading.Event) -> None:
        super().__init__(daemon=True, name=f"watch {what}")
        self.target, self.what, self.method, self.ns, self.selector = target, what, method, ns, selector
        self.changed, self.stop = changed, stop
        self.error: BaseException | None = None
        self.ready = threading.Event()

    def _list(self) -> tuple[dict[str, dict], str]:
        answer = call(self.target, f"LIST {self.what}", self.method, self.ns, label_selector=self.selector)
        objects = {o["metadata"]["name"]: o for o in answer.get("items") or ()}
        return objects, answer["metadata"]["resourceVersion"]

    def _watch(self, objects: dict[str, dict], version: str) -> str:
        """One watch request from ``version`` (the server ends it after a few seconds); the last version seen."""
        try:
            answer = self.method(self.ns, label_selector=self.selector, watch=True, resource_version=version,
                                 allow_watch_bookmarks=True, timeout_seconds=_WATCH_WINDOW_S, _preload_content=False,
                                 _request_timeout=request_timeout(self.target, _WATCH_WINDOW_S + 10))
        except (ApiException, urllib3.exceptions.HTTPError, OSError) as exc:
            raise translate(self.target, f"WATCH {self.what}", exc) from None
        try:
            for line in iter_resp_lines(answer):
                if not line:
                    continue
                event = json.loads(line)
                raw = event.get("object") or {}
                if event.get("type") == "ERROR":
                    if raw.get("code") == 410:  # history expired: list again
                        return ""
                    raise KubeCallFailed(f"WATCH {self.what}: {raw.get('code')} {raw.get('reason')}: {raw.get('message')}")
                version = raw.get("metadata", {}).get("resourceVersion", version)
                if event.get("type") == "DELETED":
                    objects.pop(raw["metadata"]["name"], None)
                elif event.get("type") in ("ADDED", "MODIFIED"):
                    objects[raw["metadata"]["name"]] = raw
                else:  # BOOKMARK
                    continue
                self.changed(objects)
                if self.stop.is_set():
                    break
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise translate(self.target, f"WATCH {self.what}", exc) from None
        finally:
            answer.close()
            answer.release_conn()
        return version

    def run(self) -> None:
        try:
            objects, version = self._list()
            self.changed(objects)
            self.ready.set()
            while not self.stop.is_set():
                version = self._watch(objects, version)
                if not version:
                    objects.clear()
                    fresh, version = self._list()
                    objects.update(fresh)
                    self.changed(objects)
        except BaseException as exc:  # re-raised in the caller's thread by ReadyTracker.raise_if_failed
            self.error = exc
            self.ready.set()


class ReadyTracker:
    """The lowest Ready-pod count and lowest ready-endpoint count per Service, over every change seen."""

    def __init__(self, target: Cluster, ns: str, selector: str, services: Sequence[str]) -> None:
        self.started = time.monotonic()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.lowest_ready: dict | None = None
        self.lowest_endpoints: dict[str, dict] = {}
        self.services = list(services)
        core, discovery = k8s.CoreV1Api(target.api), k8s.DiscoveryV1Api(target.api)
        self._watchers = [_Watcher(target, f"pods in namespace {ns} ({selector})", core.list_namespaced_pod, ns, selector,
                                   self._pods_changed, self._stop)]
        if self.services:
            selector_of_slices = f"kubernetes.io/service-name in ({','.join(self.services)})"
            self._watchers.append(_Watcher(target, f"endpointslices in namespace {ns} ({selector_of_slices})",
                                           discovery.list_namespaced_endpoint_slice, ns, selector_of_slices,
                                           self._slices_changed, self._stop))

    def __enter__(self) -> ReadyTracker:
        for watcher in self._watchers:
            watcher.start()
        for watcher in self._watchers:
            watcher.ready.wait(30)
        self.raise_if_failed()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        for watcher in self._watchers:
            watcher.join(_WATCH_WINDOW_S + 15)

    def raise_if_failed(self) -> None:
        for watcher in self._watchers:
            if watcher.error is not None:
                raise watcher.error

    def _now(self) -> float:
        return round(time.monotonic() - self.started, 3)

    def _pods_changed(self, pods: dict[str, dict]) -> None:
        count = sum(_ready_pod(p) for p in pods.values())
        with self._lock:
            if self.lowest_ready is None or count < self.lowest_ready["ready"]:
                self.lowest_ready = {"ready": count, "t": self._now()}

    def _slices_changed(self, slices: dict[str, dict]) -> None:
        with self._lock:
            for service in self.services:
                count = _ready_endpoints(slices, service)
                lowest = self.lowest_endpoints.get(service)
                if lowest is None or count < lowest["ready"]:
                    self.lowest_endpoints[service] = {"ready": count, "t": self._now()}
