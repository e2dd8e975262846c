# gauntlet as a CI job or a Kubernetes Job (also Locust workers:
#   docker run --entrypoint locust IMAGE -f load/goproxy.py --worker --master-host MASTER;
#   load/README.md has the Kubernetes Job form).
# Not built on the development machines (no Docker engine there): kept small and conventional.
# The Go toolchain (pinned, the one the local stack is built with) is there for the real-client
# checks of the GOPROXY suite (`go mod download` through the proxy); without it they are skipped.
FROM golang:1.26.8-bookworm AS go

FROM python:3.11-slim-bookworm
COPY --from=go /usr/local/go /usr/local/go
ENV PATH=/usr/local/go/bin:$PATH GOTOOLCHAIN=local
RUN apt-get update \
 && apt-get install -y --no-install-recommends make git ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 10001 gauntlet
WORKDIR /home/gauntlet/app
COPY --chown=gauntlet:gauntlet pyproject.toml requirements.lock README.md ./
COPY --chown=gauntlet:gauntlet gauntlet ./gauntlet
USER gauntlet
RUN python -m venv .venv && .venv/bin/pip install --no-cache-dir -c requirements.lock -e .
COPY --chown=gauntlet:gauntlet . .
ENV PATH=/home/gauntlet/app/.venv/bin:$PATH
ENTRYPOINT ["gauntlet"]
CMD ["--help"]
