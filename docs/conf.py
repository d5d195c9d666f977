"""Sphinx configuration for the stomp-ng documentation.

Built with ``sphinx-build -W --keep-going -b html docs docs/_build/html``.
The build runs without network access, so nothing here may fetch anything
(no intersphinx).
"""

from __future__ import annotations

import sys
from pathlib import Path

# Document the working tree even when stomp-ng is not installed.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from stomp import _version

project = "stomp-ng"
author = "stomp-ng contributors"
copyright = "stomp-ng contributors"
release = _version.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
]

autodoc_default_options = {
    "members": True,
    "show-inheritance": True,
    # A module's own members, not its __all__: stomp.py-compatible modules list there the
    # names of the modules they re-export (and os, re, socket ...), as stomp.py's have.
    "ignore-module-all": True,
}
autodoc_member_order = "bysource"
# stomp.pytest_plugin imports pytest, which a documentation build need not have installed:
# without this its page (the fixture reference) would be left out.
autodoc_mock_imports = ["pytest"]
autodoc_typehints = "description"
napoleon_google_docstring = True
napoleon_numpy_docstring = True

exclude_patterns = ["_build", "_*.rst"]  # (_*.rst: parts included by pages)
html_theme = "alabaster"
html_static_path: list[str] = []
