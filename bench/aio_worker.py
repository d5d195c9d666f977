"""Client worker for ``bench/aio_run.py``: runs trials of one scenario with ONE library.

Started by ``aio_run.py`` (never imported by the library), one process per library:

* ``--lib ng-aio``: stomp-ng's asyncio client (``stomp.aio``), with the project's
  interpreter and ``PYTHONPATH`` = the repository root;
* ``--lib ng-threaded``: stomp-ng's threaded client (``stomp.Connection12`` and a
  ``ConnectionListener``, as ``suite_worker.py`` uses it), same interpreter and path;
* ``--lib stompman``: stompman 3.x, with the python of ``bench/.venv-stompman`` in isolated
  mode;
* ``--lib aiostomp``: aiostomp 1.7, with the python of ``bench/.venv-aiostomp``, likewise.

Each library is driven through its own public API, the way its documentation shows, with
heart-beats off where the library allows it (stompman cannot: see ``StompmanClient``).

Protocol (as ``suite_worker.py``'s): one JSON line on stdout when ready (the library, its
version and where it was imported from), then for each JSON request line on stdin
(``{"op": "receive"|"send", "port": ..., "body": ..., "n": ...}``) one JSON line with the
trial's result: ``n``, ``elapsed`` (wall seconds), ``cpu`` (process CPU seconds, all
threads: ``time.process_time`` delta over the same window), ``maxrss_kib`` and, for send
trials, ``frames`` (the sink's count, when the library shows the receipt's headers).  An
error is reported as ``{"error": ...}``.  Every wait is bounded (``WAIT``); the worker ends
when its stdin closes.

Timed windows: ``receive`` from the call that subscribes until the N-th message is in the
consumer's hands (the ``async for`` body, the handler or ``on_message`` has it);
``send`` from the first send until the sink's RECEIPT for the N-th frame (N - 1 sends
without a receipt, then one with it; the sink answers once it has counted all N, and
answers an ERROR instead if its count differs from the ``expect-frames`` header).
Connecting, unsubscribing and disconnecting are outside the window.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import resource
import sys
import threading
import time
import uuid

WAIT = 60.0  # no single wait in a trial lasts longer than this
SINK = "/queue/sink"
BODY_CACHE: dict[int, str] = {}


def text_body(size: int) -> str:
    if size not in BODY_CACHE:
        BODY_CACHE[size] = ("x" * 63 + "\n") * (size // 64) + "y" * (size % 64)
    return BODY_CACHE[size]


def blast_destination(body: int, n: int) -> str:
    return f"/queue/blast/{body}/{n}"


class Clock:
    """Wall and process CPU time between ``start()`` and ``stop()``."""

    def start(self) -> None:
        self.c0, self.t0 = time.process_time(), time.perf_counter()

    def stop(self) -> None:
        self.t1, self.c1 = time.perf_counter(), time.process_time()

    def result(self, n: int, **extra) -> dict:
        return {"n": n, "elapsed": self.t1 - self.t0, "cpu": self.c1 - self.c0, **extra}


def check_frames(frames, n: int) -> None:
    if frames is not None and int(frames) != n:
        raise RuntimeError(f"the sink counted {frames} SEND frames, not {n}")


# --- stomp-ng, asyncio (stomp.aio) -----------------------------------------------------------


class NgAioClient:
    name = "ng-aio"
    module = "stomp"

    def __init__(self) -> None:
        import stomp.aio

        self.aio = stomp.aio

    def connection(self, port: int):
        return self.aio.Connection(
            [("127.0.0.1", port)], version="1.2", heartbeats=(0, 0), timeout=WAIT
        )

    async def receive(self, port: int, body: int, n: int) -> dict:
        clock = Clock()
        async with self.connection(port) as conn:
            clock.start()
            sub = await conn.subscribe(blast_destination(body, n), ack="auto")

            async def consume() -> None:
                count = 0
                async for _msg in sub:
                    count += 1
                    if count == n:
                        return
                raise RuntimeError(f"the subscription ended after {count} messages")

            await asyncio.wait_for(consume(), WAIT)
            clock.stop()
            await sub.unsubscribe()
        return clock.result(n)

    async def send(self, port: int, body: int, n: int) -> dict:
        payload = text_body(body)
        headers = {"content-type": "text/plain"}
        last = {**headers, "expect-frames": str(n)}
        clock = Clock()
        async with self.connection(port) as conn:
            send = conn.send

            async def run() -> None:
                for _ in range(n - 1):
                    await send(SINK, payload, headers=headers)
                # The sink answers once it has counted all n; an ERROR if it has not
                # (expect-frames), raised as BrokerErrorException: send() does not return
                # the RECEIPT, so its count is not seen here.
                await send(SINK, payload, headers=last, receipt=True)

            clock.start()
            await asyncio.wait_for(run(), WAIT)
            clock.stop()
        return clock.result(n, frames=None)


# --- stomp-ng, threaded (stomp.Connection12 + ConnectionListener) -----------------------------


class NgThreadedClient:
    name = "ng-threaded"
    module = "stomp"
    threaded = True

    def __init__(self) -> None:
        import stomp

        self.stomp = stomp

        class Counter(stomp.ConnectionListener):
            """Counts MESSAGE frames up to ``target``; keeps the receipt awaited."""

            def __init__(self, target: int = 0, receipt: str | None = None) -> None:
                self.count = 0
                self.target = target
                self.done = threading.Event()
                self.receipt = receipt
                self.receipt_headers: dict | None = None
                self.error: str | None = None

            def on_message(self, frame) -> None:
                self.count += 1
                if self.count == self.target:
                    self.done.set()

            def on_receipt(self, frame) -> None:
                if frame.headers.get("receipt-id") == self.receipt:
                    self.receipt_headers = frame.headers
                    self.done.set()

            def on_error(self, frame) -> None:
                self.error = frame.headers.get("message", frame.body)
                self.done.set()

        self.Counter = Counter

    def connect(self, port: int, listener):
        conn = self.stomp.Connection12([("127.0.0.1", port)], heartbeats=(0, 0))
        conn.set_listener("bench", listener)
        conn.connect("guest", "guest", wait=True)
        return conn

    def receive(self, port: int, body: int, n: int) -> dict:
        listener = self.Counter(n)
        conn = self.connect(port, listener)
        clock = Clock()
        try:
            clock.start()
            conn.subscribe(blast_destination(body, n), id="1", ack="auto")
            if not listener.done.wait(WAIT):
                raise TimeoutError(f"timed out waiting for {n} messages ({listener.count})")
            clock.stop()
            conn.unsubscribe("1")
        finally:
            conn.disconnect()
        return clock.result(n)

    def send(self, port: int, body: int, n: int) -> dict:
        receipt = f"done-{uuid.uuid4().hex}"
        listener = self.Counter(receipt=receipt)
        conn = self.connect(port, listener)
        payload = text_body(body)
        send = conn.send
        clock = Clock()
        try:
            clock.start()
            for _ in range(n - 1):
                send(SINK, payload, content_type="text/plain")
            send(
                SINK,
                payload,
                content_type="text/plain",
                headers={"receipt": receipt, "expect-frames": str(n)},
            )
            if not listener.done.wait(WAIT):
                raise TimeoutError("timed out waiting for the sink's receipt")
            clock.stop()
        finally:
            conn.disconnect()
        if listener.error is not None:
            raise RuntimeError(f"ERROR from the sink: {listener.error}")
        frames = listener.receipt_headers.get("frames")
        check_frames(frames, n)
        return clock.result(n, frames=frames)


# --- stompman 3.x -------------------------------------------------------------------------


class StompmanClient:
    """stompman: ``async with Client(...)``, ``subscribe(destination, handler, ...)`` (one task
    per message), ``send(body, destination, receipt_timeout=...)`` awaiting the RECEIPT.

    Heart-beats: stompman sends them every ``sy`` ms of the server's ``heart-beat:sx,sy``
    whatever its own setting, and in a loop without pause when ``sy`` is 0 (``0,0`` from a
    server means "none"), so it keeps its default ``Heartbeat(1000, 1000)``: the sink then
    asks for one every 1000 ms, which it skips.
    """

    name = "stompman"
    module = "stompman"

    def __init__(self) -> None:
        import stompman

        self.stompman = stompman

    def client(self, port: int):
        sm = self.stompman
        return sm.Client(
            servers=[sm.ConnectionParameters("127.0.0.1", port, login="guest", passcode="guest")],
            heartbeat=sm.Heartbeat(1000, 1000),
            connect_retry_attempts=1,
            connect_timeout=int(WAIT),
            connection_confirmation_timeout=int(WAIT),
        )

    async def receive(self, port: int, body: int, n: int) -> dict:
        done = asyncio.Event()
        count = 0

        async def handler(frame) -> None:
            nonlocal count
            count += 1
            if count == n:
                done.set()

        def suppressed(exc: Exception, frame) -> None:
            print(f"stompman handler error: {exc!r}", file=sys.stderr)

        clock = Clock()
        async with self.client(port) as client:
            clock.start()
            sub = await client.subscribe(
                blast_destination(body, n),
                handler,
                ack="auto",
                on_suppressed_exception=suppressed,
            )
            try:
                await asyncio.wait_for(done.wait(), WAIT)
            except asyncio.TimeoutError:
                raise TimeoutError(f"timed out waiting for {n} messages ({count})") from None
            clock.stop()
            await sub.unsubscribe()
        return clock.result(n)

    async def send(self, port: int, body: int, n: int) -> dict:
        payload = text_body(body).encode()
        clock = Clock()
        async with self.client(port) as client:
            send = client.send

            async def run() -> None:
                for _ in range(n - 1):
                    await send(payload, SINK, content_type="text/plain")
                # The RECEIPT's headers are not shown: a shortfall comes back as an ERROR
                # (expect-frames), which stompman raises as SendReceiptError.
                await send(
                    payload,
                    SINK,
                    content_type="text/plain",
                    headers={"expect-frames": str(n)},
                    receipt_timeout=WAIT,
                )

            clock.start()
            await asyncio.wait_for(run(), WAIT)
            clock.stop()
        return clock.result(n, frames=None)


# --- aiostomp 1.7 -------------------------------------------------------------------------


class AiostompClient:
    """aiostomp: ``AioStomp(host, port)``, ``await connect()``, ``subscribe(destination,
    handler=...)`` (one task per frame), ``send()`` (a plain ``transport.write``).

    Its public API has no receipts (a RECEIPT is logged as "Unhandled frame") and no way to
    await CONNECTED (``connect()`` returns once TCP is up).  To learn when the sink has every
    frame, and that it is connected, the worker adds a handler for RECEIPT to its reader's
    table of frame handlers (``StompReader.handlers_map``, not public) and wraps the one for
    CONNECTED.  What is measured is aiostomp's own send and receive path.
    """

    name = "aiostomp"
    module = "aiostomp"

    def __init__(self) -> None:
        import aiostomp

        self.aiostomp = aiostomp

    async def connect(self, port: int, on_receipt=None):
        errors: list = []

        async def on_error(error) -> None:
            errors.append(error)

        client = self.aiostomp.AioStomp(
            "127.0.0.1",
            port,
            heartbeat=False,
            reconnect_max_attempts=1,
            error_handler=on_error,
        )
        # Awaited directly, not through a task (asyncio.wait_for): nothing else runs between
        # the TCP connection and the lines below, so CONNECTED cannot be handled before the
        # wrapper is in place.  Bounded all the same: a loopback connect succeeds or is
        # refused at once, and aiostomp gives up after one retry (0.5 s).
        await client.connect()
        reader = client._protocol._protocol
        if reader is None or reader._transport is None:
            raise RuntimeError("aiostomp did not connect")
        connected = asyncio.Event()
        original = reader.handlers_map["CONNECTED"]

        async def on_connected(frame) -> None:
            await original(frame)
            connected.set()

        reader.handlers_map["CONNECTED"] = on_connected
        if on_receipt is not None:
            reader.handlers_map["RECEIPT"] = on_receipt
        try:
            await asyncio.wait_for(connected.wait(), WAIT)
        except asyncio.TimeoutError:
            raise TimeoutError("timed out waiting for CONNECTED") from None
        return client, errors

    async def receive(self, port: int, body: int, n: int) -> dict:
        done = asyncio.Event()
        count = 0

        async def handler(frame, message_body) -> bool:
            nonlocal count
            count += 1
            if count == n:
                done.set()
            return True

        client, errors = await self.connect(port)
        clock = Clock()
        try:
            clock.start()
            sub = client.subscribe(blast_destination(body, n), ack="auto", handler=handler)
            try:
                await asyncio.wait_for(done.wait(), WAIT)
            except asyncio.TimeoutError:
                raise TimeoutError(f"timed out waiting for {n} messages ({count})") from None
            clock.stop()
            client.unsubscribe(sub)
        finally:
            client.close()
        if errors:
            raise RuntimeError(f"ERROR frame: {errors[0]}")
        return clock.result(n)

    async def send(self, port: int, body: int, n: int) -> dict:
        receipt = f"done-{uuid.uuid4().hex}"
        got = asyncio.get_running_loop().create_future()

        async def on_receipt(frame) -> None:
            if frame.headers.get("receipt-id") == receipt and not got.done():
                got.set_result(frame.headers)

        client, errors = await self.connect(port, on_receipt)
        payload = text_body(body)
        send = client.send
        clock = Clock()
        try:
            clock.start()
            for _ in range(n - 1):
                send(SINK, payload, headers={"content-type": "text/plain"})
            send(
                SINK,
                payload,
                headers={"content-type": "text/plain", "receipt": receipt, "expect-frames": n},
            )

            async def wait_receipt():
                while not got.done():  # an ERROR instead (a shortfall) ends the wait too
                    if errors:
                        raise RuntimeError(f"ERROR from the sink: {errors[0]}")
                    await asyncio.wait([got], timeout=0.05)
                return got.result()

            headers = await asyncio.wait_for(wait_receipt(), WAIT)
            clock.stop()
        finally:
            client.close()
        frames = headers.get("frames")
        check_frames(frames, n)
        return clock.result(n, frames=frames)


CLIENTS = {c.name: c for c in (NgAioClient, NgThreadedClient, StompmanClient, AiostompClient)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lib", choices=sorted(CLIENTS), required=True)
    parser.add_argument("--expect-dir", help="directory the library's package must be in")
    args = parser.parse_args()
    cls = CLIENTS[args.lib]

    def reply(obj: dict) -> None:
        obj["maxrss_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()

    module = importlib.import_module(cls.module)
    module_dir = os.path.dirname(os.path.abspath(module.__file__))
    if args.expect_dir and os.path.realpath(module_dir) != os.path.realpath(args.expect_dir):
        sys.exit(f"wrong {cls.module} imported: {module_dir} (expected {args.expect_dir})")
    info = {"lib": args.lib, "dir": module_dir, "python": sys.version.split()[0]}
    try:
        client = cls()
    except ImportError as exc:  # stomp.aio not there (yet): every trial reports it
        client = None
        info["unavailable"] = f"{type(exc).__name__}: {exc}"
    info["version"] = _version(cls.module)
    if cls.module == "stomp":
        from stomp.codec import FrameDecoder

        info["speedups"] = FrameDecoder().speedups
    reply(info)
    threaded = getattr(cls, "threaded", False)
    with asyncio.Runner() as runner:
        for line in sys.stdin:
            request = json.loads(line)
            op = request.pop("op")
            try:
                if client is None:
                    raise RuntimeError(info["unavailable"])
                call = getattr(client, op)(**request)
                result = call if threaded else runner.run(call)
                reply(result)
            except Exception as exc:  # reported to the driver, which marks the scenario failed
                reply({"error": f"{type(exc).__name__}: {exc}"})


def _version(module: str) -> str:
    if module == "stomp":
        import stomp

        return getattr(stomp, "__ng_version__", None) or getattr(stomp, "__version__", "?")
    from importlib.metadata import version

    return version(module)


if __name__ == "__main__":
    main()
