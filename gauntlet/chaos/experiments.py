"""Chaos Toolkit experiments in ``chaos_experiments/``: loaded, described, matched to environments.

Each file is a plain Chaos Toolkit experiment (``chaos run FILE`` runs it) with a
``gauntlet`` extension saying what gauntlet needs to know::

    {"name": "gauntlet",
     "claims": ["athens-pods-recover"],          claim ids the experiment is evidence for
     "tier": "cluster",                          cluster | goproxy | cloud: what it acts on
     "workloads": {"athens": "athens"},          configuration prefix -> workload name in the environment
     "invariants": ["athens-serving"],           hypothesis probes that must hold at every sample
     "steady_state_is_the_claim": false,         true: a hypothesis not met before the method violates the claims
     "observe": [probe, ...]}                    probes only drawn on the timeline, not part of the steady state

For a workload prefix ``p``, ``gauntlet chaos`` fills the configuration keys
``p_namespace``, ``p_selector`` (the labels the live Deployments of the workload share:
castle's backend is two Deployments, one selector), ``p_replicas`` (the capacity the
environment claims) and ``p_floor`` (the Ready pods it needs at all times) when the
experiment declares them; the file's own values are the local stack's, for a plain
``chaos run``. Cluster experiments also get ``kubeconfig``, ``kube_context`` and
``kube_api_server``: every API client refuses a context pointing at another server.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Optional

import yaml

from gauntlet import paths
from gauntlet.environment import Environment, Workload
from gauntlet.exceptions import ConfigError

Tier = Literal["cluster", "goproxy", "cloud"]
TIERS = ("cluster", "goproxy", "cloud")
EXTENSION = "gauntlet"
CONTROL_MODULE = "gauntlet.chaos.control"
PROBES_MODULE = "gauntlet.chaos.probes"


def experiments_dir() -> Path:
    """``$GAUNTLET_CHAOS_EXPERIMENTS_DIR`` (tests) or ``chaos_experiments/``."""
    return Path(os.environ.get("GAUNTLET_CHAOS_EXPERIMENTS_DIR") or paths.ROOT / "chaos_experiments")


@dataclass(frozen=True)
class Experiment:
    """One experiment file and what its gauntlet extension says."""

    name: str
    path: Path
    data: dict
    claims: tuple[str, ...]
    tier: Tier
    workloads: dict[str, str]
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

    def workload(self, env: Environment, prefix: str) -> Optional[Workload]:
        wanted = self.workloads[prefix]
        return next((w for w in (env.kubernetes.workloads if env.kubernetes else ()) if w.name == wanted), None)

    def applies_to(self, env: Environment) -> Optional[str]:
        """None when the experiment can run against ``env``, else why not."""
        if self.tier == "goproxy":
            if env.target != "local":
                return "kills a process of the local stack's GOPROXY tier: applies to the local environment only"
            return None
        if self.tier == "cloud":
            if env.aws is None or not env.aws.rds_instances:
                return "the environment names no RDS instance (aws.rds_instances)"
            return None
        if env.kubernetes is None:
            return "the environment names no Kubernetes cluster"
        missing = [name for prefix, name in self.workloads.items() if self.workload(env, prefix) is None]
        if missing:
            return f"the environment names no workload {', '.join(missing)} (kubernetes.workloads)"
        return None

    def claims_in(self, env: Environment) -> tuple[str, ...]:
        """The claims this experiment tests that ``env`` states."""
        ids = {c.id for c in env.claims}
        return tuple(c for c in self.claims if c in ids)


def _read(path: Path) -> dict:
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (OSError, ValueError, yaml.YAMLError) as exc:
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
    claims = tuple(ext.get("claims") or ())
    if not claims or not all(isinstance(c, str) for c in claims):
        raise ConfigError(f"{path}: extensions.gauntlet.claims: expected the claim ids the experiment tests")
    tier = ext.get("tier")
    if tier not in TIERS:
        raise ConfigError(f"{path}: extensions.gauntlet.tier: expected one of {list(TIERS)}, got {tier!r}")
    workloads = dict(ext.get("workloads") or {})
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
    return Experiment(path.stem, path, data, claims, tier, workloads, invariants, bool(ext.get("steady_state_is_the_claim")))


def names() -> list[str]:
    root = experiments_dir()
    return sorted({p.stem for p in root.glob("*.json")} | {p.stem for p in root.glob("*.yaml")}) if root.is_dir() else []


def load(name: str) -> Experiment:
    """``chaos_experiments/<name>.json`` (or ``.yaml``); an unknown name lists the known ones."""
    root = experiments_dir()
    for suffix in (".json", ".yaml"):
        path = root / f"{name}{suffix}"
        if path.is_file():
            return parse(path)
    raise ConfigError(f"{root}: unknown experiment {name!r}: expected one of {names()}")


def load_all() -> list[Experiment]:
    return [load(name) for name in names()]


def base_configuration(exp: Experiment, env: Environment) -> dict[str, Any]:
    """Configuration values known from the environment file alone (no API call)."""
    values: dict[str, Any] = {"gauntlet_env": env.name, "deadline_s": env.chaos.steady_state_deadline_s}
    if env.kubernetes is not None:
        kubeconfig = env.kubernetes.kubeconfig_path
        values.update(kube_context=env.kubernetes.context, kube_api_server=str(env.kubernetes.api_server).rstrip("/"))
        if kubeconfig is not None:
            values["kubeconfig"] = str(kubeconfig)
        for prefix in exp.workloads:
            workload = exp.workload(env, prefix)
            if workload is None:
                continue
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
    declared = set(exp.data.get("configuration") or {})
    return {k: v for k, v in values.items() if k in declared}
