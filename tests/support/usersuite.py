"""Run a user's test suite that uses stomp-ng's pytest fixtures, in a fresh pytest
process (the plugin as an installed user gets it)."""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def plugin_registered() -> bool:
    """Whether stomp-ng's ``pytest11`` entry point is installed."""
    entry_points = importlib.metadata.entry_points(group="pytest11")
    return any(ep.value == "stomp.pytest_plugin" for ep in entry_points)


def run_user_suite(
    directory: Path, tests: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Write ``tests`` to ``test_user.py`` in ``directory`` and run pytest on it with
    ``args``; the working tree's ``stomp`` is the one imported."""
    (directory / "test_user.py").write_text(textwrap.dedent(tests))
    environment = dict(os.environ if env is None else env)
    environment["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(ROOT), environment.get("PYTHONPATH")])
    )
    plugin = [] if plugin_registered() else ["-p", "stomp.pytest_plugin"]
    return subprocess.run(
        [sys.executable, "-m", "pytest", *plugin, "-q", "-p", "no:cacheprovider", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=directory,
        env=environment,
    )
