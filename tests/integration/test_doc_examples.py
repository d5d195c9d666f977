"""Every Python example of README.md, docs/*.rst and the ``stomp`` package docstring, taken
from those files as they are (no copy kept here) and run against the broker it names.

Examples are found by their markup: README's ```` ```python ```` blocks, the ``.. code-block::
python`` blocks and ``::`` literal blocks of the .rst pages and of the docstring (a literal
block counts when it parses as Python; console sessions starting with ``$`` and outputs
do not).  :data:`HOW` says, for each one (by its file and its first line that is not an
import), how it runs:

* ``rabbitmq``, ``rabbitmq-ws``, ``activemq``, ``rabbitmq-cluster`` (the test cluster of
  ``scripts/brokers cluster-start``): in a fresh interpreter, with that broker
  running (the test is skipped without it, and fails in CI); ActiveMQ examples are
  written for its defaults (port 61613, ``admin``/``admin``), which :data:`SUBSTITUTIONS`
  turn into the test broker's;
* ``standalone``: in a fresh interpreter, needing no broker (the codec, logging, the
  embedded broker, multicast on loopback);
* ``compile``: a fragment that cannot run here (a host of the reader's, a certificate
  file, a test suite of the reader's), compiled only; each says why.

An example with no entry fails the test (a new example must say how it runs), and so does
an entry whose example is gone.  Some examples use a name an earlier example on the same
page defined; :data:`PRELUDES` gives those names, and nothing else.  An example passes when
its interpreter exits with status 0 within :data:`WAIT` seconds, with no traceback and no
``broker error`` printed by its listener.

Console sessions (literal blocks, or README's ```` ```console ```` blocks, starting with
``$ ``) are run too, and their output compared line by line (:data:`CONSOLE_HOW`).  Every
other block (commands with no output shown, outputs, formats) says in :data:`OTHER_BLOCKS`
which test runs it or why none does.
"""

from __future__ import annotations

import ast
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
WAIT = 60.0

#: The files whose examples are run.
SOURCES = ["README.md", *sorted(str(p.relative_to(REPO)) for p in (REPO / "docs").glob("*.rst"))]
SOURCES.append("stomp/__init__.py")

#: How each example runs, by (file, first line of the example).
HOW: dict[tuple[str, str], str] = {
    ("README.md", "class MyListener(stomp.ConnectionListener):"): "rabbitmq",
    ("docs/quickstart.rst", "class Printer(stomp.ConnectionListener):"): "rabbitmq",
    ("docs/connections.rst", "class Printer(stomp.ConnectionListener):"): "rabbitmq",
    ("docs/connections.rst", "class Collector(stomp.ConnectionListener):"): "rabbitmq",
    (
        "docs/connections.rst",
        'logging.basicConfig(format="%(asctime)s %(name)s %(levelname)s %(message)s")',
    ): "standalone",
    ("docs/connections.rst", 'context = ssl.create_default_context(cafile="ca.pem")'): (
        "compile: needs the reader's broker.example host and its CA file"
    ),
    ("docs/messaging.rst", "class Worker(stomp.ConnectionListener):"): "rabbitmq",
    ("docs/messaging.rst", "class Receipts(stomp.ConnectionListener):"): "rabbitmq",
    ("docs/messaging.rst", "class Reports(stomp.ConnectionListener):"): "activemq",
    ("docs/messaging.rst", 'DURABLE = {"durable": "true", "auto-delete": "false"}'): "rabbitmq",
    ("docs/messaging.rst", "class Reconnecting(stomp.ConnectionListener):"): "rabbitmq",
    (
        "docs/reliability.rst",
        'NODES = [("127.0.0.1", 61701), ("127.0.0.1", 61702), ("127.0.0.1", 61703)]',
    ): "rabbitmq-cluster",
    (
        "docs/messaging.rst",
        'conn = stomp.Connection12([("127.0.0.1", 61613)], vhost="/")',
    ): "rabbitmq",
    ("docs/asyncio.rst", "async def main():"): "rabbitmq",
    ("docs/asyncio.rst", "async def transfer():"): "rabbitmq",
    ("docs/asyncio.rst", 'context = ssl.create_default_context(cafile="ca.pem")'): (
        "compile: needs the reader's broker.example host, its CA and client certificate files"
    ),
    ("docs/adapters.rst", "class Printer(stomp.ConnectionListener):"): "rabbitmq-ws",
    (
        "docs/adapters.rst",
        'conn = stomp.WSStompConnection([("broker.example.com", 15673)], ws_path="/ws")',
    ): "compile: needs the reader's broker.example.com host and certificate files",
    (
        "docs/adapters.rst",
        'conn = MulticastConnection(interface="127.0.0.1", ttl=0, group="239.255.0.1", port=45000)',
    ): "standalone",
    ("docs/broker.rst", "with Broker() as broker:  # 127.0.0.1, a free port"): "standalone",
    ("docs/broker.rst", "# conftest.py"): (
        "compile: two files of the reader's test suite, calling the reader's own code "
        "(publish_order, Worker)"
    ),
    ("docs/codec.rst", 'decoder = FrameDecoder("1.2", auto_decode=False)'): "standalone",
    (
        "docs/cli.rst",
        'cli = StompCLI("127.0.0.1", 61613, "guest", "guest", "1.2", verbose=False, vhost="/")',
    ): "rabbitmq",
    (
        "stomp/__init__.py",
        'conn = stomp.Connection12([("127.0.0.1", 61613)], vhost="/")  # RabbitMQ\'s virtual host',
    ): "rabbitmq",
}

