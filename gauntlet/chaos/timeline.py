"""One timeline per experiment: the steady state sampled twice a second, faults marked, time to recovery.

:class:`Sampler` runs the steady-state probes of the experiment (and the ones it
only ``observe``s) in a thread, every :data:`INTERVAL_S`, all probes of a tick at once.
Each sample records, per probe, whether its condition held and the number behind it
(:mod:`gauntlet.chaos.probes` ``measure_*``, called in this process with the run's
configuration: the same cluster, endpoints and account as the Chaos Toolkit process). It also
watches the stop condition: while the method runs, a steady state lost for longer than the policy's deadline calls ``on_deadline`` once.

The pure functions below turn samples and fault times into the figures:
:func:`recoveries` (fault injected -> steady state true again and staying so) and
:func:`phases` (load errors and latency before / during / after the fault window).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from chaoslib import substitute
from chaoslib.types import Activity, Configuration, Secrets

from gauntlet.chaos import probes as gauntlet_probes
from gauntlet.chaos.probes import Measurement
from gauntlet.exceptions import NotChecked

#: Seconds between two samples: at least one a second, as the issue asks; two so a 1 s blip shows.
INTERVAL_S = 0.5
#: Right after a fault, for BURST_S seconds: a sample every BURST_INTERVAL_S, so a recovery within a
#: second (a simulated node restarts a pod that fast) is still seen, and timed to a tenth of a second.
BURST_INTERVAL_S, BURST_S = 0.1, 10.0
#: A probe's window arguments (chaos.steady_state_window); the hypothesis uses them, the sampler does not.
WINDOW_ARGUMENTS = ("samples", "interval_s", "percentile", "max_errors")


@dataclass(frozen=True)
class ProbeSpec:
    """One probe the sampler runs: its name, whether it is part of the steady state, and how to call it."""

    name: str
    steady: bool  # part of the steady-state hypothesis (else only observed)
    invariant: bool  # must hold at every sample, not only recover
    call: Callable[[], Measurement]


def probe_spec(activity: Activity, configuration: Configuration, secrets: Secrets | None, *, steady: bool, invariant: bool) -> ProbeSpec:
    """A sampler probe from a hypothesis probe of :mod:`gauntlet.chaos.probes`, through its ``measure_*``."""
    provider = activity.get("provider") or {}
    arguments = dict(substitute(provider.get("arguments") or {}, configuration, secrets or {}))
    for name in ("raise_on_unavailable", *WINDOW_ARGUMENTS):  # the sampler takes one answer per tick: its own window
        arguments.pop(name, None)
    measure = getattr(gauntlet_probes, f"measure_{provider.get('func')}", None)
    if provider.get("module") != gauntlet_probes.__name__ or measure is None:
        raise ValueError(f"probe {activity.get('name')!r}: {provider.get('module')}.{provider.get('func')} has no measure_* "
                         f"in {gauntlet_probes.__name__}")

    def call() -> Measurement:
        return measure(**arguments, configuration=configuration)

    return ProbeSpec(activity.get("name", provider.get("func", "probe")), steady, invariant, call)


@dataclass
class Sample:
    t: float  # wall-clock time (time.time())
    ok: bool  # every steady-state probe held
    values: dict[str, Measurement]


class Sampler(threading.Thread):
    """Samples the probes until :meth:`stop`; arms the stop condition while the method runs."""

    def __init__(self, specs: list[ProbeSpec], deadline_s: float,
                 on_deadline: Callable[[float], None] = lambda lost_s: None, interval_s: float = INTERVAL_S) -> None:
        super().__init__(name="gauntlet-chaos-sampler", daemon=True)
        self.specs, self.deadline_s, self.on_deadline, self.interval_s = specs, deadline_s, on_deadline, interval_s
        self.samples: list[Sample] = []
        self.tripped_at: float | None = None
        self._stop_event = threading.Event()
        self._armed = threading.Event()
        self._burst_until = 0.0
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=max(1, len(specs)), thread_name_prefix="gauntlet-probe")

    def arm(self, armed: bool = True) -> None:
        """The stop condition applies (the method runs) or not (before it, during rollbacks)."""
        (self._armed.set if armed else self._armed.clear)()

    def burst(self, seconds: float = BURST_S) -> None:
        """Sample every BURST_INTERVAL_S for the next ``seconds`` (a fault was just injected)."""
        self._burst_until = time.monotonic() + seconds
        self._wake.set()

    def stop(self) -> None:
        self._stop_event.set()
        self._wake.set()
        self.join(timeout=10)
        self._pool.shutdown(wait=False, cancel_futures=True)

    def snapshot(self) -> list[Sample]:
        with self._lock:
            return list(self.samples)

    def sample_once(self) -> Sample:
        t = time.time()
        futures = {s.name: self._pool.submit(s.call) for s in self.specs}
        values = {}
        for name, future in futures.items():
            try:
                values[name] = future.result(timeout=10)
            except NotChecked as exc:
                values[name] = Measurement(False, None, "", f"{name}: {exc}", not_checked=True)
            except Exception as exc:  # a probe that crashes is a probe that did not see the steady state
                values[name] = Measurement(False, None, "", f"{name}: {type(exc).__name__}: {exc}")
        ok = all(values[s.name].ok for s in self.specs if s.steady)
        sample = Sample(t, ok, values)
        with self._lock:
            self.samples.append(sample)
        return sample

    def run(self) -> None:
        lost_since: float | None = None
        next_at = time.monotonic()
        while not self._stop_event.is_set():
            sample = self.sample_once()
            lost_since = None if sample.ok else (lost_since or sample.t)
            if (lost_since is not None and self._armed.is_set() and self.tripped_at is None
                    and sample.t - lost_since > self.deadline_s):
                self.tripped_at = sample.t
                self.on_deadline(sample.t - lost_since)
            interval = BURST_INTERVAL_S if time.monotonic() < self._burst_until else self.interval_s
            next_at = max(next_at + interval, time.monotonic() - interval)
            if self._wake.wait(max(0.0, next_at - time.monotonic())):  # a burst starts now, or the end
                self._wake.clear()
                next_at = time.monotonic()


# --------------------------------------------------------------------------- figures


@dataclass(frozen=True)
class Recovery:
    """One fault and what the steady state did after it."""

    fault: str
    at: float  # wall-clock time the fault was injected
    lost: bool  # the steady state was seen lost after it
    recovered_at: float | None  # wall-clock time it held again, for good; None: never within the window

    @property
    def time_to_recovery_s(self) -> float | None:
        return None if self.recovered_at is None else round(max(0.0, self.recovered_at - self.at), 2)


def recoveries(samples: list[tuple[float, bool]], faults: list[tuple[str, float]]) -> list[Recovery]:
    """For each fault: from its time to the next fault's (or the last sample), the first sample of the final
    unbroken run of steady samples; a window whose last sample is not steady did not recover."""
    out = []
    ordered = sorted(faults, key=lambda f: f[1])
    for i, (name, at) in enumerate(ordered):
        end = ordered[i + 1][1] if i + 1 < len(ordered) else float("inf")
        window = [(t, ok) for t, ok in samples if at <= t < end]
        before = [ok for t, ok in samples if t < at]
        lost = any(not ok for _, ok in window)
        if not window or not window[-1][1]:
            out.append(Recovery(name, at, lost or bool(window), None))
            continue
        first_ok = len(window) - 1
        while first_ok > 0 and window[first_ok - 1][1]:
            first_ok -= 1
        if first_ok == 0 and (not before or before[-1]):
            out.append(Recovery(name, at, lost, at))  # never lost in the window: no visible impact
        else:
            out.append(Recovery(name, at, True, window[first_ok][0]))
    return out


def invariant_breaches(samples: list[Sample], names: tuple[str, ...], t0: float) -> list[str]:
    """Each invariant probe's first sample that did not hold, as a sentence."""
    out = []
    for name in names:
        bad = next((s for s in samples if name in s.values and not s.values[name].ok), None)
        if bad is not None:
            out.append(f"at {bad.t - t0:.1f} s: {bad.values[name].detail}")
    return out


