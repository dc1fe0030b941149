"""Through a proxy or around it, a certificate that fails the check gets nothing.

contract_tests/test_tls.py checks the direct adapters. The proxies in the contract
registry may not open tunnels. So the proxy adapters are checked here: through a
tinyproxy that may tunnel to the origin, and on their direct path.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from pusher_core import Config, RequestBuilder
from pusher_core.errors import ConnectionFailedError, TransportError
from pusher_core.messages import Request
from pusher_transports.proxy import AsyncProxyTransport, ProxyTransport
from tests.support.tinyproxy import TinyProxy, TLSServer, run_tinyproxy, run_tls_server

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy")


@pytest.fixture
def untrusted_origin() -> Iterator[TLSServer]:
    # Its certificate is self-signed, so the default check rejects it.
    with run_tls_server() as server:
        yield server


@pytest.fixture
def tunnel_proxy(untrusted_origin: TLSServer) -> Iterator[TinyProxy]:
    with run_tinyproxy(connect_ports=(untrusted_origin.port,)) as proxy:
        yield proxy


@pytest.fixture
def no_proxy_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    # With no proxy variables, from_env sends every request direct.
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def request_to(server: TLSServer) -> Request:
    config = Config(app_id="1", key="key", secret="tls-secret", host="127.0.0.1", port=server.port)
    return RequestBuilder(config).trigger("my-channel", "my-event", {"a": 1})


def check_certificate_rejected(error: TransportError, server: TLSServer) -> None:
    # The handshake failed, so the request was never sent and a retry cannot duplicate it.
    assert isinstance(error, ConnectionFailedError)
    assert error.maybe_sent is False
    assert "certificate verification failed" in str(error)
    assert server.requests == []


def send_sync(transport: ProxyTransport, request: Request) -> TransportError:
    with transport, pytest.raises(TransportError) as failure:
        transport.send(request)
    return failure.value


def send_async(transport: AsyncProxyTransport, request: Request) -> TransportError:
    async def send() -> None:
        async with transport:
            await transport.send(request)

    with pytest.raises(TransportError) as failure:
        asyncio.run(send())
    return failure.value


def test_sync_proxy_tunnel(untrusted_origin: TLSServer, tunnel_proxy: TinyProxy) -> None:
    error = send_sync(ProxyTransport(tunnel_proxy.url()), request_to(untrusted_origin))

    check_certificate_rejected(error, untrusted_origin)


@pytest.mark.usefixtures("no_proxy_variables")
def test_sync_proxy_direct_path(untrusted_origin: TLSServer) -> None:
    error = send_sync(ProxyTransport.from_env(), request_to(untrusted_origin))

    check_certificate_rejected(error, untrusted_origin)


def test_async_proxy_tunnel(untrusted_origin: TLSServer, tunnel_proxy: TinyProxy) -> None:
    error = send_async(AsyncProxyTransport(tunnel_proxy.url()), request_to(untrusted_origin))

    check_certificate_rejected(error, untrusted_origin)


@pytest.mark.usefixtures("no_proxy_variables")
def test_async_proxy_direct_path(untrusted_origin: TLSServer) -> None:
    error = send_async(AsyncProxyTransport.from_env(), request_to(untrusted_origin))

    check_certificate_rejected(error, untrusted_origin)
