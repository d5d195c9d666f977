"""Client worker for ``bench/run.py``: runs trials of one scenario with ONE library.

Started by ``run.py`` (never imported by the library) in the same way as
``codec_worker.py``: ``--lib ours`` with the project's interpreter and ``PYTHONPATH`` = the
repository root; ``--lib stomppy`` with the python of ``bench/.venv-stomppy`` in isolated
mode, so ``import stomp`` is stomp.py 9.0.0; ``--lib floor`` with ``PYTHONPATH`` =
``bench/floor``, whose ``stomp`` is the minimal client the other two are measured against.  The client code below uses only stomp.py's
public API (``stomp.Connection12``, ``ConnectionListener``, ``send``/``subscribe``/``ack``),
so both libraries run exactly the same code.

Protocol: one JSON line on stdout when ready, then for each JSON request line on stdin
(``{"op": ..., ...}``) one JSON line with the trial's result: ``n`` (messages), ``elapsed``
(wall seconds), ``cpu`` (process CPU seconds, all threads, ``time.process_time`` delta over
the same window), ``maxrss_kib`` (the worker's peak RSS so far: ``ru_maxrss``, which on
Linux also counts the driver's resident size when it forked the worker), ``hwm_kib`` (the
peak of this process image alone: ``VmHWM``, Linux only, else null), ``rss_start_kib``
(``VmRSS`` when the request came, before the trial's connection) and, for latency trials,
``latencies``.  An error is reported as ``{"error": ...}``.  Every wait is bounded.

The counting sink of ``suite_sink.py`` (standard library only) is imported from this
file's directory, appended to ``sys.path`` so that it cannot shadow ``stomp``: scenario
``send-100-inproc`` runs it on a thread of this process.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import sys
import threading
import time
import uuid

import stomp

sys.path.append(os.path.dirname(os.path.abspath(__file__)))  # after stomp's: no shadowing
import suite_sink

WAIT = 60.0  # no single wait in a trial lasts longer than this
RABBIT = [("127.0.0.1", 61613)]
BODY_CACHE: dict[int, str] = {}


def text_body(size: int) -> str:
    if size not in BODY_CACHE:
        BODY_CACHE[size] = ("x" * 63 + "\n") * (size // 64) + "y" * (size % 64)
    return BODY_CACHE[size]


class Counter(stomp.ConnectionListener):
    """Counts MESSAGE frames; sets ``done`` at the ``target``-th; records receipts."""

    def __init__(self, target: int = 0, conn=None, ack: bool = False) -> None:
        self.count = 0
        self.target = target
        self.done = threading.Event()
        self.receipts: dict[str, threading.Event] = {}
        self.receipt_headers: dict[str, dict] = {}  # of the receipts awaited
        self.conn = conn
        self.ack = ack
        self.errors: list = []

    def on_message(self, frame) -> None:
        if self.ack:
            self.conn.ack(frame.headers["ack"])
        self.count += 1
        if self.count == self.target:
            self.done.set()

    def on_receipt(self, frame) -> None:
        receipt_id = frame.headers.get("receipt-id")
        event = self.receipts.get(receipt_id)
        if event is not None:
            self.receipt_headers[receipt_id] = frame.headers
            event.set()

    def on_error(self, frame) -> None:
        self.errors.append(frame.body)


def wait(event: threading.Event, what: str) -> None:
    if not event.wait(WAIT):
        raise TimeoutError(f"timed out waiting for {what}")


def connect(host_and_ports, listener=None, vhost=None):
    conn = stomp.Connection12(host_and_ports, vhost=vhost)
    if listener is not None:
        listener.conn = conn
        conn.set_listener("bench", listener)
    conn.connect("guest", "guest", wait=True)
    return conn


def check_sink_count(listener: Counter, receipt: str, n: int) -> None:
    """The loopback sink's RECEIPT says how many SEND frames it counted: all n, no more."""
    frames = listener.receipt_headers.get(receipt, {}).get("frames")
    if frames is not None and int(frames) != n:
        raise RuntimeError(f"the sink counted {frames} SEND frames, not {n}")


