"""``stomp.logging``: the stomp.py 8.x name of :mod:`stomp.log`, kept as an alias.

stomp.py 9.0.0 renamed ``stomp.logging`` to ``stomp.log``; code and tests written for 8.x
still do ``from stomp import logging``.  Importing this module replaces it, in
``sys.modules``, with :mod:`stomp.log` itself, so both names are one module object:
``stomp.logging is stomp.log``, and setting ``stomp.logging.verbose`` is setting
``stomp.log.verbose``.

This file does not shadow the standard library: inside the package, ``import logging`` is an
absolute import and gets the standard module.  Only running a file of the package as a
script (``python stomp/utils.py``, which puts ``stomp/`` itself on ``sys.path``) would let
this file hide the standard ``logging``; use ``python -m stomp`` instead.
"""

from __future__ import annotations

import sys

from stomp import log as _log
from stomp.log import *  # noqa: F403  (for type checkers: the same names as stomp.log)

sys.modules[__name__] = _log
