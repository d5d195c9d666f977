"""stomp-ng against stomp.py 9.0.0's public surface, as its modules expose it at run time.

``stomp-py-9.0.0-surface.json`` (beside this file, a copy of the project's reference) holds,
for each of stomp.py's modules, the names ``from M import *`` yields, every module-level
name with its kind, each class's members and each callable's parameters.  The checks:

* every module imports, and ``from M import *`` yields at least stomp.py's names;
* every module-level name exists, of the same kind (module, class, callable, value type);
* every class has every member, private and name-mangled ones included (those a user's
  test double may touch: ``_Transport__ssl_params``, ``_escape_headers``,
  ``_HeartbeatListener__update_heartbeat`` ...);
* every stomp.py parameter is accepted at the same position, under the same name, with the
  same default.  Fine: optional parameters after them, ``*args``/``**kwargs``, a default
  where stomp.py has none.  A stomp.py wrapper ``(self, *args, **kwargs)`` is satisfied by
  the signature of what it forwards to.

Every deliberate difference is in :data:`DIFFERENCES`, with its reason; each is documented
in ``docs/compatibility.rst``, and an entry that no longer matches anything fails the run.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

SURFACE: dict[str, Any] = json.loads(
    (Path(__file__).with_name("stomp-py-9.0.0-surface.json")).read_text(encoding="utf-8")
)["modules"]

#: The deliberate differences, by where they apply (``Class.member`` or
#: ``Class.member(parameter)``, for that class in every module that exposes it), with the
#: reason.  docs/compatibility.rst lists the same.
DIFFERENCES: dict[str, str] = {
    # -- parameters -------------------------------------------------------------------------
    "Transport.__init__(recv_bytes)": (
        "64 KiB rather than 16 KiB: fewer, larger reads are faster (reads grow further "
        "during bursts of large frames)"
    ),
    "Transport.set_ssl(for_hosts)": "an empty tuple, not a mutable [] default; same meaning",
    "Transport.set_ssl(ssl_version)": (
        "None stands for DEFAULT_SSL_VERSION (ssl.PROTOCOL_TLS_CLIENT), so that neither "
        "import stomp nor the signature imports ssl; get_ssl() reports the resolved value"
    ),
    "WSTransport.set_ssl(for_hosts)": "as Transport.set_ssl",
    "WSTransport.set_ssl(ssl_version)": "as Transport.set_ssl",
    "MulticastTransport.set_ssl(for_hosts)": "as Transport.set_ssl",
    "MulticastTransport.set_ssl(ssl_version)": "as Transport.set_ssl",
    "StompCLI.__init__(stdin)": (
        "None means sys.stdin when the client is made, not the sys.stdin of import time "
        "(which pytest's capture and redirections replace)"
    ),
    "StompCLI.__init__(stdout)": "as stdin",
    # -- private members left out -----------------------------------------------------------
    "BaseTransport._BaseTransport__io_loop": (
        "the receiver loop feeds the codec's incremental decoder; stomp.py's private loop "
        "and its two steps below have no counterpart (override receive() or process_frame)"
    ),
    "BaseTransport._BaseTransport__read": "see _BaseTransport__io_loop",
    "BaseTransport._BaseTransport__read_frames": "see _BaseTransport__io_loop",
    "StompCLI._StompCLI__error": (
        "private output helpers of the command-line client; a test sees the output on the "
        "stdout given to StompCLI"
    ),
    "StompCLI._StompCLI__sysout": "see _StompCLI__error",
    "StompCLI._StompCLI__print_async": "see _StompCLI__error",
}

#: Classes that inherit BaseTransport's members, for the entries above.
_TRANSPORTS = ("Transport", "WSTransport", "MulticastTransport")

#: stomp.py's ``(self, *args, **kwargs)`` wrappers and the member they forward to.
FORWARDS = {
    ("StompConnection10", "connect"): ("stomp.protocol", "Protocol10", "connect"),
    ("StompConnection11", "connect"): ("stomp.protocol", "Protocol11", "connect"),
    ("StompConnection12", "connect"): ("stomp.protocol", "Protocol12", "connect"),
    ("Connection10", "connect"): ("stomp.protocol", "Protocol10", "connect"),
    ("Connection11", "connect"): ("stomp.protocol", "Protocol11", "connect"),
    ("Connection12", "connect"): ("stomp.protocol", "Protocol12", "connect"),
    ("Connection", "connect"): ("stomp.protocol", "Protocol11", "connect"),
    ("WSConnection", "connect"): ("stomp.protocol", "Protocol12", "connect"),
    ("WSStompConnection", "connect"): ("stomp.protocol", "Protocol12", "connect"),
    ("MulticastConnection", "connect"): None,  # its own: only starts the transport
}

_used: set[str] = set()


def _difference(cls: str, member: str, parameter: str | None = None) -> str | None:
    """The reason for a listed difference, or None."""
    keys = [f"{cls}.{member}" + (f"({parameter})" if parameter else "")]
    if cls in _TRANSPORTS and member.startswith("_BaseTransport__"):
        keys.append(f"BaseTransport.{member}")
    for key in keys:
        if key in DIFFERENCES:
            _used.add(key)
            return DIFFERENCES[key]
    return None


# ---------------------------------------------------------------------------------------
# Signatures as the surface file writes them
# ---------------------------------------------------------------------------------------


def _blank_angles(text: str) -> str:
    # Defaults such as <callable> or <_io.TextIOWrapper name='<stdin>' ...> are not Python:
    # each outermost <...> becomes a string literal.
    out = []
    i = 0
    while i < len(text):
        if text[i] != "<":
            out.append(text[i])
            i += 1
            continue
        depth, j = 1, i + 1
        while depth and j < len(text):
            depth += {"<": 1, ">": -1}.get(text[j], 0)
            j += 1
        inner = text[i + 1 : j - 1].replace("'", "").replace('"', "")
        out.append(repr(f"<{inner}>"))
        i = j
    return "".join(out)


class Params:
    """A parameter list: positional names with their defaults (source text or None),
    keyword-only ones, and whether ``*args`` / ``**kwargs`` are taken."""

    def __init__(
        self,
        positional: list[tuple[str, str | None]],
        keyword_only: dict[str, str | None],
        varargs: bool,
        varkw: bool,
    ) -> None:
        self.positional = positional
        self.keyword_only = keyword_only
        self.varargs = varargs
        self.varkw = varkw

    @classmethod
    def parse(cls, text: str) -> Params:
        """Parse the surface file's ``(a, b=1, *args, **kw)``."""
        function = ast.parse(f"def f{_blank_angles(text)}: pass").body[0]
        assert isinstance(function, ast.FunctionDef)
        args = function.args
        names = args.posonlyargs + args.args
        defaults: list[str | None] = [None] * (len(names) - len(args.defaults))
        defaults += [ast.unparse(d) for d in args.defaults]
        keyword_only = {
            a.arg: (ast.unparse(d) if d is not None else None)
            for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True)
        }
        return cls(
            [(a.arg, d) for a, d in zip(names, defaults, strict=True)],
            keyword_only,
            args.vararg is not None,
            args.kwarg is not None,
        )

    @classmethod
    def of(cls, obj: Any) -> Params:
        """The parameters of one of our callables, defaults rendered as the file does."""
        signature = inspect.signature(obj)
        kinds = inspect.Parameter
        positional = []
        keyword_only = {}
        for p in signature.parameters.values():
            default = None if p.default is kinds.empty else _render(p.default)
            if p.kind in (kinds.POSITIONAL_ONLY, kinds.POSITIONAL_OR_KEYWORD):
                positional.append((p.name, default))
            elif p.kind is kinds.KEYWORD_ONLY:
                keyword_only[p.name] = default
        return cls(
            positional,
            keyword_only,
            any(p.kind is kinds.VAR_POSITIONAL for p in signature.parameters.values()),
            any(p.kind is kinds.VAR_KEYWORD for p in signature.parameters.values()),
        )

    @property
    def forwards_everything(self) -> bool:
        return self.varargs and self.varkw and [n for n, _ in self.positional] in ([], ["self"])


