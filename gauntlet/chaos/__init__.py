"""Chaos experiments under the environment's policy: ``gauntlet chaos ENV EXPERIMENT``.

The experiments are Chaos Toolkit files in ``chaos_experiments/`` (``chaos run`` runs
them too); this package checks before anything is done, runs them, measures and judges::

    experiments   the files, their gauntlet extension, which environment they apply to
    guards        the safety rules: policy, confirmation, the exact cluster, reachability
    lock          one run at a time per environment, naming who holds it
    targets       what each action would hit (dry-run, blast radius, namespaces)
    probes        read-only probes (Chaos Toolkit signature) and their measurements
    actions       actions and rollbacks chaostoolkit-kubernetes lacks, the local tier's crash
    control       the Chaos Toolkit control: the guard before each action, live events
    timeline      the steady state sampled twice a second (ten times after a fault), time to recovery
    load_beside   the environment's Locust profile beside an experiment, on the same timeline
    process       ``chaos run`` in its own process: signals, journal, rollbacks it could not play
    verdict       journal + timeline + how the run ended -> one check outcome
    record        timeline-<experiment>.json and the check, with its figures, in the run folder
    session       one run: preflight, lock, plan, sampler, load, Chaos Toolkit, record
"""

from gauntlet.chaos.experiments import Experiment, load, load_all
from gauntlet.chaos.session import ChaosRun, dry_run, preflight, run_experiment

__all__ = ["ChaosRun", "Experiment", "dry_run", "load", "load_all", "preflight", "run_experiment"]
