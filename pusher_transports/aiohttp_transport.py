"""An asyncio transport on aiohttp, keeping connections alive between requests.

aiohttp is an optional extra: ``pip install "pusher-channels[aiohttp]"``.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import weakref
from types import TracebackType

import aiohttp
import yarl
from aiohttp.client_proto import ResponseHandler
from aiohttp.client_reqrep import ClientRequest
from aiohttp.connector import Connection
from aiohttp.tracing import Trace
from multidict import CIMultiDict, CIMultiDictProxy

from pusher_core.errors import (
    ConnectionFailedError,
    RequestTimeoutError,
    TransportError,
    ValidationError,
)
from pusher_core.messages import Headers, Request, Response, trusted_response
from pusher_transports._aiohttp_errors import strip_signed_query
from pusher_transports._tls import certificate_failure

__all__ = ["AiohttpTransport"]

logger = logging.getLogger("pusher.transport.aiohttp")

# Headers aiohttp adds unless they are listed in skip_auto_headers. The request carries
# everything the server needs. aiohttp still adds Host and Content-Length, which HTTP/1.1
# requires.
_SKIPPED_HEADERS = frozenset({"Accept", "Accept-Encoding", "User-Agent", "Content-Type"})


class AiohttpTransport:
    """Sends requests through a pooled `aiohttp.ClientSession`.

    ``request.timeout`` bounds the whole exchange: waiting for a free connection,
    connecting, sending and reading the complete response.

    Args:
        session: A session to use instead of the transport's own. The transport never
            closes a session it did not create. Connection steps are logged only for the
            transport's own session, because they are logged by its connector.
        limit: The maximum number of connections the transport's own session keeps open
            at once.
            Callers beyond it wait for a free connection within their timeout.
    """

    def __init__(self, *, session: aiohttp.ClientSession | None = None, limit: int = 100) -> None:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValidationError("limit", f"must be an int of at least 1, got {limit!r}")
        self._session = session
        self._owns_session = session is None
        self._limit = limit
        self._loop: asyncio.AbstractEventLoop | None = None

    async def send(self, request: Request) -> Response:
        """Send the request and return the complete response.

        Raises:
            RequestTimeoutError: No complete response within ``request.timeout`` seconds.
            ConnectionFailedError: The connection could not be opened, or broke.
        """
        session = self._get_session()
        logger.debug("sending request: %s %s", request.method, request.path)
        try:
            async with session.request(
                request.method,
                _url(request),
                data=request.body or None,
                headers=_header_mapping(request.headers),
                # The transport's own session skips them already, at no cost per request.
                skip_auto_headers=None if self._owns_session else _SKIPPED_HEADERS,
                allow_redirects=False,
                timeout=_client_timeout(request.timeout),
            ) as response:
                # NOTE: the body is read whole, with no size cap, as in the other adapters.
                body = await response.read()
                status, raw_headers = response.status, response.raw_headers
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            strip_signed_query(exc)
            raise _translate(exc, request) from exc
        logger.debug("response status: %s for %s %s", status, request.method, request.path)
        headers = tuple(
            [(name.decode("latin-1"), value.decode("latin-1")) for name, value in raw_headers]
        )
        return trusted_response(status, headers, body)

    async def close(self) -> None:
        """Close the session, if the transport created it, releasing every connection."""
        if not self._owns_session or self._session is None:
            return
        session, self._session = self._session, None
        await session.close()

    async def __aenter__(self) -> AiohttpTransport:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    def _get_session(self) -> aiohttp.ClientSession:
        """Return the session, creating the transport's own inside the running loop."""
        loop = asyncio.get_running_loop()
        if self._session is None:
            self._session = _new_session(self._limit)
            self._loop = loop
        elif self._owns_session and self._loop is not loop:
            raise RuntimeError(
                "AiohttpTransport is bound to the event loop that first used it; "
                "create one transport per event loop"
            )
        return self._session


