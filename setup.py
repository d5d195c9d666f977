"""Builds the optional C accelerator of the decoder, ``stomp._speedups``.

Everything else is declared in pyproject.toml.  The extension is optional: when it cannot
be built (no compiler, no Python headers) the install goes on without it and stomp-ng
runs its pure-Python decoder, which behaves the same (docs/development.rst).  It is not
built on PyPy or free-threaded CPython, which run the pure-Python decoder.
"""

from __future__ import annotations

import os
import platform
import sysconfig

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


class OptionalBuildExt(build_ext):
    """A build_ext whose failure is a warning, not a failed install (unless
    ``STOMP_REQUIRE_SPEEDUPS=1``, which CI sets)."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:
            self._failed(exc)

    def build_extension(self, ext: Extension) -> None:
        try:
            super().build_extension(ext)
        except Exception as exc:
            self._failed(exc)

    def _failed(self, exc: Exception) -> None:
        if os.environ.get("STOMP_REQUIRE_SPEEDUPS") == "1":
            raise exc
        print(
            f"WARNING: stomp._speedups (the optional C decoder) was not built ({exc}); "
            "stomp-ng will use its pure-Python decoder"
        )


def extensions() -> list[Extension]:
    if platform.python_implementation() != "CPython":
        return []
    if sysconfig.get_config_var("Py_GIL_DISABLED"):
        return []  # free-threaded: the limited API is not available there yet
    if os.environ.get("STOMP_NO_SPEEDUPS") == "1":
        return []
    return [
        Extension(
            "stomp._speedups",
            ["stomp/_speedups.c"],
            py_limited_api=True,
            define_macros=[("Py_LIMITED_API", "0x030A0000")],
            extra_compile_args=os.environ.get("STOMP_SPEEDUPS_CFLAGS", "").split(),
            extra_link_args=os.environ.get("STOMP_SPEEDUPS_LDFLAGS", "").split(),
        )
    ]


ext_modules = extensions()
setup(
    ext_modules=ext_modules,
    cmdclass={"build_ext": OptionalBuildExt},
    options={"bdist_wheel": {"py_limited_api": "cp310"}} if ext_modules else {},
)
