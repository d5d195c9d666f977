"""The documentation build's configuration: the fixture reference (``stomp.pytest_plugin``,
which imports pytest) is documented even where pytest is not installed."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def test_the_pytest_plugin_is_documented_without_pytest() -> None:
    pytest.importorskip("sphinx")
    # A fresh interpreter in which pytest cannot be imported, as in a build environment
    # with only Sphinx: autodoc's import of the plugin, with the configured mocks.
    script = textwrap.dedent(
        f"""
        import runpy, sys

        class NoPytest:  # import pytest now fails (unless something mocks it)
            def find_spec(self, name, path=None, target=None):
                if name == "pytest" or name.startswith(("pytest.", "_pytest")):
                    raise ModuleNotFoundError(f"No module named {{name!r}}")
                return None

        sys.meta_path.insert(0, NoPytest())
        conf = runpy.run_path({str(REPO / "docs" / "conf.py")!r})
        from sphinx.ext.autodoc.mock import mock
        with mock(conf.get("autodoc_mock_imports", [])):
            import stomp.pytest_plugin as plugin
        print(plugin.__doc__)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, cwd=REPO
    )
    assert done.returncode == 0, done.stderr
    for fixture in ("stomp_broker", "stomp_connection", "stomp_broker_options"):
        assert fixture in done.stdout
