"""A blocking transport on urllib3, keeping connections alive between requests.

urllib3 applies its read timeout to each socket read, so a server that drip-feeds bytes
could hold a caller for far longer than the timeout. The transport's own pool therefore
uses connection classes that register each exchange with a watchdog thread. At the
deadline the watchdog shuts the socket down, the blocked read fails at once, and
`send` reports a `RequestTimeoutError`.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import logging
import math
import socket
import threading
import time
from typing import Any

import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import (
    ConnectTimeoutError,
    EmptyPoolError,
    HTTPError,
    NewConnectionError,
    ProtocolError,
    URLSchemeUnknown,
)
from urllib3.exceptions import (
    TimeoutError as Urllib3TimeoutError,
)
from urllib3.response import BaseHTTPResponse, HTTPResponse
from urllib3.util.retry import Retry

from pusher_core.errors import ConnectionFailedError, RequestTimeoutError, TransportError
from pusher_core.messages import Headers, Request, Response, trusted_response
from pusher_core.validation import validate_int

__all__ = ["Urllib3Transport"]

logger = logging.getLogger("pusher.transport.urllib3")

# Headers urllib3 or http.client add unless set to SKIP_HEADER. The request carries
# everything the server needs, so the transport sends nothing else.
_SKIPPED_HEADERS = ("Accept-Encoding", "User-Agent")


class _Exchange:
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


_current_exchange: contextvars.ContextVar[_Exchange | None] = contextvars.ContextVar(
    "pusher_urllib3_exchange", default=None
)


class _Watchdog:
    """A thread that expires exchanges at their deadlines, shared by one transport.

    It contains only the exchanges in flight, and sleeps until the earliest deadline
    among them. `watch` wakes it only for an exchange due before that, so under a steady
    load of equal timeouts the thread wakes about once per timeout, not per request.
    The thread starts with the first request, and `close` stops it; a request sent after
    `close` starts a new one.
    """

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._in_flight: set[_Exchange] = set()
        # `_wake_at` is when the thread wakes next (inf while it waits for a notify), and
        # `_latest_deadline` the latest deadline watched. Both change only under the lock.
        self._wake_at = math.inf
        self._latest_deadline = -math.inf
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def watch(self, exchange: _Exchange) -> None:
        with self._condition:
            self._in_flight.add(exchange)
            self._latest_deadline = max(self._latest_deadline, exchange.deadline)
            if self._thread is None:
                self._start()
            if exchange.deadline < self._wake_at:
                self._wake_at = exchange.deadline
                self._condition.notify()

    def unwatch(self, exchange: _Exchange) -> None:
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
            target=self._run, args=(self._stop,), name="pusher-urllib3-watchdog"
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


def _bounded_timeout(connection: HTTPConnection) -> None:
    """Cap the socket timeout of the next phase by the time left before the deadline."""
    exchange = _current_exchange.get()
    if exchange is None:
        return
    remaining = exchange.remaining()
    if remaining <= 0:
        raise TimeoutError("the request deadline has passed")
    timeout = connection.timeout
    if not isinstance(timeout, (int, float)) or timeout > remaining:
        connection.timeout = remaining


class _DeadlineHTTPConnection(HTTPConnection):
    """An `HTTPConnection` that logs its steps and obeys the current exchange's deadline."""

    def connect(self) -> None:
        super().connect()
        logger.debug("connection opened: %s:%s", self.host, self.port)

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> None:
        if self.sock is not None:
            logger.debug("connection reused: %s:%s", self.host, self.port)
        exchange = _current_exchange.get()
        if exchange is not None:
            exchange.attach(self)
        _bounded_timeout(self)
        super().request(method, url, *args, **kwargs)

    def getresponse(self) -> HTTPResponse:  # type: ignore[override]
        exchange = _current_exchange.get()
        try:
            _bounded_timeout(self)
            return super().getresponse()
        finally:
            if exchange is not None:
                exchange.detach()


class _DeadlineHTTPSConnection(_DeadlineHTTPConnection, HTTPSConnection):
    """The TLS variant of `_DeadlineHTTPConnection`."""


class _DeadlineHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = _DeadlineHTTPConnection


class _DeadlineHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = _DeadlineHTTPSConnection


# The maximum number of pools per transport, one per origin. A transport usually sends to
# one host, and the bound stops one pointed at many hosts from keeping connections to all.
_MAX_POOLS = 10
_POOL_CLASSES: dict[str, type[HTTPConnectionPool]] = {
    "http": _DeadlineHTTPConnectionPool,
    "https": _DeadlineHTTPSConnectionPool,
}
# Retry objects never change (`increment` returns a new one), so one serves every call.
_NO_RETRIES = Retry(total=False, redirect=False)


