# gauntlet as a CI job or a Kubernetes Job (also Locust workers:
#   docker run --entrypoint locust IMAGE -f load/goproxy.py --worker --master-host MASTER;
#   load/README.md has the Kubernetes Job form).
# Not built on the development machines (no Docker engine there): kept small and conventional.
FROM python:3.11-slim-bookworm
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
