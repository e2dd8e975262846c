"""The report page in a real headless Chromium: it renders, the claims matrix is there, charts are drawn,
no console error, no request leaves the page; its screenshot is kept in the run folder."""

from __future__ import annotations

import json
import shutil

import pytest

from gauntlet import report, run_folder
from gauntlet.environment import load_environment
from gauntlet.ledger import CheckResult

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
#: Chromium on its own looks up Google's hosts (component updates, sync, safe browsing, sign-in): none of
#: that, and no name resolves but loopback's, so the test sends nothing off this machine.
LOOPBACK_ONLY = ("--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-default-apps", "--disable-client-side-phishing-detection", "--disable-quic",
                 "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1")


@pytest.fixture
def browser():
    if not (CHROMIUM and DRIVER):
        pytest.skip("Debian's chromium and chromium-driver are not installed (make setup installs them)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,1600", "--disable-dev-shm-usage",
                 *LOOPBACK_ONLY):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    yield driver
    driver.quit()


@pytest.fixture
def run_with_charts(write_env, env_data):
    write_env(env_data)
    env = load_environment("sample")
    run = run_folder.new_run(env, "chaos", "gauntlet chaos sample athens-replica-crash --load smoke")
    run.add_ran("conformance:goproxy", "load:smoke")
    run.record(CheckResult("conformance/goproxy/test_protocol.py::test_list[edge]", "conformance", ("sample-protocol",), "passed"))
    run.record(CheckResult("load:smoke:p95", "load", ("sample-fast",), "failed", "p95 812 ms > 500 ms",
                           details={"figures": {"p95_ms": 812}}))
    (run.dir / "timeline-athens-replica-crash.json").write_text(json.dumps({
        "title": "athens-replica-crash", "time_to_recovery_s": 4.2,
        "series": [{"name": "p95", "unit": "ms", "points": [[t, 40 + (300 if 10 <= t <= 14 else 0)] for t in range(30)]},
                   {"name": "errors", "unit": "req/s", "points": [[t, 1 if t == 11 else 0] for t in range(30)]}],
        "markers": [{"t": 10, "label": "replica killed"}, {"t": 14.2, "label": "steady again"}]}))
    report.finish(run, env, "complete")
    return run


def test_report_page_renders_in_chromium(browser, run_with_charts):
    page = run_with_charts.dir / "index.html"
    browser.get(page.as_uri())
    rows = browser.find_elements("css selector", "#claims-matrix tbody tr")
    assert [r.get_attribute("data-verdict") for r in rows] == ["verified", "violated", "not-checked"]
    charts = browser.find_elements("css selector", "#charts figure.chart")
    assert len(charts) == 2, "a timeline and the time-to-recovery bars"
    assert browser.find_elements("css selector", "#charts polyline.series"), "the timeline's series are drawn"
    assert browser.find_elements("css selector", "#charts line.marker"), "the fault injection is marked"
    assert browser.find_elements("css selector", "#charts rect.bar")
    box = browser.find_element("css selector", "#claims-matrix").rect
    assert box["height"] > 50 and box["width"] > 300, f"the matrix is laid out: {box}"
    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert not errors, errors
    requests = [json.loads(e["message"])["message"] for e in browser.get_log("performance")]
    urls = {m["params"]["request"]["url"] for m in requests if m["method"] == "Network.requestWillBeSent"}
    assert urls == {page.as_uri()}, f"the page must be self-contained, it fetched {urls - {page.as_uri()}}"
    shot = run_with_charts.dir / "screenshot.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
