"""Load runs: profiles to Locust command lines, Locust's statistics to SLO verdicts.

Locust itself only ever runs in its own processes (``load/`` holds the
locustfiles); nothing here imports it, so the CLI and pytest stay free of
gevent's monkey-patching.

    run_profile(env, run, name, workers=0, progress=None)   run one profile, record its checks
    resolve(env, name)                                       the parameters a Locust process needs
"""

from gauntlet.load.params import LoadParams, resolve
from gauntlet.load.runner import run_profile

__all__ = ["LoadParams", "resolve", "run_profile"]
