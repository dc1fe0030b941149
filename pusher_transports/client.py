"""The blocking client: a configuration, a transport and the core, bound together."""

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
from pusher_transports._operations import sync_operation
from pusher_transports.base import SyncTransport

__all__ = ["Client"]


class Client(ClientBase):
    """Publishes events and queries channels over a blocking transport.

    Use it as a context manager, or call `close`, to release its connections. It is safe
    to share between threads when its transport is (the default one is).

    Args:
        config: The app configuration.
        transport: The transport to send through. By default the client creates a
            `Urllib3Transport` and closes it on `close`; a transport passed in is never
            closed by the client.
        clock: Returns the time in seconds, for request timestamps.
        nonce_factory: Returns a fresh 24-byte nonce for each encrypted event.
        retry: The retry policy, or None (the default) to raise the first failure.

    Raises:
        ValidationError: `config` is not a `Config`, `retry` is not a `RetryPolicy` or
            None, or `transport` lacks callable ``send`` and ``close`` methods or is of
            the other kind, sync or async.

    Example:
        >>> client = Client(Config(app_id="1", key="key", secret="secret"))
        >>> client.builder.trigger("my-channel", "my-event", {"a": 1}).path
        '/apps/1/events'
        >>> client.close()
    """

    transport: SyncTransport

    def __init__(
        self,
        config: Config,
        transport: SyncTransport | None = None,
        *,
        clock: Callable[[], float] = time.time,
        nonce_factory: Callable[[], bytes] | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        super().__init__(config, transport, clock=clock, nonce_factory=nonce_factory, retry=retry)

    def _default_transport(self) -> SyncTransport:
        from pusher_transports.urllib3_transport import Urllib3Transport

        return Urllib3Transport()

    def send(self, request: Request) -> Response:
        """Send a request built by `builder` and return the raw response.

        Raises:
            ClientClosedError: The client is closed.
        """
        self._check_open(request)
        return self.transport.send(request)

    trigger = sync_operation(RequestBuilder.trigger, parse_trigger_response)
    trigger_batch = sync_operation(RequestBuilder.trigger_batch, parse_batch_response)
    send_to_user = sync_operation(RequestBuilder.send_to_user, parse_trigger_response)
    terminate_user_connections = sync_operation(
        RequestBuilder.terminate_user_connections, parse_empty_response
    )
    list_channels = sync_operation(RequestBuilder.list_channels, parse_channels_response)
    get_channel = sync_operation(RequestBuilder.get_channel, parse_channel_response)
    get_users = sync_operation(RequestBuilder.get_users, parse_users_response)
    get = sync_operation(RequestBuilder.get, parse_json_response)
    post = sync_operation(RequestBuilder.post, parse_json_response)

    def close(self) -> None:
        """Close the client, and its transport if the client created it.

        Sending through a closed client raises `ClientClosedError`. The pure operations,
        such as `authorize_channel`, still work. Closing again does nothing.
        """
        if self._closed:
            return
        self._closed = True
        if self._owns_transport:
            self.transport.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