def proc_status_kib(field: str) -> int | None:
    """``VmRSS`` (resident now) or ``VmHWM`` (its peak) in KiB; None off Linux.

    ``VmHWM`` belongs to this process image: unlike ``ru_maxrss`` it does not start from
    the parent's resident size at ``fork()`` (the driver's, about 20 MiB).
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


def measure(run) -> dict:
    """Run ``run()`` (returns the number of messages) between clock readings."""
    c0, t0 = time.process_time(), time.perf_counter()
    n, extra = run()
    t1, c1 = time.perf_counter(), time.process_time()
    result = {"n": n, "elapsed": t1 - t0, "cpu": c1 - c0}
    result.update(extra)
    return result


# --- loopback scenarios (the suite_server.py peer) ------------------------------------------


def op_receive(port: int, body: int, n: int) -> dict:
    listener = Counter(n)
    conn = connect([("127.0.0.1", port)], listener)
    try:

        def run():
            conn.subscribe(f"/queue/blast/{body}/{n}", id="sub-0", ack="auto")
            wait(listener.done, f"{n} messages")
            return n, {}

        return measure(run)
    finally:
        conn.disconnect()


def op_send(port: int, body: int, n: int, reader_bps: int | None = None) -> dict:
    listener = Counter()
    conn = connect([("127.0.0.1", port)], listener)
    payload = text_body(body)
    send = conn.send
    receipt = f"done-{uuid.uuid4().hex}"
    try:
        if reader_bps:  # a slow reader from now on (suite_sink.Throttle), before the clock
            ready = listener.receipts["throttled"] = threading.Event()
            conn.subscribe(
                f"/queue/throttle/{reader_bps}", id="throttle", headers={"receipt": "throttled"}
            )
            wait(ready, "the throttle's receipt")

        def run():
            event = listener.receipts[receipt] = threading.Event()
            for _ in range(n - 1):
                send("/queue/sink", payload, content_type="text/plain")
            # The last frame asks for a receipt: the sink answers once it has counted all n.
            send("/queue/sink", payload, content_type="text/plain", headers={"receipt": receipt})
            wait(event, "the sink's receipt")
            return n, {}

        result = measure(run)
    finally:
        conn.disconnect()
    check_sink_count(listener, receipt, n)
    return result


def op_send_inproc(body: int, n: int) -> dict:
    """``op_send`` against the counting sink on a thread of this process (same GIL)."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(WAIT)

    def sink() -> None:
        try:
            conn, _ = server.accept()
        except OSError:  # timed out, or closed because the client never came
            return
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn.settimeout(WAIT)
        suite_sink.serve_quietly(conn)

    thread = threading.Thread(target=sink, name="bench-sink", daemon=True)
    thread.start()
    try:
        return op_send(server.getsockname()[1], body, n)
    finally:
        server.close()
        thread.join(WAIT)  # the sink returns on DISCONNECT (or a closed socket)


def op_send_threads(port: int, body: int, n: int, threads: int) -> dict:
    """``threads`` threads share the first n - 1 sends on ONE connection; then the receipt."""
    listener = Counter()
    conn = connect([("127.0.0.1", port)], listener)
    payload = text_body(body)
    receipt = f"done-{uuid.uuid4().hex}"
    start = threading.Event()
    errors: list[BaseException] = []

    def sender(count: int) -> None:
        send = conn.send
        try:
            if not start.wait(WAIT):
                raise TimeoutError("timed out waiting for the start")
            for _ in range(count):
                send("/queue/sink", payload, content_type="text/plain")
        except Exception as exc:  # re-raised by the main thread
            errors.append(exc)

    share, extra = divmod(n - 1, threads)
    senders = [
        threading.Thread(target=sender, args=(share + (i < extra),), daemon=True)
        for i in range(threads)
    ]
    for thread in senders:  # started before the clock, waiting for `start`
        thread.start()
    try:

        def run():
            event = listener.receipts[receipt] = threading.Event()
            start.set()
            until = time.monotonic() + WAIT
            for thread in senders:
                thread.join(max(0.0, until - time.monotonic()))
                if thread.is_alive():
                    raise TimeoutError("timed out waiting for a sending thread")
            if errors:
                raise errors[0]
            # All n - 1 are sent: the n-th asks for the receipt, which the sink answers
            # once it has counted all n.
            conn.send(
                "/queue/sink", payload, content_type="text/plain", headers={"receipt": receipt}
            )
            wait(event, "the sink's receipt")
            return n, {}

        result = measure(run)
    finally:
        start.set()  # threads still waiting (an error before the start) end at once
        conn.disconnect()
    check_sink_count(listener, receipt, n)
    return result


