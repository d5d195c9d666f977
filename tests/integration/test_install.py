"""The README's install and quick-start commands, run as written in a fresh environment.

* ``scripts/quickstart`` from a fresh copy of the repository (its own ``.venv``), whose
  output must be the README's;
* the README's install commands (``stomp-ng`` standing for a wheel built from this
  checkout) in a new virtual environment where stomp.py 9.0.0 (from PyPI) was installed:
  in the README's order stomp-ng works and no warning is given; in the other order
  ``import stomp`` warns, uninstalling stomp.py breaks the install as the README says, and
  the README's repair commands mend it.

They need PyPI (stomp.py, and stomp-ng's dependencies): skipped with the reason when it
cannot be reached, failed in CI (``CI`` set).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
WAIT = 300.0

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def readme_block(first_line: str, kind: str = "console") -> list[str]:
    """The lines of the README's ```` ```kind ```` block that starts with ``first_line``."""
    text = README.read_text(encoding="utf-8")
    for match in re.finditer(rf"^```{kind}\n(.*?)^```", text, re.S | re.M):
        lines = match.group(1).splitlines()
        if lines and lines[0].startswith(first_line):
            return lines
    raise AssertionError(f"README.md has no {kind} block starting with {first_line!r}")


def commands(block: list[str]) -> list[str]:
    """The commands of a block (comments after ``#`` dropped)."""
    return [line.split("  #", 1)[0].strip() for line in block if line.strip()]


def _unreachable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set)")
    pytest.skip(reason)


def run(argv: list[str] | str, env: dict[str, str], cwd: Path, stdin: str = "") -> str:
    """Run a command (a string: through bash); return stdout and stderr; fail on an error
    status."""
    done = subprocess.run(
        ["bash", "-c", argv] if isinstance(argv, str) else argv,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=WAIT,
        cwd=cwd,
        env=env,
    )
    output = done.stdout + done.stderr
    if done.returncode != 0 and ("Could not find a version" in output or "NewConnection" in output):
        _unreachable(f"PyPI cannot be reached: {output.strip().splitlines()[-1]}")
    assert done.returncode == 0, f"$ {argv}\n{output}"
    return output


@pytest.fixture(scope="module")
def copy_of_the_repository(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The committed and changed files of this checkout (not .venv, caches or builds)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        cwd=REPO,
        check=False,
    )
    if listed.returncode != 0:
        pytest.skip("not a git checkout")
    target = tmp_path_factory.mktemp("fresh-copy")
    for name in listed.stdout.decode().split("\0"):
        source = REPO / name
        if name and source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def _environment(**extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")
    }
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env.update(extra)
    return env


def test_the_quickstart_script_from_a_fresh_copy(copy_of_the_repository: Path) -> None:
    (first,) = commands(readme_block("scripts/quickstart"))[:1]
    output = run(first, _environment(PYTHON=sys.executable), copy_of_the_repository)
    expected = readme_block("embedded broker listening on", kind="text")
    printed = [line for line in output.splitlines() if not line.startswith(("==> ", "WARNING"))]
    assert len(printed) == len(expected), output
    for got, want in zip(printed, expected, strict=True):
        pattern = re.escape(want).replace("40331", r"\d+")  # (a free port each time)
        assert re.fullmatch(pattern, got), f"{got!r} is not {want!r}\n{output}"


@pytest.fixture(scope="module")
def wheel(copy_of_the_repository: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), "."],
        _environment(),
        copy_of_the_repository,
    )
    (built,) = out.glob("stomp_ng-*.whl")
    return built


@pytest.fixture
def venv(tmp_path: Path) -> Iterator[tuple[Path, dict[str, str]]]:
    """A new virtual environment with stomp.py 9.0.0 from PyPI, and the environment
    variables that put it first on ``PATH``."""
    root = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(root)], check=True, timeout=WAIT)
    env = _environment(PATH=f"{root / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}")
    run("pip install -q stomp.py==9.0.0", env, tmp_path)
    yield root, env


IMPORTS_STOMP_NG = "import stomp; assert hasattr(stomp, 'Connection12'); print(stomp.__file__)"


def _with_the_wheel(command: str, built: Path) -> str:
    return re.sub(r"(?<![\w.-])stomp-ng(?![\w.-])", str(built), command)


def test_the_readme_install_order_works(
    venv: tuple[Path, dict[str, str]], wheel: Path, tmp_path: Path
) -> None:
    root, env = venv
    for command in commands(readme_block("pip uninstall stomp.py")):
        run(_with_the_wheel(command, wheel), env, tmp_path, stdin="y\n")  # (pip asks)
    shown = run(["python", "-W", "error::RuntimeWarning", "-c", IMPORTS_STOMP_NG], env, tmp_path)
    assert str(root) in shown
    assert "stomp-ng" in run("stomp --version", env, tmp_path)


def test_the_other_order_warns_breaks_as_said_and_the_repair_mends_it(
    venv: tuple[Path, dict[str, str]], wheel: Path, tmp_path: Path
) -> None:
    root, env = venv
    run(f"pip install -q {wheel}", env, tmp_path)  # over stomp.py: pip says nothing
    mixed = run(["python", "-c", IMPORTS_STOMP_NG], env, tmp_path)
    assert "RuntimeWarning" in mixed and "pip install --force-reinstall stomp-ng" in mixed
    run("pip uninstall -y stomp.py", env, tmp_path)
    broken = subprocess.run(
        ["python", "-c", IMPORTS_STOMP_NG], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert broken.returncode != 0  # as the README says: files stomp-ng needs are gone
    assert shutil.which("stomp", path=str(root / "bin")) is None
    for command in commands(readme_block("pip uninstall -y stomp.py")):
        run(_with_the_wheel(command, wheel), env, tmp_path)
    mended = run(["python", "-W", "error::RuntimeWarning", "-c", IMPORTS_STOMP_NG], env, tmp_path)
    assert "stomp" in mended
    assert "stomp-ng" in run("stomp --version", env, tmp_path)
