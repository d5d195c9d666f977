"""Worker for ``codec_bench.py``: measures ONE library's frame decoding and encoding.

It is run in a subprocess by ``bench/codec_bench.py``, never imported by the library:

* ``--lib ours``: with our interpreter and ``PYTHONPATH`` = the repository root, so
  ``import stomp`` is stomp-ng;
* ``--lib stomppy``: with the python of ``bench/.venv-stomppy`` (``-I``, from a temporary
  working directory), so ``import stomp`` is stomp.py 9.0.0.

Only the standard library and ``stomp`` are imported.  stomp.py is driven exclusively through
its public API (``stomp.transport.BaseTransport``, ``stomp.listener.ConnectionListener``,
``stomp.protocol.Protocol12``, ``stomp.utils``); none of its code is copied here.

Protocol (one JSON object per line on stdout): first a "ready" line naming the imported
``stomp``, the frames per pass of each measurement and a digest of what it produces (the
decoded frames or the encoded bytes), so the driver can check that both libraries produce
the same; then, for each request line ``<measurement> <passes>`` read from stdin, the
duration of each of that many passes.  The driver keeps one worker per library running and
alternates short bursts of passes between them.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import sys
import threading
import time
from collections.abc import Callable

# ---------------------------------------------------------------------------------------
# The frames (identical bytes for both libraries: built here, deterministically)
# ---------------------------------------------------------------------------------------

#: Frames per timed pass (decoding, encoding), per scenario.  Passes are short (tens of
#: milliseconds); the driver asks for as many as it needs.
FRAMES_A = 2_000
FRAMES_B = 100
ENCODE_A = 2_000
ENCODE_B = 200

BODY_A_SIZE = 100
BODY_B_SIZE = 64 * 1024
CHUNK_64K = 64 * 1024
CHUNK_16K = 16 * 1024  # stomp.py's Transport default recv_bytes


def _text_body(size: int, seed: int) -> str:
    """ASCII JSON-ish text of exactly ``size`` bytes (no NUL, no blank line)."""
    unit = f'{{"order":{seed},"sku":"AB-{seed % 997:03d}","qty":{seed % 13 + 1},"note":"'
    filler = "lorem ipsum dolor sit amet consectetur adipiscing elit "
    text = unit
    while len(text) < size - 2:
        text += filler
    return text[: size - 2] + '"}'


def _message_id(i: int) -> str:
    # ActiveMQ-style id; on the wire in 1.2 every ":" is escaped as "\c".
    return f"ID:bench-host-43211-1700000000000-5:1:1:1:{i}"


def _escape12(value: str) -> str:
    # Only used to build the wire bytes of the input frames (STOMP 1.2 escaping rules).
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace(":", "\\c").replace("\r", "\\r")


def message_frame_bytes(i: int, body: bytes) -> bytes:
    """One 1.2 MESSAGE frame as a broker writes it (without the NUL): 9 headers, 2 escaped."""
    mid = _escape12(_message_id(i))
    head = (
        "MESSAGE\n"
        f"content-length:{len(body)}\n"
        "expires:0\n"
        "destination:/queue/bench.orders\n"
        "subscription:sub-0\n"
        "priority:4\n"
        f"ack:{mid}\n"
        f"message-id:{mid}\n"
        "persistent:true\n"
        f"timestamp:{1700000000000 + i}\n"
        "\n"
    )
    return head.encode("ascii") + body


def message_frames(count: int, body_size: int) -> list[bytes]:
    return [message_frame_bytes(i, _text_body(body_size, i).encode("ascii")) for i in range(count)]


def wire_stream(frames: list[bytes]) -> bytes:
    # ActiveMQ ends every frame with NUL LF.
    return b"".join(frame + b"\0\n" for frame in frames)


def chunked(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def send_headers(body_len: int) -> dict[str, str]:
    """Headers of the SEND frame to encode (unescaped): 9 headers, 2 needing escapes."""
    return {
        "destination": "/queue/bench.orders",
        "content-type": "text/plain",
        "content-length": str(body_len),
        "correlation-id": _message_id(7),
        "reply-to": "/temp-queue/ID:bench-host-43211-1700000000000-1:1",
        "persistent": "true",
        "priority": "4",
        "expires": "0",
        "receipt": "r-12345",
    }


# ---------------------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------------------


class Measurement:
    """One thing to time: ``run_pass`` handles ``frames_per_pass`` frames per call."""

    def __init__(self, run_pass: Callable[[], object], frames_per_pass: int, digest: str):
        self.run_pass = run_pass
        self.frames_per_pass = frames_per_pass
        self.digest = digest

    def passes(self, count: int) -> list[float]:
        """Run ``count`` passes; return the duration of each, in seconds."""
        run_pass = self.run_pass
        clock = time.perf_counter
        times = []
        for _ in range(count):
            t0 = clock()
            run_pass()
            times.append(clock() - t0)
        return times


def digest_frames(frames: list) -> str:
    """Digest of decoded MESSAGE frames (command, headers, body); heart-beats excluded."""
    h = hashlib.sha256()
    count = 0
    for f in frames:
        if f.cmd != "MESSAGE":
            continue
        count += 1
        h.update(repr((f.cmd, sorted(f.headers.items()), f.body)).encode("utf-8"))
    return f"{count}:{h.hexdigest()[:16]}"


def digest_bytes(data: bytes) -> str:
    return f"{len(data)}:{hashlib.sha256(data).hexdigest()[:16]}"


# ---------------------------------------------------------------------------------------
# stomp-ng
# ---------------------------------------------------------------------------------------


def ours_measurements(inputs: dict) -> dict[str, Measurement]:
    from stomp.codec import Frame, FrameDecoder, encode_frame

    measurements: dict[str, Measurement] = {}

    def decode_pass(chunks: list[bytes]) -> Callable[[], None]:
        def run() -> None:
            feed = FrameDecoder("1.2", auto_decode=True).feed
            for chunk in chunks:
                feed(chunk)

        return run

    for scen, ck in (("a", "64k"), ("a", "16k"), ("b", "64k")):
        chunks = inputs[f"chunks_{scen}_{ck}"]
        decoder = FrameDecoder("1.2", auto_decode=True)
        decoded = [f for chunk in chunks for f in decoder.feed(chunk)]
        measurements[f"decode_{scen}_{ck}"] = Measurement(
            decode_pass(chunks), inputs["count_" + scen], digest_frames(decoded)
        )

    for scen in ("a", "b"):
        body = inputs["body_" + scen]
        frame = Frame("SEND", send_headers(len(body.encode("utf-8"))), body)
        count = inputs["encode_count_" + scen]

        def run(frame: Frame = frame, count: int = count) -> None:
            for _ in range(count):
                encode_frame(frame, "1.2")

        measurements[f"encode_{scen}"] = Measurement(
            run, count, digest_bytes(encode_frame(frame, "1.2"))
        )
    return measurements


def profile_ours(inputs: dict, passes: int) -> str:
    import cProfile
    import io
    import pstats

    from stomp.codec import FrameDecoder

    chunks = inputs["chunks_a_64k"]

    def run() -> None:
        for _ in range(passes):
            feed = FrameDecoder("1.2", auto_decode=True).feed
            for chunk in chunks:
                feed(chunk)

    profiler = cProfile.Profile()
    profiler.runcall(run)
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(15)
    return out.getvalue()


# ---------------------------------------------------------------------------------------
# stomp.py 9.0.0 (public API only)
# ---------------------------------------------------------------------------------------


def stomppy_measurements(inputs: dict) -> dict[str, Measurement]:
    import stomp.listener
    import stomp.protocol
    import stomp.transport
    import stomp.utils

    measurements: dict[str, Measurement] = {}

    def run_inline(loop: Callable[[], None]) -> threading.Thread:
        # override_threading() factory: run the I/O loop on this thread, to its end (the
        # replayed stream is exhausted), then hand back an object standing for the thread.
        loop()
        return threading.current_thread()

    class ReplayTransport(stomp.transport.BaseTransport):
        """stomp.py's own BaseTransport, whose receive() replays pre-made chunks.

        start() runs the real I/O loop (read, split, parse_frame, auto_decode,
        process_frame, listener dispatch) until receive() reports the end of the stream.
        """

        def __init__(self, chunks: list[bytes]) -> None:
            super().__init__(auto_decode=True)
            self._next_chunk = iter(chunks).__next__
            self.override_threading(run_inline)

        def receive(self) -> bytes:
            try:
                return self._next_chunk()
            except StopIteration:
                return b""  # the peer closed: the I/O loop ends

    class NoDispatchTransport(ReplayTransport):
        """Same I/O loop, but process_frame() (public) only counts: no listener dispatch."""

        def __init__(self, chunks: list[bytes], keep: list | None = None) -> None:
            super().__init__(chunks)
            self.count = 0
            self.keep = keep

        def process_frame(self, f, frame_str) -> None:  # type: ignore[override]
            self.count += 1
            if self.keep is not None:
                self.keep.append(f)

    class CountingListener(stomp.listener.ConnectionListener):
        def __init__(self, keep: list | None = None) -> None:
            self.count = 0
            self.keep = keep

        def on_message(self, frame) -> None:
            self.count += 1
            if self.keep is not None:
                self.keep.append(frame)

    def io_loop_pass(chunks: list[bytes], expected: int) -> Callable[[], None]:
        def run() -> None:
            transport = ReplayTransport(chunks)
            listener = CountingListener()
            transport.set_listener("bench", listener)
            transport.start()
            if listener.count != expected:
                raise AssertionError(f"stomp.py delivered {listener.count} of {expected} frames")

        return run

    def no_dispatch_pass(chunks: list[bytes]) -> Callable[[], None]:
        def run() -> None:
            NoDispatchTransport(chunks).start()

        return run

    def parse_pass(raw_frames: list[bytes]) -> Callable[[], None]:
        parse_frame = stomp.utils.parse_frame

        def run() -> None:
            for raw in raw_frames:
                f = parse_frame(raw)
                f.body = f.body.decode("utf-8", "replace")  # what auto_decode does

        return run

    for scen, chunk_sizes in (("a", ("64k", "16k")), ("b", ("64k",))):
        count = inputs["count_" + scen]
        for ck in chunk_sizes:
            chunks = inputs[f"chunks_{scen}_{ck}"]
            name = f"decode_{scen}_{ck}"
            kept: list = []
            transport = ReplayTransport(chunks)
            transport.set_listener("bench", CountingListener(kept))
            transport.start()
            measurements[name] = Measurement(
                io_loop_pass(chunks, count), count, digest_frames(kept)
            )
            if ck == "64k":
                kept = []
                NoDispatchTransport(chunks, kept).start()
                measurements[name + "_nodispatch"] = Measurement(
                    no_dispatch_pass(chunks), count, digest_frames(kept)
                )

        raw_frames = inputs["raw_" + scen]
        parsed = []
        for raw in raw_frames:
            f = stomp.utils.parse_frame(raw)
            f.body = f.body.decode("utf-8", "replace")
            parsed.append(f)
        measurements[f"decode_{scen}_parse"] = Measurement(
            parse_pass(raw_frames), count, digest_frames(parsed)
        )

    convert_frame, pack = stomp.utils.convert_frame, stomp.utils.pack

    class SinkTransport(stomp.transport.BaseTransport):
        def send(self, encoded_frame: bytes) -> None:
            self.last = encoded_frame

    for scen in ("a", "b"):
        body = inputs["body_" + scen]
        headers = send_headers(len(body.encode("utf-8")))
        count = inputs["encode_count_" + scen]

        # (i) convert_frame + pack on headers escaped beforehand: stomp.py's escaping
        # helper (Protocol12._escape_headers) is private, so it is left out here.
        escaped = {k: _escape12(v) for k, v in headers.items()}
        frame = stomp.utils.Frame("SEND", escaped, body)

        def run_convert(frame=frame, count=count) -> None:
            for _ in range(count):
                pack(convert_frame(frame))

        measurements[f"encode_{scen}"] = Measurement(
            run_convert, count, digest_bytes(pack(convert_frame(frame)))
        )

        # (ii) the public Protocol12.send_frame: escaping (in place, hence a fresh dict per
        # frame, as send() builds one), Frame, transmit (on_send listeners, convert_frame,
        # pack) and the transport's send().
        sink = SinkTransport()
        send_frame = stomp.protocol.Protocol12(sink).send_frame
        send_frame("SEND", dict(headers), body)

        def run_send_frame(send_frame=send_frame, headers=headers, body=body, count=count):
            for _ in range(count):
                send_frame("SEND", headers.copy(), body)

        measurements[f"encode_{scen}_sendframe"] = Measurement(
            run_send_frame, count, digest_bytes(sink.last)
        )
    return measurements


# ---------------------------------------------------------------------------------------


def build_inputs() -> dict:
    raw_a = message_frames(FRAMES_A, BODY_A_SIZE)
    raw_b = message_frames(FRAMES_B, BODY_B_SIZE)
    stream_a, stream_b = wire_stream(raw_a), wire_stream(raw_b)
    return {
        "count_a": FRAMES_A,
        "count_b": FRAMES_B,
        "encode_count_a": ENCODE_A,
        "encode_count_b": ENCODE_B,
        "raw_a": raw_a,
        "raw_b": raw_b,
        "chunks_a_64k": chunked(stream_a, CHUNK_64K),
        "chunks_a_16k": chunked(stream_a, CHUNK_16K),
        "chunks_b_64k": chunked(stream_b, CHUNK_64K),
        "body_a": _text_body(BODY_A_SIZE, 1),
        "body_b": _text_body(BODY_B_SIZE, 2),
        "frame_bytes_a": len(raw_a[0]) + 2,
        "frame_bytes_b": len(raw_b[0]) + 2,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lib", choices=("ours", "stomppy"), required=True)
    parser.add_argument("--expect-dir", help="directory the imported stomp package must be in")
    parser.add_argument(
        "--profile", type=int, metavar="PASSES", help="cProfile our decoder on scenario (a)"
    )
    args = parser.parse_args()

    import stomp

    stomp_dir = os.path.dirname(os.path.abspath(stomp.__file__))
    if args.expect_dir and os.path.realpath(stomp_dir) != os.path.realpath(args.expect_dir):
        sys.exit(f"wrong stomp imported: {stomp_dir} (expected {args.expect_dir})")
    is_ng = hasattr(stomp, "__ng_version__")
    if is_ng != (args.lib == "ours"):
        sys.exit(f"wrong stomp imported for --lib {args.lib}: {stomp_dir}")

    inputs = build_inputs()
    if args.profile:
        print(profile_ours(inputs, args.profile))
        return
    if args.lib == "ours":
        measurements = ours_measurements(inputs)
    else:
        measurements = stomppy_measurements(inputs)
    gc.collect()

    def reply(obj: dict) -> None:
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()

    reply(
        {
            "lib": args.lib,
            "stomp_dir": stomp_dir,
            "stomp_version": str(getattr(stomp, "__ng_version__", stomp.__version__)),
            "python": sys.version.split()[0],
            "executable": sys.executable,
            "frame_bytes": {"a": inputs["frame_bytes_a"], "b": inputs["frame_bytes_b"]},
            "digests": {name: m.digest for name, m in measurements.items()},
            "frames_per_pass": {name: m.frames_per_pass for name, m in measurements.items()},
        }
    )
    # Then serve requests, one per line: "<measurement name> <number of passes>".
    for line in sys.stdin:
        name, count = line.split()
        reply({"name": name, "times": measurements[name].passes(int(count))})


if __name__ == "__main__":
    main()
