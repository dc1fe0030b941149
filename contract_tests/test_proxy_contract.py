"""Contract cases only a proxy transport has, run through a real tinyproxy on loopback.

The general cases run the proxy transports too, under the "proxy" tag. These cases
cover what only a proxy can do: require credentials, be unreachable, and report an
origin it cannot reach.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from contract_tests.harness import APP_SECRET, Subject, elapsed, request_for
from contract_tests.server import ContractServer, never_answer, refused_port, reply
from contract_tests.transports import TransportOptions
from pusher_core.errors import RequestTimeoutError
from pusher_core.messages import Request
from pusher_transports.base import AsyncTransport, SyncTransport
from pusher_transports.proxy import (
    AsyncProxyTransport,
    OriginUnreachableError,
    ProxyError,
    ProxyTransport,
)
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


def request_for_port(port: int) -> Request:
    """Return a GET for a loopback port that may have no listener."""
    return Request(
        method="GET",
        scheme="http",
        host="127.0.0.1",
        port=port,
        path="/apps/4242/channels",
        query=(),
        headers=(),
        body=b"",
        timeout=TIMEOUT,
    )


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


async def test_refused_origin_raises_origin_unreachable(subject: Subject) -> None:
    request = request_for_port(refused_port())

    _, error = await elapsed(lambda: subject.send(request))

    assert isinstance(error, OriginUnreachableError)
    assert error.maybe_sent is False
    assert "connection failed" in str(error)


@pytest.mark.parametrize(
    ("proxy_status", "expected"),
    [
        ("gateway; error=connection_refused", OriginUnreachableError),
        ('edge; error=dns_error; details="no such host"', OriginUnreachableError),
        ("gateway; error=http_response_timeout", None),
        ("gateway; received-status=502", None),
    ],
)
async def test_proxy_status_decides_origin_unreachable(
    kind: str, start_server: StartServer, proxy_status: str, expected: type | None
) -> None:
    # A loopback server acts as a proxy that responds to every absolute-form request itself.
    fake_proxy = start_server(reply(502, [("Proxy-Status", proxy_status)], b"bad gateway"))
    _, is_async = KINDS[kind]
    url = f"http://127.0.0.1:{fake_proxy.port}"
    transport = AsyncProxyTransport(url) if is_async else ProxyTransport(url)
    built = Subject(kind, lambda options: transport, is_async)
    try:
        _, error = await elapsed(lambda: built.send(request_for_port(refused_port())))
    finally:
        await built.close()

    assert fake_proxy.requests[0].target.startswith("http://127.0.0.1:")
    if expected is None:
        assert error is None
    else:
        assert isinstance(error, expected)
        assert "dns_error" in str(error) or "connection_refused" in str(error)