#: Names an example takes from an earlier one on its page (or, for the codec, its input).
PRELUDES: dict[tuple[str, str], str] = {
    (
        "docs/adapters.rst",
        'conn = MulticastConnection(interface="127.0.0.1", ttl=0, group="239.255.0.1", port=45000)',
    ): (
        "import stomp\n"
        "class Printer(stomp.ConnectionListener):\n"
        "    def on_message(self, frame):\n"
        "        print(frame.headers['destination'], frame.body)\n"
    ),
    ("docs/codec.rst", 'decoder = FrameDecoder("1.2", auto_decode=False)'): (
        "chunks = [b'CONNECTED\\nversion:1.2\\n\\n\\x00\\n', b'MESSAGE\\ndestination:/q/a\\n"
        "\\nhel', b'lo\\x00']\n"
    ),
    ("docs/connections.rst", 'context = ssl.create_default_context(cafile="ca.pem")'): (
        "import ssl\nimport stomp\n"
    ),
    (
        "docs/adapters.rst",
        'conn = stomp.WSStompConnection([("broker.example.com", 15673)], ws_path="/ws")',
    ): "import stomp\n",
}

#: What an example written for a broker's defaults gets instead, to reach the test broker.
SUBSTITUTIONS: dict[str, list[tuple[str, str]]] = {
    "activemq": [
        ('("127.0.0.1", 61613)', '("127.0.0.1", 61623)'),
        ('"admin", "admin"', '"admin", "password"'),
    ],
}

#: The broker fixture each mode needs.
FIXTURES = {
    "rabbitmq": "rabbitmq_stomp",
    "rabbitmq-cluster": "rabbitmq_cluster",
    "rabbitmq-ws": "rabbitmq_web_stomp",
    "activemq": "activemq_stomp",
}


@dataclass(frozen=True)
class Example:
    path: str
    line: int  # of its first line in the file
    code: str

    @property
    def key(self) -> tuple[str, str]:
        """``(file, first line that is not an import)``: what names it in :data:`HOW`."""
        lines = [line.strip() for line in self.code.splitlines() if line.strip()]
        code = [line for line in lines if not line.startswith(("import ", "from "))]
        return (self.path, (code or lines)[0])


def _dedent_block(lines: list[str], start: int) -> tuple[str, int]:
    # The indented block from ``start`` (blank lines first skipped): its text, dedented,
    # and the index of its first line.
    i = start
    while i < len(lines) and not lines[i].strip():
        i += 1
    first = i
    block: list[str] = []
    while i < len(lines) and (not lines[i].strip() or lines[i][:1] in (" ", "\t")):
        block.append(lines[i])
        i += 1
    indent = min((len(x) - len(x.lstrip()) for x in block if x.strip()), default=0)
    return "\n".join(x[indent:] for x in block).strip("\n") + "\n", first


