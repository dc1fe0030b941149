"""A blocking transport with its own keep-alive connection pool.

`KeepAlivePool` keeps up to ``max_connections`` HTTP/1.1 connections open per origin
and reuses them, and `PoolPolicy` makes every reuse, discard and resend decision as a
pure function of the facts, so those rules are unit-tested without sockets.

It is built on `http.client` rather than urllib3's `HTTPConnectionPool` because the
pool must own those decisions and count them. urllib3 decides on its own when a pooled
connection is dropped and replaced, so the pool could neither count stale connections
nor apply the resend rule below. `http.client` is one connection per object with no
policy of its own, and it exposes the socket, which the pool polls for an EOF from the
server before reusing a connection.

Resend rule: a request is resent, once and on a fresh connection, only when writing it
to a reused connection failed. The server then never received the complete request, so
it cannot have acted on it. Every other failure is raised as `ConnectionFailedError` or
`RequestTimeoutError`, with ``maybe_sent`` telling whether the server may have acted.
"""

from __future__ import annotations

import enum
import http.client
import io
import logging
import select
import socket
import ssl
import threading
import time
from collections.abc import Callable
from typing import Any, cast

import attrs
from attrs import define, field, frozen

from pusher_core.errors import (
    ConfigurationError,
    ConnectionFailedError,
    RequestTimeoutError,
    TransportError,
)
from pusher_core.messages import Request, Response

__all__ = [
    "Checkout",
    "FailureDecision",
    "FailureKind",
    "KeepAlivePool",
    "PoolPolicy",
    "PoolStats",
    "ResponseFacts",
]

logger = logging.getLogger("pusher.transport.pool")

# A server that advertises ``Keep-Alive: timeout=N`` closes the connection after N
# idle seconds. Stopping reuse this many seconds earlier keeps a request from being
# written just as the server closes, the one stale case a pre-send check cannot see.
KEEP_ALIVE_MARGIN = 1.0


# --- The policy: pure decisions, no I/O -------------------------------------------------


class Checkout(enum.Enum):
    """The verdict on an idle connection that a request is about to use."""

    REUSE = "reuse"
    EXPIRED = "expired"
    CLOSED_BY_SERVER = "closed by server"


class FailureKind(enum.Enum):
    """The step of an exchange that failed."""

    CONNECT = "connect"
    WRITE = "write"
    READ = "read"


@frozen
class ResponseFacts:
    """Facts of a finished exchange that decide whether its connection can carry another.

    Attributes:
        version: The HTTP version of the response, 10 or 11 as `http.client` reports it.
        connection: The ``Connection`` header value, lower case, or ``""``.
        framed: True when the body length was known from ``Content-Length`` or chunked
            encoding, so its end did not depend on the server closing the connection.
        keep_alive_timeout: The ``timeout`` of the ``Keep-Alive`` header, in seconds.
    """

    version: int
    connection: str = ""
    framed: bool = True
    keep_alive_timeout: float | None = None


@frozen
class FailureDecision:
    """The action to take after a failed exchange.

    Attributes:
        resend: Open a fresh connection and send the request again.
        maybe_sent: Whether the server may have received the complete request, for the
            error raised when the request is not resent.
    """

    resend: bool
    maybe_sent: bool


def _positive_int(name: str) -> Callable[[Any, Any, Any], None]:
    def check(instance: object, attribute: object, value: object) -> None:
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ConfigurationError(name, f"must be an integer of at least 1, got {value!r}")

    return check


def _positive_seconds(name: str) -> Callable[[Any, Any, Any], None]:
    def check(instance: object, attribute: object, value: object) -> None:
        if not isinstance(value, int | float) or isinstance(value, bool) or not value > 0:
            raise ConfigurationError(name, f"must be a number of seconds above 0, got {value!r}")

    return check


