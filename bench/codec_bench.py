"""Codec benchmark: stomp-ng's frame decoder and encoder against stomp.py 9.0.0's, one run.

Run with the project's interpreter, from anywhere::

    python bench/codec_bench.py                # 5 rounds, ~0.5 s per sample
    python bench/codec_bench.py --rounds 9 --target 1.0
    python bench/codec_bench.py --profile 20   # also cProfile our decoder on scenario (a)

It creates (or reuses) the virtual environment ``bench/.venv-stomppy`` holding
``stomp-py==9.0.0``, then starts ``bench/codec_worker.py`` twice, in subprocesses: for
stomp-ng with this interpreter and ``PYTHONPATH`` = the repository root, for stomp.py with
the venv's python in isolated mode (``-I``: no ``PYTHONPATH``, no script directory on
``sys.path``), both from a temporary working directory.  Each worker checks which ``stomp``
it imported.  Then, for several rounds and for each row of the table, it has them take
turns (stomp-ng, stomp.py, stomp-ng, stomp.py, ...) running ~0.1 s bursts of timed passes,
so both sides of a pair see the same machine: on a shared VM the speed of the CPU drifts by
2-3x within seconds.

Per row it reports the median rate of each library and the median of the per-round ratios
(stomp-ng rate / stomp.py rate), and checks that both produced the same frames (decoding) or
the same bytes (encoding).  The table goes to stdout, ``bench/results/codec.md`` and
``bench/results/codec.json``, and replaces the marked section of ``bench/README.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
WORKER = BENCH / "codec_worker.py"
VENV = BENCH / ".venv-stomppy"
RESULTS = BENCH / "results"
README = BENCH / "README.md"
STOMPPY_REQ = "stomp-py==9.0.0"
README_START = "<!-- codec-bench:start -->"
README_END = "<!-- codec-bench:end -->"

#: (row id, scenario, what is timed on stomp.py's side, our key, stomp.py's key)
ROWS = [
    (
        "a-dec",
        "(a) decode 100 B MESSAGE, 64 KiB chunks",
        "BaseTransport I/O loop → listener `on_message`",
        "decode_a_64k",
        "decode_a_64k",
    ),
    (
        "a-dec-nodispatch",
        "(a) decode 100 B MESSAGE, 64 KiB chunks",
        "BaseTransport I/O loop, `process_frame` overridden (no dispatch)",
        "decode_a_64k",
        "decode_a_64k_nodispatch",
    ),
    (
        "a-dec-parse",
        "(a) decode 100 B MESSAGE, 64 KiB chunks",
        "`utils.parse_frame` + body decode on pre-split frames (lower bound)",
        "decode_a_64k",
        "decode_a_parse",
    ),
    (
        "a-dec-16k",
        "(a) decode 100 B MESSAGE, 16 KiB chunks",
        "BaseTransport I/O loop → listener `on_message`",
        "decode_a_16k",
        "decode_a_16k",
    ),
    (
        "b-dec",
        "(b) decode 64 KiB MESSAGE, 64 KiB chunks",
        "BaseTransport I/O loop → listener `on_message`",
        "decode_b_64k",
        "decode_b_64k",
    ),
    (
        "b-dec-nodispatch",
        "(b) decode 64 KiB MESSAGE, 64 KiB chunks",
        "BaseTransport I/O loop, `process_frame` overridden (no dispatch)",
        "decode_b_64k",
        "decode_b_64k_nodispatch",
    ),
    (
        "b-dec-parse",
        "(b) decode 64 KiB MESSAGE, 64 KiB chunks",
        "`utils.parse_frame` + body decode on pre-split frames (lower bound)",
        "decode_b_64k",
        "decode_b_parse",
    ),
    (
        "a-enc",
        "(a) encode 100 B SEND",
        "`utils.convert_frame` + `utils.pack`, headers pre-escaped (escaping not timed)",
        "encode_a",
        "encode_a",
    ),
    (
        "a-enc-sendframe",
        "(a) encode 100 B SEND",
        "`Protocol12.send_frame` (escaping + `transmit` → `send`)",
        "encode_a",
        "encode_a_sendframe",
    ),
    (
        "b-enc",
        "(b) encode 64 KiB SEND",
        "`utils.convert_frame` + `utils.pack`, headers pre-escaped (escaping not timed)",
        "encode_b",
        "encode_b",
    ),
    (
        "b-enc-sendframe",
        "(b) encode 64 KiB SEND",
        "`Protocol12.send_frame` (escaping + `transmit` → `send`)",
        "encode_b",
        "encode_b_sendframe",
    ),
]


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def ensure_venv() -> Path:
    """Create ``bench/.venv-stomppy`` with stomp-py 9.0.0 unless it already has it."""
    python = venv_python()
    if not python.exists():
        log(f"creating {VENV} ...")
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    probe = subprocess.run(
        [str(python), "-I", "-c", "import importlib.metadata as m; print(m.version('stomp-py'))"],
        capture_output=True,
        text=True,
        cwd=tempfile.gettempdir(),
    )
    if probe.returncode != 0 or probe.stdout.strip() != "9.0.0":
        log(f"installing {STOMPPY_REQ} into {VENV} ...")
        subprocess.run(
            [str(python), "-I", "-m", "pip", "install", "-q", STOMPPY_REQ],
            check=True,
            cwd=tempfile.gettempdir(),
        )
    return python


def stomppy_site_dir(python: Path) -> str:
    out = subprocess.run(
        [
            str(python),
            "-I",
            "-c",
            "import importlib.util, os; "
            "print(os.path.dirname(importlib.util.find_spec('stomp').origin))",
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=tempfile.gettempdir(),
    )
    return out.stdout.strip()


def worker_command(lib: str, python: Path, extra: list[str]) -> tuple[list, dict]:
    env = dict(os.environ)
    env["STOMP_SKIP_HOSTNAME_SCAN"] = "1"  # stomp.py resolves the host name on import
    if lib == "ours":
        env["PYTHONPATH"] = str(REPO)
        cmd = [sys.executable, str(WORKER), "--lib", "ours", "--expect-dir", str(REPO / "stomp")]
    else:
        env.pop("PYTHONPATH", None)
        cmd = [str(python), "-I", str(WORKER), "--lib", "stomppy"]
    return [*cmd, *extra], env


class Worker:
    """A running ``codec_worker.py`` for one library, answering one request at a time."""

    def __init__(self, lib: str, python: Path, cwd: str, extra: list[str]) -> None:
        cmd, env = worker_command(lib, python, extra)
        self.lib = lib
        self.stderr = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed by close())
        self.proc = subprocess.Popen(
            cmd,
            cwd=cwd,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            text=True,
            bufsize=1,
        )
        self.info = self._read()

    def _read(self) -> dict:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait()
            raise SystemExit(f"{self.lib} worker failed ({self.proc.returncode}):\n{self.errors()}")
        return json.loads(line)

    def passes(self, name: str, count: int) -> list[float]:
        """Run ``count`` passes of measurement ``name``; return their durations."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"{name} {count}\n")
        self.proc.stdin.flush()
        return self._read()["times"]

    def errors(self) -> str:
        self.stderr.seek(0)
        return self.stderr.read().strip()

    def close(self) -> str:
        """Stop the worker; return what it wrote on stderr."""
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait(timeout=60)
        errors = self.errors()
        self.stderr.close()
        return errors


