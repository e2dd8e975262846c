"""Root conftest: hooks and plugins only (no helpers here)."""

pytest_plugins = ["gauntlet.plugin"]
