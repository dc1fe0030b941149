"""The ports a transport implements: one `send` method, sync or async, and `close`.

A transport moves a `Request` over the wire and returns the `Response` unchanged. It
does not follow redirects, does not retry on its own, and reports failures as
`RequestTimeoutError` or `ConnectionFailedError`, chained from the HTTP library's own
exception with ``raise ... from``. Everything else (signing, status handling, parsing)
stays in `pusher_core`, so a new adapter is a few dozen lines.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from pusher_core.messages import Request, Response

__all__ = ["AsyncTransport", "SyncTransport"]


@runtime_checkable
class SyncTransport(Protocol):
    """A blocking transport."""

    def send(self, request: Request) -> Response:
        """Send the request and return the complete response.

        Raises:
            RequestTimeoutError: No complete response within ``request.timeout`` seconds.
            ConnectionFailedError: The connection failed or broke.
        """
        ...

    def close(self) -> None:
        """Release every connection the transport owns."""
        ...


@runtime_checkable
class AsyncTransport(Protocol):
    """An asyncio transport."""

    async def send(self, request: Request) -> Response:
        """Send the request and return the complete response, as `SyncTransport.send`."""
        ...

    async def close(self) -> None:
        """Release every connection the transport owns."""
        ...
