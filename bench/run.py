"""The benchmark suite of issue 6: stomp-ng against stomp.py 9.0.0, A/B in one run.

Run with the project's interpreter, from anywhere::

    python bench/run.py                      # full run: 11 A/B rounds, about 9 minutes
    python bench/run.py --quick              # 3 rounds, half the messages: 1.5-2 minutes
    python bench/run.py --scenarios recv-100 send-100 import
    python bench/run.py --profile recv-100   # cProfile stomp-ng's client worker (all threads)
    python bench/run.py --no-write           # print only

It creates (or reuses) ``bench/.venv-stomppy`` holding ``stomp-py==9.0.0`` (the helpers of
``codec_bench.py``), starts ``suite_server.py`` (a loopback STOMP blaster and counting sink,
plain sockets, in its own process) and, for each scenario, a fresh pair of client workers
(``suite_worker.py``): stomp-ng with this interpreter, stomp.py with the venv's python in
isolated mode.  The two workers take turns, one trial each (stomp-ng first in odd rounds,
stomp.py first in even ones), after one untimed warm-up trial each.  For every pair of
trials it computes the ratios (rate, client CPU time per message, p50 latency); a
scenario's ratio is the median of its per-pair ratios.  Peak RSS is the worker process's
``ru_maxrss`` at the end of the scenario (a fresh worker per scenario, so it is the peak
during that scenario, interpreter and import included); its growth is the worker's own
peak (``VmHWM``, Linux) minus its resident size before its first trial.  A third worker
(``--lib floor``, left out with ``--no-floor``) runs the same client code on the minimal
client of ``bench/floor`` in the same rounds, as the yardstick of what a pure-Python client
cannot avoid; each library's rate and CPU per message are also given as fractions of its.
A long scenario (``send-1k-slow``: a million 1 KiB messages to a slow reader) runs one pair
of trials (``--long-rounds``), without warm-up or the minimal client, with 3x ``--timeout``.

Prints the results and the issue's targets with PASS/MISS, and writes ``bench/RESULTS.md``
and ``bench/results/suite.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import selectors
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))
from codec_bench import ensure_venv, stomppy_site_dir  # noqa: E402

WORKER = BENCH / "suite_worker.py"
SERVER = BENCH / "suite_server.py"
FLOOR = BENCH / "floor"  # holds the minimal client's `stomp` package
RESULTS_MD = BENCH / "RESULTS.md"
RESULTS_JSON = BENCH / "results" / "suite.json"


@dataclass
class Scenario:
    id: str
    label: str
    op: dict
    n_full: int
    n_quick: int
    loopback: bool  # needs suite_server.py's port
    unit: str = "msg/s"
    latency: bool = False  # trials report latencies: p50/p99
    targets: list = field(default_factory=list)  # (metric, op, bound, text)
    rounds: int | None = None  # a long scenario's A/B rounds instead of --rounds
    warmup: bool = True  # one untimed trial per worker first
    floor: bool = True  # the minimal client takes part (unless --no-floor)
    timeout_scale: float = 1.0  # of --timeout, for the whole scenario
    # A second stomp-ng worker on the pure-Python decoder (STOMP_NO_SPEEDUPS=1) takes its
    # turn too, reported as a row of its own ("... stomp-ng pure Python") with these targets.
    pure_targets: list | None = None


RATE_5 = [("rate", ">=", 5.0, "receive 100 B and 1 KiB: >= 5x messages/s")]
# Issue 14 (the decoder's C accelerator): with it, and on the pure-Python decoder.
RECV_100_C = [
    ("rate", ">=", 15.0, "receive 100 B, C accelerator: >= 15x messages/s"),
    ("cpu", "<=", 0.1, "receive 100 B, C accelerator: CPU per message <= 0.1x"),
]
RECV_100_PURE = [("rate", ">=", 5.0, "receive 100 B, pure Python: >= 5x messages/s")]
RECV_64K_C = [("rate", ">=", 5.0, "receive 64 KiB, C accelerator: >= 5x messages/s")]
RECV_64K_PURE = [("rate", ">=", 3.5, "receive 64 KiB, pure Python: >= 3.5x messages/s")]
RSS = ("rss", "<=", 1.0, "peak RSS during receive <= 1.0x")
SEND_100 = [
    ("rate", ">=", 3.5, "send 100 B: >= 3.5x messages/s"),
    ("cpu", "<=", 0.4, "send 100 B: client CPU per message <= 0.4x"),
]
SEND_1K = [("rate", ">=", 3.0, "send 1 KiB: >= 3x messages/s")]
CPU = ("cpu", "<=", 0.5, "broker scenarios: client CPU per message <= 0.5x")
# The slow reader of send-1k-slow: suite_sink.Throttle paces its reads to this average.
SLOW_READER = 40 * 1024 * 1024  # bytes per second
ABSOLUTE = {"rss_growth"}  # targets on stomp-ng's own value (KiB), not on a ratio

SCENARIOS = [
    Scenario(
        "recv-0",
        "receive, empty body",
        {"op": "receive", "body": 0},
        30000,
        15000,
        True,
        targets=[RSS],
        pure_targets=[RSS],
    ),
    Scenario(
        "recv-100",
        "receive, 100 B body",
        {"op": "receive", "body": 100},
        30000,
        15000,
        True,
        targets=[*RECV_100_C, RSS],
        pure_targets=[*RECV_100_PURE, RSS],
    ),
    Scenario(
        "recv-1k",
        "receive, 1 KiB body",
        {"op": "receive", "body": 1024},
        20000,
        10000,
        True,
        targets=[*RATE_5, RSS],
        pure_targets=[*RATE_5, RSS],
    ),
    Scenario(
        "recv-64k",
        "receive, 64 KiB body",
        {"op": "receive", "body": 65536},
        1000,
        500,
        True,
        targets=[*RECV_64K_C, RSS],
        pure_targets=[*RECV_64K_PURE, RSS],
    ),
    Scenario(
        "send-100",
        "send, 100 B body",
        {"op": "send", "body": 100},
        30000,
        15000,
        True,
        targets=SEND_100,
    ),
    Scenario(
        "send-1k",
        "send, 1 KiB body",
        {"op": "send", "body": 1024},
        20000,
        10000,
        True,
        targets=SEND_1K,
    ),
    Scenario(
        "send-100-inproc",
        "send, 100 B body, sink on a thread of the client's process",
        {"op": "send_inproc", "body": 100},
        30000,
        15000,
        False,  # its own sink (suite_sink.py on a thread), not suite_server.py's
        targets=[("rate", ">=", 3.0, "send 100 B, in-process reader: >= 3x messages/s")],
    ),
    Scenario(
        "send-100-4t",
        "send, 100 B body, 4 threads on one connection",
        {"op": "send_threads", "body": 100, "threads": 4},
        30000,
        15000,
        True,
    ),
    Scenario(
        "send-1k-slow",
        f"send, 1 KiB body, to a slow reader ({SLOW_READER >> 20} MiB/s)",
        {"op": "send", "body": 1024, "reader_bps": SLOW_READER},
        1_000_000,
        100_000,
        True,
        targets=[
            ("rss", "<=", 1.5, "send 1 KiB to a slow reader: peak RSS <= 1.5x"),
            (
                "rss_growth",
                "<=",
                16 * 1024,
                "send 1 KiB to a slow reader: stomp-ng's peak RSS growth <= 16 MiB",
            ),
        ],
        rounds=1,
        warmup=False,
        floor=False,
        timeout_scale=3.0,
    ),
    Scenario(
        "rmq-auto",
        "RabbitMQ: produce N, then consume, ack=auto",
        {"op": "produce_consume", "ack": "auto", "body": 100},
        2000,
        1000,
        False,
        targets=[CPU],
    ),
    Scenario(
        "rmq-ci",
        "RabbitMQ: produce N, then consume, ack=client-individual",
        {"op": "produce_consume", "ack": "client-individual", "body": 100},
        2000,
        1000,
        False,
        targets=[CPU],
    ),
    Scenario(
        "rmq-rr",
        "RabbitMQ: request-reply round trips (two queues)",
        {"op": "request_reply", "body": 100},
        300,
        150,
        False,
        unit="round trips/s",
        latency=True,
        targets=[CPU, ("p50", "<=", 0.8, "request-reply p50 latency <= 0.8x")],
    ),
    Scenario(
        "rmq-receipt",
        "RabbitMQ: send, receipt awaited per message",
        {"op": "send_receipt", "body": 100},
        400,
        200,
        False,
        latency=True,
        targets=[CPU],
    ),
    Scenario(
        "rmq-send-receipt",
        "RabbitMQ: send, then send with a receipt, awaited (rounds)",
        {"op": "send_receipt", "body": 100, "before": 1},
        60,
        30,
        False,
        unit="rounds/s",
        latency=True,
        targets=[("p50", "<=", 0.05, "send + send-with-receipt round: p50 latency <= 0.05x")],
    ),
    Scenario(
        "rmq-confirmed",
        "RabbitMQ: confirmed sends (stomp-ng: send_confirmed pipelined, then "
        "wait_for_confirms; stomp.py: send with a receipt, awaited, per message)",
        {"op": "send_confirmed", "body": 100},
        4000,
        1000,
        False,
        floor=False,
        targets=[("rate", ">=", 10.0, "confirmed sends: >= 10x stomp.py's send + receipt loop")],
    ),
    Scenario(
        "rmq-connect",
        "RabbitMQ: connect + disconnect cycles",
        {"op": "connect_cycles"},
        25,
        12,
        False,
        unit="cycles/s",
        latency=True,
        targets=[CPU],
    ),
]
IMPORT_TARGET = ("import", "<=", 0.5, "`import stomp` time <= 0.5x")
IMPORT_SNIPPET = (
    "import time; t0 = time.perf_counter(); import stomp; print(time.perf_counter() - t0)"
)


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def lib_command(lib: str, python: Path, args: list[str], skip_scan: bool = True):
    env = dict(os.environ)
    if skip_scan:
        env["STOMP_SKIP_HOSTNAME_SCAN"] = "1"  # as codec_bench: no host-name lookup on import
    else:
        env.pop("STOMP_SKIP_HOSTNAME_SCAN", None)
    if lib in ("ours", "pure"):
        env["PYTHONPATH"] = str(REPO)
        env.pop("STOMP_NO_SPEEDUPS", None)
        if lib == "pure":  # stomp-ng on its pure-Python decoder
            env["STOMP_NO_SPEEDUPS"] = "1"
        return [sys.executable, *args], env
    if lib == "floor":  # the minimal client, with this interpreter
        env["PYTHONPATH"] = str(FLOOR)
        return [sys.executable, *args], env
    env.pop("PYTHONPATH", None)
    return [str(python), "-I", *args], env


def suite_worker(lib: str, python: Path, cwd: str, extra: list[str], deadline: float) -> Worker:
    """A running ``suite_worker.py`` for ``lib``."""
    worker_lib = "ours" if lib == "pure" else lib
    cmd, env = lib_command(lib, python, [str(WORKER), "--lib", worker_lib, *extra])
    return Worker(lib, cmd, env, cwd, deadline)


class Worker:
    """One running worker process (``suite_worker.py``, ``aio_worker.py``): JSON requests
    on its stdin answered one at a time on its stdout, each within a deadline."""

    def __init__(
        self, lib: str, cmd: list[str], env: dict[str, str], cwd: str, deadline: float
    ) -> None:
        self.lib = lib
        self.stderr = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed in close())
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
        self.selector = selectors.DefaultSelector()
        self.selector.register(self.proc.stdout, selectors.EVENT_READ)
        self.info = self._read(deadline)

    def _read(self, deadline: float) -> dict:
        if not self.selector.select(max(0.0, deadline - time.monotonic())):
            raise TimeoutError(f"{self.lib} worker: scenario timeout")
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait(timeout=10)
            raise RuntimeError(f"{self.lib} worker died ({self.proc.returncode}): {self.errors()}")
        return json.loads(line)

    def trial(self, request: dict, deadline: float) -> dict:
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        result = self._read(deadline)
        if "error" in result:
            raise RuntimeError(f"{self.lib}: {result['error']}")
        return result

    def errors(self) -> str:
        self.stderr.seek(0)
        return self.stderr.read().strip()[-2000:]

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.selector.close()
        self.stderr.close()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summarise_trial(result: dict) -> dict:
    n = result["n"]
    out = {"rate": n / result["elapsed"], "cpu": result["cpu"] / n, "elapsed": result["elapsed"]}
    if "latencies" in result:
        out["p50"] = percentile(result["latencies"], 0.5)
        out["p99"] = percentile(result["latencies"], 0.99)
    out["maxrss_kib"] = result["maxrss_kib"]
    out["hwm_kib"] = result.get("hwm_kib")
    out["rss_start_kib"] = result.get("rss_start_kib")
    return out


def rounds_for(sc: Scenario, args) -> int:
    if sc.rounds is None:
        return args.rounds
    return sc.rounds if args.long_rounds is None else args.long_rounds


def run_scenario(
    sc: Scenario, args, python: Path, site_dir: str, port: int, cwd: str
) -> list[dict]:
    n = sc.n_quick if args.quick else sc.n_full
    rounds = rounds_for(sc, args)
    floor = args.floor and sc.floor
    request = dict(sc.op, n=n)
    if sc.loopback:
        request["port"] = port
    deadline = time.monotonic() + args.timeout * sc.timeout_scale
    workers = {}
    trials: dict[str, list[dict]] = {"ours": [], "stomppy": []}
    baseline: dict[str, int | None] = {}  # resident KiB before each worker's first trial
    libs = {"ours": str(REPO / "stomp"), "stomppy": site_dir}
    pure = sc.pure_targets is not None
    if pure:
        trials["pure"] = []
        libs["pure"] = str(REPO / "stomp")
    if floor:
        trials["floor"] = []
        libs["floor"] = str(FLOOR / "stomp")
    try:
        for lib, directory in libs.items():
            workers[lib] = suite_worker(lib, python, cwd, ["--expect-dir", directory], deadline)
        speedups = {lib: workers[lib].info.get("speedups") for lib in workers if lib != "floor"}
        if speedups.get("ours") is not True or speedups.get("pure", False) is not False:
            log(f"  warning: decoder paths not as expected (speedups: {speedups})")
        for lib in libs if sc.warmup else ():  # warm-up, untimed
            baseline[lib] = workers[lib].trial(request, deadline).get("rss_start_kib")
        for r in range(rounds):
            order = ["ours", "stomppy"] if r % 2 == 0 else ["stomppy", "ours"]
            if pure:  # the pure-Python decoder's trial before, between or after the pair
                order.insert((r + 1) % 3, "pure")
            if floor:  # the floor's trial before, between or after the pair
                order.insert(r % 3, "floor")
            for lib in order:
                trials[lib].append(summarise_trial(workers[lib].trial(request, deadline)))
                baseline.setdefault(lib, trials[lib][-1]["rss_start_kib"])
        error = None
    except (TimeoutError, RuntimeError, OSError) as exc:
        error = str(exc)
    finally:
        for worker in workers.values():
            worker.close()
    rows = [_row(sc, n, rounds, error, trials, baseline)]
    if pure:
        label = f"{sc.label}, stomp-ng pure Python"
        pure_trials = dict(trials, ours=trials["pure"])
        pure_base = dict(baseline, ours=baseline.get("pure"))
        rows.append(_row(sc, n, rounds, error, pure_trials, pure_base, sc.id + "-pure", label))
    return rows


def _row(
    sc: Scenario,
    n: int,
    rounds: int,
    error: str | None,
    trials: dict[str, list[dict]],
    baseline: dict[str, int | None],
    row_id: str | None = None,
    label: str | None = None,
) -> dict:
    # The row of one scenario: "ours" against "stomppy" (and the floor), round by round.
    pairs = list(zip(trials["ours"], trials["stomppy"], strict=False))
    row = {
        "id": row_id or sc.id,
        "label": label or sc.label,
        "n": n,
        "unit": sc.unit,
        "error": error,
        "trials": trials,
        "pairs": len(pairs),
        "rounds": rounds,
        "warmup": sc.warmup,
    }
    if not pairs:
        return row
    metrics = ["rate", "cpu"] + (["p50", "p99"] if sc.latency else [])
    for metric in metrics:
        ours = [p[0][metric] for p in pairs]
        theirs = [p[1][metric] for p in pairs]
        ratios = [a / b for a, b in zip(ours, theirs, strict=False)]
        row[metric] = {
            "ours": statistics.median(ours),
            "stomppy": statistics.median(theirs),
            "ratio": statistics.median(ratios),
            "min": min(ratios),
            "max": max(ratios),
        }
    if trials.get("floor"):
        # Each library against the minimal client, round by round.
        row["floor"] = {"rate": statistics.median(t["rate"] for t in trials["floor"])}
        row["floor"]["cpu"] = statistics.median(t["cpu"] for t in trials["floor"])
        for lib in ("ours", "stomppy"):
            for metric in ("rate", "cpu"):
                row["floor"][f"{lib}_{metric}"] = statistics.median(
                    a[metric] / b[metric]
                    for a, b in zip(trials[lib], trials["floor"], strict=False)
                )
    rss_o = max(t["maxrss_kib"] for t in trials["ours"])
    rss_t = max(t["maxrss_kib"] for t in trials["stomppy"])
    row["rss"] = {"ours": rss_o, "stomppy": rss_t, "ratio": rss_o / rss_t}
    growth = {}
    for lib in ("ours", "stomppy"):
        # How far the worker's own peak (VmHWM, Linux) rose above its resident size before
        # its first trial (after start-up and `import stomp`): the most the scenario held.
        peaks = [t["hwm_kib"] for t in trials[lib]]
        if baseline.get(lib) is not None and None not in peaks:
            growth[lib] = max(0, max(peaks) - baseline[lib])
    if len(growth) == 2:
        growth["ratio"] = growth["ours"] / max(growth["stomppy"], 1)
        row["rss_growth"] = growth
    return row


def measure_import(args, python: Path, cwd: str) -> list[dict]:
    rows = []
    count = 5 if args.quick else 11
    # Fair start: pip compiled stomp.py's modules to .pyc when it installed them, while our
    # checkout may have none (and PYTHONDONTWRITEBYTECODE=1 keeps imports from writing
    # them), so each of our imports would compile every source.  Compile ours first, so that
    # both sides measure an import, not a compilation.
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(REPO / "stomp")],
        capture_output=True,
        timeout=120,
        check=True,
    )
    for skip_scan, label in (
        (False, "`import stomp` (default environment)"),
        (True, "`import stomp` (STOMP_SKIP_HOSTNAME_SCAN=1)"),
    ):
        times: dict[str, list[float]] = {"ours": [], "stomppy": []}
        for i in range(count + 1):
            order = ("ours", "stomppy") if i % 2 == 0 else ("stomppy", "ours")
            for lib in order:
                cmd, env = lib_command(lib, python, ["-c", IMPORT_SNIPPET], skip_scan)
                out = subprocess.run(
                    cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=60, check=True
                )
                if i:  # the first pair warms the file cache
                    times[lib].append(float(out.stdout.strip()))
        ratios = [a / b for a, b in zip(times["ours"], times["stomppy"], strict=False)]
        rows.append(
            {
                "id": "import" if not skip_scan else "import-skipscan",
                "label": label,
                "n": count,
                "unit": "ms",
                "error": None,
                "pairs": count,
                "import": {
                    "ours": statistics.median(times["ours"]) * 1e3,
                    "stomppy": statistics.median(times["stomppy"]) * 1e3,
                    "ratio": statistics.median(ratios),
                    "min": min(ratios),
                    "max": max(ratios),
                },
                "trials": times,
            }
        )
    return rows


def check(row: dict, target) -> tuple[float | None, bool | None]:
    metric, op, bound, _ = target
    if metric not in row:
        return None, None
    value = row[metric]["ours" if metric in ABSOLUTE else "ratio"]
    return value, (value >= bound if op == ">=" else value <= bound)


def fmt_measured(metric: str, value: float) -> str:
    if metric == "rss_growth":
        return f"{value / 1024:.1f} MiB"
    return f"{fmt_ratio(value)}×"


def fmt_ratio(v: float) -> str:
    return f"{v:.3f}" if v < 0.1 else f"{v:.2f}"


def fmt_rate(v: float) -> str:
    return f"{v:,.0f}"


def fmt_us(v: float) -> str:
    return f"{v * 1e6:,.1f} µs"


def fmt_ms(v: float) -> str:
    return f"{v * 1e3:,.2f} ms"


def tables(rows: list[dict], targets: list[tuple]) -> str:
    out = [
        "| scenario | N | stomp-ng | stomp.py | ratio (min–max) | CPU/msg ng | CPU/msg py | "
        "CPU ratio | p50 ng / py (ratio) | p99 ng / py | peak RSS ng / py (ratio); "
        "growth ng / py |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        if row.get("error") and "rate" not in row and "import" not in row:
            out.append(f"| {row['label']} | {row['n']} | FAILED: {row['error']} |" + " |" * 8)
            continue
        if "import" in row:
            m = row["import"]
            out.append(
                f"| {row['label']} | {row['n']} runs | {m['ours']:.1f} ms | "
                f"{m['stomppy']:.1f} ms | **{m['ratio']:.2f}×** ({m['min']:.2f}–"
                f"{m['max']:.2f}) | | | | | | |"
            )
            continue
        r, c = row["rate"], row["cpu"]
        p50 = p99 = ""
        if "p50" in row:
            p50 = (
                f"{fmt_ms(row['p50']['ours'])} / {fmt_ms(row['p50']['stomppy'])} "
                f"(**{fmt_ratio(row['p50']['ratio'])}×**)"
            )
            p99 = f"{fmt_ms(row['p99']['ours'])} / {fmt_ms(row['p99']['stomppy'])}"
        rss = row["rss"]
        growth = ""
        if "rss_growth" in row:
            g = row["rss_growth"]
            growth = f"; +{g['ours'] / 1024:.1f} / +{g['stomppy'] / 1024:.1f}"
        note = f" ⚠ {row['error']}" if row.get("error") else ""
        out.append(
            f"| {row['label']} | {row['n']:,} | {fmt_rate(r['ours'])} {row['unit']} | "
            f"{fmt_rate(r['stomppy'])} {row['unit']} | **{r['ratio']:.2f}×** "
            f"({r['min']:.2f}–{r['max']:.2f}){note} | {fmt_us(c['ours'])} | "
            f"{fmt_us(c['stomppy'])} | **{c['ratio']:.2f}×** | {p50} | {p99} | "
            f"{rss['ours'] / 1024:.1f} / {rss['stomppy'] / 1024:.1f} MiB "
            f"({rss['ratio']:.2f}×){growth} |"
        )
    floors = [row for row in rows if "floor" in row]
    if floors:
        out += [
            "",
            "Against the minimal client (`bench/floor`: one format and one `sendall` per "
            "frame, headers split into a dict, nothing else), run in the same rounds; each "
            "library's rate and CPU/msg as a fraction of the minimal client's, and what the "
            "target asks of stomp-ng in the same terms:",
            "",
            "| scenario | minimal client | CPU/msg | stomp-ng rate | stomp.py rate | "
            "stomp-ng CPU | stomp.py CPU | target, as a fraction of the minimal client |",
            "|---|---:|---:|---:|---:|---:|---:|---|",
        ]
        for row in floors:
            f = row["floor"]
            out.append(
                f"| {row['label']} | {fmt_rate(f['rate'])} {row['unit']} | {fmt_us(f['cpu'])} "
                f"| {f['ours_rate']:.2f} | {f['stomppy_rate']:.2f} | {f['ours_cpu']:.2f} | "
                f"{f['stomppy_cpu']:.2f} | {_target_vs_floor(row)} |"
            )
    out += [
        "",
        "Targets (ratios stomp-ng / stomp.py):",
        "",
        "| target | scenario | measured | result |",
        "|---|---|---:|---|",
    ]
    out += [f"| {t[3]} | {row['label']} | {v} | {res} |" for t, row, v, res in targets]
    return "\n".join(out) + "\n"


def _target_vs_floor(row: dict) -> str:
    # A rate target of k x stomp.py is k x (stomp.py's rate / the minimal client's) of the
    # minimal client's rate; a CPU target likewise.
    sc = next(s for s in SCENARIOS if row["id"] in (s.id, s.id + "-pure"))
    targets = sc.targets if row["id"] == sc.id else sc.pure_targets or []
    f = row["floor"]
    parts = []
    for metric, _, bound, _ in targets:
        if metric in ("rate", "cpu"):
            word = "rate" if metric == "rate" else "CPU/msg"
            parts.append(f"{word} {bound * f[f'stomppy_{metric}']:.2f}")
    return ", ".join(parts)


def evaluate(rows: list[dict]) -> list[tuple]:
    by_id = {row["id"]: row for row in rows}
    results = []
    checks = [(sc.id, sc.targets) for sc in SCENARIOS]
    checks += [(sc.id + "-pure", sc.pure_targets) for sc in SCENARIOS if sc.pure_targets]
    for row_id, targets in checks:
        row = by_id.get(row_id)
        if row is None:
            continue
        for target in targets:
            value, ok = check(row, target)
            results.append(
                (
                    target,
                    row,
                    "n/a" if value is None else fmt_measured(target[0], value),
                    "n/a" if ok is None else ("PASS" if ok else "**MISS**"),
                )
            )
    if "import" in by_id:
        value, ok = check(by_id["import"], IMPORT_TARGET)
        results.append(
            (IMPORT_TARGET, by_id["import"], f"{value:.2f}×", "PASS" if ok else "**MISS**")
        )
    return results


def profile(scenario_id: str, args, python: Path) -> None:
    """Run stomp-ng's worker alone on one scenario under cProfile (every thread)."""
    sc = next(s for s in SCENARIOS if s.id == scenario_id)
    n = sc.n_quick if args.quick else sc.n_full
    with tempfile.TemporaryDirectory(prefix="stomp-suite-") as cwd:
        server = start_server(cwd) if sc.loopback else None
        try:
            request = dict(sc.op, n=n)
            if server:
                request["port"] = server[1]
            prof_dir = Path(cwd) / "prof"
            prof_dir.mkdir()
            deadline = time.monotonic() + args.timeout * sc.timeout_scale
            rounds = rounds_for(sc, args)
            worker = suite_worker("ours", python, cwd, ["--profile-dir", str(prof_dir)], deadline)
            try:
                for _ in range(rounds):
                    worker.trial(request, deadline)
            finally:
                worker.close()
            import pstats

            files = sorted(str(p) for p in prof_dir.iterdir())
            stats = pstats.Stats(files[0])
            for f in files[1:]:
                stats.add(f)
            print(
                f"cProfile of stomp-ng's client worker, scenario {sc.id} ({sc.label}), "
                f"{rounds} trials of {n}, all threads merged:"
            )
            stats.sort_stats("tottime").print_stats(args.profile_top)
        finally:
            if server:
                stop_server(server[0])


