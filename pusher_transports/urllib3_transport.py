"""A blocking transport on urllib3, keeping connections alive between requests."""

from __future__ import annotations

import logging

import urllib3
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    NewConnectionError,
    ProtocolError,
)
from urllib3.exceptions import (
    TimeoutError as Urllib3TimeoutError,
)

from pusher_core.errors import ConnectionFailedError, RequestTimeoutError, TransportError
from pusher_core.messages import Request, Response

__all__ = ["Urllib3Transport"]

logger = logging.getLogger("pusher.transport.urllib3")


class Urllib3Transport:
    """Sends requests through a urllib3 `PoolManager`.

    Args:
        pool_manager: A pool manager to use instead of the transport's own. The transport
            never closes a pool manager it did not create.
        maxsize: Connections kept alive per host by the transport's own pool manager.
    """

    def __init__(
        self, *, pool_manager: urllib3.PoolManager | None = None, maxsize: int = 10
    ) -> None:
        self._owns_pool = pool_manager is None
        self._pool = pool_manager or urllib3.PoolManager(maxsize=maxsize, retries=False)

    def send(self, request: Request) -> Response:
        """Send the request and return the complete response."""
        logger.debug("request sent: %s %s", request.method, request.path)
        try:
            response = self._pool.request(
                request.method,
                request.url,
                body=request.body or None,
                headers=dict(request.headers),
                timeout=urllib3.Timeout(connect=request.timeout, read=request.timeout),
                retries=False,
                redirect=False,
                preload_content=True,
            )
        except (HTTPError, OSError) as exc:
            raise _translate(exc, request) from exc
        logger.debug("response status: %s for %s %s", response.status, request.method, request.path)
        return Response(
            status=response.status, headers=tuple(response.headers.items()), body=response.data
        )

    def close(self) -> None:
        """Close the pooled connections, if the transport created the pool."""
        if self._owns_pool:
            self._pool.clear()

    def __enter__(self) -> Urllib3Transport:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _translate(exc: HTTPError | OSError, request: Request) -> TransportError:
    """Map a urllib3 failure to our error, keeping the signed query out of the message."""
    where = f"{request.method} {request.path}"
    # NewConnectionError subclasses ConnectTimeoutError in urllib3 2.x, so it goes first.
    if isinstance(exc, NewConnectionError):
        return ConnectionFailedError(
            f"{where}: connection failed: {type(exc).__name__}", maybe_sent=False
        )
    if isinstance(exc, ConnectTimeoutError):
        return RequestTimeoutError(f"{where}: connecting timed out", maybe_sent=False)
    if isinstance(exc, Urllib3TimeoutError):
        return RequestTimeoutError(f"{where}: timed out after {request.timeout} s")
    if isinstance(exc, ProtocolError):
        return ConnectionFailedError(f"{where}: connection broke: {exc.args[0]}")
    return ConnectionFailedError(f"{where}: {type(exc).__name__}")
