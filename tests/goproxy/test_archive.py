"""Zip rules and h1: hashes, judged against the real go command on the same bytes.

Each case builds a module zip here, serves it from a file-based GOPROXY and
asks ``go mod download -json`` for it: the hashes must equal the ``Sum`` and
``GoModSum`` go computes, and a zip go refuses must have problems here too.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from gauntlet.goproxy.archive import module_path, retractions, zip_problems
from gauntlet.goproxy.hashes import go_mod_hash, zip_hash

MODULE, VERSION = "example.com/Vectors/v2", "v2.1.0"
PREFIX = f"{MODULE}@{VERSION}/"
GO_MOD = b"module example.com/Vectors/v2\n\ngo 1.21\n"

needs_go = pytest.mark.skipif(shutil.which("go") is None, reason="no go binary on PATH")


def make_zip(files: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


GOOD = {PREFIX + "go.mod": GO_MOD, PREFIX + "LICENSE": b"MIT\n", PREFIX + "a.go": b"package vectors\n",
        PREFIX + "sub/b.go": b"package sub\n\nconst B = 1\n", PREFIX + "Z.txt": b"capital first\n"}


def go_download(tmp_path: Path, data: bytes, mod: bytes = GO_MOD) -> subprocess.CompletedProcess:
    """``go mod download -json`` of MODULE@VERSION from a file-based GOPROXY holding ``data``."""
    folder = tmp_path / "proxy" / "example.com" / "!vectors" / "v2" / "@v"
    folder.mkdir(parents=True)
    (folder / "list").write_text(VERSION + "\n")
    (folder / f"{VERSION}.info").write_text(json.dumps({"Version": VERSION, "Time": "2024-01-02T03:04:05Z"}))
    (folder / f"{VERSION}.mod").write_bytes(mod)
    (folder / f"{VERSION}.zip").write_bytes(data)
    env = {**os.environ, "GOPROXY": (tmp_path / "proxy").as_uri(), "GOSUMDB": "off", "GOFLAGS": "-modcacherw",
           "GOMODCACHE": str(tmp_path / "modcache"), "GOTOOLCHAIN": "local", "GONOSUMDB": "*", "GO111MODULE": "on"}
    return subprocess.run(["go", "mod", "download", "-json", f"{MODULE}@{VERSION}"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)


@needs_go
@pytest.mark.parametrize("compression", [zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED], ids=["deflated", "stored"])
def test_hashes_equal_what_go_computes(tmp_path, compression):
    data = make_zip(GOOD, compression)
    proc = go_download(tmp_path, data)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    answer = json.loads(proc.stdout)
    assert zip_hash(data) == answer["Sum"]
    assert go_mod_hash(GO_MOD) == answer["GoModSum"]
    assert zip_problems(data, MODULE, VERSION, GO_MOD) == ()


BAD = {  # case: (files, our problem, what go says)
    "wrong-prefix": ({**GOOD, "example.com/other@v2.1.0/x.go": b"package x\n"}, "path does not have prefix", "has unexpected file"),
    "case-collision": ({**GOOD, PREFIX + "A.go": b"package vectors\n"},
                       "case-insensitive file name collision", "case-insensitive file name collision"),
    "nested-go-mod": ({**GOOD, PREFIX + "sub/go.mod": b"module example.com/sub\n"},
                      "go.mod file not in module root directory", "go.mod file not in module root directory"),
    "upper-case-go-mod": ({k: v for k, v in GOOD.items() if not k.endswith("go.mod")} | {PREFIX + "GO.MOD": GO_MOD},
                          "go.mod files must have lowercase names", "go.mod files must have lowercase names"),
    "unclean-path": ({**GOOD, PREFIX + "sub/../c.go": b"package vectors\n"}, "file path is not clean", "file path is not clean"),
    "windows-name": ({**GOOD, PREFIX + "sub/aux.go": b"package sub\n"}, "'aux' disallowed as path element component on Windows",
                     "disallowed as path element component on Windows"),
    "trailing-dot": ({**GOOD, PREFIX + "notes.": b"x\n"}, "trailing dot in path element", "trailing dot in path element"),
    "shell-char": ({**GOOD, PREFIX + "a*b.go": b"package vectors\n"}, "invalid char '*'", "invalid char '*'"),
}


@needs_go
@pytest.mark.parametrize("case", BAD, ids=list(BAD))
def test_go_refuses_what_the_check_refuses(tmp_path, case):
    files, problem, go_says = BAD[case]
    data = make_zip(files)
    assert any(problem in p for p in zip_problems(data, MODULE, VERSION)), zip_problems(data, MODULE, VERSION)
    proc = go_download(tmp_path, data)
    said = proc.stdout + proc.stderr
    assert proc.returncode != 0 and go_says in said, f"go did not refuse it for {go_says!r}: {said}"


def test_truncated_zip_is_a_problem_not_a_crash():
    data = make_zip(GOOD)
    assert zip_problems(data[: len(data) // 2], MODULE, VERSION)[0].startswith("not a zip file")


def test_html_error_page_is_a_problem_not_a_crash():
    problems = zip_problems(b"<html><body>502 Bad Gateway</body></html>", MODULE, VERSION)
    assert problems[0].startswith("not a zip file") and "502 Bad Gateway" in problems[0]


def test_go_mod_must_match_the_mod_response():
    problems = zip_problems(make_zip(GOOD), MODULE, VERSION, b"module example.com/Vectors/v2\n\ngo 1.22\n")
    assert problems == (f"{PREFIX}go.mod differs from the .mod response: line 3 is 'go 1.21' in the zip, 'go 1.22' in .mod",)


def test_zip_without_go_mod_needs_a_synthesized_mod():
    files = {k: v for k, v in GOOD.items() if not k.endswith("go.mod")}
    assert zip_problems(make_zip(files), MODULE, VERSION, b"module example.com/Vectors/v2\n") == ()
    assert zip_problems(make_zip(files), MODULE, VERSION, b"module example.com/elsewhere\n") != ()


def test_altered_content_changes_the_hash():
    altered = {**GOOD, PREFIX + "a.go": b"package vectors // altered\n"}
    assert zip_hash(make_zip(altered)) != zip_hash(make_zip(GOOD))


@pytest.mark.parametrize(("text", "path"), [
    (b"module github.com/x/y\n", "github.com/x/y"),
    (b"// Deprecated: use z\nmodule github.com/x/y // trailing\n\ngo 1.20\n", "github.com/x/y"),
    (b'module "github.com/x/y"\n', "github.com/x/y"),
    (b"go 1.20\n", None),
    (b"<html>not found</html>", None),
])
def test_module_path(text, path):
    assert module_path(text) == path


def test_retractions_of_single_versions_intervals_and_blocks():
    go_mod = (b"module example.com/m\n\nretract v1.0.0 // published too early\nretract [v1.1.0, v1.2.0]\n"
              b"retract (\n\tv1.5.3 // an incorrect branch\n\t[v2.0.0, v2.1.0]\n)\n// retract v9.9.9\n")
    assert retractions(go_mod) == [("v1.0.0", "v1.0.0"), ("v1.1.0", "v1.2.0"), ("v1.5.3", "v1.5.3"), ("v2.0.0", "v2.1.0")]
    assert retractions(b"module example.com/m\n") == []
