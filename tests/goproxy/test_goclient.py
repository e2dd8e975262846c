"""The real go client, run through one proxy with nothing else configured."""

from __future__ import annotations

import http.server
import shutil
import threading
from functools import partial
from pathlib import Path

import pytest

from gauntlet.goproxy.goclient import download, json_records
from gauntlet.local import corpus

needs_go = pytest.mark.skipif(shutil.which("go") is None, reason="no go binary on PATH")


def test_json_records_reads_concatenated_objects():
    assert list(json_records('{"Path": "a"}\n{"Path": "b",\n "Error": "x"}\n  ')) == [{"Path": "a"}, {"Path": "b", "Error": "x"}]
    assert list(json_records("")) == []


@pytest.fixture
def file_proxy(tmp_path: Path):
    """The module corpus' uuid v1.6.0 served over plain HTTP on loopback, as a minimal proxy: nothing under /sumdb/."""
    root = tmp_path / "proxy"
    source = corpus.corpus_dir() / "github.com" / "google" / "uuid" / "@v"
    if not (source / "v1.6.0.zip").is_file():
        pytest.skip("the module corpus is not built (gauntlet local up builds it)")
    target = root / "github.com" / "google" / "uuid" / "@v"
    target.mkdir(parents=True)
    for name in ("v1.6.0.info", "v1.6.0.mod", "v1.6.0.zip"):
        shutil.copy(source / name, target / name)
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *args: None  # type: ignore[attr-defined]
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@needs_go
def test_a_download_reports_its_settings_records_and_sums(file_proxy, tmp_path):
    done = download(shutil.which("go"), file_proxy, ["github.com/google/uuid@v1.6.0"], tmp_path / "work", deadline_s=60)
    assert done.returncode == 0 and done.errors() == [], done.stderr
    assert done.settings == f"GOPROXY={file_proxy} GOSUMDB=off"
    sums = corpus.load_sums()
    assert (done.records[0]["Sum"], done.records[0]["GoModSum"]) == (sums["github.com/google/uuid v1.6.0"],
                                                                     sums["github.com/google/uuid v1.6.0/go.mod"])


@needs_go
def test_with_loopback_only_a_fallback_to_a_public_database_is_blocked_here(file_proxy, tmp_path):
    """The proxy answers 404 for /sumdb/sum.golang.org/supported: the go command would then connect to
    sum.golang.org itself. With loopback_only that connection goes to a closed loopback port instead."""
    done = download(shutil.which("go"), file_proxy, ["github.com/google/uuid@v1.6.0"], tmp_path / "work",
                    deadline_s=60, gosumdb="sum.golang.org", loopback_only=True)
    assert done.returncode != 0 and "proxyconnect tcp: dial tcp 127.0.0.1:9" in " ".join(done.errors()) + done.stderr