# --- RabbitMQ scenarios ------------------------------------------------------------------


def op_produce_consume(n: int, ack: str, body: int) -> dict:
    queue = f"/queue/stomp-bench-{os.getpid()}-{ack}"
    payload = text_body(body)

    def run():
        producer = connect(RABBIT, Counter(), vhost="/")
        try:
            for _ in range(n):
                producer.send(queue, payload)
        finally:
            producer.disconnect()  # RabbitMQ's receipt: every message has been taken
        listener = Counter(n, ack=ack != "auto")
        consumer = connect(RABBIT, listener, vhost="/")
        try:
            consumer.subscribe(queue, id="1", ack=ack)
            wait(listener.done, f"{n} messages from RabbitMQ")
        finally:
            consumer.disconnect()
        if listener.errors:
            raise RuntimeError(f"ERROR frames: {listener.errors[:1]}")
        return n, {}

    return measure(run)


def op_request_reply(n: int, body: int) -> dict:
    tag = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
    requests, replies = f"/queue/stomp-bench-req-{tag}", f"/queue/stomp-bench-rep-{tag}"
    payload = text_body(body)

    class Responder(stomp.ConnectionListener):
        def on_message(self, frame) -> None:
            responder.send(frame.headers["reply-to"], frame.body)

    class Requester(Counter):
        def on_message(self, frame) -> None:
            self.done.set()

    responder = connect(RABBIT, None, vhost="/")
    responder.set_listener("bench", Responder())
    listener = Requester()
    requester = connect(RABBIT, listener, vhost="/")
    try:
        ready = threading.Event()
        listener.receipts["sub-ready"] = ready
        responder.subscribe(requests, id="1", ack="auto")
        requester.subscribe(replies, id="1", ack="auto", headers={"receipt": "sub-ready"})
        wait(ready, "the SUBSCRIBE receipt")
        latencies: list[float] = []

        def run():
            clock = time.perf_counter
            for _ in range(n):
                listener.done.clear()
                t0 = clock()
                requester.send(requests, payload, headers={"reply-to": replies})
                wait(listener.done, "a reply")
                latencies.append(clock() - t0)
            return n, {"latencies": latencies}

        return measure(run)
    finally:
        requester.disconnect()
        responder.disconnect()


def op_send_receipt(n: int, body: int, before: int = 0) -> dict:
    """n rounds: ``before`` sends without a receipt, then one with it, awaited."""
    listener = Counter()
    conn = connect(RABBIT, listener, vhost="/")
    payload = text_body(body)
    try:
        latencies: list[float] = []

        def run():
            clock = time.perf_counter
            for i in range(n):
                receipt = f"r-{i}"
                event = listener.receipts[receipt] = threading.Event()
                t0 = clock()
                # A topic with no subscriber: RabbitMQ drops the messages, nothing piles up.
                for _ in range(before):
                    conn.send("/topic/stomp-bench-sink", payload)
                conn.send("/topic/stomp-bench-sink", payload, headers={"receipt": receipt})
                wait(event, "a receipt")
                latencies.append(clock() - t0)
                del listener.receipts[receipt]
                listener.receipt_headers.pop(receipt, None)
            return n, {"latencies": latencies}

        return measure(run)
    finally:
        conn.disconnect()


