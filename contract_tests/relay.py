"""A loopback TCP relay that counts the connections a client opens through it.

A transport that sends through a proxy never connects to the contract server itself.
The server accepts the proxy's connections, whose lifetimes the proxy decides. The relay sits
between the transport and its proxy, so the socket and concurrency cases can count the
transport's own connections there.
"""

from __future__ import annotations

import math
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass

__all__ = ["CountingRelay", "running_relay"]

_CHUNK = 65536

# A client that closes one connection and opens the next can have the new one accepted
# first: aiohttp 3.14 frees a pool slot before the closed socket's close runs on the
# next loop iteration. The maximum therefore counts a connection as closed this many
# seconds before the relay noticed, so one such overlap is not a connection too many.
CLOSE_GRACE = 0.02


@dataclass(eq=False)
class _Link:
    """One relayed connection: the client's socket, the target's, and which are open."""

    client: socket.socket
    upstream: socket.socket
    opened_at: float
    client_open: bool = True
    ended_at: float | None = None

    @property
    def live(self) -> bool:
        """Whether neither side has closed the connection yet."""
        return self.ended_at is None

    def end(self) -> None:
        """Record that one side closed the connection, unless that was already seen."""
        if self.ended_at is None:
            self.ended_at = time.monotonic()


class CountingRelay:
    """Forwards each accepted connection to a target port and counts them.

    `open_connections` counts connections until the client closes its socket, whatever
    the target does, so it finds sockets a client leaks. `max_concurrent_connections`
    counts connections that neither side has closed yet, because a socket whose peer
    has closed it is dead even while the client still holds it. It allows the overlap
    that `CLOSE_GRACE` explains.
    """

    def __init__(self, target_port: int) -> None:
        self._target_port = target_port
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=512)
        self._lock = threading.Lock()
        self._links: list[_Link] = []
        self._threads: list[threading.Thread] = []
        self._accept_thread = threading.Thread(target=self._accept_loop, daemon=True)

    @property
    def port(self) -> int:
        """The port the relay listens on."""
        port: int = self._listener.getsockname()[1]
        return port

    @property
    def connections_opened(self) -> int:
        """The number of client connections accepted so far."""
        return len(self._links)

    @property
    def open_connections(self) -> int:
        """The number of client connections the client has not closed yet."""
        with self._lock:
            self._notice_closed_clients()
            return sum(link.client_open for link in self._links)

    @property
    def max_concurrent_connections(self) -> int:
        """The largest number of connections that were open on both sides at once."""
        with self._lock:
            self._notice_closed_clients()
            spans = [
                (link.opened_at, math.inf if link.ended_at is None else link.ended_at - CLOSE_GRACE)
                for link in self._links
            ]
        return max(
            (sum(start <= moment < end for start, end in spans) for moment, _ in spans), default=0
        )

    def start(self) -> CountingRelay:
        """Start accepting connections."""
        self._accept_thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting, close every connection and join every thread."""
        with suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        self._accept_thread.join(5)
        with self._lock:
            links = list(self._links)
        for link in links:
            for sock in (link.client, link.upstream):
                with suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
        for thread in self._threads:
            thread.join(5)

    def _accept_loop(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self._target_port))
            except OSError:
                client.close()
                continue
            link = _Link(client, upstream, opened_at=time.monotonic())
            with self._lock:
                # A client that closed one connection and opened the next sent the FIN
                # first, so the FIN is readable here even if the pipe thread lags.
                self._notice_closed_clients()
                self._links.append(link)
            self._start_pipes(link)

    def _notice_closed_clients(self) -> None:
        """Mark links whose client socket has reached end of stream; hold the lock."""
        for link in self._links:
            if link.client_open and _at_end_of_stream(link.client):
                link.client_open = False
                link.end()

    def _start_pipes(self, link: _Link) -> None:
        inbound = threading.Thread(target=self._pipe, args=(link, True), daemon=True)
        outbound = threading.Thread(target=self._pipe, args=(link, False), daemon=True)
        closer = threading.Thread(target=self._close_after, args=(link, inbound, outbound))
        closer.daemon = True
        self._threads += [inbound, outbound, closer]
        for thread in (inbound, outbound, closer):
            thread.start()

    def _pipe(self, link: _Link, from_client: bool) -> None:
        source, sink = (link.client, link.upstream) if from_client else (link.upstream, link.client)
        while True:
            try:
                data = source.recv(_CHUNK)
                if not data:
                    break
                sink.sendall(data)
            except OSError:
                break
        # Count the close before passing it on, so the client cannot see it first.
        with self._lock:
            link.end()
            if from_client:
                link.client_open = False
        with suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    def _close_after(
        self, link: _Link, inbound: threading.Thread, outbound: threading.Thread
    ) -> None:
        inbound.join()
        # The client has gone, so nothing more can reach it from the target.
        with suppress(OSError):
            link.upstream.shutdown(socket.SHUT_RDWR)
        outbound.join()
        link.client.close()
        link.upstream.close()


def _at_end_of_stream(sock: socket.socket) -> bool:
    """Return whether the peer has closed its side, without consuming any data."""
    try:
        return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


@contextmanager
def running_relay(target_port: int) -> Iterator[CountingRelay]:
    """Run a relay to ``127.0.0.1:target_port`` for the duration of a ``with`` block."""
    relay = CountingRelay(target_port).start()
    try:
        yield relay
    finally:
        relay.stop()