def _url(request: Request) -> yarl.URL:
    # encoded=True: the target is already percent-escaped and signed as it is, so
    # aiohttp must not re-escape it. Building from parts skips parsing a URL string.
    return yarl.URL.build(
        scheme=request.scheme,
        host=request.host,
        port=request.port,
        path=request.path,
        query_string=request.query_string,
        encoded=True,
    )


@functools.lru_cache(maxsize=64)
def _header_mapping(headers: Headers) -> CIMultiDictProxy[str]:
    """Return the headers as aiohttp takes them, built once per header tuple.

    A builder reuses a few header tuples, and the proxy is read-only, so sharing it
    between requests is safe.
    """
    return CIMultiDictProxy(CIMultiDict(headers))


@functools.lru_cache(maxsize=64)
def _client_timeout(seconds: float) -> aiohttp.ClientTimeout:
    return aiohttp.ClientTimeout(total=seconds)


class _LoggingConnector(aiohttp.TCPConnector):
    """A `TCPConnector` that logs whether each request opened or reused a connection.

    It replaces an aiohttp `TraceConfig`, which costs several signal dispatches per
    request even when nothing is logged. The connections handed out while DEBUG logging
    was on are kept in a weak set, so a connection that closes leaves the set by itself.
    NOTE: a connection first handed out while DEBUG was off is logged as opened the
    first time it is used with DEBUG on.
    """

    def __init__(self, *, limit: int) -> None:
        super().__init__(limit=limit)
        self._seen: weakref.WeakSet[ResponseHandler] = weakref.WeakSet()

    async def connect(
        self, req: ClientRequest, traces: list[Trace], timeout: aiohttp.ClientTimeout
    ) -> Connection:
        connection = await super().connect(req, traces, timeout)
        if logger.isEnabledFor(logging.DEBUG):
            self._log_connection(connection.protocol, req.url)
        return connection

    def _log_connection(self, protocol: ResponseHandler | None, url: yarl.URL) -> None:
        if protocol in self._seen:
            logger.debug("connection reused: %s", _origin(url))
            return
        if protocol is not None:
            self._seen.add(protocol)
        logger.debug("connection opened: %s", _origin(url))


def _origin(url: yarl.URL) -> str:
    host = url.raw_host or ""
    # An IPv6 address is written in brackets, as in the request's host.
    if ":" in host:
        host = f"[{host}]"
    return f"{host}:{url.port}"


def _new_session(limit: int) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        connector=_LoggingConnector(limit=limit),
        # A cookie jar would add Cookie headers the request never asked for.
        cookie_jar=aiohttp.DummyCookieJar(),
        skip_auto_headers=_SKIPPED_HEADERS,
    )


def _translate(exc: BaseException, request: Request) -> TransportError:
    """Map an aiohttp failure to our error, keeping the signed query out of the message.

    aiohttp's own messages quote the full URL, so only the exception's type name is
    copied; the original stays reachable as ``__cause__``.
    """
    where = f"{request.method} {request.path}"
    # ConnectionTimeoutError covers waiting for a free connection and connecting, so
    # nothing was sent yet. It subclasses asyncio.TimeoutError, so it goes first.
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return RequestTimeoutError(
            f"{where}: no connection opened within {request.timeout} s", maybe_sent=False
        )
    if isinstance(exc, asyncio.TimeoutError):
        return RequestTimeoutError(f"{where}: timed out after {request.timeout} s")
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        reason = certificate_failure(exc.certificate_error) or "certificate rejected"
        return ConnectionFailedError(f"{where}: {reason}", maybe_sent=False)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return ConnectionFailedError(
            f"{where}: connection failed: {type(exc.os_error).__name__}", maybe_sent=False
        )
    if isinstance(exc, aiohttp.ClientPayloadError):
        return ConnectionFailedError(f"{where}: connection broke: incomplete response body")
    return ConnectionFailedError(f"{where}: connection broke: {type(exc).__name__}")
