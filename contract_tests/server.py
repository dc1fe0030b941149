"""A loopback HTTP/1.1 server that records requests byte for byte and injects faults.

The server owns a real listening socket on 127.0.0.1 and serves each connection in its
own thread, so a transport under test talks to it exactly as it would talk to Channels.
A *handler* decides what happens after each request: a normal response or a fault such
as a reset, a silence or a drip-fed status line.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field

__all__ = [
    "ContractServer",
    "Handler",
    "RecordedRequest",
    "ServerConnection",
    "close_after_reply",
    "drip_headers",
    "drip_status_line",
    "garbage_response",
    "never_answer",
    "refused_port",
    "reply",
    "reset_mid_response",
    "truncated_body",
]

_MAX_HEAD = 64 * 1024
_RECV_SIZE = 65536


@dataclass(frozen=True)
class RecordedRequest:
    """One request as it arrived on the wire.

    Attributes:
        connection_id: The number of the connection it arrived on, from 1.
        head: The raw request line and header lines, up to and including the blank line.
        body: The body bytes, read by ``Content-Length``.
    """

    connection_id: int
    head: bytes
    body: bytes

    @property
    def request_line(self) -> str:
        """The first line, such as ``GET /path?query HTTP/1.1``."""
        return self.head.split(b"\r\n", 1)[0].decode("latin-1")

    @property
    def method(self) -> str:
        """The request method."""
        return self.request_line.split(" ")[0]

    @property
    def target(self) -> str:
        """The raw request target: path and query string as sent."""
        return self.request_line.split(" ")[1]

    @property
    def headers(self) -> list[tuple[str, str]]:
        """The header pairs, with the names' case and order as sent."""
        lines = self.head.decode("latin-1").split("\r\n")[1:]
        pairs = []
        for line in lines:
            if line:
                name, _, value = line.partition(":")
                pairs.append((name, value.strip()))
        return pairs

    def header(self, name: str) -> str | None:
        """Return the first value of a header, matching the name without case."""
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None


class ServerConnection:
    """One accepted connection, as passed to a handler."""

    def __init__(self, sock: socket.socket, stopping: threading.Event) -> None:
        self.sock = sock
        self.stopping = stopping
        self.keep_open = True

    def send(self, data: bytes) -> None:
        """Send bytes, ignoring a client that has already gone."""
        try:
            self.sock.sendall(data)
        except OSError:
            self.keep_open = False

    def close(self) -> None:
        """Close the connection with a FIN after what was sent."""
        self.keep_open = False
        _shutdown(self.sock)

    def reset(self) -> None:
        """Abort the connection with a TCP RST, dropping anything unsent."""
        self.keep_open = False
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()

    def wait_for_peer_close(self) -> None:
        """Read and discard until the client closes or the server stops."""
        self.sock.settimeout(0.05)
        while not self.stopping.is_set():
            try:
                if not self.sock.recv(_RECV_SIZE):
                    return
            except TimeoutError:
                continue
            except OSError:
                return

    def wait(self, seconds: float) -> None:
        """Sleep, returning early when the server stops."""
        self.stopping.wait(seconds)


Handler = Callable[[RecordedRequest, ServerConnection], None]


def _format_response(status: int, headers: list[tuple[str, str]], body: bytes) -> bytes:
    lines = [f"HTTP/1.1 {status} Status {status}"]
    lines.extend(f"{name}: {value}" for name, value in headers)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def reply(
    status: int = 200, headers: list[tuple[str, str]] | None = None, body: bytes = b"{}"
) -> Handler:
    """Return a handler that sends one response to every request, keeping the connection."""
    sent_headers = [("Content-Length", str(len(body))), *list(headers or [])]

    def handle(request: RecordedRequest, connection: ServerConnection) -> None:
        connection.send(_format_response(status, sent_headers, body))

    return handle


def reset_mid_response() -> Handler:
    """Return a handler that sends the headers and part of the body, then a TCP RST."""

    def handle(request: RecordedRequest, connection: ServerConnection) -> None:
        connection.send(_format_response(200, [("Content-Length", "1000")], b"{" * 10))
        connection.wait(0.05)
        connection.reset()

    return handle


def never_answer() -> Handler:
    """Return a handler that reads the request and stays silent until the client leaves."""

    def handle(request: RecordedRequest, connection: ServerConnection) -> None:
        connection.wait_for_peer_close()
        connection.close()

    return handle


def drip_status_line(interval: float = 0.05) -> Handler:
    """Return a handler that sends the response one byte per interval, never finishing early.

    Each byte resets a per-read socket timeout, so only a deadline for the whole
    exchange stops a transport from waiting for minutes.
    """
    data = _format_response(200, [("X-Padding", "p" * 2000), ("Content-Length", "2")], b"{}")

    def handle(request: RecordedRequest, connection: ServerConnection) -> None:
        for index in range(len(data)):
            if connection.stopping.is_set() or not connection.keep_open:
                break
            connection.send(data[index : index + 1])
            connection.wait(interval)
        connection.close()

    return handle


def drip_headers(interval: float = 0.05) -> Handler:
    """Return a handler that sends the status line at once, then drips the headers.

    A transport that cuts the exchange at its deadline may see the headers end early
    without an error, before any ``Content-Length``, and then read an empty body to
    the end of the stream. Only a transport that checks its deadline after reading
    reports the timeout rather than a whole-looking ``200`` with an empty body.
    """
    head = _format_response(200, [("X-Padding", "p" * 2000), ("Content-Length", "2")], b"{}")
    split = head.index(b"\r\n") + 2

    def handle(request: RecordedRequest, connection: ServerConnection) -> None:
        connection.send(head[:split])
        for index in range(split, len(head)):
            if connection.stopping.is_set() or not connection.keep_open:
                break
            connection.send(head[index : index + 1])
            connection.wait(interval)
        connection.close()

    return handle