def _is_python(code: str) -> bool:
    text = code.strip()
    if not text or text.startswith(("$", ">>>", "#!")):
        return False
    try:
        ast.parse(text)
    except SyntaxError:
        return False
    return True


def examples_of(path: str) -> list[Example]:
    text = (REPO / path).read_text(encoding="utf-8")
    found: list[Example] = []
    if path.endswith(".md"):
        for match in re.finditer(r"^```python\n(.*?)^```", text, re.S | re.M):
            line = text.count("\n", 0, match.start(1)) + 1
            found.append(Example(path, line, match.group(1)))
        return found
    if path.endswith(".py"):
        tree = ast.parse(text)
        text = ast.get_docstring(tree, clean=True) or ""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith(".. code-block::"):
            if stripped.split("::", 1)[1].strip() != "python":
                continue
        elif not stripped.endswith("::") or stripped.startswith(".."):
            continue
        code, first = _dedent_block(lines, i + 1)
        if stripped.startswith(".. code-block::") or _is_python(code):
            found.append(Example(path, first + 1, code))
    return found


ALL = [example for path in SOURCES for example in examples_of(path)]


def test_every_example_says_how_it_runs() -> None:
    keys = [example.key for example in ALL]
    assert len(keys) == len(set(keys)), "two examples of one file start with the same line"
    unknown = [f"{e.path}:{e.line}: {e.key[1]}" for e in ALL if e.key not in HOW]
    assert not unknown, "examples with no entry in HOW:\n" + "\n".join(unknown)
    gone = sorted(set(HOW) - set(keys))
    assert not gone, f"entries in HOW whose example is gone: {gone}"
    assert set(PRELUDES) <= set(HOW)


@pytest.mark.parametrize("example", ALL, ids=[f"{e.path}:{e.line}" for e in ALL])
def test_example_runs(example: Example, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    how = HOW.get(example.key)
    if how is None:
        pytest.fail(f"no entry in HOW for {example.path}:{example.line}")
    source = PRELUDES.get(example.key, "") + example.code
    for old, new in SUBSTITUTIONS.get(how, []):
        source = source.replace(old, new)
    compile(source, f"{example.path}:{example.line}", "exec")
    if how.startswith("compile"):
        return  # (compiled above; why it cannot run is in HOW)
    if how in FIXTURES:
        request.getfixturevalue(FIXTURES[how])  # skipped without the broker, failed in CI
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-c", source],
        capture_output=True,
        text=True,
        timeout=WAIT,
        cwd=tmp_path,
        env=env,
    )
    context = f"{example.path}:{example.line}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    assert done.returncode == 0, context
    assert "Traceback" not in done.stderr, context
    assert "broker error" not in done.stdout, context


# -- console sessions ----------------------------------------------------------------------

#: How each console session (a literal block of an .rst page, or a ```` ```console ```` block
#: of README.md, starting with ``$ ``) runs, by (file, first line).  In each, the
#: destinations ``/queue/demo`` and ``/queue/orders`` become names of the test's own, and the
#: output -- stdout and stderr -- is compared with the lines below each ``$`` command; a
#: token ending in ``...`` stands for any text:
#:
#: * ``rabbitmq``: each ``$`` command in bash, with RabbitMQ running; ``$ cat FILE`` writes
#:   the lines below it into FILE instead;
#: * ``rabbitmq-orders``: the same, once ``/queue/orders`` holds the three messages the
#:   page's ``orders.txt`` script sends (``first``, ``second``, ``third``);
#: * ``rabbitmq-terminal``: an interactive session, on a terminal (a pty): each line
#:   ``> COMMAND`` is typed once the output above it has been printed; the comparison leaves
#:   out blank lines and bare prompts, whose place among a message's lines depends on when
#:   the message arrives;
#: * ``embedded-broker``: the command starts the embedded broker on a free port instead of
#:   61613; its first line is compared, then Ctrl-C (SIGINT) must stop it with status 0.
CONSOLE_HOW: dict[tuple[str, str], str] = {
    ("docs/cli.rst", "$ stomp -H 127.0.0.1 -U guest -W guest --vhost /"): "rabbitmq-terminal",
    ("README.md", "$ stomp -H 127.0.0.1 -U guest -W guest --vhost /"): "rabbitmq-terminal",
    ("docs/cli.rst", "$ stomp -H 127.0.0.1 -P 1 ; echo $?"): "rabbitmq",
    ("README.md", "$ stomp -H 127.0.0.1 -P 1 ; echo $?"): "rabbitmq",
    ("docs/cli.rst", "$ cat orders.txt"): "rabbitmq",
    (
        "docs/cli.rst",
        "$ stomp -H 127.0.0.1 -U guest -W guest -L /queue/orders --count 2 --json 2>/dev/null",
    ): "rabbitmq-orders",
    ("docs/broker.rst", "$ python -m stomp.broker --port 61613"): "embedded-broker",
}

