"""Chaos Toolkit experiments in ``chaos_experiments/``: loaded, described, matched to environments.

Each file is a plain Chaos Toolkit experiment (``chaos run FILE`` runs it) with a
``gauntlet`` extension saying what gauntlet needs to know::

    {"name": "gauntlet",
     "checks": ["chaos.pod-loss.recovers"],      the check kinds it implements (gauntlet.catalogue)
     "tier": "cluster",                          cluster | goproxy | cloud | database: what it acts on
     "targets": ["target"],                      configuration prefixes, bound to the workloads a claim names
     "invariants": ["target-serving"],           hypothesis probes that must hold at every sample
     "steady_state_is_the_claim": false,         true: a hypothesis not met before the method violates the claims
     "observe": [probe, ...]}                    probes only drawn on the timeline, not part of the steady state

The experiment is evidence for the environment's claims that name one of its kinds; the
workloads those claims name (``claims[].workloads``) are bound to its ``targets`` in order.
For a target prefix ``p``, ``gauntlet chaos`` fills the configuration keys ``p_namespace``,
``p_selector`` (the labels the live Deployments of the workload share: a workload of two
Deployments has one selector), ``p_replicas`` (the capacity the environment claims) and
``p_floor`` (the Ready pods it needs at all times) when the experiment declares them; likewise
``window_samples``, ``window_interval_s``, ``window_percentile`` and ``window_max_errors``, the
environment's ``chaos.steady_state_window`` for probes with a latency budget. The file's own values
are the local stack's, for a plain ``chaos run``. Cluster experiments also
get ``kubeconfig``, ``kube_context`` and ``kube_api_server``: every API client refuses a
context pointing at another server. Database experiments get ``db_failover`` (the environment's
``database.failover``, ``rds`` without a database section), ``db_endpoint`` (``host:port/name``,
never a credential) and ``db_budget_s`` (``database.unavailability_budget_s``, else the chaos
deadline); gauntlet runs the client probes (:mod:`gauntlet.database.clients`) beside them where
the environment names the database.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from gauntlet.catalogue import experiments_dir, matches_any
from gauntlet.environment import Claim, Environment, Workload
from gauntlet.exceptions import ConfigError

Tier = Literal["cluster", "goproxy", "cloud", "database"]
TIERS = ("cluster", "goproxy", "cloud", "database")
EXTENSION = "gauntlet"
CONTROL_MODULE = "gauntlet.chaos.control"
PROBES_MODULE = "gauntlet.chaos.probes"


@dataclass(frozen=True)
class Experiment:
    """One experiment file and what its gauntlet extension says."""

    name: str
    path: Path
    data: dict
    checks: tuple[str, ...]
    tier: Tier
    targets: tuple[str, ...]
    invariants: tuple[str, ...]
    steady_state_is_the_claim: bool = False

    @property
    def title(self) -> str:
        return str(self.data.get("title", self.name))

    @property
    def method(self) -> list[dict]:
        return list(self.data.get("method") or [])

    @property
    def rollbacks(self) -> list[dict]:
        return list(self.data.get("rollbacks") or [])

    @property
    def probes(self) -> list[dict]:
        return list((self.data.get("steady-state-hypothesis") or {}).get("probes") or [])

    def claims_in(self, env: Environment) -> tuple[Claim, ...]:
        """The claims of ``env`` that name one of this experiment's kinds."""
        return tuple(c for c in env.claims if matches_any(c.evidence, self.checks))

    def bound(self, env: Environment) -> dict[str, Workload]:
        """Target prefix -> the workload the claims name for it; ConfigError when they disagree or fall short."""
        bindings = {tuple(w.ref for w in env.workloads_of(c)) for c in self.claims_in(env)} if self.targets else set()
        if len(bindings) > 1:
            raise ConfigError(f"experiment {self.name}: its claims name different workloads {sorted(bindings)}: "
                              "one experiment acts on one set of workloads (claims[].workloads)")
        refs = next(iter(bindings), ())
        if len(refs) != len(self.targets):
            raise ConfigError(f"experiment {self.name} acts on {len(self.targets)} workload(s) ({', '.join(self.targets)}), "
                              f"its claims name {len(refs)} ({', '.join(refs) or 'none'}) in claims[].workloads")
        return dict(zip(self.targets, env.workloads_of(next(c for c in self.claims_in(env))), strict=False))

    def applies_to(self, env: Environment) -> str | None:
        """None when the experiment can run against ``env``, else why not."""
        if not self.claims_in(env):
            return f"no claim of {env.name} names its kinds ({', '.join(self.checks)})"
        if self.tier == "goproxy":
            from gauntlet.local import goproxy_tier

            if not goproxy_tier.fronts(str(e.url) for e in env.endpoints):
                return (f"kills a process of the local stack's GOPROXY tier: applies where an endpoint is its edge "
                        f"({goproxy_tier.EDGE_URL})")
            return None
        if self.tier == "cloud":
            if env.aws is None or not env.aws.rds_instances:
                return "the environment names no RDS instance (aws.rds_instances)"
            return None
        if self.tier == "database":
            if env.database is None and (env.aws is None or not env.aws.rds_instances):
                return "the environment names no database (database section, or aws.rds_instances)"
            return None
        if env.kubernetes is None:
            return "the environment names no Kubernetes cluster"
        try:
            self.bound(env)
        except ConfigError as exc:
            return str(exc)
        return None