def paired_sample(
    a: Worker, a_key: str, b: Worker, b_key: str, target: float, burst: float
) -> tuple[dict, dict]:
    """One paired sample: bursts of passes alternating between ``a`` and ``b``.

    After one untimed warm-up pass each (which also sizes the bursts to about ``burst``
    seconds), the workers take turns until each has run for about ``target`` seconds.  Each
    side's rate is frames per pass / its median pass time.
    """
    sizes = []
    for worker, key in ((a, a_key), (b, b_key)):
        warm = worker.passes(key, 1)[0]
        sizes.append(max(1, round(burst / max(warm, 1e-6))))
    times: tuple[list[float], list[float]] = ([], [])
    while True:
        times[0].extend(a.passes(a_key, sizes[0]))
        times[1].extend(b.passes(b_key, sizes[1]))
        if sum(times[0]) >= target and sum(times[1]) >= target:
            break
    samples = []
    for worker, key, t in ((a, a_key, times[0]), (b, b_key, times[1])):
        n = worker.info["frames_per_pass"][key]
        samples.append(
            {
                "rate": n / statistics.median(t),
                "rate_best": n / min(t),
                "rate_mean": n * len(t) / sum(t),
                "passes": len(t),
                "frames_per_pass": n,
            }
        )
    return samples[0], samples[1]


