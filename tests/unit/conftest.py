"""The connection-layer tests use the fixtures of tests/conftest.py: the scripted fake
broker (``make_broker``, ``broker``), connections to it (``make_conn``), refused ports
(``refused``) and a test CA for TLS.  The codec suites run twice through ``codec_path``:
with the C accelerator of the decoder and with the pure-Python decoder."""

from collections.abc import Iterator

import pytest
from codecutil import require_speedups

from stomp.codec import FrameDecoder
from stomp.codec.decode import _c_scan

#: The decoder paths: "speedups" (the C accelerator, stomp._speedups) and "pure" (Python).
CODEC_PATHS = ["speedups", "pure"]


@pytest.fixture(scope="module", params=CODEC_PATHS)
def codec_path(request: pytest.FixtureRequest) -> Iterator[str]:
    """Run the module's tests with every ``FrameDecoder`` on one path, then the other (the
    test id says which: ``[speedups-...]`` or ``[pure-...]``).  Module-scoped, so
    hypothesis' tests may use it."""
    if request.param == "speedups":
        require_speedups()
    saved = FrameDecoder._scan
    FrameDecoder._scan = _c_scan if request.param == "speedups" else None
    try:
        yield request.param
    finally:
        FrameDecoder._scan = saved
