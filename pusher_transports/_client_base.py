"""The base of the blocking and the asyncio clients: configuration and the pure operations.

Authorization, user sign-in, webhooks and decryption need no I/O, so both clients get
them from `ClientBase` as plain methods, written once.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar, TypeVar

from pusher_core import auth, encryption
from pusher_core.builder import RequestBuilder
from pusher_core.config import Config
from pusher_core.errors import ClientClosedError, ValidationError
from pusher_core.messages import Request
from pusher_core.retry import RetryPolicy
from pusher_core.signing import Params
from pusher_core.webhooks import CredentialsLike, Webhook

__all__ = ["ClientBase"]

_Client = TypeVar("_Client", bound="ClientBase")


# The keywords that `for_url` and `from_env` hand to the client; the rest configure it.
_CLIENT_OPTIONS = ("clock", "nonce_factory", "retry")


def split_options(options: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split ``for_url``/``from_env`` keywords into `Config` ones and client ones."""
    client = {name: options[name] for name in _CLIENT_OPTIONS if name in options}
    config = {name: value for name, value in options.items() if name not in client}
    return config, client


def check_transport(transport: object, *, asynchronous: bool) -> None:
    """Raise `ValidationError` unless the transport has the methods its client calls.

    The client never calls them before a request, so a wrong object would otherwise
    fail late, with an `AttributeError` or a `TypeError` from inside a call. A
    transport of the other kind, sync or async, is detected by whether its bound
    `send` is a coroutine function.
    """
    send = getattr(transport, "send", None)
    if not callable(send) or not callable(getattr(transport, "close", None)):
        raise ValidationError(
            "transport",
            f"must have callable send and close methods, got {type(transport).__name__}",
        )
    if inspect.iscoroutinefunction(send) != asynchronous:
        expected, client = (
            ("an asyncio transport (async def send)", "Client")
            if asynchronous
            else ("a blocking transport (def send)", "AsyncClient")
        )
        raise ValidationError(
            "transport",
            f"must be {expected}, got {type(transport).__name__}; use it with {client}",
        )


class ClientBase:
    """The configuration, the request builder, the retry policy and the pure operations."""

    # Whether the client awaits its transport, so that `check_transport` expects that kind.
    _asynchronous: ClassVar[bool] = False

    def __init__(
        self,
        config: Config,
        transport: Any = None,
        *,
        clock: Callable[[], float] = time.time,
        nonce_factory: Callable[[], bytes] | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        if not isinstance(config, Config):
            raise ValidationError(
                "config", f"must be a pusher_core Config, got {type(config).__name__}"
            )
        if retry is not None and not isinstance(retry, RetryPolicy):
            raise ValidationError(
                "retry", f"must be a RetryPolicy or None, got {type(retry).__name__}"
            )
        if transport is not None:
            check_transport(transport, asynchronous=self._asynchronous)
        self.config = config
        self.retry = retry
        self.builder = RequestBuilder(config, clock=clock, nonce_factory=nonce_factory)
        self._closed = False
        self._owns_transport = transport is None
        self.transport = self._default_transport() if transport is None else transport

    @classmethod
    def for_url(cls: type[_Client], url: str, transport: Any = None, **options: Any) -> _Client:
        """Build a client from ``http(s)://KEY:SECRET@HOST[:PORT]/apps/APP_ID``.

        The keywords ``clock``, ``nonce_factory`` and ``retry`` go to the client, and
        any other keyword to `Config.for_url`.
        """
        config_options, client_options = split_options(options)
        return cls(Config.for_url(url, **config_options), transport, **client_options)

    @classmethod
    def from_env(cls: type[_Client], transport: Any = None, **options: Any) -> _Client:
        """Build a client from the URL in the `PUSHER_URL` environment variable.

        The keywords are those of `for_url`.
        """
        config_options, client_options = split_options(options)
        return cls(Config.from_env(**config_options), transport, **client_options)

    def _default_transport(self) -> Any:
        """Return the transport the client creates, and closes, when none is given."""
        raise NotImplementedError

    @property
    def closed(self) -> bool:
        """Whether `close` was called. A closed client raises `ClientClosedError` on send."""
        return self._closed

    def _check_open(self, request: Request) -> None:
        if self._closed:
            raise ClientClosedError(
                f"cannot send {request.method} {request.path}: the client is closed, "
                "so create a new client"
            )

    def create_signed_query_string(
        self,
        method: str,
        path: str,
        body: str | bytes | None = None,
        params: Params | None = None,
    ) -> str:
        """Return a signed query string; see `RequestBuilder.create_signed_query_string`."""
        return self.builder.create_signed_query_string(method, path, body, params)

    def authorize_channel(
        self, socket_id: str, channel: str, channel_data: Mapping[str, Any] | None = None
    ) -> dict[str, str]:
        """Sign a subscription to a private, presence or encrypted channel.

        See `pusher_core.auth.authorize_channel`.
        """
        return auth.authorize_channel(self.config, socket_id, channel, channel_data)

    def authenticate_user(self, socket_id: str, user_data: Mapping[str, Any]) -> dict[str, str]:
        """Sign a connection's sign-in as a user; see `pusher_core.auth.authenticate_user`."""
        return auth.authenticate_user(self.config, socket_id, user_data)

    def authorize_channel_form(self, body: str | bytes, channel_data: Any = None) -> dict[str, str]:
        """Authorize the channel a pusher-js form body requests.

        See `pusher_core.auth.authorize_channel_form`.
        """
        return auth.authorize_channel_form(self.config, body, channel_data)

    def authenticate_user_form(self, body: str | bytes, user_data: Any) -> dict[str, str]:
        """Sign in the user a pusher-js form body names.

        See `pusher_core.auth.authenticate_user_form`.
        """
        return auth.authenticate_user_form(self.config, body, user_data)

    def webhook(
        self,
        headers: Mapping[str, Any] | Iterable[tuple[Any, Any]],
        body: bytes | str,
        *,
        extra_credentials: Iterable[CredentialsLike] = (),
        max_age: float | None = None,
    ) -> Webhook:
        """Check a received webhook; see `pusher_core.webhooks.Webhook`."""
        return Webhook(
            self.config, headers, body, extra_credentials=extra_credentials, max_age=max_age
        )

    def channel_shared_secret(self, channel: str) -> str:
        """Return the base64 key of a ``private-encrypted-`` channel."""
        return encryption.shared_secret(self.config, channel)

    def decrypt(self, channel: str, data: str | bytes) -> Any:
        """Decrypt an encrypted event's data; see `pusher_core.encryption.decrypt`."""
        return encryption.decrypt(self.config, channel, data)

    def __repr__(self) -> str:
        transport = type(getattr(self, "transport", None)).__name__
        return f"<{type(self).__name__} app_id={self.config.app_id!r} transport={transport}>"
