"""The asyncio client: a configuration, an async transport and the core, bound together."""

from __future__ import annotations

import time
from collections.abc import Callable
from types import TracebackType

from pusher_core.builder import RequestBuilder
from pusher_core.config import Config
from pusher_core.messages import Request, Response
from pusher_core.results import (
    parse_batch_response,
    parse_channel_response,
    parse_channels_response,
    parse_empty_response,
    parse_json_response,
    parse_trigger_response,
    parse_users_response,
)
from pusher_core.retry import RetryPolicy
from pusher_transports._client_base import ClientBase
from pusher_transports._operations import async_operation
from pusher_transports.base import AsyncTransport

__all__ = ["AsyncClient"]


class AsyncClient(ClientBase):
    """Publishes events and queries channels over an asyncio transport.

    It has the methods, arguments, results and errors of `Client`, as coroutines. Use it
    with ``async with``, or await `close`, to release its connections. One client may
    serve many concurrent tasks on one event loop.

    Args:
        config: The app configuration.
        transport: The transport to send through. By default the client creates an
            `AiohttpTransport` (the ``aiohttp`` extra) and closes it on `close`; a
            transport passed in is never closed by the client.
        clock: Returns the time in seconds, for request timestamps.
        nonce_factory: Returns a fresh 24-byte nonce for each encrypted event.
        retry: The retry policy, or None (the default) to raise the first failure.

    Raises:
        ValidationError: `config` is not a `Config`, `retry` is not a `RetryPolicy` or
            None, or `transport` lacks callable ``send`` and ``close`` methods or is of
            the other kind, sync or async.

    Example:
        >>> client = AsyncClient(Config(app_id="1", key="key", secret="secret"))
        >>> client.builder.get_channel("my-channel").path
        '/apps/1/channels/my-channel'
    """

    _asynchronous = True
    transport: AsyncTransport

    def __init__(
        self,
        config: Config,
        transport: AsyncTransport | None = None,
        *,
        clock: Callable[[], float] = time.time,
        nonce_factory: Callable[[], bytes] | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        super().__init__(config, transport, clock=clock, nonce_factory=nonce_factory, retry=retry)

    def _default_transport(self) -> AsyncTransport:
        # Imported here so that the aiohttp extra is needed only by this default.
        from pusher_transports.aiohttp_transport import AiohttpTransport

        return AiohttpTransport()

    async def send(self, request: Request) -> Response:
        """Send a request built by `builder` and return the raw response.

        Raises:
            ClientClosedError: The client is closed.
        """
        self._check_open(request)
        return await self.transport.send(request)

    trigger = async_operation(RequestBuilder.trigger, parse_trigger_response)
    trigger_batch = async_operation(RequestBuilder.trigger_batch, parse_batch_response)
    send_to_user = async_operation(RequestBuilder.send_to_user, parse_trigger_response)
    terminate_user_connections = async_operation(
        RequestBuilder.terminate_user_connections, parse_empty_response
    )
    list_channels = async_operation(RequestBuilder.list_channels, parse_channels_response)
    get_channel = async_operation(RequestBuilder.get_channel, parse_channel_response)
    get_users = async_operation(RequestBuilder.get_users, parse_users_response)
    get = async_operation(RequestBuilder.get, parse_json_response)
    post = async_operation(RequestBuilder.post, parse_json_response)

    async def close(self) -> None:
        """Close the client, and its transport if the client created it.

        Sending through a closed client raises `ClientClosedError`. The pure operations,
        such as `authorize_channel`, still work. Closing again does nothing.
        """
        if self._closed:
            return
        self._closed = True
        if self._owns_transport:
            await self.transport.close()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()
