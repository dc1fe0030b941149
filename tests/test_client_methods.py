"""The clients' methods and argument checks, their closed state, and transport sizes.

Both clients expose the same methods, the pure ones give the core's results, and a
closed client sends nothing.
"""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from pusher_core import (
    ClientClosedError,
    Config,
    PusherError,
    Request,
    Response,
    TransportError,
    ValidationError,
    authenticate_user,
    authorize_channel,
    sign_webhook,
)
from pusher_core.retry import RetryPolicy
from pusher_transports import (
    AsyncClient,
    AsyncProxyTransport,
    Client,
    KeepAlivePool,
    ProxyTransport,
    Urllib3Transport,
)

MASTER_KEY = "AP9/gMOp4pyT8J+Oif4BEICQoLDA0ODw/ty6mHZUMhA="
CONFIG = Config(app_id="1", key="key", secret="secret", encryption_master_key_base64=MASTER_KEY)


def public_methods(cls: type) -> set[str]:
    return {name for name, _ in inspect.getmembers(cls, callable) if not name.startswith("_")}


def test_clients_have_the_same_methods() -> None:
    sync_only = {"close"}
    assert public_methods(Client) - sync_only == public_methods(AsyncClient) - sync_only


@pytest.mark.parametrize("name", sorted(public_methods(Client) - {"close", "for_url", "from_env"}))
def test_signatures_match(name: str) -> None:
    assert inspect.signature(getattr(Client, name)) == inspect.signature(getattr(AsyncClient, name))


def test_pure_methods_match_core() -> None:
    with Client(CONFIG) as client:
        assert client.authorize_channel("1.2", "private-a") == authorize_channel(
            CONFIG, "1.2", "private-a"
        )
        user = {"id": "u1", "user_info": {"name": "Zoë"}}
        assert client.authenticate_user("1.2", user) == authenticate_user(CONFIG, "1.2", user)
        form = client.authorize_channel_form(b"socket_id=1.2&channel_name=private-a")
        assert form == authorize_channel(CONFIG, "1.2", "private-a")
        headers, body = sign_webhook(CONFIG, [{"name": "channel_occupied", "channel": "a"}], 1)
        assert client.webhook(headers, body).is_valid()
        sealed = client.builder.trigger("private-encrypted-a", "e", {"n": 1})
        assert sealed.body
        secret = client.channel_shared_secret("private-encrypted-a")
        assert client.authorize_channel("1.2", "private-encrypted-a")["shared_secret"] == secret


async def test_async_client_pure_methods() -> None:
    async with AsyncClient(CONFIG) as client:
        assert client.authorize_channel("1.2", "private-a") == authorize_channel(
            CONFIG, "1.2", "private-a"
        )
        assert repr(client) == "<AsyncClient app_id='1' transport=AiohttpTransport>"
        assert "secret" not in repr(client)