#: The destinations console sessions use, renamed for each test (see :data:`CONSOLE_HOW`).
SESSION_DESTINATIONS = ("/queue/demo", "/queue/orders")


#: Every other block of README.md and docs/ (shell commands with no output to compare,
#: outputs, file formats), by (file, first line): where it is run, or why it is not.
OTHER_BLOCKS: dict[tuple[str, str], str] = {
    (
        "README.md",
        "scripts/quickstart    # installs stomp-ng into .venv and sends and receives a message",
    ): "run: tests/integration/test_install.py (from a fresh copy), its output compared",
    ("README.md", "embedded broker listening on 127.0.0.1:40331"): (
        "the quick start's output: compared by tests/integration/test_install.py"
    ),
    ("README.md", "pip uninstall stomp.py   # first: both install the `stomp` package"): (
        "run: tests/integration/test_install.py (a wheel of this checkout for stomp-ng)"
    ),
    ("README.md", "pip uninstall -y stomp.py"): "run: tests/integration/test_install.py",
    ("README.md", "scripts/run-tests"): "run: by CI itself (.ci/run runs it)",
    (
        "README.md",
        "python bench/run.py            # full run, about 2 minutes; --quick: about 30 s",
    ): ("not run: the benchmarks take minutes and compare speeds (bench/README.md)"),
    ("docs/cli.rst", "message-id: m1"): "an output format (tests/cli check the output)",
    ("docs/cli.rst", "message-id: T_1@@session-5BZ0f5zFv1kZJjdb5j1_bQ@@1"): (
        "an output format (tests/cli check the output)"
    ),
    ("docs/development.rst", "$ scripts/run-tests"): "run: by CI itself (.ci/run runs it)",
    (
        "docs/development.rst",
        "# scripts/brokers install    # apt-get install rabbitmq-server activemq (root)",
    ): "run: by scripts/run-tests in CI (install, start) and by hand (status, stop)",
    (
        "docs/development.rst",
        "$ scripts/brokers cluster-start     # both clusters (or: cluster-start rabbitmq|activemq)",
    ): (
        "run: cluster-start by scripts/run-tests in CI, node-kill/node-start/cluster-rabbitmqctl"
        " by tests/integration/test_clusters.py, the others by hand"
    ),
    ("docs/migration.rst", "pip uninstall stomp.py"): (
        "the README's install order: run by tests/integration/test_install.py"
    ),
    ("docs/quickstart.rst", "$ pip install stomp-ng"): (
        "the README's install command: run by tests/integration/test_install.py"
    ),
}


def other_blocks_of(path: str) -> list[tuple[str, str]]:
    """The keys of the blocks of ``path`` that are neither Python examples nor console
    sessions."""
    text = (REPO / path).read_text(encoding="utf-8")
    keys = []
    if path.endswith(".md"):
        for match in re.finditer(r"^```(\w*)\n(.*?)^```", text, re.S | re.M):
            kind, body = match.groups()
            if kind != "python" and not (kind == "console" and body.startswith("$ ")):
                keys.append((path, body.splitlines()[0].strip()))
        return keys
    lines = text.splitlines()
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith(".. code-block::"):
            if stripped.split("::", 1)[1].strip() == "python":
                continue
        elif not stripped.endswith("::") or stripped.startswith(".."):
            continue
        code, _ = _dedent_block(lines, i + 1)
        if not stripped.startswith(".. code-block::") and (
            _is_python(code) or code.startswith("$ ")
        ):
            continue
        if code.strip():
            keys.append((path, code.splitlines()[0].strip()))
    return keys


