"""Tests of stomp.constants, stomp.log (and its stomp.logging alias) and stomp.colours."""

from __future__ import annotations

import importlib
import logging
import platform
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

import stomp.colours
import stomp.constants
import stomp.log

REPO = Path(__file__).resolve().parents[2]

# ---------------------------------------------------------------------------- constants

STOMP_PY_CONSTANTS = {
    "HDR_ACCEPT_VERSION": "accept-version",
    "HDR_ACK": "ack",
    "HDR_CONTENT_LENGTH": "content-length",
    "HDR_CONTENT_TYPE": "content-type",
    "HDR_DESTINATION": "destination",
    "HDR_HEARTBEAT": "heart-beat",
    "HDR_HOST": "host",
    "HDR_ID": "id",
    "HDR_MESSAGE_ID": "message-id",
    "HDR_LOGIN": "login",
    "HDR_PASSCODE": "passcode",
    "HDR_RECEIPT": "receipt",
    "HDR_SUBSCRIPTION": "subscription",
    "HDR_TRANSACTION": "transaction",
    "CMD_ABORT": "ABORT",
    "CMD_ACK": "ACK",
    "CMD_BEGIN": "BEGIN",
    "CMD_COMMIT": "COMMIT",
    "CMD_CONNECT": "CONNECT",
    "CMD_DISCONNECT": "DISCONNECT",
    "CMD_NACK": "NACK",
    "CMD_STOMP": "STOMP",
    "CMD_SEND": "SEND",
    "CMD_SUBSCRIBE": "SUBSCRIBE",
    "CMD_UNSUBSCRIBE": "UNSUBSCRIBE",
}

STOMP_NG_ADDITIONS = {
    "HDR_RECEIPT_ID": "receipt-id",
    "HDR_VERSION": "version",
    "CMD_CONNECTED": "CONNECTED",
    "CMD_MESSAGE": "MESSAGE",
    "CMD_RECEIPT": "RECEIPT",
    "CMD_ERROR": "ERROR",
}


@pytest.mark.parametrize(
    ("name", "value"), sorted({**STOMP_PY_CONSTANTS, **STOMP_NG_ADDITIONS}.items())
)
def test_constant_value(name: str, value: str) -> None:
    assert getattr(stomp.constants, name) == value


def test_constants_all_is_exactly_the_constants() -> None:
    assert sorted(stomp.constants.__all__) == sorted({**STOMP_PY_CONSTANTS, **STOMP_NG_ADDITIONS})
    public = {n for n in vars(stomp.constants) if n.startswith(("HDR_", "CMD_"))}
    assert public == set(stomp.constants.__all__)


def test_constants_docstring_names_the_additions() -> None:
    doc = stomp.constants.__doc__
    assert doc is not None
    for name in STOMP_NG_ADDITIONS:
        assert name in doc


def test_constants_reexported_by_utils() -> None:
    import stomp.utils

    for name, value in {**STOMP_PY_CONSTANTS, **STOMP_NG_ADDITIONS}.items():
        assert getattr(stomp.utils, name) == value
        assert name in stomp.utils.__all__


# ---------------------------------------------------------------------------- log

STOMP_LOGGER = logging.getLogger("stomp.py")


@pytest.fixture
def restore_stomp_logger() -> Iterator[None]:
    handlers = list(STOMP_LOGGER.handlers)
    level = STOMP_LOGGER.level
    verbose = stomp.log.verbose
    stdout_handler = stomp.log._stdout_handler
    try:
        yield
    finally:
        STOMP_LOGGER.handlers[:] = handlers
        STOMP_LOGGER.setLevel(level)
        stomp.log.verbose = verbose
        stomp.log._stdout_handler = stdout_handler


def test_log_all_names_exist() -> None:
    assert sorted(stomp.log.__all__) == sorted(
        [
            "DEBUG",
            "INFO",
            "LOGGER_NAME",
            "debug",
            "error",
            "getLogger",
            "info",
            "isEnabledFor",
            "log_to_stdout",
            "setLevel",
            "verbose",
            "warning",
        ]
    )
    assert all(hasattr(stomp.log, name) for name in stomp.log.__all__)


def test_log_levels() -> None:
    assert stomp.log.DEBUG == logging.DEBUG == 10
    assert stomp.log.INFO == logging.INFO == 20
    assert stomp.log.LOGGER_NAME == "stomp.py"


@pytest.mark.parametrize("name", ["debug", "info", "warning", "error", "isEnabledFor", "setLevel"])
def test_log_functions_are_bound_methods_of_the_stomp_py_logger(name: str) -> None:
    method = getattr(stomp.log, name)
    assert method.__self__ is STOMP_LOGGER
    assert method.__func__ is getattr(logging.Logger, name)


def test_log_records_go_to_the_stomp_py_logger(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="stomp.py"):
        stomp.log.debug("d %s", 1)
        stomp.log.info("i")
        stomp.log.warning("w")
        stomp.log.error("e")
        stomp.log.getLogger("transport").info("child")
    assert [(r.name, r.levelname, r.getMessage()) for r in caplog.records] == [
        ("stomp.py", "DEBUG", "d 1"),
        ("stomp.py", "INFO", "i"),
        ("stomp.py", "WARNING", "w"),
        ("stomp.py", "ERROR", "e"),
        ("stomp.py.transport", "INFO", "child"),
    ]