@frozen
class PoolPolicy:
    """The reuse, discard and resend rules of `KeepAlivePool`, free of I/O.

    Attributes:
        max_connections: Connections open at once per origin, idle or in use.
        idle_expiry: Seconds an idle connection stays reusable.
    """

    max_connections: int = field(default=10, validator=_positive_int("max_connections"))
    idle_expiry: float = field(default=5.0, validator=_positive_seconds("idle_expiry"))

    def idle_limit(self, facts: ResponseFacts) -> float:
        """Return the seconds a connection may idle after the response `facts` describes."""
        if facts.keep_alive_timeout is None:
            return self.idle_expiry
        server_limit = max(facts.keep_alive_timeout - KEEP_ALIVE_MARGIN, 0.0)
        return min(self.idle_expiry, server_limit)

    def check_idle(self, *, idle_seconds: float, idle_limit: float, readable: bool) -> Checkout:
        """Decide whether an idle connection may carry the next request.

        Args:
            idle_seconds: Seconds since the connection's last response was read.
            idle_limit: The limit `idle_limit` returned for that response.
            readable: Whether the socket has data or an EOF waiting. An idle HTTP/1.1
                connection has nothing to read, so either means the server closed it or
                sent bytes that belong to no request.
        """
        if readable:
            return Checkout.CLOSED_BY_SERVER
        if idle_seconds >= idle_limit:
            return Checkout.EXPIRED
        return Checkout.REUSE

    def keeps(self, facts: ResponseFacts) -> bool:
        """Return whether a connection stays open after a complete response."""
        if facts.connection == "close" or not facts.framed:
            return False
        if facts.version < 11:
            return facts.connection == "keep-alive"
        return self.idle_limit(facts) > 0

    def on_failure(self, kind: FailureKind, *, reused: bool, resent: bool) -> FailureDecision:
        """Decide between a resend and an error after an exchange failed at `kind`.

        Args:
            kind: The step that failed.
            reused: Whether the connection had carried an earlier request.
            resent: Whether this attempt was already a resend.
        """
        # The server has a complete request only once every byte was written.
        maybe_sent = kind is FailureKind.READ
        resend = kind is FailureKind.WRITE and reused and not resent
        return FailureDecision(resend=resend, maybe_sent=maybe_sent)


# --- Statistics ---------------------------------------------------------------------------


@frozen
class PoolStats:
    """Counters of a `KeepAlivePool` since it was created.

    Attributes:
        connections_opened: Connections opened, TLS handshake included.
        requests_sent: Requests written completely, resends included.
        reuses: Requests that went out on a connection an earlier request had used.
        stale_discarded: Idle connections closed before use because they had expired
            or the server had closed them.
        resends: Requests sent again on a fresh connection after a reused one failed.
    """

    connections_opened: int = 0
    requests_sent: int = 0
    reuses: int = 0
    stale_discarded: int = 0
    resends: int = 0


class _Counters:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values = dict.fromkeys(attrs.fields_dict(PoolStats), 0)

    def add(self, name: str) -> None:
        with self._lock:
            self._values[name] += 1

    def snapshot(self) -> PoolStats:
        with self._lock:
            return PoolStats(**self._values)


# --- Connections ---------------------------------------------------------------------------


class _Deadline:
    def __init__(self, clock: Callable[[], float], seconds: float) -> None:
        self._clock = clock
        self._end = clock() + seconds

    def remaining(self) -> float:
        return self._end - self._clock()


class _DeadlineReader(io.RawIOBase):
    """Socket reads that share one deadline, so a server sending a byte at a time cannot
    stretch an exchange past the request timeout."""

    def __init__(self, sock: socket.socket, connection: _Connection) -> None:
        super().__init__()
        self._sock = sock
        self._connection = connection

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        if not self.closed:
            self._sock._decref_socketios()  # type: ignore[attr-defined]
        super().close()

    def readinto(self, buffer: Any) -> int:
        remaining = self._connection.deadline.remaining()
        if remaining <= 0:
            raise TimeoutError("the request deadline passed while reading the response")
        self._sock.settimeout(remaining)
        return self._sock.recv_into(buffer)


