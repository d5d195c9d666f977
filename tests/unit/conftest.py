"""The connection-layer tests use the fixtures of tests/conftest.py: the scripted fake
broker (``make_broker``, ``broker``), connections to it (``make_conn``), refused ports
(``refused``) and a test CA for TLS.  The codec suites run twice through ``codec_path``:
with the C accelerator of the decoder and with the pure-Python decoder."""

import os
from collections.abc import Iterator

import pytest

from stomp.codec import FrameDecoder
from stomp.codec.decode import _c_scan

#: The decoder paths: "speedups" (the C accelerator, stomp._speedups) and "pure" (Python).
CODEC_PATHS = ["speedups", "pure"]


def require_speedups() -> None:
    """Skip when the C accelerator is not built, but fail in CI (``CI`` set), where a
    silent fallback would leave it untested."""
    if _c_scan is None:
        if os.environ.get("CI"):
            pytest.fail("stomp._speedups is not importable in CI", pytrace=False)
        pytest.skip("stomp._speedups is not built (or STOMP_NO_SPEEDUPS=1)")


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