def _render(value: Any) -> str:
    if callable(value) and not isinstance(value, type):
        return repr("<callable>")
    try:
        return ast.unparse(ast.parse(repr(value), mode="eval"))
    except SyntaxError:
        return repr(f"<{type(value).__name__}>")


def compare(theirs: Params, ours: Params, where: tuple[str, str]) -> list[str]:
    """What a call valid for stomp.py would get wrong with ours (listed differences aside)."""
    cls, member = where
    problems = []
    for index, (name, default) in enumerate(theirs.positional):
        if index >= len(ours.positional):
            if not ours.varargs:
                problems.append(f"{name!r}: no parameter at position {index}")
            continue
        our_name, our_default = ours.positional[index]
        if our_name != name:
            problems.append(f"position {index}: {our_name!r} where stomp.py has {name!r}")
        elif (
            default is not None
            and our_default != default
            and _difference(cls, member, name) is None
        ):
            problems.append(f"{name!r}: default {our_default} where stomp.py has {default}")
    for name, default in ours.positional[len(theirs.positional) :]:
        if default is None:
            problems.append(f"extra parameter {name!r} without a default")
    for name, default in ours.keyword_only.items():
        if default is None and name not in theirs.keyword_only:
            problems.append(f"extra keyword {name!r} without a default")
    for name, default in theirs.keyword_only.items():
        accepted = name in ours.keyword_only or name in dict(ours.positional) or ours.varkw
        if not accepted:
            problems.append(f"keyword {name!r} not accepted")
        elif default is not None and ours.keyword_only.get(name, default) != default:
            problems.append(f"keyword {name!r}: another default")
    if theirs.varargs and not ours.varargs:
        problems.append("no *args")
    if theirs.varkw and not ours.varkw:
        problems.append("no **kwargs")
    return problems