class _PlainConnection(http.client.HTTPConnection):
    """An `HTTPConnection` that collects the writes of one request for `_flush_request`."""

    pending: bytes = b""

    def send(self, data: Any) -> None:
        self.pending += bytes(data)


class _TLSConnection(http.client.HTTPSConnection):
    """An `HTTPSConnection` that collects the writes of one request for `_flush_request`."""

    pending: bytes = b""

    def send(self, data: Any) -> None:
        self.pending += bytes(data)


def _flush_request(http_connection: _PlainConnection | _TLSConnection) -> None:
    # http.client writes the head and the body with separate calls. One sendall
    # makes a write failure mean that the server has no complete request, which is
    # the condition for a resend.
    data, http_connection.pending = http_connection.pending, b""
    http.client.HTTPConnection.send(http_connection, data)


class _ResponseSocket:
    # http.client builds a response from ``sock.makefile("rb")``, and this object is
    # what the response uses as its socket. The reader must not close the socket,
    # which belongs to the connection.
    def __init__(self, sock: socket.socket, connection: _Connection) -> None:
        self._sock = sock
        self._connection = connection

    def makefile(self, mode: str, *args: Any, **kwargs: Any) -> io.BufferedReader:
        # Take a reference on the socket, as `socket.makefile` does. http.client closes
        # the socket right after the headers of a ``Connection: close`` response, so the
        # reference keeps the descriptor open until the body is read and the reader closed.
        self._sock._io_refs += 1  # type: ignore[attr-defined]
        return io.BufferedReader(_DeadlineReader(self._sock, self._connection))


@define(eq=False)
class _Connection:
    http_connection: _PlainConnection | _TLSConnection
    deadline: _Deadline
    requests: int = 0
    idle_since: float = 0.0
    idle_limit: float = 0.0

    def __attrs_post_init__(self) -> None:
        # Without this, http.client would silently reconnect a closed connection.
        self.http_connection.auto_open = 0
        self.http_connection.response_class = cast(
            "type[http.client.HTTPResponse]", self._new_response
        )

    def _new_response(self, sock: socket.socket, *args: Any, **kwargs: Any) -> Any:
        shim = cast(socket.socket, _ResponseSocket(sock, self))
        return http.client.HTTPResponse(shim, *args, **kwargs)

    def is_readable(self) -> bool:
        sock = self.http_connection.sock
        return sock is None or _is_readable(sock)

    def close(self) -> None:
        self.http_connection.close()


def _is_readable(sock: socket.socket) -> bool:
    """Return whether a read on the socket would return at once: data, EOF or an error."""
    if isinstance(sock, ssl.SSLSocket) and sock.pending():
        return True
    if hasattr(select, "poll"):
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        return bool(poller.poll(0))
    readable, _, _ = select.select([sock], [], [], 0)
    return bool(readable)


@define(eq=False)
class _Origin:
    condition: threading.Condition
    idle: list[_Connection] = field(factory=list)
    open_count: int = 0


class _ExchangeError(Exception):
    def __init__(self, kind: FailureKind, cause: BaseException) -> None:
        super().__init__(kind.value)
        self.kind = kind
        self.cause = cause


# --- The transport ---------------------------------------------------------------------