def test_every_other_block_says_where_it_runs() -> None:
    keys = [key for path in SOURCES for key in other_blocks_of(path)]
    unknown = [f"{path}: {first}" for path, first in keys if (path, first) not in OTHER_BLOCKS]
    assert not unknown, "blocks with no entry in OTHER_BLOCKS:\n" + "\n".join(unknown)
    gone = sorted(set(OTHER_BLOCKS) - set(keys))
    assert not gone, f"entries in OTHER_BLOCKS whose block is gone: {gone}"


@dataclass(frozen=True)
class Session:
    path: str
    line: int
    text: str

    @property
    def key(self) -> tuple[str, str]:
        return (self.path, self.text.splitlines()[0].strip())

    def steps(self) -> list[tuple[str, list[str]]]:
        """``(command, expected output lines)`` for each ``$`` line."""
        steps: list[tuple[str, list[str]]] = []
        for line in self.text.splitlines():
            if line.startswith("$ "):
                steps.append((line[2:], []))
            elif steps:
                steps[-1][1].append(line)
        return steps


def sessions_of(path: str) -> list[Session]:
    text = (REPO / path).read_text(encoding="utf-8")
    found = []
    if path.endswith(".md"):
        for match in re.finditer(r"^```console\n(.*?)^```", text, re.S | re.M):
            if match.group(1).startswith("$ "):
                line = text.count("\n", 0, match.start(1)) + 1
                found.append(Session(path, line, match.group(1)))
        return found
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.rstrip().endswith("::") and not line.strip().startswith(".."):
            text, first = _dedent_block(lines, i + 1)
            if text.startswith("$ "):
                found.append(Session(path, first + 1, text))
    return found


SESSIONS = [session for path in SOURCES for session in sessions_of(path)]


def _line_pattern(expected: str) -> re.Pattern[str]:
    # A token ending in "..." stands for any text; the rest is literal.
    parts = re.split(r"(\S*\.\.\.)", expected)
    regex = "".join(r"\S*" if part.endswith("...") else re.escape(part) for part in parts if part)
    return re.compile(regex + r"\Z")


def test_every_console_session_says_how_it_runs() -> None:
    keys = [session.key for session in SESSIONS]
    unknown = [f"{s.path}:{s.line}: {s.key[1]}" for s in SESSIONS if s.key not in CONSOLE_HOW]
    assert not unknown, "console sessions with no entry in CONSOLE_HOW:\n" + "\n".join(unknown)
    gone = sorted(set(CONSOLE_HOW) - set(keys))
    assert not gone, f"entries in CONSOLE_HOW whose session is gone: {gone}"


