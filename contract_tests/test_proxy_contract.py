"""Contract cases for the proxy transports, run through a real tinyproxy on loopback.

The proxy transports are not in the main registry: tinyproxy 1.11 changes what the
general cases check byte for byte (it adds a ``Via`` header, keeps one of two response
headers with the same name, and returns 500 when the origin refuses the connection).
These cases pin what a proxy transport promises instead.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from contract_tests.harness import APP_SECRET, Subject, elapsed, request_for
from contract_tests.server import ContractServer, never_answer
from contract_tests.transports import TransportOptions
from pusher_core.errors import RequestTimeoutError
from pusher_transports.base import AsyncTransport, SyncTransport
from pusher_transports.proxy import AsyncProxyTransport, ProxyError, ProxyTransport
from tests.support.soketi import free_port
from tests.support.tinyproxy import run_tinyproxy

StartServer = Callable[..., ContractServer]

PASSWORD = "contract-proxy-password"
TIMEOUT = 1.0
MARGIN = 2.0


def _proxy_url(options: TransportOptions, user: str | None) -> str:
    proxy = options.cleanups.enter_context(run_tinyproxy(credentials=("alice", PASSWORD)))
    return proxy.url(user, PASSWORD if user else None)


def _sync(user: str | None) -> Callable[[TransportOptions], SyncTransport]:
    def build(options: TransportOptions) -> SyncTransport:
        return ProxyTransport(_proxy_url(options, user), maxsize=options.max_connections)

    return build


def _async(user: str | None) -> Callable[[TransportOptions], AsyncTransport]:
    def build(options: TransportOptions) -> AsyncTransport:
        return AsyncProxyTransport(_proxy_url(options, user), limit=options.max_connections)

    return build


KINDS = {"proxy-urllib3": (_sync, False), "proxy-aiohttp": (_async, True)}


@pytest.fixture(params=sorted(KINDS))
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def subject(kind: str) -> AsyncIterator[Subject]:
    """A proxy transport with the right credentials for its tinyproxy."""
    factory, is_async = KINDS[kind]
    built = Subject(kind, factory("alice"), is_async)
    yield built
    await built.close()


@pytest.fixture
async def anonymous(kind: str) -> AsyncIterator[Subject]:
    """A proxy transport without credentials, for a tinyproxy that requires them."""
    factory, is_async = KINDS[kind]
    built = Subject(kind, factory(None), is_async)
    yield built
    await built.close()


async def test_target_and_body_pass_proxy_intact(
    subject: Subject, start_server: StartServer
) -> None:
    server = start_server()
    body = '{"name":"caf\u00e9","data":"a & b"}'.encode()
    request = request_for(
        server,
        method="POST",
        path="/apps/4242/events",
        query=(("auth_signature", "abc123"), ("filter", "a b&c=d/\u20ac~")),
        headers=(("Content-Type", "application/json"),),
        body=body,
    )

    response = await subject.send(request)

    recorded = server.requests[0]
    assert response.status == 200
    assert recorded.request_line == f"POST {request.target} HTTP/1.1"
    assert recorded.body == body
    assert recorded.header("Proxy-Authorization") is None


async def test_missing_credentials_raise_proxy_error(
    anonymous: Subject, start_server: StartServer
) -> None:
    server = start_server()

    seconds, error = await elapsed(lambda: anonymous.send(request_for(server)))

    assert isinstance(error, ProxyError)
    assert error.maybe_sent is False
    assert "407" in str(error)
    assert server.requests == []
    assert seconds < TIMEOUT + MARGIN


async def test_unreachable_proxy_raises_proxy_error(kind: str, start_server: StartServer) -> None:
    server = start_server()
    url = f"http://alice:{PASSWORD}@127.0.0.1:{free_port()}"
    transport: SyncTransport | AsyncTransport
    _, is_async = KINDS[kind]
    transport = AsyncProxyTransport(url) if is_async else ProxyTransport(url)
    built = Subject(kind, lambda options: transport, is_async)
    try:
        _, error = await elapsed(lambda: built.send(request_for(server)))
    finally:
        await built.close()

    assert isinstance(error, ProxyError)
    assert error.maybe_sent is False
    assert PASSWORD not in str(error)


async def test_silent_origin_times_out_through_proxy(
    subject: Subject, start_server: StartServer
) -> None:
    server = start_server(never_answer())

    seconds, error = await elapsed(lambda: subject.send(request_for(server, timeout=TIMEOUT)))

    assert isinstance(error, RequestTimeoutError)
    assert seconds < TIMEOUT + MARGIN


async def test_errors_leave_out_secrets(anonymous: Subject, start_server: StartServer) -> None:
    server = start_server()
    request = request_for(server, query=(("auth_signature", APP_SECRET),))

    _, error = await elapsed(lambda: anonymous.send(request))

    assert error is not None
    assert APP_SECRET not in str(error)
    assert PASSWORD not in str(error)
