"""The asyncio benchmark of issue 16: stomp-ng's asyncio client against stompman, aiostomp and
stomp-ng's threaded client, in one run.

Run with the project's interpreter, from anywhere::

    python bench/aio_run.py                  # full run: 11 rounds per scenario, about 2 minutes
    python bench/aio_run.py --quick          # 3 rounds, half the messages: about 25 seconds
    python bench/aio_run.py --scenarios recv-100 send-100 --rounds 5
    python bench/aio_run.py --no-write       # print only

It creates (or reuses) ``bench/.venv-stompman`` (``stompman==3.16.0``) and
``bench/.venv-aiostomp`` (``aiostomp==1.7.3``) from PyPI, starts ``suite_server.py`` (the
loopback blaster and counting sink of ``run.py``) and, for each scenario, one client worker
per library (``aio_worker.py``): ``ng-aio`` (``stomp.aio``) and ``ng-threaded``
(``stomp.Connection12``) with this interpreter and ``PYTHONPATH`` = the repository,
stompman and aiostomp with their venv's python in isolated mode; each checks where its
library was imported from.  After one untimed warm-up trial each, the workers take turns,
one trial at a time (the order rotating from round to round): the machine's speed drifts
2-3x within seconds, so only trials of the same round are compared.  Each ratio (ng-aio /
another library) is the median of the per-round ratios, min-max shown.  stompman and
aiostomp parse frames byte by byte and are given fewer messages per trial where they would
take many seconds (their N is in the table): a rate is messages per second either way.

Prints the results and the issue's targets with PASS/MISS, and writes ``bench/RESULTS-aio.md``
and ``bench/results/aio.json``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))
from run import (  # noqa: E402
    Worker,
    fmt_rate,
    fmt_ratio,
    fmt_us,
    log,
    report,
    start_server,
    stop_server,
)

WORKER = BENCH / "aio_worker.py"
RESULTS_MD = BENCH / "RESULTS-aio.md"
RESULTS_JSON = BENCH / "results" / "aio.json"

LIBS = ["ng-aio", "ng-threaded", "stompman", "aiostomp"]
OURS = "ng-aio"
# The other libraries, each in a venv of its own: (venv, requirement, distribution, version)
VENVS = {
    "stompman": (BENCH / ".venv-stompman", "stompman==3.16.0", "stompman", "3.16.0"),
    "aiostomp": (BENCH / ".venv-aiostomp", "aiostomp==1.7.3", "aiostomp", "1.7.3"),
}
NAMES = {
    "ng-aio": "stomp-ng asyncio (`stomp.aio`)",
    "ng-threaded": "stomp-ng threaded (`stomp.Connection12`)",
    "stompman": "stompman 3.16.0",
    "aiostomp": "aiostomp 1.7.3",
}


@dataclass
class Scenario:
    id: str
    label: str
    op: str
    body: int
    n: tuple[int, int]  # (full, quick) messages per trial
    slow_n: dict[str, tuple[int, int]] = field(default_factory=dict)  # per library, if fewer
    targets: list = field(default_factory=list)  # (metric, other library, op, bound, text)

    def n_for(self, lib: str, quick: bool) -> int:
        full, short = self.slow_n.get(lib, self.n)
        return short if quick else full


def _cpu_targets(what: str) -> list:
    return [
        ("cpu", other, "<", 1.0, f"{what}: CPU per message below {other}'s")
        for other in ("stompman", "aiostomp")
    ]


SCENARIOS = [
    Scenario(
        "recv-100",
        "receive, 100 B body",
        "receive",
        100,
        (30000, 15000),
        {"stompman": (2000, 1000), "aiostomp": (2000, 1000)},
        targets=[
            ("rate", "stompman", ">=", 10.0, "receive 100 B: >= 10x stompman's messages/s"),
            ("rate", "ng-threaded", ">=", 0.8, "receive 100 B: >= 0.8x the threaded client's"),
            *_cpu_targets("receive 100 B"),
            (
                "cpu",
                "ng-threaded",
                "<",
                1.0,
                "receive 100 B: CPU per message below the threaded client's",
            ),
        ],
    ),
    Scenario(
        "recv-64k",
        "receive, 64 KiB body",
        "receive",
        65536,
        (1000, 500),
        {"stompman": (40, 20), "aiostomp": (10, 5)},
        targets=_cpu_targets("receive 64 KiB"),
    ),
    Scenario(
        "send-100",
        "send, 100 B body",
        "send",
        100,
        (30000, 15000),
        {"stompman": (10000, 5000), "aiostomp": (10000, 5000)},
        targets=[
            ("rate", "stompman", ">=", 3.0, "send 100 B: >= 3x stompman's messages/s"),
            *_cpu_targets("send 100 B"),
            (
                "cpu",
                "ng-threaded",
                "<",
                1.0,
                "send 100 B: CPU per message below the threaded client's",
            ),
        ],
    ),
    Scenario(
        "send-64k",
        "send, 64 KiB body",
        "send",
        65536,
        (1000, 500),
        targets=[
            ("rate", "stompman", ">=", 3.0, "send 64 KiB: >= 3x stompman's messages/s"),
            *_cpu_targets("send 64 KiB"),
        ],
    ),
]


# --- the other libraries' venvs -----------------------------------------------------------


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def ensure_venv(lib: str) -> Path:
    """Create ``bench/.venv-<lib>`` with the pinned release unless it already has it."""
    venv, requirement, dist, version = VENVS[lib]
    python = venv_python(venv)
    if not python.exists():
        log(f"creating {venv} ...")
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    probe = [str(python), "-I", "-c", f"import importlib.metadata as m; print(m.version({dist!r}))"]
    if _run_quiet(probe) != version:
        log(f"installing {requirement} into {venv} ...")
        subprocess.run(
            [str(python), "-I", "-m", "pip", "install", "-q", requirement],
            check=True,
            cwd=tempfile.gettempdir(),
        )
        found = _run_quiet(probe)
        if found != version:
            raise SystemExit(f"{venv}: {dist} {found or 'missing'} installed, not {version}")
    return python


def _run_quiet(cmd: list[str]) -> str | None:
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=tempfile.gettempdir())
    return out.stdout.strip() if out.returncode == 0 else None


def lib_command(lib: str, pythons: dict[str, Path]) -> tuple[list[str], dict[str, str]]:
    env = dict(os.environ)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["STOMP_SKIP_HOSTNAME_SCAN"] = "1"
    if lib in ("ng-aio", "ng-threaded"):
        env["PYTHONPATH"] = str(REPO)
        env.pop("STOMP_NO_SPEEDUPS", None)
        return [sys.executable, str(WORKER), "--lib", lib, "--expect-dir", str(REPO / "stomp")], env
    env.pop("PYTHONPATH", None)
    return [str(pythons[lib]), "-I", str(WORKER), "--lib", lib], env


# --- running a scenario --------------------------------------------------------------------


def run_scenario(sc: Scenario, args, pythons: dict[str, Path], port: int, cwd: str) -> dict:
    """Every library's trials of one scenario, round by round; a library that fails is
    reported with its error and left out of the later rounds, the others carry on."""
    deadline = time.monotonic() + args.timeout
    requests = {
        lib: {"op": sc.op, "port": port, "body": sc.body, "n": sc.n_for(lib, args.quick)}
        for lib in LIBS
    }
    trials: dict[str, list[dict | None]] = {lib: [] for lib in LIBS}
    errors: dict[str, str] = {}
    workers: dict[str, Worker] = {}
    info: dict[str, dict] = {}
    try:
        for lib in LIBS:
            try:
                workers[lib] = Worker(lib, *lib_command(lib, pythons), cwd, deadline)
                info[lib] = workers[lib].info
            except (TimeoutError, RuntimeError, OSError) as exc:
                errors[lib] = str(exc)
        speedups = {
            lib: info[lib].get("speedups") for lib in ("ng-aio", "ng-threaded") if lib in info
        }
        if any(v is not True for v in speedups.values()):
            log(f"  warning: stomp-ng's decoder without its C accelerator ({speedups})")

        def trial(lib: str) -> dict | None:
            if lib in errors:
                return None
            try:
                result = workers[lib].trial(requests[lib], deadline)
            except (TimeoutError, RuntimeError, OSError) as exc:
                errors[lib] = str(exc)
                log(f"  {lib}: {exc}")
                return None
            return {
                "rate": result["n"] / result["elapsed"],
                "cpu": result["cpu"] / result["n"],
                "elapsed": result["elapsed"],
                "maxrss_kib": result["maxrss_kib"],
            }

        for lib in LIBS:  # warm-up, untimed (the server builds its blobs here too)
            trial(lib)
        for r in range(args.rounds):
            shift = r % len(LIBS)
            for lib in LIBS[shift:] + LIBS[:shift]:
                trials[lib].append(trial(lib))
    finally:
        for worker in workers.values():
            worker.close()
    return summarise(sc, args, trials, errors, info)


def summarise(sc: Scenario, args, trials: dict, errors: dict, info: dict) -> dict:
    row: dict = {"id": sc.id, "label": sc.label, "libs": {}, "vs": {}, "errors": errors}
    for lib in LIBS:
        done = [t for t in trials[lib] if t is not None]
        entry: dict = {"n": sc.n_for(lib, args.quick), "trials": trials[lib], "info": info.get(lib)}
        if done:
            entry["rate"] = statistics.median(t["rate"] for t in done)
            entry["cpu"] = statistics.median(t["cpu"] for t in done)
            entry["maxrss_kib"] = max(t["maxrss_kib"] for t in done)
        row["libs"][lib] = entry
    for other in LIBS[1:]:
        pairs = [
            (a, b)
            for a, b in zip(trials[OURS], trials[other], strict=False)
            if a is not None and b is not None
        ]
        if not pairs:
            continue
        vs: dict = {"pairs": len(pairs)}
        for metric in ("rate", "cpu"):
            ratios = [a[metric] / b[metric] for a, b in pairs]
            vs[metric] = {
                "ratio": statistics.median(ratios),
                "min": min(ratios),
                "max": max(ratios),
            }
        row["vs"][other] = vs
    return row


def evaluate(rows: list[dict]) -> list[tuple]:
    results = []
    for row in rows:
        sc = next(s for s in SCENARIOS if s.id == row["id"])
        for metric, other, op, bound, text in sc.targets:
            vs = row["vs"].get(other)
            if vs is None:
                why = row["errors"].get(OURS) or row["errors"].get(other) or "no trials"
                results.append((text, row, "n/a", f"n/a ({_short(why)})"))
                continue
            value = vs[metric]["ratio"]
            ok = value >= bound if op == ">=" else (value < bound if op == "<" else value <= bound)
            results.append((text, row, f"{fmt_ratio(value)}×", "PASS" if ok else "**MISS**"))
    return results


def _short(text: str, limit: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- output --------------------------------------------------------------------------------


def tables(rows: list[dict], targets: list[tuple]) -> str:
    out = [
        "Each library alone (medians over the rounds; N = messages per trial):",
        "",
        "| scenario | library | N | rate | CPU/msg | peak RSS |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for row in rows:
        for lib in LIBS:
            e = row["libs"][lib]
            if "rate" not in e:
                why = row["errors"].get(lib, "no trials")
                out.append(
                    f"| {row['label']} | {NAMES[lib]} | {e['n']:,} | FAILED: {_short(why)} | | |"
                )
                continue
            out.append(
                f"| {row['label']} | {NAMES[lib]} | {e['n']:,} | {fmt_rate(e['rate'])} msg/s | "
                f"{fmt_us(e['cpu'])} | {e['maxrss_kib'] / 1024:.1f} MiB |"
            )
    out += [
        "",
        "stomp-ng asyncio against each of the others, round by round (median of the per-round "
        "ratios, min–max in brackets; rate ratio > 1 and CPU ratio < 1 favour stomp-ng asyncio):",
        "",
        "| scenario | against | rounds | rate ratio | CPU/msg ratio |",
        "|---|---|---:|---:|---:|",
    ]
    for row in rows:
        for other in LIBS[1:]:
            vs = row["vs"].get(other)
            if vs is None:
                why = row["errors"].get(OURS) or row["errors"].get(other) or "no trials"
                out.append(f"| {row['label']} | {NAMES[other]} | 0 | n/a ({_short(why)}) | |")
                continue
            r, c = vs["rate"], vs["cpu"]
            out.append(
                f"| {row['label']} | {NAMES[other]} | {vs['pairs']} | **{fmt_ratio(r['ratio'])}×** "
                f"({fmt_ratio(r['min'])}–{fmt_ratio(r['max'])}) | **{fmt_ratio(c['ratio'])}×** "
                f"({fmt_ratio(c['min'])}–{fmt_ratio(c['max'])}) |"
            )
    out += [
        "",
        "Targets (issue 16; ratios stomp-ng asyncio / the other library):",
        "",
        "| target | scenario | measured | result |",
        "|---|---|---:|---|",
    ]
    out += [f"| {text} | {row['label']} | {v} | {res} |" for text, row, v, res in targets]
    return "\n".join(out) + "\n"


def results_markdown(header: str, body: str) -> str:
    return (
        "# Asyncio benchmark results: stomp-ng asyncio vs stompman, aiostomp and stomp-ng "
        "threaded\n\n"
        "Written by `python bench/aio_run.py` (see the asyncio section of `bench/README.md` for "
        "what each scenario does). Rates are messages per second over the trial's timed "
        "window; CPU/msg is the client worker's process CPU time (all threads) per message; "
        "peak RSS is the worker's `ru_maxrss`. The libraries take turns trial by trial, and "
        "every ratio is the median of the per-round ratios (min–max in brackets).\n\n"
        f"{header}\n\n{body}\n{NOTES}"
    )


NOTES = """\
Notes on what each library could do here:

* **N differs by library.** stompman and aiostomp parse every received frame byte by byte
  (a few milliseconds per 64 KiB message), so they get fewer messages per trial where the
  same N would take them many seconds; their time per message does not depend on N. The N
  of each library is in the first table.
* **aiostomp has no receipts** in its public API (a `RECEIPT` is logged as "Unhandled
  frame" and dropped) and its `connect()` returns before `CONNECTED`. For `send-*` the
  worker adds a `RECEIPT` handler to its reader's private table of frame handlers
  (`StompReader.handlers_map`) and waits for `CONNECTED` through the same table before the
  clock starts; the frames are sent by aiostomp's own `send()`. Its `send()` writes without
  back-pressure (the whole burst waits in the transport's buffer: hence its peak RSS in
  `send-64k`). It asks for STOMP 1.1 only; the peer answers in 1.2 as it does everyone.
* **stompman** speaks 1.2 only and sends heart-beats at the interval the server asks for
  whatever its own setting, in a loop without pause when the server asks for none
  (`heart-beat:x,0`); it runs with its default `Heartbeat(1000, 1000)` and the peer asks
  for one a second. It hands each message to a task of its own.
* **Counts.** The last SEND of each send trial carries `expect-frames: N`; the sink answers
  with an `ERROR` instead of the `RECEIPT` if it counted another number, which every
  library turns into an error (stomp-ng asyncio: `BrokerErrorException`; stompman:
  `SendReceiptError`). Neither stomp-ng asyncio's `send(receipt=True)` nor stompman's
  `send(receipt_timeout=...)` returns the `RECEIPT`; for the two others the worker also
  checks its `frames` header.
* **`send-64k` is bound by the sink.** `python bench/send_floor.py` writes the same frames
  with nothing but `socket.sendall` to the same sink: no client sends faster than that
  loop, whose rate here is within a small factor of stompman's.
"""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="3 rounds, half the messages")
    parser.add_argument("--rounds", type=int, help="rounds per scenario (11; --quick: 3)")
    parser.add_argument(
        "--scenarios",
        nargs="+",
        metavar="ID",
        help="only these (" + ", ".join(s.id for s in SCENARIOS) + ")",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=240.0,
        help="seconds a scenario may take before its workers are stopped (240)",
    )
    parser.add_argument("--no-write", action="store_true", help="only print")
    args = parser.parse_args()
    if args.rounds is None:
        args.rounds = 3 if args.quick else 11
    wanted = set(args.scenarios or [s.id for s in SCENARIOS])
    unknown = wanted - {s.id for s in SCENARIOS}
    if unknown:
        raise SystemExit(f"unknown scenarios: {', '.join(sorted(unknown))}")

    pythons = {lib: ensure_venv(lib) for lib in VENVS}
    started = time.monotonic()
    rows = []
    with tempfile.TemporaryDirectory(prefix="stomp-aio-") as cwd:
        server, port = start_server(cwd)
        try:
            for sc in SCENARIOS:
                if sc.id not in wanted:
                    continue
                log(f"{sc.id}: {sc.label} ...")
                rows.append(run_scenario(sc, args, pythons, port, cwd))
        finally:
            stop_server(server)
    targets = evaluate(rows)
    report(
        tables(rows, targets),
        rows,
        args,
        started,
        f"{args.rounds} rounds per scenario",
        RESULTS_MD,
        RESULTS_JSON,
        results_markdown,
    )


if __name__ == "__main__":
    main()