def fmt_rate(rate: float) -> str:
    return f"{rate:,.0f}"


def markdown(meta: dict, rows: list[dict]) -> str:
    lines = [
        f"Date: {meta['date']} · Python {meta['python']} (stomp.py venv: "
        f"{meta['python_stomppy']}) · {meta['platform']} · {meta['cpu_count']} CPUs · "
        f"{meta['rounds']} rounds × ~{meta['target_seconds']} s per library and row, in "
        f"alternating ~{meta['burst_seconds']} s bursts · "
        f"stomp/codec/*.py sha256 {meta['codec_sha256']}",
        "",
        "Rates are frames per second (per round: frames per pass / median pass time; then the "
        "median over rounds). Ratio = stomp-ng / stomp.py: the median of the per-round ratios "
        "(min–max in brackets).",
        "",
        "| # | Scenario | stomp.py path timed | stomp-ng frames/s | stomp.py frames/s | Ratio |",
        "|---|---|---|---:|---:|---:|",
    ]
    for i, row in enumerate(rows, 1):
        check = "" if row["same_output"] else " ⚠ outputs differ"
        lines.append(
            f"| {i} | {row['scenario']} | {row['stomppy_path']} | "
            f"{fmt_rate(row['ours_rate'])} | {fmt_rate(row['stomppy_rate'])} | "
            f"**{row['ratio']:.2f}×** ({row['ratio_min']:.2f}–{row['ratio_max']:.2f}){check} |"
        )
    return "\n".join(lines) + "\n"


