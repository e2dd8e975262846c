"""Errors and banners at the edge: no raw stack traces, the declared maintenance page, no version banners
(in Server, the forbidden headers, or Via).

Seeds: Artifact Hub's CloudFront has "a set of behaviors to define more explicitly how some special
paths and errors should be handled" and an S3 origin for "the maintenance page" (004). A version
banner (``Server: nginx/1.22.1``, ``X-Powered-By``) names what to attack; the environment lists the
headers it forbids (``cdn.forbidden_headers``), and a ``Server`` header naming a version always counts.

PYTEST_DONT_REWRITE: each assertion's message is the evidence, verbatim.
"""

from __future__ import annotations

import httpx
import pytest

from gauntlet.edge.client import get
from gauntlet.edge.headers import stack_trace, version_banners, via_software
from gauntlet.edge.targets import Resource, base_url
from gauntlet.environment import Cdn, Endpoint


@pytest.mark.check("edge.errors.no-stack-trace")
def test_errors_show_no_stack_trace(error_resource: Resource, edge_http: httpx.Client):
    """An error answer through the edge is a plain error, never a raw stack trace of the origin."""
    answer = get(edge_http, error_resource.endpoint, error_resource.url)
    if answer.status < 400:
        pytest.skip(f"{answer.describe()}: not an error; the class {error_resource.request_class.name} lists paths that answer 4xx/5xx")
    marker = stack_trace(answer.text)
    assert marker is None, f"{answer.describe()}: the body holds a stack trace ({marker!r}): expected a plain error page"


@pytest.mark.check("edge.errors.no-version-banner")
def test_no_version_banners(cdn_edge: Endpoint, cdn: Cdn, edge_http: httpx.Client):
    """No answer of the edge (a resource of each class, an error) carries a forbidden header or a versioned ``Server``."""
    found = {}
    for path in _probe_paths(cdn):
        answer = get(edge_http, cdn_edge, base_url(cdn_edge) + path)
        banners = version_banners(answer.headers, cdn.forbidden_headers)
        if banners:
            found[f"GET {answer.url}: {answer.status}"] = "; ".join(banners)
    shown = "; ".join(f"{where}: {banners}" for where, banners in found.items())
    assert not found, f"{shown}: expected none of {list(cdn.forbidden_headers)} and no version in Server (cdn.forbidden_headers)"


@pytest.mark.check("edge.errors.no-via-software")
def test_via_names_no_software_version(cdn_edge: Endpoint, cdn: Cdn, edge_http: httpx.Client):
    """No answer of the edge (a resource of each class, an error) carries a ``Via`` entry naming its software and
    version: like a Server banner it names what to attack, and RFC 9110 7.6.3 lets a proxy say only a pseudonym."""
    found = {}
    for path in _probe_paths(cdn):
        answer = get(edge_http, cdn_edge, base_url(cdn_edge) + path)
        named = via_software(answer.headers)
        if named:
            found[f"GET {answer.url}: {answer.status}"] = "; ".join(named)
    shown = "; ".join(f"{where}: Via: {entries}" for where, entries in found.items())
    assert not found, f"{shown}: expected no software version in Via"


def _probe_paths(cdn: Cdn) -> list[str]:
    """A path of each request class, and one that does not exist (an error answer)."""
    return list(dict.fromkeys([c.paths[0] for c in cdn.request_classes] + ["/gauntlet/no-such-path"]))


@pytest.mark.check("edge.errors.maintenance-page")
def test_origin_errors_show_the_maintenance_page(error_resource: Resource, cdn: Cdn, edge_http: httpx.Client):
    """When the origin fails (5xx), the edge shows the environment's maintenance page (``cdn.maintenance_page``)."""
    if cdn.maintenance_page is None:
        pytest.skip("the environment declares no maintenance page (cdn.maintenance_page)")
    answer = get(edge_http, error_resource.endpoint, error_resource.url)
    if answer.status < 500:
        pytest.skip(f"{answer.describe()}: no origin failure to observe; the maintenance page shows only when the origin "
                    "fails (a chaos experiment can make it fail)")
    shown = cdn.maintenance_page in answer.text
    assert shown, f"{answer.describe()}: expected the maintenance page ({cdn.maintenance_page!r})"