def test_get_logger() -> None:
    assert stomp.log.getLogger() is STOMP_LOGGER
    assert stomp.log.getLogger("") is STOMP_LOGGER
    child = stomp.log.getLogger("transport")
    assert child.name == "stomp.py.transport"
    assert child.parent is STOMP_LOGGER


def test_set_level_and_is_enabled_for(restore_stomp_logger: None) -> None:
    stomp.log.setLevel(logging.ERROR)
    assert STOMP_LOGGER.level == logging.ERROR
    assert stomp.log.isEnabledFor(logging.ERROR) is True
    assert stomp.log.isEnabledFor(logging.WARNING) is False


def test_log_to_stdout(restore_stomp_logger: None, capsys: pytest.CaptureFixture[str]) -> None:
    before = list(STOMP_LOGGER.handlers)
    stomp.log.log_to_stdout()
    assert stomp.log.verbose is True
    assert STOMP_LOGGER.level == logging.DEBUG
    added = [h for h in STOMP_LOGGER.handlers if h not in before]
    assert len(added) == 1
    handler = added[0]
    assert isinstance(handler, logging.StreamHandler)
    assert handler.level == logging.DEBUG
    stomp.log.debug("hello %s", "there")
    out = capsys.readouterr().out
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} - stomp\.py - DEBUG - hello there\n", out
    ), out

    # A second call adds no second handler (stomp.py would print every line twice).
    stomp.log.log_to_stdout(verbose_logging=False)
    assert stomp.log.verbose is False
    stomp.log.info("once")
    assert capsys.readouterr().out.count("once") == 1


def _run(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=REPO,
        env={"PYTHONPATH": str(REPO), "STOMP_SKIP_HOSTNAME_SCAN": "1", "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_import_installs_no_handler_and_leaves_root_alone() -> None:
    out = _run(
        """
        import logging
        import stomp, stomp.log, stomp.utils, stomp.logging
        print(logging.getLogger("stomp.py").handlers, logging.getLogger().handlers,
              logging.getLogger("stomp.py").level, logging.getLogger().level,
              stomp.log.verbose)
        """
    )
    assert out == "[] [] 0 30 False\n"


def test_stomp_logging_alias_in_a_fresh_interpreter() -> None:
    # stomp.logging imported first, before anything has imported stomp.log.
    out = _run(
        """
        import logging as std
        from stomp import logging
        import stomp, stomp.log, sys
        print(logging is stomp.log, stomp.logging is stomp.log,
              sys.modules["stomp.logging"] is stomp.log, stomp.log.logging is std,
              std.__name__, std.getLogger is logging.logging.getLogger)
        """
    )
    assert out == "True True True True logging True\n"


def test_stomp_logging_alias_shares_state() -> None:
    from stomp import logging as old_name

    assert old_name is stomp.log
    for name in stomp.log.__all__:
        assert getattr(old_name, name) is getattr(stomp.log, name)
    saved = stomp.log.verbose
    try:
        old_name.verbose = not saved
        assert stomp.log.verbose is (not saved)
    finally:
        stomp.log.verbose = saved


def test_log_module_uses_the_standard_logging() -> None:
    assert vars(stomp.log)["logging"] is logging
    assert logging.__name__ == "logging"
    assert Path(logging.__file__ or "").parent.name == "logging"
    assert Path(logging.__file__ or "").parent.parent != REPO / "stomp"


# ---------------------------------------------------------------------------- colours


def test_colours_on_this_platform() -> None:
    if platform.system().lower() == "windows":
        expected = ("", "", "", "")
    else:
        expected = ("\x1b[32m", "\x1b[31m", "\x1b[0m", "\x1b[1m")
    colours = stomp.colours
    assert expected == (colours.GREEN, colours.RED, colours.NO_COLOUR, colours.BOLD)


@pytest.mark.parametrize(
    ("system", "expected"),
    [
        ("Windows", ("", "", "", "")),
        ("Linux", ("\x1b[32m", "\x1b[31m", "\x1b[0m", "\x1b[1m")),
        ("Darwin", ("\x1b[32m", "\x1b[31m", "\x1b[0m", "\x1b[1m")),
    ],
)
def test_colours_per_platform(
    monkeypatch: pytest.MonkeyPatch, system: str, expected: tuple[str, ...]
) -> None:
    monkeypatch.setattr(platform, "system", lambda: system)
    try:
        colours = importlib.reload(stomp.colours)
        assert expected == (colours.GREEN, colours.RED, colours.NO_COLOUR, colours.BOLD)
    finally:
        monkeypatch.undo()
        importlib.reload(stomp.colours)


def test_colours_all() -> None:
    # (platform too: stomp.py's star import hands it on)
    assert sorted(stomp.colours.__all__) == ["BOLD", "GREEN", "NO_COLOUR", "RED", "platform"]
