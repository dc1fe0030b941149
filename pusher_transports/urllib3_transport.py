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
import heapq
import itertools
import logging
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
)
from urllib3.exceptions import (
    TimeoutError as Urllib3TimeoutError,
)
from urllib3.response import HTTPResponse

from pusher_core.errors import ConnectionFailedError, RequestTimeoutError, TransportError
from pusher_core.messages import Request, Response

__all__ = ["Urllib3Transport"]

logger = logging.getLogger("pusher.transport.urllib3")

# Headers urllib3 or http.client add unless set to SKIP_HEADER. The request carries
# everything the server needs, so the transport sends nothing else.
_SKIPPED_HEADERS = ("Accept-Encoding", "User-Agent")


class _Exchange:
    """One request in flight: its deadline and the connection carrying it."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
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
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


_current_exchange: contextvars.ContextVar[_Exchange | None] = contextvars.ContextVar(
    "pusher_urllib3_exchange", default=None
)


class _Watchdog:
    """A thread that expires exchanges at their deadlines, shared by one transport.

    The thread starts with the first request, and `close` stops it; a request sent
    after `close` starts a new one.
    """

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._heap: list[tuple[float, int, _Exchange]] = []
        self._counter = itertools.count()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def watch(self, exchange: _Exchange) -> None:
        with self._condition:
            heapq.heappush(self._heap, (exchange.deadline, next(self._counter), exchange))
            if self._thread is None:
                self._stop = threading.Event()
                self._thread = threading.Thread(
                    target=self._run, args=(self._stop,), name="pusher-urllib3-watchdog"
                )
                self._thread.daemon = True
                self._thread.start()
            self._condition.notify()

    def close(self) -> None:
        with self._condition:
            self._stop.set()
            self._heap.clear()
            self._condition.notify_all()
            thread, self._thread = self._thread, None
        if thread is not None:
            thread.join()

    def _run(self, stop: threading.Event) -> None:
        with self._condition:
            while not stop.is_set():
                if not self._heap:
                    self._condition.wait()
                    continue
                delay = self._heap[0][0] - time.monotonic()
                if delay > 0:
                    self._condition.wait(delay)
                    continue
                _, _, exchange = heapq.heappop(self._heap)
                # A finished exchange has no connection, so expiring it does nothing.
                exchange.expire()


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


class Urllib3Transport:
    """Sends requests through a urllib3 `PoolManager`.

    ``request.timeout`` bounds the whole exchange: waiting for a free connection,
    connecting, sending and reading the complete response.

    Args:
        pool_manager: A pool manager to use instead of the transport's own. The transport
            never closes a pool manager it did not create. NOTE: with such a pool manager
            the timeout applies to each socket operation, not to the whole exchange,
            because the deadline needs the transport's own connection classes.
        maxsize: The maximum number of connections open at once per host. Callers beyond
            it wait for a free connection within their timeout.
    """

    def __init__(
        self, *, pool_manager: urllib3.PoolManager | None = None, maxsize: int = 10
    ) -> None:
        self._owns_pool = pool_manager is None
        if pool_manager is None:
            pool_manager = urllib3.PoolManager(maxsize=maxsize, block=True, retries=False)
            pool_manager.pool_classes_by_scheme = {
                "http": _DeadlineHTTPConnectionPool,
                "https": _DeadlineHTTPSConnectionPool,
            }
        self._pool = pool_manager
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
            response = self._pool.request(
                request.method,
                request.url,
                body=request.body or None,
                headers=_headers(request),
                timeout=urllib3.Timeout(connect=request.timeout, read=request.timeout),
                pool_timeout=request.timeout,
                retries=False,
                redirect=False,
                preload_content=True,
            )
        except (HTTPError, OSError) as exc:
            raise _translate(exc, request, exchange) from exc
        finally:
            exchange.detach()
            _current_exchange.reset(token)
        logger.debug("response status: %s for %s %s", response.status, request.method, request.path)
        return Response(
            status=response.status, headers=tuple(response.headers.items()), body=response.data
        )

    def close(self) -> None:
        """Stop the watchdog and close the pooled connections, if the transport created the pool."""
        self._watchdog.close()
        if self._owns_pool:
            self._pool.clear()

    def __enter__(self) -> Urllib3Transport:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _headers(request: Request) -> urllib3.HTTPHeaderDict:
    headers = urllib3.HTTPHeaderDict()
    for name, value in request.headers:
        headers.add(name, value)
    for name in _SKIPPED_HEADERS:
        if name not in headers:
            headers[name] = urllib3.util.SKIP_HEADER
    return headers


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