def start_server(cwd: str):
    proc = subprocess.Popen(
        [sys.executable, str(SERVER)],
        cwd=cwd,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline()
    if not line:
        raise SystemExit("suite_server.py failed to start")
    return proc, json.loads(line)["port"]


def stop_server(proc: subprocess.Popen) -> None:
    with contextlib.suppress(OSError):
        proc.stdin.close()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="3 rounds, half the messages")
    parser.add_argument("--rounds", type=int, help="A/B rounds per scenario (11; --quick: 3)")
    parser.add_argument(
        "--long-rounds",
        type=int,
        metavar="N",
        help="A/B rounds of the long scenarios, which ignore --rounds (send-1k-slow: 1)",
    )
    parser.add_argument(
        "--scenarios",
        nargs="+",
        metavar="ID",
        help="only these (" + ", ".join(s.id for s in SCENARIOS) + ", import)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=120.0,
        help="seconds a scenario may take before it is abandoned (120; send-1k-slow: 3x)",
    )
    parser.add_argument("--profile", metavar="ID", help="cProfile stomp-ng on scenario ID")
    parser.add_argument("--profile-top", type=int, default=15, help="entries to print (15)")
    parser.add_argument("--no-write", action="store_true", help="only print")
    parser.add_argument(
        "--no-floor",
        dest="floor",
        action="store_false",
        help="leave out the minimal client (bench/floor) measured in the same rounds",
    )
    args = parser.parse_args()
    if args.rounds is None:
        args.rounds = 3 if args.quick or args.profile else 11

    python = ensure_venv()
    if args.profile:
        profile(args.profile, args, python)
        return
    site_dir = stomppy_site_dir(python)
    wanted = set(args.scenarios or [s.id for s in SCENARIOS] + ["import"])
    unknown = wanted - {s.id for s in SCENARIOS} - {"import"}
    if unknown:
        raise SystemExit(f"unknown scenarios: {', '.join(sorted(unknown))}")
    started = time.monotonic()
    rows = []
    with tempfile.TemporaryDirectory(prefix="stomp-suite-") as cwd:
        server, port = start_server(cwd)
        try:
            for sc in SCENARIOS:
                if sc.id not in wanted:
                    continue
                log(f"{sc.id}: {sc.label} ...")
                scenario_rows = run_scenario(sc, args, python, site_dir, port, cwd)
                if scenario_rows[0]["error"]:
                    log(f"  {sc.id} failed: {scenario_rows[0]['error']}")
                rows += scenario_rows
        finally:
            stop_server(server)
        if "import" in wanted:
            log("import: fresh interpreters ...")
            rows += measure_import(args, python, cwd)
    targets = evaluate(rows)
    report(
        tables(rows, targets),
        rows,
        args,
        started,
        f"{args.rounds} A/B rounds per scenario",
        RESULTS_MD,
        RESULTS_JSON,
        results_markdown,
        machine=platform.machine(),
        node=platform.node(),
    )