# ---------------------------------------------------------------------------------------
# The checks
# ---------------------------------------------------------------------------------------

MODULES = sorted(SURFACE)


def _kind_problem(value: Any, kind: str) -> str | None:
    if kind == "module":
        return None if isinstance(value, types.ModuleType) else f"not a module: {value!r}"
    if kind == "class":
        return None if isinstance(value, type) else f"not a class: {value!r}"
    if kind == "callable" or kind.startswith("("):
        return None if callable(value) else f"not callable: {value!r}"
    if kind.startswith("value:"):
        expected = kind.split(":", 1)[1]
        actual = type(value).__name__
        return None if actual == expected else f"a {actual}, where stomp.py has a {expected}"
    return None  # "attr": present is enough


def _signature_problems(value: Any, kind: str, where: tuple[str, str]) -> list[str]:
    theirs = Params.parse(kind)
    try:
        ours = Params.of(value)
    except (TypeError, ValueError):  # a builtin without a signature
        return []
    if theirs.forwards_everything:
        target = FORWARDS.get(where)
        if target is None or (ours.varargs and ours.varkw):
            return []
        module, cls, member = target
        theirs = Params.parse(SURFACE[module]["classes"][cls][member])
    return compare(theirs, ours, where)


def _module_names() -> Iterator[tuple[str, str, str]]:
    for module in MODULES:
        for name, kind in SURFACE[module]["names"].items():
            yield module, name, kind


def _class_members() -> Iterator[tuple[str, str, str, str]]:
    for module in MODULES:
        for cls, members in SURFACE[module].get("classes", {}).items():
            for member, kind in members.items():
                yield module, cls, member, kind


@pytest.mark.parametrize("module", MODULES)
def test_module_imports_and_star_import_yields_stomppy_names(module: str) -> None:
    importlib.import_module(module)
    namespace: dict[str, Any] = {}
    exec(f"from {module} import *", namespace)
    missing = sorted(set(SURFACE[module]["star_import"]) - set(namespace))
    assert missing == [], f"from {module} import * lacks {missing}"


