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
    timeline      the steady state sampled twice a second, time to recovery, load phases
    verdict       journal + timeline + how the run ended -> one check outcome
    session       one run: preflight, lock, sampler, load, ``chaos run``, signals, journal
"""

from gauntlet.chaos.experiments import Experiment, load, load_all
from gauntlet.chaos.session import ChaosRun, dry_run, preflight, run_experiment

__all__ = ["ChaosRun", "Experiment", "dry_run", "load", "load_all", "preflight", "run_experiment"]
