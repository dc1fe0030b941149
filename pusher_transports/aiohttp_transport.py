"""An asyncio transport on aiohttp, keeping connections alive between requests.

aiohttp is an optional extra: ``pip install "pusher-channels[aiohttp]"``.
"""

from __future__ import annotations

import asyncio
import logging
from types import SimpleNamespace, TracebackType

import aiohttp
import yarl

from pusher_core.errors import (
    ConnectionFailedError,
    RequestTimeoutError,
    TransportError,
    ValidationError,
)
from pusher_core.messages import Request, Response

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
            transport's own session, because aiohttp takes trace hooks when a session is
            created.
        limit: The maximum number of connections the transport's own session keeps open
            at once.
            Callers beyond it wait for a free connection within their timeout.
    """

    def __init__(self, *, session: aiohttp.ClientSession | None = None, limit: int = 100) -> None:
        if limit < 1:
            raise ValidationError("limit", f"must be at least 1, got {limit}")
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
            response = await self._exchange(session, request)
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            raise _translate(exc, request) from exc
        logger.debug("response status: %s for %s %s", response.status, request.method, request.path)
        return response

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

    @staticmethod
    async def _exchange(session: aiohttp.ClientSession, request: Request) -> Response:
        # encoded=True: the target is already percent-escaped and signed as it is, so
        # aiohttp must not re-escape it.
        async with session.request(
            request.method,
            yarl.URL(request.url, encoded=True),
            data=request.body or None,
            headers=list(request.headers),
            skip_auto_headers=_SKIPPED_HEADERS,
            allow_redirects=False,
            timeout=aiohttp.ClientTimeout(total=request.timeout),
            trace_request_ctx=SimpleNamespace(origin=f"{request.host}:{request.port}"),
        ) as response:
            body = await response.read()
            headers = tuple(
                (name.decode("latin-1"), value.decode("latin-1"))
                for name, value in response.raw_headers
            )
            return Response(status=response.status, headers=headers, body=body)


def _new_session(limit: int) -> aiohttp.ClientSession:
    tracing = aiohttp.TraceConfig()
    tracing.on_connection_create_end.append(_log_connection_opened)
    tracing.on_connection_reuseconn.append(_log_connection_reused)
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=limit),
        # A cookie jar would add Cookie headers the request never asked for.
        cookie_jar=aiohttp.DummyCookieJar(),
        trace_configs=[tracing],
    )


async def _log_connection_opened(
    session: aiohttp.ClientSession, context: SimpleNamespace, params: object
) -> None:
    logger.debug("connection opened: %s", context.trace_request_ctx.origin)


async def _log_connection_reused(
    session: aiohttp.ClientSession, context: SimpleNamespace, params: object
) -> None:
    logger.debug("connection reused: %s", context.trace_request_ctx.origin)


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
    if isinstance(exc, aiohttp.ClientConnectorError):
        return ConnectionFailedError(
            f"{where}: connection failed: {type(exc.os_error).__name__}", maybe_sent=False
        )
    if isinstance(exc, aiohttp.ClientPayloadError):
        return ConnectionFailedError(f"{where}: connection broke: incomplete response body")
    return ConnectionFailedError(f"{where}: connection broke: {type(exc).__name__}")
