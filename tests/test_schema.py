"""``gauntlet schema``: the environment file's JSON Schema, generated from the model, for editors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from gauntlet import paths
from gauntlet.environment import load_environment
from gauntlet.exceptions import ConfigError

FILES = sorted((paths.ROOT / "environments").glob("*.yaml")) + sorted((paths.ROOT / "examples").glob("*.yaml"))


@pytest.fixture(scope="module")
def validator() -> jsonschema.protocols.Validator:
    proc = subprocess.run([sys.executable, "-m", "gauntlet", "schema"], capture_output=True, text=True, timeout=60, cwd=paths.ROOT)
    assert proc.returncode == 0, proc.stderr
    schema = json.loads(proc.stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _field(path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


@pytest.mark.parametrize("file", FILES, ids=lambda f: f.name)
def test_every_shipped_environment_file_validates(validator, file):
    data = json.loads(json.dumps(yaml.safe_load(file.read_text()), default=str))  # dates as an editor's YAML 1.2 sees them
    errors = [f"{_field(e.absolute_path)}: {e.message}" for e in validator.iter_errors(data)]
    assert not errors, errors


@pytest.mark.parametrize(("change", "field"), [
    (lambda d: d["claims"][0].update(gates="yes"), "claims[0].gates"),
    (lambda d: d["endpoints"][0].update(role="gateway"), "endpoints[0].role"),
    (lambda d: d["claims"][1].update(evidence=["Load P95"]), "claims[1].evidence[0]"),
    (lambda d: d["claims"][0].update(about="clients"), "claims[0].about"),
    (lambda d: d["load_profiles"]["smoke"].update(users=0), "load_profiles.smoke.users"),
])
def test_a_wrong_file_gets_the_same_field_error_from_the_schema_and_the_loader(validator, write_env, env_data, change, field):
    change(env_data)
    path: Path = write_env(env_data)
    with pytest.raises(ConfigError) as caught:
        load_environment("sample")
    errors = list(validator.iter_errors(env_data))
    assert [_field(e.absolute_path) for e in errors] == [field], [e.message for e in errors]
    assert str(caught.value).startswith(f"{path}: {field}: "), str(caught.value)


def test_an_unknown_field_is_refused_by_both(validator, env_data):
    env_data["claims"][0]["evidense"] = []
    (error,) = validator.iter_errors(env_data)
    assert _field(error.absolute_path) == "claims[0]" and "'evidense' was unexpected" in error.message
