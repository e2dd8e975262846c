# gauntlet: the two commands of the README, and what they need.
#   make run   set-up, then the main job on the embedded local stack
#   make test  set-up, then the harness's own tests
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: setup run test clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/python pyproject.toml requirements.lock
	$(BIN)/pip install --quiet -c requirements.lock -e .
	touch $@

setup: $(VENV)/.installed

run: setup
	$(BIN)/gauntlet run

test: setup
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) reports/[0-9]* reports/latest
