"""An example third-party transport on the standard library's `http.client`.

It shows everything an adapter must do to pass the contract suite. It sends the request
exactly as built and enforces ``request.timeout`` as a deadline for the whole exchange.
It translates failures into `RequestTimeoutError` or `ConnectionFailedError`, caps the
number of connections, reuses idle ones, and releases every socket on `close`.

Run the contract suite against it from the repository root with::

    python -m pytest -W error contract_tests --transport=examples.stdlib_transport:make_transport
"""

from __future__ import annotations

import contextlib
import http.client
import logging
import selectors
import socket
import ssl
import threading
import time
from typing import TYPE_CHECKING

from pusher_core.errors import ConnectionFailedError, RequestTimeoutError
from pusher_core.messages import Request, Response

if TYPE_CHECKING:
    from contract_tests.transports import TransportOptions

__all__ = ["StdlibTransport", "make_transport"]

logger = logging.getLogger("pusher.transport.stdlib_example")

# A connection's destination: the scheme, the host and the port.
Origin = tuple[str, str, int]

# Methods whose empty body is still announced with Content-Length: 0, as http.client does.
_METHODS_WITH_BODY = frozenset({"POST", "PUT", "PATCH"})


class StdlibTransport:
    """A blocking transport on `http.client`, keeping idle connections for reuse.

    Args:
        max_connections: The maximum number of connections open at once, idle ones included.
            Further callers wait for a free slot within their own timeout.
    """

    def __init__(self, *, max_connections: int = 10) -> None:
        self._max_connections = max_connections
        self._open = 0
        self._idle: dict[Origin, list[http.client.HTTPConnection]] = {}
        self._condition = threading.Condition()

    def send(self, request: Request) -> Response:
        """Send the request and return the complete response.

        Raises:
            RequestTimeoutError: No complete response within ``request.timeout`` seconds.
            ConnectionFailedError: The connection could not be opened or broke.
        """
        deadline = time.monotonic() + request.timeout
        origin = (request.scheme, request.host.strip("[]"), request.port)
        connection = self._checkout(origin, deadline, request)
        try:
            response, reusable = self._exchange(connection, request, deadline)
        except BaseException:
            self._discard(connection)
            raise
        if reusable:
            self._checkin(origin, connection)
        else:
            self._discard(connection)
        return response

    def close(self) -> None:
        """Close every idle connection. A busy one is closed when its request ends."""
        with self._condition:
            idle = [connection for pool in self._idle.values() for connection in pool]
            self._idle.clear()
        for connection in idle:
            self._discard(connection)

    def __enter__(self) -> StdlibTransport:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _checkout(
        self, origin: Origin, deadline: float, request: Request
    ) -> http.client.HTTPConnection:
        """Return an idle connection to the origin, or a new one once a slot is free."""
        with self._condition:
            while True:
                connection = self._take_idle(origin)
                if connection is not None:
                    return connection
                if self._open < self._max_connections:
                    self._open += 1
                    return _new_connection(origin, request.timeout)
                if self._close_other_idle():
                    continue
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise RequestTimeoutError(
                        f"{request.method} {request.path}: no free connection "
                        f"within {request.timeout} s",
                        maybe_sent=False,
                    )
                self._condition.wait(remaining)

    def _take_idle(self, origin: Origin) -> http.client.HTTPConnection | None:
        """Pop an idle connection the server has not closed, dropping closed ones."""
        pool = self._idle.get(origin, [])
        while pool:
            connection = pool.pop()
            if not _is_dropped(connection):
                logger.debug("connection reused: %s:%s", *origin[1:])
                return connection
            connection.close()
            self._open -= 1
        return None

    def _close_other_idle(self) -> bool:
        """Close one idle connection to any origin, freeing its slot; return whether one was."""
        for pool in self._idle.values():
            if pool:
                pool.pop().close()
                self._open -= 1
                return True
        return False

    def _checkin(self, origin: Origin, connection: http.client.HTTPConnection) -> None:
        with self._condition:
            self._idle.setdefault(origin, []).append(connection)
            self._condition.notify()

    def _discard(self, connection: http.client.HTTPConnection) -> None:
        connection.close()
        with self._condition:
            self._open -= 1
            self._condition.notify()

    def _exchange(
        self, connection: http.client.HTTPConnection, request: Request, deadline: float
    ) -> tuple[Response, bool]:
        where = f"{request.method} {request.path}"
        logger.debug("sending request: %s", where)
        if connection.sock is None:
            _connect(connection, where)
        # The per-read socket timeout restarts with every byte received, so a timer
        # shuts the socket down at the deadline to bound the whole exchange.
        expired = threading.Event()
        watchdog = threading.Timer(deadline - time.monotonic(), _shutdown, (connection, expired))
        watchdog.start()
        try:
            response, reusable = _send_and_read(connection, request)
        except (OSError, http.client.HTTPException) as exc:
            if expired.is_set():
                raise RequestTimeoutError(f"{where}: timed out after {request.timeout} s") from exc
            raise ConnectionFailedError(f"{where}: connection broke: {type(exc).__name__}") from exc
        finally:
            watchdog.cancel()
            watchdog.join()
        if expired.is_set():
            # A shutdown in the middle of the headers can end them early without an
            # error, leaving a response that looks whole but is not.
            raise RequestTimeoutError(f"{where}: timed out after {request.timeout} s")
        logger.debug("response status: %s for %s", response.status, where)
        return response, reusable