def _read(path: Path) -> dict:
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: cannot read the experiment ({exc})") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a Chaos Toolkit experiment (a mapping)")
    return data


def parse(path: Path) -> Experiment:
    """Load one experiment file; its gauntlet extension is checked."""
    data = _read(path)
    ext = next((e for e in data.get("extensions") or () if isinstance(e, dict) and e.get("name") == EXTENSION), None)
    if ext is None:
        raise ConfigError(f"{path}: extensions: expected a {EXTENSION!r} extension naming the claims and the tier")
    checks = tuple(ext.get("checks") or ())
    if not checks or not all(isinstance(c, str) for c in checks):
        raise ConfigError(f"{path}: extensions.gauntlet.checks: expected the check kinds the experiment implements")
    tier = ext.get("tier")
    if tier not in TIERS:
        raise ConfigError(f"{path}: extensions.gauntlet.tier: expected one of {list(TIERS)}, got {tier!r}")
    targets = tuple(ext.get("targets") or ())
    probe_names = {p.get("name") for p in (data.get("steady-state-hypothesis") or {}).get("probes") or ()}
    invariants = tuple(ext.get("invariants") or ())
    unknown = [i for i in invariants if i not in probe_names]
    if unknown:
        raise ConfigError(f"{path}: extensions.gauntlet.invariants: {unknown} are not probes of the steady-state hypothesis")
    sampled = list((data.get("steady-state-hypothesis") or {}).get("probes") or ()) + list(ext.get("observe") or ())
    foreign = [p.get("name") for p in sampled if (p.get("provider") or {}).get("module") != PROBES_MODULE]
    if foreign:
        raise ConfigError(f"{path}: probes {foreign}: the timeline samples the steady state in gauntlet's own process, "
                          f"where only {PROBES_MODULE} probes are pinned to the environment's cluster: use those")
    if not any((c.get("provider") or {}).get("module") == CONTROL_MODULE for c in data.get("controls") or ()):
        raise ConfigError(f"{path}: controls: expected the {CONTROL_MODULE} control (the guard before every action)")
    if "gauntlet_confirm" not in (data.get("configuration") or {}):
        raise ConfigError(f"{path}: configuration.gauntlet_confirm: expected it declared (null): a plain `chaos run` "
                          "takes the typed confirmation as --var gauntlet_confirm=ENV, which Chaos Toolkit drops unless declared")
    return Experiment(path.stem, path, data, checks, tier, targets, invariants, bool(ext.get("steady_state_is_the_claim")))


def names() -> list[str]:
    root = experiments_dir()
    return sorted(p.stem for p in root.glob("*.json")) if root.is_dir() else []


def load(name: str) -> Experiment:
    """``chaos_experiments/<name>.json``; an unknown name lists the known ones."""
    path = experiments_dir() / f"{name}.json"
    if not path.is_file():
        raise ConfigError(f"{experiments_dir()}: unknown experiment {name!r}: expected one of {names()}")
    return parse(path)


def load_all() -> list[Experiment]:
    return [load(name) for name in names()]


def base_configuration(exp: Experiment, env: Environment) -> dict[str, Any]:
    """Configuration values known from the environment file alone (no API call)."""
    window = env.chaos.steady_state_window
    values: dict[str, Any] = {"gauntlet_env": env.name, "deadline_s": env.chaos.steady_state_deadline_s,
                              "window_samples": window.samples, "window_interval_s": window.interval_s,
                              "window_percentile": window.percentile, "window_max_errors": window.max_errors}
    if env.kubernetes is not None:
        kubeconfig = env.kubernetes.kubeconfig_path
        values.update(kube_context=env.kubernetes.context, kube_api_server=str(env.kubernetes.api_server).rstrip("/"))
        if kubeconfig is not None:
            values["kubeconfig"] = str(kubeconfig)
        for prefix, workload in (exp.bound(env) if exp.targets else {}).items():
            values[f"{prefix}_namespace"] = workload.namespace
            if workload.claimed_replicas is not None:
                values[f"{prefix}_replicas"] = workload.claimed_replicas
            if workload.capacity_floor is not None:
                values[f"{prefix}_floor"] = workload.capacity_floor
    if env.aws is not None:
        from gauntlet.cloud.session import configuration_for

        values.update(configuration_for(env.aws))
        if env.aws.rds_instances:
            values["db_instance"] = env.aws.rds_instances[0]
    if env.database is not None:
        db = env.database
        values.update(db_failover=db.failover, db_endpoint=f"{db.host}:{db.port}/{db.name}",
                      db_budget_s=db.unavailability_budget_s)
    elif env.aws is not None and env.aws.rds_instances:
        values.update(db_failover="rds", db_budget_s=env.chaos.steady_state_deadline_s)
    declared = set(exp.data.get("configuration") or {})
    return {k: v for k, v in values.items() if k in declared}
