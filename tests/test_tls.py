"""A server whose certificate fails verification receives nothing, and each adapter reports why."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from pusher_core import Config, RequestBuilder
from pusher_core.errors import ConnectionFailedError
from pusher_core.messages import Request
from pusher_transports import AiohttpTransport, KeepAlivePool, Urllib3Transport
from tests.support.tinyproxy import TLSServer, run_tls_server


@pytest.fixture
def untrusted_origin() -> Iterator[TLSServer]:
    # Its certificate is self-signed, so default verification rejects it.
    with run_tls_server() as server:
        yield server


def request_to(server: TLSServer) -> Request:
    config = Config(app_id="1", key="key", secret="tls-secret", host="127.0.0.1", port=server.port)
    return RequestBuilder(config).trigger("my-channel", "my-event", {"a": 1})


def check_refused(error: ConnectionFailedError, server: TLSServer) -> None:
    # The handshake failed, so the request was never sent and a retry cannot duplicate it.
    assert error.maybe_sent is False
    assert "certificate" in str(error)
    assert "auth_signature" not in str(error)
    assert server.requests == []


@pytest.mark.parametrize("make_transport", [Urllib3Transport, KeepAlivePool])
def test_sync_transport_refuses_untrusted_certificate(
    make_transport: type[Urllib3Transport] | type[KeepAlivePool], untrusted_origin: TLSServer
) -> None:
    with make_transport() as transport, pytest.raises(ConnectionFailedError) as failure:
        transport.send(request_to(untrusted_origin))

    check_refused(failure.value, untrusted_origin)


def test_aiohttp_transport_refuses_untrusted_certificate(untrusted_origin: TLSServer) -> None:
    async def send() -> None:
        async with AiohttpTransport() as transport:
            await transport.send(request_to(untrusted_origin))

    with pytest.raises(ConnectionFailedError) as failure:
        asyncio.run(send())

    check_refused(failure.value, untrusted_origin)
