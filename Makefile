# gauntlet: the two commands of the README, and what they need.
#   make run   set-up, then the main job on the embedded local stack
#   make test  set-up, then the harness's own tests
#   make check lint, types and the unit tests that need no local stack (minutes; run it before make test)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: setup run test check clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

CACHE  := $(or $(GAUNTLET_CACHE_DIR),$(HOME)/.cache/gauntlet)

$(VENV)/.installed: $(BIN)/python pyproject.toml requirements.lock
	$(BIN)/pip install --quiet -c requirements.lock -e '.[dev]'
	-GOBIN=$(CACHE)/bin GOTOOLCHAIN=local go install github.com/rhysd/actionlint/cmd/actionlint@v1.7.7
	touch $@

# Debian's Chromium and its driver, for the report page's browser test.
$(CACHE)/.browser:
	command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
	  { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium chromium-driver; }
	mkdir -p $(CACHE) && touch $@

# Then Debian's PostgreSQL and HAProxy for the database tier; containerd, runc, the CNI plugins, iptables and socat
# the real nodes run on, and nginx, njs, busybox-static and gcc their images are made of (gauntlet/local/kube_nodes.py,
# node_images.py); their services never started (idempotent).
setup: $(VENV)/.installed $(CACHE)/.browser
	$(BIN)/python -c "from gauntlet.local import db_tier, kube_nodes; db_tier.install_packages(); kube_nodes.install_packages()"

run: setup
	$(BIN)/gauntlet run

# Unit tests first, then the local stack's (each tier started as needed and left as found;
# the cluster tier builds its binaries once, ~10 min on a fresh machine).
test: setup
	$(BIN)/python -m pytest

check: setup
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -q -m "not local_stack and not cluster and not slow"

clean:
	rm -rf $(VENV) reports/[0-9]* reports/latest