def report(
    body: str,
    rows: list[dict],
    args,
    started: float,
    rounds: str,
    markdown_path: Path,
    json_path: Path,
    markdown: Callable[[str, str], str],
    **more_meta: object,
) -> None:
    """Print the results (a header naming the run and the machine, then ``body``, the
    tables) and, unless ``--no-write``, write them to ``markdown_path`` (through
    ``markdown``) and ``rows`` to ``json_path``."""
    meta = {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        **more_meta,
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model(),
        "rounds": args.rounds,
        "quick": args.quick,
        "seconds": round(time.monotonic() - started, 1),
    }
    header = (
        f"Date: {meta['date']} · {meta['cpu_model']} · {meta['cpu_count']} CPUs · "
        f"{meta['platform']} · Python {meta['python']} · "
        f"{'quick' if args.quick else 'full'} run, {rounds}, {meta['seconds']:.0f} s"
    )
    print(header + "\n\n" + body)
    if not args.no_write:
        json_path.parent.mkdir(exist_ok=True)
        json_path.write_text(json.dumps({"meta": meta, "rows": rows}, indent=1) + "\n")
        markdown_path.write_text(markdown(header, body))
        log(f"wrote {markdown_path.relative_to(REPO)} and {json_path.relative_to(REPO)}")


def results_markdown(header: str, body: str) -> str:
    return (
        "# Benchmark results: stomp-ng vs stomp.py 9.0.0\n\n"
        "Written by `python bench/run.py` (see `bench/README.md` for what each scenario "
        "does). Rates and latencies are medians over the rounds; every ratio is stomp-ng / "
        "stomp.py, the median of the per-round ratios (min–max in brackets). CPU/msg is the "
        "client worker's process CPU time (all threads) per message; peak RSS is the client "
        "worker's `ru_maxrss` (a fresh worker per scenario); its growth is the worker's own "
        "peak (`VmHWM`) minus its resident size before its first trial.\n\n"
        f"{header}\n\n{body}"
    )


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


if __name__ == "__main__":
    main()
