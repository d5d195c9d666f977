"""Which decoder path runs: the C accelerator when it is there, else pure Python, said once
at debug level when ``stomp.codec`` is imported; ``STOMP_NO_SPEEDUPS=1`` forces pure Python."""

from __future__ import annotations

import os
import subprocess
import sys

from codecutil import require_speedups

PROBE = """
import logging, sys
logging.basicConfig(level=logging.DEBUG, stream=sys.stdout, format="%(name)s %(message)s")
if sys.argv[1] == "block":
    sys.modules["stomp._speedups"] = None  # as if it had not been built
from stomp.codec import FrameDecoder
print("speedups", FrameDecoder().speedups, FrameDecoder().feed(b"SEND\\na:1\\n\\nx\\0")[0].body)
"""


def probe(mode: str, **env: str) -> list[str]:
    environ = {k: v for k, v in os.environ.items() if k != "STOMP_NO_SPEEDUPS"}
    result = subprocess.run(
        [sys.executable, "-c", PROBE, mode],
        env={**environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return [line for line in result.stdout.splitlines() if "decoder" in line or "speedups" in line]


def test_the_accelerator_is_used_when_built() -> None:
    require_speedups()
    assert probe("plain") == ["speedups True b'x'"]


def test_no_speedups_forces_pure_python_and_says_so_once() -> None:
    assert probe("plain", STOMP_NO_SPEEDUPS="1") == [
        "stomp.py decoder: pure Python (STOMP_NO_SPEEDUPS=1)",
        "speedups False b'x'",
    ]


def test_without_the_extension_pure_python_says_so_once() -> None:
    lines = probe("block")
    assert len(lines) == 2, lines
    assert lines[0].startswith("stomp.py decoder: pure Python (the C accelerator is not there:")
    assert lines[1] == "speedups False b'x'"
