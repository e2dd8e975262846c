"""Artifact Hub load: users browsing and searching through the CDN.

Browse (weight 2): one of the profile's ``paths`` (default ``/``: the index,
static assets, ``/api/v1/packages/stats``). Search (weight 3): the search page
for one of the profile's ``queries``, the API search it makes, then the detail
of one package from the results, as a visitor clicking through.

    gauntlet load artifacthub-staging --profile browse
    locust -f load/artifacthub.py --gauntlet-env artifacthub-staging   # web UI
"""

from __future__ import annotations

import random

import _guard  # noqa: F401  (the guard: options, bounds, stop condition, series)
from _http import BoundedHttpUser
from locust import task

from gauntlet.load.artifacthub import ok, package_paths, search_api, search_ok, search_page


class ArtifactHubUser(BoundedHttpUser):
    """A visitor: browses pages and assets, searches and opens a result."""

    kind = "artifacthub"

    @task(2)
    def browse(self) -> None:
        path = random.choice(self.params.paths)
        self.fetch(path, path, ok)

    @task(3)
    def search(self) -> None:
        if not self.params.queries:
            return self.browse()
        term = random.choice(self.params.queries)
        self.fetch(search_page(term), "/packages/search?ts_query_web=[term]", ok)
        found = self.fetch(search_api(term), "/api/v1/packages/search?ts_query_web=[term]", search_ok)
        details = package_paths(found[1]) if found is not None and found[0] == 200 else []
        if details:
            self.fetch(random.choice(details[:5]), "/api/v1/packages/[kind]/[repo]/[package]", ok)