def op_send_confirmed(n: int, body: int) -> dict:
    """n messages each confirmed by the broker: pipelined through ``send_confirmed`` and
    ``wait_for_confirms`` where the client has them (stomp-ng), else (stomp.py) a send with
    a receipt, awaited, per message."""
    if not hasattr(stomp.Connection12, "send_confirmed"):
        return op_send_receipt(n, body)
    listener = Counter()
    conn = connect(RABBIT, listener, vhost="/")
    payload = text_body(body)
    try:

        def run():
            futures = [conn.send_confirmed("/topic/stomp-bench-sink", payload) for _ in range(n)]
            conn.wait_for_confirms(60)
            assert all(f.exception() is None for f in futures)
            return n, {}

        return measure(run)
    finally:
        conn.disconnect()


def op_connect_cycles(n: int) -> dict:
    latencies: list[float] = []

    def run():
        clock = time.perf_counter
        for _ in range(n):
            t0 = clock()
            conn = connect(RABBIT, Counter(), vhost="/")
            conn.disconnect()
            latencies.append(clock() - t0)
        return n, {"latencies": latencies}

    return measure(run)


OPS = {
    "receive": op_receive,
    "send": op_send,
    "send_inproc": op_send_inproc,
    "send_threads": op_send_threads,
    "produce_consume": op_produce_consume,
    "request_reply": op_request_reply,
    "send_receipt": op_send_receipt,
    "send_confirmed": op_send_confirmed,
    "connect_cycles": op_connect_cycles,
}


def profile_threads(directory: str) -> None:
    """Profile every thread (the receiver thread included) and the main thread.

    The timer is ``time.thread_time``: each entry counts CPU time of its own thread, so
    blocking waits (``recv``, lock ``acquire``) show only what they cost the CPU.
    """
    import atexit
    import cProfile

    original_run = threading.Thread.run

    def profiled_run(self) -> None:
        profiler = cProfile.Profile(time.thread_time)
        try:
            profiler.runcall(original_run, self)
        finally:
            profiler.dump_stats(os.path.join(directory, f"thread-{uuid.uuid4().hex}.prof"))

    threading.Thread.run = profiled_run  # type: ignore[method-assign]
    main_profiler = cProfile.Profile(time.thread_time)
    main_profiler.enable()

    def dump_main() -> None:
        main_profiler.disable()
        main_profiler.dump_stats(os.path.join(directory, "main.prof"))

    atexit.register(dump_main)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lib", choices=("ours", "stomppy", "floor"), required=True)
    parser.add_argument("--expect-dir", help="directory the imported stomp package must be in")
    parser.add_argument("--profile-dir", help="cProfile every thread; one file per thread here")
    args = parser.parse_args()
    if args.profile_dir:
        profile_threads(args.profile_dir)
    stomp_dir = os.path.dirname(os.path.abspath(stomp.__file__))
    if args.expect_dir and os.path.realpath(stomp_dir) != os.path.realpath(args.expect_dir):
        sys.exit(f"wrong stomp imported: {stomp_dir} (expected {args.expect_dir})")
    if hasattr(stomp, "__ng_version__") != (args.lib == "ours"):
        sys.exit(f"wrong stomp imported for --lib {args.lib}: {stomp_dir}")

    def reply(obj: dict) -> None:
        obj["maxrss_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        obj["hwm_kib"] = proc_status_kib("VmHWM")
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()

    info = {"lib": args.lib, "stomp_dir": stomp_dir, "python": sys.version.split()[0]}
    if args.lib == "ours":  # which decoder runs: the C accelerator or pure Python
        from stomp.codec import FrameDecoder

        info["speedups"] = FrameDecoder().speedups
    reply(info)
    for line in sys.stdin:
        request = json.loads(line)
        op = OPS[request.pop("op")]
        rss_start = proc_status_kib("VmRSS")
        try:
            result = op(**request)
            result["rss_start_kib"] = rss_start
            reply(result)
        except Exception as exc:  # reported to the driver, which marks the scenario failed
            reply({"error": f"{type(exc).__name__}: {exc}"})


if __name__ == "__main__":
    main()
