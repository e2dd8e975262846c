"""Fixtures of the goproxy package's tests: the real go toolchain as the judge of how Go decodes an answer."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Sequence

import pytest

#: json.Unmarshal into cmd/go/internal/modfetch.RevInfo (the fields a proxy's JSON fills), one result line per argument.
_DECODE_GO = """package main

import (
	"encoding/json"
	"fmt"
	"os"
	"time"
)

type origin struct {
	VCS, URL, Subdir, Hash, TagPrefix, TagSum, Ref, RepoSum string
}

type revInfo struct {
	Version string
	Time    time.Time
	Name    string `json:"-"`
	Short   string `json:"-"`
	Origin  *origin `json:",omitempty"`
}

func main() {
	for _, arg := range os.Args[1:] {
		var info revInfo
		if err := json.Unmarshal([]byte(arg), &info); err != nil {
			fmt.Println("error")
		} else {
			fmt.Printf("ok %q\\n", info.Version)
		}
	}
}
"""


@pytest.fixture(scope="session")
def go_decodes(tmp_path_factory: pytest.TempPathFactory) -> Callable[[Sequence[str]], list[str]]:
    """Decode each JSON text as the go command decodes an .info answer: ``ok "<Version>"`` or ``error``."""
    go = shutil.which("go")
    if go is None:
        pytest.skip("no go binary on PATH: Go itself cannot judge here")
    folder = tmp_path_factory.mktemp("go-decode")
    (folder / "main.go").write_text(_DECODE_GO)
    binary = folder / "decode"
    subprocess.run([go, "build", "-o", str(binary), "main.go"], cwd=folder, check=True, capture_output=True, timeout=300,
                   env={**os.environ, "GOTOOLCHAIN": "local", "GOFLAGS": ""})

    def decode(texts: Sequence[str]) -> list[str]:
        proc = subprocess.run([str(binary), *texts], capture_output=True, text=True, check=True, timeout=60)
        return proc.stdout.splitlines()

    return decode