@pytest.mark.parametrize("client_class", [Client, AsyncClient])
def test_from_env_splits_keywords(
    client_class: type[Client] | type[AsyncClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PUSHER_URL", "http://key:secret@127.0.0.1:6001/apps/5")
    policy = RetryPolicy(max_attempts=2)

    client = client_class.from_env(retry=policy, clock=lambda: 7.9, timeout=2.5)

    assert client.retry is policy
    assert client.config.timeout == 2.5
    assert dict(client.builder.get("/channels").query)["auth_timestamp"] == "7"


@pytest.mark.parametrize("client_class", [Client, AsyncClient])
def test_for_url_unknown_keyword(client_class: type[Client] | type[AsyncClient]) -> None:
    # As for `Config` itself, an unknown keyword is a TypeError naming it.
    with pytest.raises(TypeError, match="colour"):
        client_class.for_url("http://key:secret@127.0.0.1/apps/5", colour="red")


class SyncTransport:
    """A blocking transport that records each request and returns 200 ``{}``."""

    def __init__(self) -> None:
        self.sent: list[Request] = []
        self.closes = 0

    def send(self, request: Request) -> Response:
        self.sent.append(request)
        return Response(200, (), b"{}")

    def close(self) -> None:
        self.closes += 1


class AsyncTransport:
    """The asyncio twin of `SyncTransport`."""

    def __init__(self) -> None:
        self.sent: list[Request] = []

    async def send(self, request: Request) -> Response:
        self.sent.append(request)
        return Response(200, (), b"{}")

    async def close(self) -> None:
        pass


class SendOnly:
    def send(self, request: Request) -> Response:
        raise AssertionError("never called")


class NotCallable:
    send = "send"
    close = "close"


@pytest.mark.parametrize("client_class", [Client, AsyncClient])
@pytest.mark.parametrize("config", ["x", None, {"app_id": "1", "key": "key", "secret": "s"}])
def test_client_rejects_non_config(
    client_class: type[Client] | type[AsyncClient], config: object
) -> None:
    with pytest.raises(ValidationError) as failure:
        client_class(config)  # type: ignore[arg-type]

    assert failure.value.field == "config"
    assert "must be a pusher_core Config" in str(failure.value)


@pytest.mark.parametrize("client_class", [Client, AsyncClient])
@pytest.mark.parametrize("retry", ["x", 3, RetryPolicy])
def test_client_rejects_non_policy_retry(
    client_class: type[Client] | type[AsyncClient], retry: object
) -> None:
    with pytest.raises(ValidationError) as failure:
        client_class(CONFIG, retry=retry)  # type: ignore[arg-type]

    assert failure.value.field == "retry"
    assert "must be a RetryPolicy or None" in str(failure.value)


@pytest.mark.parametrize("client_class", [Client, AsyncClient])
@pytest.mark.parametrize("transport", ["transport", object(), SendOnly(), NotCallable()])
def test_client_rejects_transport_without_methods(
    client_class: type[Client] | type[AsyncClient], transport: object
) -> None:
    with pytest.raises(ValidationError) as failure:
        client_class(CONFIG, transport)  # type: ignore[arg-type]

    assert failure.value.field == "transport"
    assert "must have callable send and close methods" in str(failure.value)


def test_client_rejects_async_transport() -> None:
    with pytest.raises(ValidationError) as failure:
        Client(CONFIG, AsyncTransport())  # type: ignore[arg-type]

    assert failure.value.field == "transport"
    assert "blocking transport (def send), got AsyncTransport; use it with AsyncClient" in str(
        failure.value
    )


def test_async_client_rejects_sync_transport() -> None:
    with pytest.raises(ValidationError) as failure:
        AsyncClient(CONFIG, SyncTransport())  # type: ignore[arg-type]

    assert failure.value.field == "transport"
    assert "asyncio transport (async def send), got SyncTransport; use it with Client" in str(
        failure.value
    )


def test_closed_client_sends_nothing() -> None:
    transport = SyncTransport()
    client = Client(CONFIG, transport)
    client.trigger("a", "e", "before")

    client.close()

    sending_calls = [
        lambda: client.trigger("a", "e", "after"),
        lambda: client.trigger_batch([{"channel": "a", "name": "e", "data": "x"}]),
        lambda: client.get_channel("a"),
        lambda: client.get("/channels"),
        lambda: client.send(client.builder.list_channels()),
    ]
    for call in sending_calls:
        with pytest.raises(ClientClosedError, match="the client is closed"):
            call()
    assert len(transport.sent) == 1
    assert client.closed


def test_closed_client_names_the_request() -> None:
    client = Client(CONFIG, SyncTransport())
    client.close()

    with pytest.raises(ClientClosedError) as failure:
        client.get_channel("my-channel")

    assert str(failure.value) == (
        "cannot send GET /apps/1/channels/my-channel: the client is closed, so create a new client"
    )
    assert not isinstance(failure.value, TransportError)
    assert isinstance(failure.value, PusherError)


def test_closed_client_is_never_retried() -> None:
    transport = SyncTransport()
    client = Client(CONFIG, transport, retry=RetryPolicy(max_attempts=5, backoff=0))
    client.close()

    with pytest.raises(ClientClosedError):
        client.get_channel("a")

    assert transport.sent == []


def test_with_block_closes_client() -> None:
    transport = SyncTransport()
    with Client(CONFIG, transport) as client:
        client.trigger("a", "e", "x")

    with pytest.raises(ClientClosedError):
        client.trigger("a", "e", "x")

    assert len(transport.sent) == 1
    # A transport passed in belongs to the caller, so the client leaves it open.
    assert transport.closes == 0


def test_closed_client_keeps_pure_methods() -> None:
    client = Client(CONFIG, SyncTransport())
    client.close()

    assert client.authorize_channel("1.2", "private-a") == authorize_channel(
        CONFIG, "1.2", "private-a"
    )
    assert client.builder.get_channel("a").path == "/apps/1/channels/a"
    assert client.create_signed_query_string("GET", "/apps/1/channels")


def test_close_twice_closes_own_transport_once(monkeypatch: pytest.MonkeyPatch) -> None:
    client = Client(CONFIG)
    closes: list[bool] = []
    monkeypatch.setattr(client.transport, "close", lambda: closes.append(True))

    client.close()
    client.close()

    assert closes == [True]


async def test_closed_async_client_sends_nothing() -> None:
    transport = AsyncTransport()
    async with AsyncClient(CONFIG, transport) as client:
        await client.trigger("a", "e", "before")

    with pytest.raises(ClientClosedError, match="cannot send POST /apps/1/events"):
        await client.trigger("a", "e", "after")
    with pytest.raises(ClientClosedError):
        await client.send(client.builder.list_channels())

    assert len(transport.sent) == 1
    assert client.closed
    assert client.authorize_channel("1.2", "private-a") == authorize_channel(
        CONFIG, "1.2", "private-a"
    )


SIZE_ARGUMENTS = [
    (lambda size: Urllib3Transport(maxsize=size), "maxsize"),
    (lambda size: ProxyTransport("http://127.0.0.1:3128", maxsize=size), "maxsize"),
    (lambda size: AsyncProxyTransport("http://127.0.0.1:3128", limit=size), "limit"),
    (lambda size: KeepAlivePool(max_connections=size), "max_connections"),
]


@pytest.mark.parametrize(("build", "field"), SIZE_ARGUMENTS)
@pytest.mark.parametrize("size", [0, -1, "3", 2.5, True, None])
def test_transport_size_rejected(build: Any, field: str, size: object) -> None:
    # Nothing is sent, so no proxy needs to listen at the address.
    with pytest.raises(ValidationError) as failure:
        build(size)

    assert failure.value.field == field
    assert repr(size) in str(failure.value) or type(size).__name__ in str(failure.value)


@pytest.mark.parametrize(("build", "field"), SIZE_ARGUMENTS)
def test_transport_size_one_accepted(build: Any, field: str) -> None:
    transport = build(1)

    assert transport is not None