def update_readme(table: str) -> bool:
    if not README.exists():
        return False
    text = README.read_text(encoding="utf-8")
    start, end = text.find(README_START), text.find(README_END)
    if start < 0 or end < start:
        return False
    new = text[: start + len(README_START)] + "\n" + table + text[end:]
    if new != text:
        README.write_text(new, encoding="utf-8")
    return True


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=5, help="A/B rounds (default 5)")
    parser.add_argument(
        "--target",
        type=float,
        default=0.5,
        help="timed seconds per library, row and round (default 0.5)",
    )
    parser.add_argument(
        "--burst",
        type=float,
        default=0.1,
        help="seconds of passes one worker runs before the other takes over (default 0.1)",
    )
    parser.add_argument(
        "--profile",
        type=int,
        metavar="PASSES",
        help="afterwards, cProfile our decoder over PASSES passes of scenario (a)",
    )
    parser.add_argument("--no-write", action="store_true", help="only print the table")
    args = parser.parse_args()

    python = ensure_venv()
    site_dir = stomppy_site_dir(python)
    samples: dict[str, dict[str, list[dict]]] = {
        row[0]: {"ours": [], "stomppy": []} for row in ROWS
    }
    with tempfile.TemporaryDirectory(prefix="codec-bench-") as cwd:
        log("starting the workers ...")
        ours = Worker("ours", python, cwd, [])
        theirs = Worker("stomppy", python, cwd, ["--expect-dir", site_dir])
        try:
            for r in range(1, args.rounds + 1):
                log(f"round {r}/{args.rounds} ...")
                for row_id, _, _, ours_key, theirs_key in ROWS:
                    a, b = paired_sample(
                        ours, ours_key, theirs, theirs_key, args.target, args.burst
                    )
                    samples[row_id]["ours"].append(a)
                    samples[row_id]["stomppy"].append(b)
        finally:
            warnings = [w for w in (ours.close(), theirs.close()) if w]

    rows = []
    for row_id, scenario, path, ours_key, theirs_key in ROWS:
        ours_rates = [sample["rate"] for sample in samples[row_id]["ours"]]
        theirs_rates = [sample["rate"] for sample in samples[row_id]["stomppy"]]
        ratios = [a / b for a, b in zip(ours_rates, theirs_rates, strict=True)]
        ours_digest = ours.info["digests"][ours_key]
        theirs_digest = theirs.info["digests"][theirs_key]
        rows.append(
            {
                "id": row_id,
                "scenario": scenario,
                "stomppy_path": path,
                "ours_key": ours_key,
                "stomppy_key": theirs_key,
                "ours_rate": statistics.median(ours_rates),
                "stomppy_rate": statistics.median(theirs_rates),
                "ratio": statistics.median(ratios),
                "ratio_min": min(ratios),
                "ratio_max": max(ratios),
                "ours_rates": ours_rates,
                "stomppy_rates": theirs_rates,
                "ratios": ratios,
                "ours_samples": samples[row_id]["ours"],
                "stomppy_samples": samples[row_id]["stomppy"],
                "same_output": ours_digest == theirs_digest,
                "digests": [ours_digest, theirs_digest],
            }
        )

    codec = b"".join(path.read_bytes() for path in sorted((REPO / "stomp" / "codec").glob("*.py")))
    meta = {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "python": platform.python_version(),
        "python_stomppy": theirs.info["python"],
        "stomppy_version": theirs.info["stomp_version"],
        "stomppy_dir": theirs.info["stomp_dir"],
        "ours_dir": ours.info["stomp_dir"],
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor(),
        "cpu_count": os.cpu_count(),
        "rounds": args.rounds,
        "target_seconds": args.target,
        "codec_sha256": hashlib.sha256(codec).hexdigest()[:12],
        "frame_bytes_on_wire": ours.info["frame_bytes"],
        "burst_seconds": args.burst,
        "method": "per row and round: bursts of ~burst seconds of passes alternate between "
        "stomp-ng and stomp.py until each has run ~target seconds; each side's rate = frames "
        "per pass / median pass time; ratio = median over rounds of the per-round ratios",
    }
    table = markdown(meta, rows)
    print()
    print(table)
    if warnings:
        print("worker stderr (should be empty):", *warnings, sep="\n")
    if not all(row["same_output"] for row in rows):
        print("WARNING: the libraries produced different frames/bytes for some rows")

    if not args.no_write:
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "codec.md").write_text("# Codec benchmark\n\n" + table, encoding="utf-8")
        (RESULTS / "codec.json").write_text(
            json.dumps({"meta": meta, "rows": rows, "warnings": warnings}, indent=2) + "\n",
            encoding="utf-8",
        )
        updated = update_readme(table)
        log(
            f"wrote {RESULTS / 'codec.md'}, {RESULTS / 'codec.json'}"
            + (f" and {README}" if updated else "")
        )

    if args.profile:
        with tempfile.TemporaryDirectory(prefix="codec-bench-") as cwd:
            cmd, env = worker_command("ours", python, ["--profile", str(args.profile)])
            out = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, env=env, check=True)
        print(f"cProfile of stomp-ng's FrameDecoder.feed, scenario (a), {args.profile} passes:")
        print(out.stdout)


if __name__ == "__main__":
    main()