def phases(points: list[dict], window: tuple[float, float]) -> dict[str, dict]:
    """Load figures (``t`` wall-clock, ``requests`` in the window, ``failures``, ``p95_ms``) before, during
    and after the fault window ``(start, end)``."""
    start, end = window
    buckets: dict[str, list[dict]] = {"before": [], "during": [], "after": []}
    for p in points:
        buckets["before" if p["t"] < start else "during" if p["t"] <= end else "after"].append(p)
    out = {}
    for name, pts in buckets.items():
        requests = sum(p["requests"] for p in pts)
        failures = sum(p["failures"] for p in pts)
        p95 = [p["p95_ms"] for p in pts if p.get("p95_ms") is not None]
        out[name] = {"seconds": len(pts), "requests": requests, "failures": failures,
                     "error_rate": round(failures / requests, 6) if requests else None,
                     "worst_p95_ms": max(p95) if p95 else None}
    return out


def document(title: str, samples: list[Sample], specs: list[ProbeSpec], t0: float, markers: list[tuple[float, str]],
             ttr: float | None, extra_series: Sequence[dict] = (), **extra: Any) -> dict:
    """The timeline file's content (``gauntlet.charts`` format): steady state 0/1, each probe's numbers, load."""
    def rel(t: float) -> float:
        return round(t - t0, 2)

    series: list[dict[str, Any]] = [{"name": "steady state", "unit": "held", "points": [[rel(s.t), 1 if s.ok else 0] for s in samples]}]
    for spec in specs:
        points = [[rel(s.t), s.values[spec.name].value] for s in samples
                  if spec.name in s.values and s.values[spec.name].value is not None]
        unit = next((s.values[spec.name].unit for s in samples if spec.name in s.values and s.values[spec.name].unit), "")
        if points:
            series.append({"name": spec.name, "unit": unit, "points": points})
        else:
            series.append({"name": spec.name, "unit": "held",
                           "points": [[rel(s.t), 1 if s.values[spec.name].ok else 0] for s in samples if spec.name in s.values]})
    series.extend(extra_series)
    return {"title": title, "series": series, "markers": [{"t": rel(t), "label": label} for t, label in sorted(markers)],
            "time_to_recovery_s": ttr, "t0": t0, "interval_s": INTERVAL_S, "changes": changes(samples, t0), **extra}


def changes(samples: list[Sample], t0: float, limit: int = 200) -> list[dict]:
    """Each probe's first state and every later change of held / not held, with what it saw."""
    out: list[dict] = []
    last: dict[str, bool] = {}
    for s in samples:
        for name, m in s.values.items():
            if last.get(name) != m.ok:
                last[name] = m.ok
                out.append({"t": round(s.t - t0, 2), "probe": name, "held": m.ok, "detail": m.detail})
    return out[:limit]
