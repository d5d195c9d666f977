"""``import stomp`` warns, once and with the fix, when stomp.py is installed beside
stomp-ng: both own the ``stomp`` package, and uninstalling stomp.py deletes its files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def import_stomp_from(site: Path) -> subprocess.CompletedProcess[str]:
    """``import stomp`` twice (one warning) from ``site``, a directory where stomp-ng's
    package was installed (a link to this checkout's)."""
    (site / "stomp").symlink_to(REPO / "stomp", target_is_directory=True)
    return subprocess.run(
        [sys.executable, "-c", "import stomp, importlib; importlib.import_module('stomp')"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=site,
        env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1"},
    )


def test_a_mixed_install_is_warned_about_with_the_fix(tmp_path: Path) -> None:
    (tmp_path / "stomp.py-9.0.0.dist-info").mkdir()
    done = import_stomp_from(tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("RuntimeWarning: stomp.py and stomp-ng are both installed") == 1
    assert "pip uninstall -y stomp.py && pip install --force-reinstall stomp-ng" in done.stderr


def test_the_new_metadata_name_counts_too(tmp_path: Path) -> None:
    (tmp_path / "stomp_py-9.0.0.dist-info").mkdir()
    assert "both installed" in import_stomp_from(tmp_path).stderr


def test_no_warning_without_stomp_py(tmp_path: Path) -> None:
    (tmp_path / "stomp_ng-0.1.0.dist-info").mkdir()
    done = import_stomp_from(tmp_path)
    assert done.returncode == 0
    assert done.stderr == ""