def garbage_response() -> Handler:
    """Return a handler that sends bytes that are not HTTP, then closes the connection."""

    def handle(request: RecordedRequest, connection: ServerConnection) -> None:
        connection.send(b"\x00\xffNOT HTTP AT ALL\r\n\r\n")
        connection.close()

    return handle


def truncated_body() -> Handler:
    """Return a handler that promises 100 body bytes, sends 10 and closes the connection."""

    def handle(request: RecordedRequest, connection: ServerConnection) -> None:
        connection.send(_format_response(200, [("Content-Length", "100")], b"0123456789"))
        connection.close()

    return handle


def close_after_reply(delay: float = 0.02) -> Handler:
    """Return a handler that replies with keep-alive, then closes the idle connection."""
    answer = reply()

    def handle(request: RecordedRequest, connection: ServerConnection) -> None:
        answer(request, connection)
        connection.wait(delay)
        connection.close()

    return handle


@dataclass
class _Stats:
    opened: int = 0
    open_now: int = 0
    max_open: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class ContractServer:
    """A threaded HTTP/1.1 server on 127.0.0.1 with a replaceable handler.

    Attributes:
        handler: Called once per request, on the connection's thread.
        requests: Every request received, in arrival order.
    """

    def __init__(self, handler: Handler | None = None) -> None:
        self.handler = handler or reply()
        self.requests: list[RecordedRequest] = []
        self._stats = _Stats()
        self._stopping = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=512)
        self._threads: list[threading.Thread] = []
        self._sockets: set[socket.socket] = set()
        self._accept_thread = threading.Thread(target=self._accept_loop, daemon=True)

    @property
    def host(self) -> str:
        """The listening address."""
        return "127.0.0.1"

    @property
    def port(self) -> int:
        """The listening port."""
        port: int = self._listener.getsockname()[1]
        return port

    @property
    def connections_opened(self) -> int:
        """The number of connections accepted so far."""
        return self._stats.opened

    @property
    def open_connections(self) -> int:
        """The number of connections the client has not closed yet."""
        return self._stats.open_now

    @property
    def max_concurrent_connections(self) -> int:
        """The largest number of connections that were open at the same time."""
        return self._stats.max_open

    def start(self) -> ContractServer:
        """Start accepting connections."""
        self._accept_thread.start()
        return self

    def wait_for_no_connections(self, timeout: float = 2.0) -> bool:
        """Wait until every client connection is closed; return whether that happened."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._stats.open_now == 0:
                return True
            time.sleep(0.01)
        return self._stats.open_now == 0

    def stop(self) -> None:
        """Stop the server, close every connection and join every thread."""
        self._stopping.set()
        _shutdown(self._listener)
        self._listener.close()
        self._accept_thread.join(5)
        with self._stats.lock:
            sockets = list(self._sockets)
        for sock in sockets:
            _shutdown(sock)
        for thread in self._threads:
            thread.join(5)

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return
            with self._stats.lock:
                self._stats.opened += 1
                self._stats.open_now += 1
                self._stats.max_open = max(self._stats.max_open, self._stats.open_now)
                connection_id = self._stats.opened
                self._sockets.add(sock)
            thread = threading.Thread(target=self._serve, args=(sock, connection_id), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, sock: socket.socket, connection_id: int) -> None:
        connection = ServerConnection(sock, self._stopping)
        reader = _RequestReader(sock)
        try:
            while connection.keep_open and not self._stopping.is_set():
                recorded = reader.read(connection_id)
                if recorded is None:
                    break
                self.requests.append(recorded)
                self.handler(recorded, connection)
            # Wait for the client to close, so open_connections counts client sockets.
            reader.drain()
        finally:
            with self._stats.lock:
                self._stats.open_now -= 1
                self._sockets.discard(sock)
            sock.close()


class _RequestReader:
    """Reads requests from one connection, keeping bytes that arrive early."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._buffer = b""

    def read(self, connection_id: int) -> RecordedRequest | None:
        while b"\r\n\r\n" not in self._buffer:
            if len(self._buffer) > _MAX_HEAD or not self._receive():
                return None
        head, _, self._buffer = self._buffer.partition(b"\r\n\r\n")
        head += b"\r\n\r\n"
        length = _content_length(head)
        while len(self._buffer) < length:
            if not self._receive():
                return None
        body, self._buffer = self._buffer[:length], self._buffer[length:]
        return RecordedRequest(connection_id=connection_id, head=head, body=body)

    def drain(self) -> None:
        while self._receive():
            pass

    def _receive(self) -> bool:
        try:
            data = self._sock.recv(_RECV_SIZE)
        except OSError:
            return False
        self._buffer += data
        return bool(data)


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value.strip())
    return 0


def _shutdown(sock: socket.socket) -> None:
    with suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def refused_port() -> int:
    """Return a loopback port with no listener, so a connection to it is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@contextmanager
def running_server(handler: Handler | None = None) -> Iterator[ContractServer]:
    """Run a server for the duration of a ``with`` block."""
    server = ContractServer(handler).start()
    try:
        yield server
    finally:
        server.stop()
