"""A blocking transport on urllib3, keeping connections alive between requests.

urllib3 applies its read timeout to each socket read, so a server that drip-feeds bytes
could hold a caller for far longer than the timeout. The transport's own pool therefore
uses connection classes that register each exchange with a watchdog thread. At the
deadline the watchdog shuts the socket down, the blocked read fails at once, and
`send` reports a `RequestTimeoutError`.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections import deque
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
from pusher_transports._deadline import Exchange, Watchdog, bound_timeout, current_exchange
from pusher_transports._tls import certificate_failure

__all__ = ["Urllib3Transport"]

logger = logging.getLogger("pusher.transport.urllib3")

# Headers urllib3 or http.client add unless set to SKIP_HEADER. The request carries
# everything the server needs, so the transport sends nothing else.
_SKIPPED_HEADERS = ("Accept-Encoding", "User-Agent")


class _DeadlineHTTPConnection(HTTPConnection):
    """An `HTTPConnection` that logs its steps and obeys the current exchange's deadline."""

    def connect(self) -> None:
        super().connect()
        logger.debug("connection opened: %s:%s", self.host, self.port)

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> None:
        if self.sock is not None:
            logger.debug("connection reused: %s:%s", self.host, self.port)
        exchange = current_exchange.get()
        if exchange is not None:
            exchange.attach(self)
        bound_timeout(self)
        super().request(method, url, *args, **kwargs)

    def getresponse(self) -> HTTPResponse:  # type: ignore[override]
        exchange = current_exchange.get()
        try:
            bound_timeout(self)
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


class _FairSlots:
    """Hands out a fixed number of slots in the order callers ask for them.

    urllib3's pool lets a thread that arrives just as a connection comes back take it
    ahead of the threads already waiting, so with more threads than connections one
    caller can wait for seconds while others go by. Queueing for a slot here first
    serves waiters in arrival order, and the pool then always has a connection free.
    """

    def __init__(self, size: int) -> None:
        self._lock = threading.Lock()
        self._free = size
        self._waiters: deque[threading.Lock] = deque()

    def acquire(self, timeout: float) -> bool:
        """Take a slot within ``timeout`` seconds; False when none came in time."""
        with self._lock:
            if self._free and not self._waiters:
                self._free -= 1
                return True
            # Each waiter blocks on its own lock, which `release` unlocks to hand over
            # a slot directly, so no later caller can take it first.
            waiter = threading.Lock()
            waiter.acquire()
            self._waiters.append(waiter)
        if waiter.acquire(timeout=max(timeout, 0.0)):
            return True
        with self._lock:
            if waiter in self._waiters:
                self._waiters.remove(waiter)
                return False
        # The slot was handed over just as the wait ended; the caller is out of time,
        # so it goes to the next waiter.
        self.release()
        return False

    def release(self) -> None:
        """Return a slot, to the longest waiter if there is one."""
        with self._lock:
            if self._waiters:
                self._waiters.popleft().release()
            else:
                self._free += 1


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
        self._pools: dict[tuple[str, str, int], tuple[HTTPConnectionPool, _FairSlots]] = {}
        self._pools_lock = threading.Lock()
        self._watchdog = Watchdog()

    def send(self, request: Request) -> Response:
        """Send the request and return the complete response.

        Raises:
            RequestTimeoutError: No complete response within ``request.timeout`` seconds.
            ConnectionFailedError: The connection could not be opened, or broke.
        """
        exchange = Exchange(time.monotonic() + request.timeout)
        token = current_exchange.set(exchange)
        logger.debug("sending request: %s %s", request.method, request.path)
        try:
            self._watchdog.watch(exchange)
            response = self._urlopen(request, exchange)
        except (HTTPError, OSError) as exc:
            raise _translate(exc, request, exchange) from exc
        finally:
            exchange.detach()
            self._watchdog.unwatch(exchange)
            current_exchange.reset(token)
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
        for pool, _ in pools.values():
            pool.close()

    def __enter__(self) -> Urllib3Transport:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _urlopen(self, request: Request, exchange: Exchange) -> BaseHTTPResponse:
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
        pool, slots = self._pools.get(origin) or self._new_pool(origin)
        if not slots.acquire(exchange.remaining()):
            raise EmptyPoolError(pool, "no free connection")
        try:
            return self._pool_urlopen(pool, request)
        finally:
            slots.release()

    def _pool_urlopen(self, pool: HTTPConnectionPool, request: Request) -> BaseHTTPResponse:
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
            # NOTE: the body is read whole, with no size cap. The deadline bounds how
            # long a server can keep sending, not how much memory its reply takes.
            preload_content=True,
        )

    def _new_pool(self, origin: tuple[str, str, int]) -> tuple[HTTPConnectionPool, _FairSlots]:
        scheme, host, port = origin
        pool_class = _POOL_CLASSES.get(scheme)
        if pool_class is None:
            raise URLSchemeUnknown(scheme)
        with self._pools_lock:
            entry = self._pools.get(origin)
            if entry is not None:
                return entry
            if len(self._pools) >= _MAX_POOLS:
                # The oldest pool goes first. Its connections in use close when released.
                self._pools.pop(next(iter(self._pools)))[0].close()
            pool = pool_class(host, port, maxsize=self._maxsize, block=True, retries=False)
            entry = self._pools[origin] = (pool, _FairSlots(self._maxsize))
            return entry


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


def _translate(exc: HTTPError | OSError, request: Request, exchange: Exchange) -> TransportError:
    """Map a urllib3 failure to our error, keeping the signed query out of the message."""
    where = f"{request.method} {request.path}"
    # NewConnectionError subclasses ConnectTimeoutError in urllib3 2.x, so it goes first.
    if isinstance(exc, NewConnectionError):
        return ConnectionFailedError(
            f"{where}: connection failed: {type(exc).__name__}", maybe_sent=False
        )
    certificate = certificate_failure(exc)
    if certificate is not None:
        return ConnectionFailedError(f"{where}: {certificate}", maybe_sent=False)
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
