"""ANSI terminal colour codes used by the command-line client.

On Windows every code is the empty string (its console may not understand ANSI escapes);
the platform is checked once, at import, as stomp.py does.
"""

from __future__ import annotations

import platform

__all__ = ["BOLD", "GREEN", "NO_COLOUR", "RED", "platform"]

_ANSI = platform.system().lower() != "windows"

#: Switch the foreground colour to green.
GREEN: str = "\33[32m" if _ANSI else ""
#: Switch the foreground colour to red.
RED: str = "\33[31m" if _ANSI else ""
#: Reset colours and attributes.
NO_COLOUR: str = "\33[0m" if _ANSI else ""
#: Switch to bold text.
BOLD: str = "\33[1m" if _ANSI else ""
