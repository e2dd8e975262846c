"""Locust's CSV statistics read back into figures; the guard's series file."""

from __future__ import annotations

import json

from gauntlet.load.figures import read_failures, read_series, read_stats

HEADER = ("Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,"
          "Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%")


def test_the_aggregated_row_gives_the_run_figures(tmp_path):
    (tmp_path / "locust_stats.csv").write_text("\n".join([
        HEADER,
        "GET,/[module]/@v/list,97,3,2,10.2,0.6,203.7,19.7,5.17,0.1,2,2,3,3,6,85,180,200,200,200,200",
        ",Aggregated,388,3,1,4.37,0.23,419.7,60321.3,20.70,0.1,1,1,1,2,3,5,39,140,420,420,420",
    ]))
    figures = read_stats(tmp_path / "locust")
    assert (figures.requests, figures.failures, figures.p50_ms, figures.p95_ms, figures.p99_ms) == (388, 3, 1, 5, 140)
    assert figures.rps == 20.70 and figures.error_rate == 3 / 388
    assert figures.metric("error_rate") == 3 / 388 and figures.metric("rps") == 20.70


def test_no_request_means_no_percentiles(tmp_path):
    (tmp_path / "locust_stats.csv").write_text(HEADER + "\n,Aggregated,0,0,0,0,0,0,0,0.0,0.0" + ",N/A" * 11 + "\n")
    figures = read_stats(tmp_path / "locust")
    assert figures.requests == 0 and figures.p95_ms is None and figures.metric("error_rate") is None


def test_missing_csv_is_none(tmp_path):
    assert read_stats(tmp_path / "locust") is None


def test_failures_most_frequent_first(tmp_path):
    (tmp_path / "locust_failures.csv").write_text(
        "Method,Name,Error,Occurrences,First Seen,Last Seen\n"
        "GET,/[module]/@v/[version].zip,CatchResponseError('HTTP 500'),11,a,b\n"
        "GET,/[module]/@v/list,CatchResponseError('HTTP 500'),37,a,b\n")
    assert [f["occurrences"] for f in read_failures(tmp_path / "locust")] == [37, 11]


def test_series_skips_a_half_written_last_line(tmp_path):
    path = tmp_path / "series.jsonl"
    path.write_text(json.dumps({"t": 1.0}) + "\n" + json.dumps({"t": 2.0}) + '\n{"t": 3')
    assert read_series(path) == [{"t": 1.0}, {"t": 2.0}]