@pytest.mark.parametrize("module", MODULES)
def test_module_level_names(module: str) -> None:
    imported = importlib.import_module(module)
    problems = []
    for name, kind in SURFACE[module]["names"].items():
        if not hasattr(imported, name):
            problems.append(f"{name}: missing")
            continue
        value = getattr(imported, name)
        problem = _kind_problem(value, kind)
        if problem is not None:
            problems.append(f"{name}: {problem}")
        elif kind.startswith("("):
            problems += [f"{name}: {p}" for p in _signature_problems(value, kind, ("", name))]
    assert problems == [], f"{module}: {problems}"


@pytest.mark.parametrize("module", MODULES)
def test_class_members_and_parameters(module: str) -> None:
    imported = importlib.import_module(module)
    problems = []
    for cls, members in SURFACE[module].get("classes", {}).items():
        ours = getattr(imported, cls)
        for member, kind in members.items():
            if not hasattr(ours, member):
                if _difference(cls, member) is None:
                    problems.append(f"{cls}.{member}: missing")
                continue
            value = getattr(ours, member)
            problem = _kind_problem(value, kind)
            if problem is not None:
                problems.append(f"{cls}.{member}: {problem}")
            elif kind.startswith("("):
                problems += [
                    f"{cls}.{member}: {p}" for p in _signature_problems(value, kind, (cls, member))
                ]
    assert problems == [], f"{module}: {problems}"


def test_every_listed_difference_is_still_a_difference() -> None:
    # Run the checks once more, here, to see which entries they use.
    _used.clear()
    for module in MODULES:
        test_class_members_and_parameters(module)
    assert sorted(set(DIFFERENCES) - _used) == []


def test_listed_differences_are_documented() -> None:
    page = (Path(__file__).parents[2] / "docs" / "compatibility.rst").read_text("utf-8")
    assert sorted(key for key in DIFFERENCES if f"``{key}``" not in page) == []


def test_parameter_comparison_catches_what_would_break_a_caller() -> None:
    # The checker itself: each of these would break a stomp.py call.
    theirs = Params.parse("(self, id, subscription, transaction=None, receipt=None)")
    where = ("X", "ack")
    assert compare(theirs, Params.parse("(self, id, subscription=None, transaction=None, receipt=None, headers=None, **kw)"), where) == []  # fmt: skip
    assert compare(theirs, Params.parse("(self, id, transaction=None, receipt=None)"), where)
    assert compare(theirs, Params.parse("(self, id, subscription, transaction=1)"), where)
    assert compare(theirs, Params.parse("(self, id, subscription, extra, transaction=None)"), where)  # fmt: skip
    assert compare(theirs, Params.parse("(self, id, subscription, *, extra)"), where)
    assert compare(Params.parse("(self, **kw)"), Params.parse("(self)"), where)
    assert compare(Params.parse("(self, *_)"), Params.parse("(self, frame)"), where)
    assert Params.parse("(self, f=<callable>, s=<_io.TextIOWrapper name='<stdin>'>)")


# ---------------------------------------------------------------------------------------
# Private state that stomp.py's own tests read
# ---------------------------------------------------------------------------------------


def test_transport_private_state_read_by_tests() -> None:
    from stomp.transport import Transport

    hosts = [("broker-a", 61614), ("broker-b", 61614)]
    transport = Transport(host_and_ports=hosts)
    transport.set_ssl(hosts, "key.pem", "cert.pem", "ca.pem", "validator", "version")
    for host in hosts:
        params = transport._Transport__ssl_params[host]  # type: ignore[attr-defined]
        assert params["key_file"] == "key.pem"
        assert params["cert_file"] == "cert.pem"
        assert params["ca_certs"] == "ca.pem"
        assert params["cert_validator"] == "validator"
        assert params["ssl_version"] == "version"
        assert params["password"] is None
    assert transport._Transport__host_and_ports == hosts  # type: ignore[attr-defined]