@pytest.mark.parametrize("session", SESSIONS, ids=[f"{s.path}:{s.line}" for s in SESSIONS])
def test_console_session_runs(
    session: Session, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    how = CONSOLE_HOW.get(session.key)
    if how is None:
        pytest.fail(f"no entry in CONSOLE_HOW for {session.path}:{session.line}")
    if how.startswith("rabbitmq"):
        request.getfixturevalue(FIXTURES["rabbitmq"])  # skipped without it, failed in CI
    env = {
        **os.environ,
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
        "PYTHONPATH": str(REPO),
        "HOME": str(tmp_path),  # (the shell's history file)
    }
    env.pop("NO_COLOR", None)
    token = uuid.uuid4().hex[:12]
    renamed = [(name, f"{name}-{token}") for name in SESSION_DESTINATIONS]

    def rename(text: str) -> str:
        for old, new in renamed:
            text = text.replace(old, new)
        return text

    steps = [
        (rename(command), [rename(line) for line in lines]) for command, lines in session.steps()
    ]
    context = f"{session.path}:{session.line}"
    if how == "rabbitmq-orders":
        _send_rabbitmq(rename("/queue/orders"), ["first", "second", "third"])
    if how == "rabbitmq-terminal":
        ((command, expected),) = steps
        env["NO_COLOR"] = "1"  # (compared as text)
        shown = _run_on_a_terminal(command, expected, env, tmp_path)
        _compare(_meaningful(shown), _meaningful(expected), context)
        return
    if how == "embedded-broker":
        ((command, expected),) = steps
        _run_the_broker(command, expected, env, context)
        return
    for command, expected in steps:
        if command.startswith("cat "):
            (tmp_path / command.split()[1]).write_text("\n".join(expected) + "\n")
            continue
        done = subprocess.run(
            ["bash", "-c", f"{{ {command} ; }} 2>&1"],
            capture_output=True,
            text=True,
            timeout=WAIT,
            cwd=tmp_path,
            env=env,
        )
        _compare(done.stdout.splitlines(), expected, f"{context}: $ {command}")


def _compare(shown: list[str], expected: list[str], context: str) -> None:
    text = "\n".join(shown)
    assert len(shown) == len(expected), f"{context}\n{text}"
    for got, want in zip(shown, expected, strict=True):
        assert _line_pattern(want).match(got), f"{got!r} is not {want!r}\n{context}\n{text}"


def _meaningful(lines: list[str]) -> list[str]:
    # A terminal transcript without blank lines and bare prompts, and with a prompt printed
    # twice in a row (a message arrived before the prompt after a command) counted once.
    shown = (re.sub(r"^(> ?)+", "> ", line.rstrip()).rstrip() for line in lines)
    return [line for line in shown if line not in ("", ">")]


def _send_rabbitmq(destination: str, bodies: list[str]) -> None:
    import stomp

    conn = stomp.Connection12([("127.0.0.1", 61613)], vhost="/")
    conn.connect("guest", "guest", wait=True)
    try:
        for body in bodies:
            conn.send(destination, body)  # (a receipt header would show in the MESSAGE)
    finally:
        conn.disconnect()  # with a receipt: the broker has taken them all when it returns


def _run_on_a_terminal(
    command: str, expected: list[str], env: dict[str, str], cwd: Path
) -> list[str]:
    """Run ``command`` on a pty, typing each ``> COMMAND`` line of ``expected`` once the
    lines above it have been printed; return the transcript's lines."""
    import pty
    import select

    controller, terminal = pty.openpty()
    try:
        process = subprocess.Popen(
            ["bash", "-c", command],
            stdin=terminal,
            stdout=terminal,
            stderr=terminal,
            env={**env, "TERM": "dumb"},
            cwd=cwd,
            start_new_session=True,
        )
    finally:
        os.close(terminal)
    output = b""
    deadline = time.monotonic() + WAIT

    def read_some() -> bool:
        nonlocal output
        ready, _, _ = select.select([controller], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            raise AssertionError(f"no output within {WAIT} s; so far:\n{output.decode()}")
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # EIO: the program closed the terminal
            return False
        output += chunk
        return bool(chunk)

    def printed(lines: list[str]) -> bool:
        # Whether the transcript holds ``lines`` (blank ones and prompts left out) in order.
        shown = iter(_meaningful(output.decode(errors="replace").splitlines()))
        wanted = _meaningful(lines)
        return all(any(_line_pattern(want).match(got) for got in shown) for want in wanted)

    try:
        above: list[str] = []
        for line in expected:
            if line.startswith("> ") and line[2:].strip():
                while not (printed(above) and output.rstrip(b" ").endswith(b">")):
                    assert read_some(), f"the program ended early:\n{output.decode()}"
                os.write(controller, line[2:].encode() + b"\n")
            above.append(line)
        while read_some():
            pass
        assert process.wait(WAIT) == 0, output.decode()
    finally:
        os.close(controller)
        if process.poll() is None:
            process.kill()
            process.wait(WAIT)
    return output.decode().replace("\r\n", "\n").splitlines()


def _run_the_broker(command: str, expected: list[str], env: dict[str, str], context: str) -> None:
    # The command as written, on a free port; its first line, then Ctrl-C.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = str(probe.getsockname()[1])
    argv = shlex.split(command.replace("61613", port))
    process = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline().rstrip("\n")
        process.send_signal(signal.SIGINT)
        _, errors = process.communicate(timeout=WAIT)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=WAIT)
    _compare([first], [line.replace("61613", port) for line in expected], context)
    assert process.returncode == 0, errors
