"""The Artifact Hub load user's pure parts: search paths and the packages a search lists."""

from __future__ import annotations

import json

from gauntlet.load.artifacthub import package_paths, search_api, search_ok, search_page


def test_search_paths_encode_the_term():
    assert search_page("cert manager") == "/packages/search?ts_query_web=cert+manager&sort=relevance&page=1"
    assert search_api("nginx").startswith("/api/v1/packages/search?ts_query_web=nginx&sort=relevance&facets=true&limit=20")


def test_a_search_answer_leads_to_package_details_by_kind_name():
    body = json.dumps({"packages": [
        {"name": "nginx", "repository": {"kind": 0, "name": "bitnami"}},
        {"name": "falco rules", "repository": {"kind": 1, "name": "security"}},
        {"name": "odd", "repository": {"kind": 99, "name": "x"}},
        {"name": "broken"},
    ]}).encode()
    assert package_paths(body) == ["/api/v1/packages/helm/bitnami/nginx", "/api/v1/packages/falco/security/falco%20rules"]


def test_search_answers_without_a_package_list_are_failures():
    assert search_ok(200, b'{"packages": []}') is None
    assert search_ok(200, b"<html>maintenance</html>") == "search answer is not JSON"
    assert search_ok(200, b'{"error": "x"}') == "search answer has no packages list"
    assert search_ok(503, b"") == "HTTP 503"
    assert package_paths(b"not json") == []
