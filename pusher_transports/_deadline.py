"""Deadlines for whole exchanges on urllib3 connections, shared by the blocking adapters.

urllib3 applies its read timeout to each socket read, so a server that drip-feeds bytes
could hold a caller for far longer than the timeout. An adapter therefore registers
each exchange with a `Watchdog` thread, and its connection classes attach themselves
to the current exchange with `enter_phase`. At the deadline the watchdog shuts the
socket down, the blocked read fails at once, and the adapter reports a timeout.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import socket
import threading
import time

from urllib3.connection import HTTPConnection

__all__ = ["Exchange", "Watchdog", "bound_timeout", "current_exchange", "enter_phase"]


class Exchange:
    """One request in flight: its deadline and the connection carrying it."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.expired = False
        self._connection: HTTPConnection | None = None
        self._lock = threading.Lock()

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def attach(self, connection: HTTPConnection) -> None:
        with self._lock:
            self._connection = connection

    def detach(self) -> None:
        with self._lock:
            self._connection = None

    def expire(self) -> None:
        """Shut down the socket of a still-running exchange, failing its blocked read."""
        with self._lock:
            sock = self._connection.sock if self._connection is not None else None
        if sock is not None:
            self.expired = True
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


current_exchange: contextvars.ContextVar[Exchange | None] = contextvars.ContextVar(
    "pusher_exchange", default=None
)


class Watchdog:
    """A thread that expires exchanges at their deadlines, shared by one transport.

    It contains only the exchanges in flight, and sleeps until the earliest deadline
    among them. `watch` wakes it only for an exchange due before that, so under a steady
    load of equal timeouts the thread wakes about once per timeout, not per request.
    The thread starts with the first request, and `close` stops it; a request sent after
    `close` starts a new one.
    """

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._in_flight: set[Exchange] = set()
        # `_wake_at` is when the thread wakes next (inf while it waits for a notify), and
        # `_latest_deadline` the latest deadline watched. Both change only under the lock.
        self._wake_at = math.inf
        self._latest_deadline = -math.inf
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def watch(self, exchange: Exchange) -> None:
        with self._condition:
            self._in_flight.add(exchange)
            self._latest_deadline = max(self._latest_deadline, exchange.deadline)
            if self._thread is None:
                self._start()
            if exchange.deadline < self._wake_at:
                self._wake_at = exchange.deadline
                self._condition.notify()

    def unwatch(self, exchange: Exchange) -> None:
        with self._condition:
            self._in_flight.discard(exchange)

    def close(self) -> None:
        with self._condition:
            self._stop.set()
            self._in_flight.clear()
            self._condition.notify_all()
            thread, self._thread = self._thread, None
        if thread is not None:
            thread.join()

    def _start(self) -> None:
        self._stop = threading.Event()
        self._wake_at = math.inf
        self._thread = threading.Thread(
            target=self._run, args=(self._stop,), name="pusher-deadline-watchdog"
        )
        self._thread.daemon = True
        self._thread.start()

    def _run(self, stop: threading.Event) -> None:
        with self._condition:
            while not stop.is_set():
                now = time.monotonic()
                self._expire_due(now)
                self._wake_at = self._next_wake(now)
                timeout = None if self._wake_at == math.inf else self._wake_at - now
                self._condition.wait(timeout)

    def _expire_due(self, now: float) -> None:
        due = [exchange for exchange in self._in_flight if exchange.deadline <= now]
        for exchange in due:
            self._in_flight.discard(exchange)
            exchange.expire()

    def _next_wake(self, now: float) -> float:
        if self._in_flight:
            return min(exchange.deadline for exchange in self._in_flight)
        # Nothing in flight: sleeping until the latest deadline seen means the next
        # request, due later still under a steady load, need not wake the thread.
        # Waking with nothing due costs one loop.
        if self._latest_deadline > now:
            return self._latest_deadline
        return math.inf


def bound_timeout(connection: HTTPConnection) -> None:
    """Cap the socket timeout of the next phase by the time left before the deadline."""
    exchange = current_exchange.get()
    if exchange is None:
        return
    remaining = exchange.remaining()
    if remaining <= 0:
        raise TimeoutError("the request deadline has passed")
    timeout = connection.timeout
    if not isinstance(timeout, (int, float)) or timeout > remaining:
        connection.timeout = remaining


def enter_phase(connection: HTTPConnection) -> None:
    """Attach the connection to the current exchange and cap its next socket timeout."""
    exchange = current_exchange.get()
    if exchange is not None:
        exchange.attach(connection)
    bound_timeout(connection)