class Urllib3Transport:
    """Sends requests through urllib3 connection pools, one per origin.

    ``request.timeout`` bounds the whole exchange: waiting for a free connection,
    connecting, sending and reading the complete response.

    Args:
        pool_manager: A pool manager to use instead of the transport's own pools. The
            transport never closes a pool manager it did not create. NOTE: with such a
            pool manager the timeout applies to each socket operation, not to the whole
            exchange, because the deadline needs the transport's own connection classes.
        maxsize: The maximum number of connections open at once per host. Callers beyond
            it wait for a free connection within their timeout.
    """

    def __init__(
        self, *, pool_manager: urllib3.PoolManager | None = None, maxsize: int = 10
    ) -> None:
        self._pool_manager = pool_manager
        self._maxsize = validate_int(maxsize, "maxsize", 1)
        self._pools: dict[tuple[str, str, int], HTTPConnectionPool] = {}
        self._pools_lock = threading.Lock()
        self._watchdog = _Watchdog()

    def send(self, request: Request) -> Response:
        """Send the request and return the complete response.

        Raises:
            RequestTimeoutError: No complete response within ``request.timeout`` seconds.
            ConnectionFailedError: The connection could not be opened, or broke.
        """
        exchange = _Exchange(time.monotonic() + request.timeout)
        token = _current_exchange.set(exchange)
        logger.debug("sending request: %s %s", request.method, request.path)
        try:
            self._watchdog.watch(exchange)
            response = self._urlopen(request)
        except (HTTPError, OSError) as exc:
            raise _translate(exc, request, exchange) from exc
        finally:
            exchange.detach()
            self._watchdog.unwatch(exchange)
            _current_exchange.reset(token)
        if exchange.expired:
            # http.client can take the end of a cut stream for the end of the headers or
            # of a body without a length, so a cut exchange may look complete. The pool
            # drops the cut connection when it next hands it out.
            raise RequestTimeoutError(
                f"{request.method} {request.path}: timed out after {request.timeout} s"
            )
        logger.debug("response status: %s for %s %s", response.status, request.method, request.path)
        return trusted_response(response.status, tuple(response.headers.items()), response.data)

    def close(self) -> None:
        """Stop the watchdog and close the pooled connections, if the transport created them."""
        self._watchdog.close()
        with self._pools_lock:
            pools, self._pools = self._pools, {}
        for pool in pools.values():
            pool.close()

    def __enter__(self) -> Urllib3Transport:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _urlopen(self, request: Request) -> BaseHTTPResponse:
        if self._pool_manager is not None:
            return self._pool_manager.request(
                request.method,
                request.url,
                body=request.body or None,
                headers=_header_mapping(request.headers).copy(),
                timeout=request.timeout,
                pool_timeout=request.timeout,
                retries=False,
                redirect=False,
                preload_content=True,
            )
        origin = (request.scheme, request.host, request.port)
        pool = self._pools.get(origin) or self._new_pool(origin)
        # The target goes to the pool as it is: it was signed in this exact form.
        return pool.urlopen(
            request.method,
            request.target,
            body=request.body or None,
            headers=_header_mapping(request.headers).copy(),
            retries=_NO_RETRIES,
            redirect=False,
            assert_same_host=False,
            timeout=request.timeout,
            # urllib3 annotates an int, but passes it on to `queue.Queue.get`, which
            # takes a float.
            pool_timeout=request.timeout,  # type: ignore[arg-type]
            preload_content=True,
        )

    def _new_pool(self, origin: tuple[str, str, int]) -> HTTPConnectionPool:
        scheme, host, port = origin
        pool_class = _POOL_CLASSES.get(scheme)
        if pool_class is None:
            raise URLSchemeUnknown(scheme)
        with self._pools_lock:
            pool = self._pools.get(origin)
            if pool is not None:
                return pool
            if len(self._pools) >= _MAX_POOLS:
                # The oldest pool goes first. Its connections in use close when released.
                self._pools.pop(next(iter(self._pools))).close()
            pool = pool_class(host, port, maxsize=self._maxsize, block=True, retries=False)
            self._pools[origin] = pool
            return pool


@functools.lru_cache(maxsize=64)
def _header_mapping(headers: Headers) -> dict[str, str] | urllib3.HTTPHeaderDict:
    """Return the headers to send, cached because a builder reuses a few header tuples.

    Callers must send a copy, so the cached mapping never changes.
    """
    names = {name.lower() for name, _ in headers}
    mapping: dict[str, str] | urllib3.HTTPHeaderDict
    if len(names) == len(headers):
        mapping = dict(headers)
    else:
        # A repeated name is sent once per value, which a plain dict cannot hold.
        mapping = urllib3.HTTPHeaderDict()
        for name, value in headers:
            mapping.add(name, value)
    for name in _SKIPPED_HEADERS:
        if name.lower() not in names:
            mapping[name] = urllib3.util.SKIP_HEADER
    return mapping


def _translate(exc: HTTPError | OSError, request: Request, exchange: _Exchange) -> TransportError:
    """Map a urllib3 failure to our error, keeping the signed query out of the message."""
    where = f"{request.method} {request.path}"
    # NewConnectionError subclasses ConnectTimeoutError in urllib3 2.x, so it goes first.
    if isinstance(exc, NewConnectionError):
        return ConnectionFailedError(
            f"{where}: connection failed: {type(exc).__name__}", maybe_sent=False
        )
    if isinstance(exc, ConnectTimeoutError):
        return RequestTimeoutError(f"{where}: connecting timed out", maybe_sent=False)
    if isinstance(exc, EmptyPoolError):
        return RequestTimeoutError(
            f"{where}: no free connection within {request.timeout} s", maybe_sent=False
        )
    # Any failure seen after the deadline is the watchdog's doing, or a read that the
    # deadline cut short.
    if exchange.remaining() <= 0 or isinstance(exc, Urllib3TimeoutError):
        return RequestTimeoutError(f"{where}: timed out after {request.timeout} s")
    if isinstance(exc, ProtocolError):
        return ConnectionFailedError(f"{where}: connection broke: {exc.args[0]}")
    return ConnectionFailedError(f"{where}: {type(exc).__name__}")