class KeepAlivePool:
    """A blocking transport that keeps connections alive and reuses them.

    It is safe to share between threads. A request that finds every connection of its
    origin in use waits for one to be released, for at most its own timeout, which is a
    deadline for the whole exchange: waiting, connecting, writing and reading.

    Args:
        max_connections: Connections open at once per origin (scheme, host and port).
        idle_expiry: Seconds an idle connection stays reusable. The default, 5, is
            the default keep-alive expiry of httpx. A shorter ``Keep-Alive: timeout``
            from the server takes precedence.
        ssl_context: The TLS context for https origins. By default, the system's
            trusted certificates with hostname checks.
        clock: Returns monotonic seconds, for idle times and deadlines.

    Raises:
        ConfigurationError: `max_connections` or `idle_expiry` is out of range.

    Example:
        >>> with KeepAlivePool(max_connections=4) as pool:
        ...     pool.stats.connections_opened
        0
    """

    def __init__(
        self,
        *,
        max_connections: int = 10,
        idle_expiry: float = 5.0,
        ssl_context: ssl.SSLContext | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.policy = PoolPolicy(max_connections=max_connections, idle_expiry=idle_expiry)
        self._ssl_context = ssl_context
        self._clock = clock
        self._lock = threading.Lock()
        self._origins: dict[tuple[str, str, int], _Origin] = {}
        self._closed = False
        self._counters = _Counters()

    def __repr__(self) -> str:
        return (
            f"<KeepAlivePool max_connections={self.policy.max_connections} "
            f"idle_expiry={self.policy.idle_expiry}>"
        )

    @property
    def stats(self) -> PoolStats:
        """A snapshot of the pool's counters."""
        return self._counters.snapshot()

    def send(self, request: Request) -> Response:
        """Send the request on a pooled connection and return the complete response.

        Raises:
            RequestTimeoutError: No complete response within ``request.timeout`` seconds,
                including the wait for a free connection.
            ConnectionFailedError: The connection could not be opened, or broke.
        """
        deadline = _Deadline(self._clock, request.timeout)
        origin = self._origin(request)
        connection = self._acquire(origin, request, deadline)
        kept: _Connection | None = None
        try:
            response, kept = self._send_with_resend(connection, request, deadline)
        finally:
            self._release(origin, kept)
        return response

    def close(self) -> None:
        """Close every idle connection; connections in use close when released."""
        with self._lock:
            self._closed = True
            idle = [conn for origin in self._origins.values() for conn in origin.idle]
            for origin in self._origins.values():
                origin.open_count -= len(origin.idle)
                origin.idle.clear()
                origin.condition.notify_all()
        for connection in idle:
            connection.close()

    def __enter__(self) -> KeepAlivePool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- Slots -----------------------------------------------------------------------

    def _origin(self, request: Request) -> _Origin:
        key = (request.scheme, request.host, request.port)
        with self._lock:
            origin = self._origins.get(key)
            if origin is None:
                origin = self._origins[key] = _Origin(threading.Condition(self._lock))
            return origin

    def _acquire(self, origin: _Origin, request: Request, deadline: _Deadline) -> _Connection:
        """Return a connection for the request, reused or new, holding one of the slots."""
        expired: list[_Connection] = []
        idle = self._take_slot(origin, request, deadline, expired)
        for connection in expired:
            logger.debug("stale connection discarded: %s, %s", request.origin, "expired")
            self._counters.add("stale_discarded")
            connection.close()
        try:
            if idle is not None and self._check_idle(idle, request) is Checkout.REUSE:
                return idle
            return self._open(request, deadline)
        except BaseException:
            self._release(origin, None)
            raise

    def _take_slot(
        self, origin: _Origin, request: Request, deadline: _Deadline, expired: list[_Connection]
    ) -> _Connection | None:
        # Returns an idle connection, or None after reserving a slot for a new one.
        # Idle connections past their limit move to `expired`, so the caller closes them
        # outside the lock. Without this, the idle list, used last-in first-out, would
        # keep its oldest connections open long after they expired.
        with self._lock:
            while True:
                if self._closed:
                    raise ConnectionFailedError(
                        f"{request.method} {request.path}: the pool is closed", maybe_sent=False
                    )
                self._remove_expired(origin, expired)
                if origin.idle:
                    return origin.idle.pop()
                if origin.open_count < self.policy.max_connections:
                    origin.open_count += 1
                    return None
                remaining = deadline.remaining()
                if remaining <= 0:
                    raise RequestTimeoutError(
                        f"{request.method} {request.path}: no free connection to "
                        f"{request.origin} within {request.timeout} s",
                        maybe_sent=False,
                    )
                origin.condition.wait(remaining)

    def _remove_expired(self, origin: _Origin, expired: list[_Connection]) -> None:
        now = self._clock()
        kept = []
        for connection in origin.idle:
            verdict = self.policy.check_idle(
                idle_seconds=now - connection.idle_since,
                idle_limit=connection.idle_limit,
                readable=False,
            )
            if verdict is Checkout.EXPIRED:
                expired.append(connection)
            else:
                kept.append(connection)
        origin.open_count -= len(origin.idle) - len(kept)
        origin.idle[:] = kept

    def _check_idle(self, connection: _Connection, request: Request) -> Checkout:
        idle_seconds = self._clock() - connection.idle_since
        verdict = self.policy.check_idle(
            idle_seconds=idle_seconds,
            idle_limit=connection.idle_limit,
            readable=connection.is_readable(),
        )
        if verdict is Checkout.REUSE:
            logger.debug("connection reused: %s, idle %.3f s", request.origin, idle_seconds)
        else:
            logger.debug("stale connection discarded: %s, %s", request.origin, verdict.value)
            self._counters.add("stale_discarded")
            connection.close()
        return verdict

    def _release(self, origin: _Origin, connection: _Connection | None) -> None:
        """Return a connection to the idle list, or with None free its slot."""
        with self._lock:
            origin.condition.notify()
            if connection is not None and not self._closed:
                connection.idle_since = self._clock()
                origin.idle.append(connection)
                return
            origin.open_count -= 1
        if connection is not None:
            connection.close()

    # --- Exchanges -------------------------------------------------------------------

    def _tls_context(self) -> ssl.SSLContext:
        # Loading the system's certificates takes milliseconds, so it happens once.
        with self._lock:
            if self._ssl_context is None:
                self._ssl_context = ssl.create_default_context()
            return self._ssl_context

    def _open(self, request: Request, deadline: _Deadline) -> _Connection:
        host = request.host.strip("[]")
        timeout = max(deadline.remaining(), 0.001)
        if request.scheme == "https":
            context = self._tls_context()
            http_connection: _PlainConnection | _TLSConnection = _TLSConnection(
                host, request.port, timeout=timeout, context=context
            )
        else:
            http_connection = _PlainConnection(host, request.port, timeout=timeout)
        connection = _Connection(http_connection, deadline)
        try:
            http_connection.connect()
        except (OSError, http.client.HTTPException) as exc:
            connection.close()
            decision = self.policy.on_failure(FailureKind.CONNECT, reused=False, resent=False)
            raise _transport_error(request, FailureKind.CONNECT, exc, decision) from exc
        self._counters.add("connections_opened")
        logger.debug("connection opened: %s", request.origin)
        return connection

    def _send_with_resend(
        self, connection: _Connection, request: Request, deadline: _Deadline
    ) -> tuple[Response, _Connection | None]:
        resent = False
        while True:
            try:
                return self._exchange(connection, request, deadline)
            except _ExchangeError as failure:
                connection.close()
                reused = connection.requests > 0
                decision = self.policy.on_failure(failure.kind, reused=reused, resent=resent)
                _log_decision(request, failure, decision)
                if not decision.resend:
                    error = _transport_error(request, failure.kind, failure.cause, decision)
                    raise error from failure.cause
            self._counters.add("resends")
            resent = True
            connection = self._open(request, deadline)

    def _exchange(
        self, connection: _Connection, request: Request, deadline: _Deadline
    ) -> tuple[Response, _Connection | None]:
        connection.deadline = deadline
        try:
            self._write(connection, request)
            response, facts = _read(connection, request)
        except BaseException:
            connection.close()
            raise
        if connection.requests > 0:
            self._counters.add("reuses")
        connection.requests += 1
        if not self.policy.keeps(facts):
            connection.close()
            return response, None
        connection.idle_limit = self.policy.idle_limit(facts)
        return response, connection

    def _write(self, connection: _Connection, request: Request) -> None:
        remaining = connection.deadline.remaining()
        try:
            if remaining <= 0:
                raise TimeoutError("the request deadline passed before writing")
            sock = connection.http_connection.sock
            if sock is None:
                raise ConnectionResetError("the connection is closed")
            sock.settimeout(remaining)
            _write_request(connection.http_connection, request)
        except (OSError, http.client.HTTPException) as exc:
            raise _ExchangeError(FailureKind.WRITE, exc) from exc
        self._counters.add("requests_sent")
        logger.debug("request sent: %s %s to %s", request.method, request.path, request.origin)


def _write_request(http_connection: _PlainConnection | _TLSConnection, request: Request) -> None:
    """Write the request line, headers and body with one ``sendall``."""
    names = {name.lower() for name, _ in request.headers}
    http_connection.putrequest(
        request.method,
        request.target,
        skip_host="host" in names,
        skip_accept_encoding=True,
    )
    for name, value in request.headers:
        http_connection.putheader(name, value)
    if "content-length" not in names and (request.body or request.method in _BODY_METHODS):
        http_connection.putheader("Content-Length", str(len(request.body)))
    http_connection.endheaders(request.body or None)
    _flush_request(http_connection)


_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def _read(connection: _Connection, request: Request) -> tuple[Response, ResponseFacts]:
    try:
        http_response = connection.http_connection.getresponse()
        framed = http_response.chunked or http_response.length is not None
        body = http_response.read()
    except (OSError, http.client.HTTPException) as exc:
        raise _ExchangeError(FailureKind.READ, exc) from exc
    logger.debug(
        "response status: %d for %s %s", http_response.status, request.method, request.path
    )
    headers = tuple(http_response.getheaders())
    response = Response(status=http_response.status, headers=headers, body=body)
    facts = ResponseFacts(
        version=http_response.version,
        connection=(response.header("Connection") or "").strip().lower(),
        framed=framed,
        keep_alive_timeout=_keep_alive_timeout(response.header("Keep-Alive")),
    )
    return response, facts


def _keep_alive_timeout(value: str | None) -> float | None:
    """Return the ``timeout`` parameter of a ``Keep-Alive`` header, such as ``timeout=5``."""
    for parameter in (value or "").split(","):
        name, _, number = parameter.partition("=")
        if name.strip().lower() != "timeout":
            continue
        try:
            return max(float(number.strip()), 0.0)
        except ValueError:
            return None
    return None


def _log_decision(request: Request, failure: _ExchangeError, decision: FailureDecision) -> None:
    where = f"{request.method} {request.path} to {request.origin}"
    if decision.resend:
        logger.debug(
            "retry decision: resend %s on a fresh connection, because writing to a reused "
            "connection failed (%s)",
            where,
            type(failure.cause).__name__,
        )
    else:
        logger.debug(
            "retry decision: no resend of %s after the %s step failed (%s), maybe_sent=%s",
            where,
            failure.kind.value,
            type(failure.cause).__name__,
            decision.maybe_sent,
        )


_STEP_NAMES = {
    FailureKind.CONNECT: "connecting",
    FailureKind.WRITE: "writing the request",
    FailureKind.READ: "reading the response",
}


def _transport_error(
    request: Request, kind: FailureKind, cause: BaseException, decision: FailureDecision
) -> TransportError:
    """Build the error for a failed step; the message names the path, never the query."""
    where = f"{request.method} {request.path}"
    step = _STEP_NAMES[kind]
    if isinstance(cause, TimeoutError):
        return RequestTimeoutError(
            f"{where}: timed out after {request.timeout} s while {step}",
            maybe_sent=decision.maybe_sent,
        )
    return ConnectionFailedError(
        f"{where} to {request.origin}: {step} failed: {type(cause).__name__}: {cause}",
        maybe_sent=decision.maybe_sent,
    )