def _new_connection(origin: Origin, timeout: float) -> http.client.HTTPConnection:
    scheme, host, port = origin
    if scheme == "https":
        # The system's trusted certificates, with the host name checked.
        context = ssl.create_default_context()
        return http.client.HTTPSConnection(host, port, timeout=timeout, context=context)
    return http.client.HTTPConnection(host, port, timeout=timeout)


def _connect(connection: http.client.HTTPConnection, where: str) -> None:
    try:
        connection.connect()
        logger.debug("connection opened: %s:%s", connection.host, connection.port)
    except TimeoutError as exc:
        raise RequestTimeoutError(f"{where}: connecting timed out", maybe_sent=False) from exc
    except ssl.SSLCertVerificationError as exc:
        raise ConnectionFailedError(
            f"{where}: certificate verification failed: {exc.verify_message}", maybe_sent=False
        ) from exc
    except OSError as exc:
        raise ConnectionFailedError(
            f"{where}: connection failed: {type(exc).__name__}", maybe_sent=False
        ) from exc


def _send_and_read(
    connection: http.client.HTTPConnection, request: Request
) -> tuple[Response, bool]:
    # putrequest() and putheader() send the headers exactly as given, without the
    # Accept-Encoding header that request() adds.
    connection.putrequest(request.method, request.target, skip_accept_encoding=True)
    names = {name.lower() for name, _ in request.headers}
    for name, value in request.headers:
        connection.putheader(name, value)
    if "content-length" not in names and (request.body or request.method in _METHODS_WITH_BODY):
        connection.putheader("Content-Length", str(len(request.body)))
    connection.endheaders(request.body or None)
    response = connection.getresponse()
    body = response.read()
    reusable = not response.will_close
    return Response(
        status=response.status, headers=tuple(response.getheaders()), body=body
    ), reusable


def _shutdown(connection: http.client.HTTPConnection, expired: threading.Event) -> None:
    expired.set()
    sock = connection.sock
    if sock is None:
        return
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def _is_dropped(connection: http.client.HTTPConnection) -> bool:
    """Return whether an idle connection has become readable, which means closed."""
    if connection.sock is None:
        return True
    with selectors.DefaultSelector() as selector:
        selector.register(connection.sock, selectors.EVENT_READ)
        return bool(selector.select(timeout=0))


def make_transport(options: TransportOptions) -> StdlibTransport:
    """Build the transport for the contract suite, with the connection cap it requires."""
    return StdlibTransport(max_connections=options.max_connections)
