"""A minimal STOMP 1.2 client: the floor the benchmark suite measures both libraries against.

Only for ``bench/run.py`` (its third worker, ``--lib floor``, with this directory's parent
on ``PYTHONPATH``); never part of the library.  It has just the part of stomp.py's API that
``suite_worker.py`` uses, and does only what a client cannot skip:

* sending: the header lines in one string, escaped header by header only when a check
  of that string finds something to escape, one ``%``-format of the frame and one
  ``sendall`` under a lock, per frame;
* receiving: one thread reading 64 KiB at a time, frames cut at their ``content-length``
  (or NUL), headers split into a dict (unescaped only when a backslash is present), the
  body decoded to ``str``, a frame object per frame and ``on_message``/``on_receipt`` of
  each listener called.

No ``on_send``/``on_before_message`` callbacks, no heart-beats, no failover, no checks of
malformed input, no timeouts but the suite's own: what a real client adds on top of this is
what makes it usable.  How far each library is from this floor shows how much of its time
is its own.
"""

from __future__ import annotations

import socket
import threading

_UNESCAPE = (("\\n", "\n"), ("\\r", "\r"), ("\\c", ":"), ("\\\\", "\\"))


class Frame:
    __slots__ = ("body", "cmd", "headers")

    def __init__(self, cmd: str, headers: dict, body: str) -> None:
        self.cmd = cmd
        self.headers = headers
        self.body = body


class ConnectionListener:
    def on_message(self, frame: Frame) -> None:
        pass

    def on_receipt(self, frame: Frame) -> None:
        pass

    def on_error(self, frame: Frame) -> None:
        pass


def _escape(text: str) -> str:
    if "\\" in text or ":" in text or "\n" in text or "\r" in text:
        text = text.replace("\\", "\\\\").replace(":", "\\c").replace("\n", "\\n")
        text = text.replace("\r", "\\r")
    return text


class Connection12:
    def __init__(self, host_and_ports, vhost=None) -> None:
        self.address = host_and_ports[0]
        self.vhost = vhost or self.address[0]
        self.listeners: dict = {}
        self.lock = threading.Lock()
        self.connected = threading.Event()
        self.disconnected = threading.Event()
        self.sock: socket.socket | None = None

    def set_listener(self, name, listener) -> None:
        self.listeners[name] = listener

    def _write(self, cmd: str, headers: dict, body: bytes = b"") -> None:
        head = "".join([f"{k}:{v}\n" for k, v in headers.items()])
        if (
            head.count(":") != len(headers)
            or head.count("\n") != len(headers)
            or "\\" in head
            or "\r" in head
        ):  # something to escape (rare): header by header
            head = "".join(f"{_escape(k)}:{_escape(str(v))}\n" for k, v in headers.items())
        data = b"%s\ncontent-length:%d\n%s\n%s\0" % (cmd.encode(), len(body), head.encode(), body)
        with self.lock:
            self.sock.sendall(data)  # type: ignore[union-attr]

    def connect(self, username=None, passcode=None, wait=True) -> None:
        self.sock = socket.create_connection(self.address)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=self._receive, daemon=True).start()
        head = f"CONNECT\naccept-version:1.2\nhost:{self.vhost}\n"
        if username is not None:
            head += f"login:{username}\npasscode:{passcode}\n"
        with self.lock:
            self.sock.sendall(head.encode() + b"\n\0")
        if wait and not (self.connected.wait(60) and self.sock is not None):
            raise ConnectionError("no CONNECTED")

    def send(self, destination, body, content_type=None, headers=None) -> None:
        frame_headers = dict(headers) if headers else {}
        frame_headers["destination"] = destination
        if content_type:
            frame_headers["content-type"] = content_type
        self._write("SEND", frame_headers, body.encode() if isinstance(body, str) else body)

    def subscribe(self, destination, id, ack="auto", headers=None) -> None:
        frame_headers = dict(headers) if headers else {}
        frame_headers.update(destination=destination, id=id, ack=ack)
        self._write("SUBSCRIBE", frame_headers)

    def ack(self, id, subscription=None) -> None:
        self._write("ACK", {"id": id})

    def disconnect(self) -> None:
        if self.sock is None:
            return
        self._write("DISCONNECT", {"receipt": "floor-disconnect"})
        self.disconnected.wait(10)
        self.sock.close()
        self.sock = None

    def _receive(self) -> None:
        sock = self.sock
        buf = b""
        try:
            while True:
                data = sock.recv(65536)  # type: ignore[union-attr]
                if not data:
                    if not self.connected.is_set():
                        self.sock = None  # closed before CONNECTED: connect() raises
                    return
                buf = buf + data if buf else data
                pos = 0
                end = len(buf)
                while True:
                    while pos < end and buf[pos] in (10, 13):  # heart-beats, trailers
                        pos += 1
                    head_end = buf.find(b"\n\n", pos)
                    if head_end < 0:
                        break
                    text = buf[pos:head_end].decode()
                    lines = text.split("\n")
                    headers = dict(line.split(":", 1) for line in lines[1:])
                    if "\\" in text:
                        for key, value in headers.items():
                            for escaped, plain in _UNESCAPE:
                                value = value.replace(escaped, plain)
                            headers[key] = value
                    length = headers.get("content-length")
                    if length is not None:
                        body_end = head_end + 2 + int(length)
                        if body_end >= end:
                            break
                    else:
                        body_end = buf.find(b"\0", head_end + 2)
                        if body_end < 0:
                            break
                    frame = Frame(lines[0], headers, buf[head_end + 2 : body_end].decode())
                    pos = body_end + 1
                    self._dispatch(frame)
                buf = buf[pos:]
        except OSError:
            pass
        finally:  # the connection ended: nobody waits for ever
            self.connected.set()
            self.disconnected.set()

    def _dispatch(self, frame: Frame) -> None:
        cmd = frame.cmd
        if cmd == "MESSAGE":
            for listener in self.listeners.values():
                listener.on_message(frame)
        elif cmd == "RECEIPT":
            if frame.headers.get("receipt-id") == "floor-disconnect":
                self.disconnected.set()
            for listener in self.listeners.values():
                listener.on_receipt(frame)
        elif cmd == "CONNECTED":
            self.connected.set()
        elif cmd == "ERROR":
            for listener in self.listeners.values():
                listener.on_error(frame)
