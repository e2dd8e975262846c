"""Answers that must not change from one request to the next, sampled within the environment's budget.

Rules: not-found answers are 404/410 on every request (GOPROXY protocol: any other
error stops the go command); `@v/list` and `@latest` may change over time ("version
lists and version metadata ... may change over time"), but not flap between two
requests a moment apart: replicas behind one address that disagree, or a race,
give each client a different answer. Sampled `goproxy.repetition.samples` times
per kind and endpoint, `concurrency` at a time, within `within_s` seconds.
"""

from __future__ import annotations

import secrets
from collections import Counter

import pytest

from gauntlet.answers import Fetched
from gauntlet.goproxy import info as revinfo
from gauntlet.goproxy.protocol import latest_path, list_path, unknown_version_path
from gauntlet.goproxy.repetition import Sampling, sample


def _sampled(goproxy, goproxy_config, samplers, paths: list[str], signature, per_path: int) -> Sampling:
    budget = goproxy_config.repetition
    return sample(goproxy.fetch, goproxy.url, paths, signature, per_path=per_path, pool=samplers,
                  concurrency=budget.concurrency, within_s=budget.within_s)


def _per_path(goproxy_config, paths: list[str]) -> int:
    """Each list or @latest URL at least twice, about ``samples`` requests in all."""
    return max(2, goproxy_config.repetition.samples // len(paths))


def _status(answer: Fetched) -> str:
    return str(answer.status)


def _versions(answer: Fetched) -> str:
    """A list answer as the go command keeps it: status and the set of versions (order does not count)."""
    return f"{answer.status} [{' '.join(sorted({line.split()[0] for line in answer.text.splitlines() if line.strip()}))}]"


def _latest(answer: Fetched) -> str:
    if answer.status != 200:
        return str(answer.status)
    try:
        return f"200 {revinfo.decode(answer.body).version}"
    except ValueError:
        return "200 (not RevInfo JSON)"


def _record(record_property, sampling: Sampling) -> None:
    record_property("sampling", {"budget": sampling.budget(), "answers": [t.describe() for t in sampling.tallies]})


@pytest.mark.check("goproxy.not-found.stable")
def test_not_found_answers_are_stable(goproxy, goproxy_config, samplers, record_property):
    """Versions that do not exist, asked for `samples` times, answer 404/410 every time: a 500 in one request
    of many stops that client's build. Each a different one, from a random offset per run, so no cache (an
    edge keeping an earlier run's 404s) answers for the origin."""
    modules = [p.module for p in goproxy_config.probe_set]
    first = 1 + secrets.randbelow(10**9)
    paths = [unknown_version_path(modules[i % len(modules)], first + i // len(modules))
             for i in range(goproxy_config.repetition.samples)]
    sampling = _sampled(goproxy, goproxy_config, samplers, paths, _status, per_path=1)
    _record(record_property, sampling)
    wrong = [t for t in sampling.tallies if set(t.seen) - {"404", "410"}]
    seen = sum((t.seen for t in sampling.tallies), start=Counter())
    assert not wrong, (f"{goproxy.base_url}: expected 404/410 for every missing version, found "
                       + ", ".join(f"{a} ×{n}" for a, n in seen.most_common())
                       + f" over {sampling.budget()}; first: {wrong[0].describe()}")


@pytest.mark.check("goproxy.list.stable")
def test_lists_are_stable(goproxy, goproxy_config, samplers, record_property):
    """Each probe module's `@v/list`, asked for several times at once, names the same versions every time."""
    paths = list(dict.fromkeys(list_path(p.module) for p in goproxy_config.probe_set))
    sampling = _sampled(goproxy, goproxy_config, samplers, paths, _versions, _per_path(goproxy_config, paths))
    _record(record_property, sampling)
    flapping = [t for t in sampling.tallies if len(t.seen) > 1]
    assert not flapping, (f"expected one answer per list over {sampling.budget()}, found {len(flapping)} flapping: "
                          + "; ".join(t.describe() for t in flapping[:3]))


@pytest.mark.check("goproxy.latest.stable")
def test_latest_is_stable(goproxy, goproxy_config, samplers, record_property):
    """Each probe module's `@latest`, asked for several times at once, gives the same answer every time
    (the same Version, or the same 404/410)."""
    paths = list(dict.fromkeys(latest_path(p.module) for p in goproxy_config.probe_set))
    sampling = _sampled(goproxy, goproxy_config, samplers, paths, _latest, _per_path(goproxy_config, paths))
    _record(record_property, sampling)
    flapping = [t for t in sampling.tallies if len(t.seen) > 1]
    assert not flapping, (f"expected one @latest answer per module over {sampling.budget()}, found {len(flapping)} flapping: "
                          + "; ".join(t.describe() for t in flapping[:3]))
