"""Tests of the proxy transports: URL parsing and routing, then real traffic through tinyproxy."""

from __future__ import annotations

import logging
import ssl
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from pusher_core import Config
from pusher_core.errors import ConfigurationError, ConnectionFailedError
from pusher_core.messages import Request
from pusher_transports.async_client import AsyncClient
from pusher_transports.client import Client
from pusher_transports.proxy import (
    AsyncProxyTransport,
    ProxyError,
    ProxyRoutes,
    ProxyTransport,
    ProxyURL,
)
from tests.support.http_server import LoopbackHTTPServer
from tests.support.peers import SoketiServer, free_port
from tests.support.tinyproxy import TinyProxy, TLSServer, run_tinyproxy, run_tls_server

PASSWORD = "hunter2-proxy-password"
SIGNATURE = "SIGNATURE-NEVER-SHOWN"
PROXY_VARIABLES = ("http_proxy", "https_proxy", "no_proxy", "all_proxy")


def make_request(scheme: str, port: int, **changes: Any) -> Request:
    fields: dict[str, Any] = {
        "method": "POST",
        "scheme": scheme,
        "host": "127.0.0.1",
        "port": port,
        "path": "/apps/1/events",
        "query": (("auth_signature", SIGNATURE), ("name", "a b&c/ü")),
        "headers": (("Content-Type", "application/json"),),
        "body": b'{"name":"e"}',
        "timeout": 5.0,
    }
    fields.update(changes)
    return Request(**fields)


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    return monkeypatch


@pytest.fixture
def tls_origin() -> Iterator[TLSServer]:
    with run_tls_server() as server:
        yield server


@pytest.fixture
def tls_context(tls_origin: TLSServer) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(tls_origin.certificate))


@pytest.fixture
def origin(http_server: Callable[..., LoopbackHTTPServer]) -> LoopbackHTTPServer:
    return http_server()


@pytest.fixture
def proxy(tls_origin: TLSServer) -> Iterator[TinyProxy]:
    with run_tinyproxy(connect_ports=(tls_origin.port,)) as running:
        yield running


@pytest.fixture
def auth_proxy(tls_origin: TLSServer) -> Iterator[TinyProxy]:
    with run_tinyproxy(
        credentials=("alice", PASSWORD), connect_ports=(tls_origin.port,)
    ) as running:
        yield running


# --- Parsing and routing, without sockets -------------------------------------------------


def test_proxy_url_parses_credentials() -> None:
    proxy = ProxyURL.parse("http://al%40ice:p%3Ass@127.0.0.1:3128")

    assert proxy.host == "127.0.0.1"
    assert proxy.port == 3128
    assert proxy.username == "al@ice"
    assert proxy.password == "p:ss"
    assert proxy.address == "http://127.0.0.1:3128"
    assert proxy.authorization == "Basic YWxAaWNlOnA6c3M="


def test_proxy_url_defaults_port_80() -> None:
    proxy = ProxyURL.parse("http://proxy.internal")

    assert proxy.port == 80
    assert proxy.authorization is None


def test_proxy_url_keeps_ipv6_brackets() -> None:
    proxy = ProxyURL.parse("http://[::1]:3128")

    assert proxy.address == "http://[::1]:3128"


@pytest.mark.parametrize(
    "url",
    [
        f"https://alice:{PASSWORD}@127.0.0.1:3128",
        f"socks5://alice:{PASSWORD}@127.0.0.1:1080",
        f"http://alice:{PASSWORD}@127.0.0.1:port",
        f"http://alice:{PASSWORD}@127.0.0.1:70000",
        f"http://alice:{PASSWORD}@",
        f"http://alice:{PASSWORD}@127.0.0.1:3128/path",
        f"http://alice:{PASSWORD}@127.0.0.1:3128?query=1",
        f"http://:{PASSWORD}@127.0.0.1:3128",
        f"alice:{PASSWORD}@127.0.0.1:3128",
        "",
    ],
)
def test_malformed_proxy_url_rejected(url: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        ProxyTransport(url)

    assert caught.value.field == "proxy_url"
    assert "proxy_url" in str(caught.value)
    assert PASSWORD not in str(caught.value)
    assert caught.value.__cause__ is None


def test_reprs_leave_out_password() -> None:
    url = f"http://alice:{PASSWORD}@127.0.0.1:3128"
    transport = ProxyTransport(url)
    async_transport = AsyncProxyTransport(url)

    texts = [
        repr(ProxyURL.parse(url)),
        repr(transport),
        repr(async_transport),
        repr(transport.routes),
    ]
    transport.close()

    for text in texts:
        assert PASSWORD not in text
    assert texts[1] == "<ProxyTransport proxies=http://127.0.0.1:3128>"


def test_routes_from_env(clean_environment: pytest.MonkeyPatch) -> None:
    clean_environment.setenv("http_proxy", "http://127.0.0.1:3128")
    clean_environment.setenv("https_proxy", "http://127.0.0.1:3129")
    clean_environment.setenv("no_proxy", "localhost,.internal,10.0.0.1:8080")

    routes = ProxyRoutes.from_env()

    assert routes.proxy_for(make_request("http", 80)) == ProxyURL("127.0.0.1", 3128)
    assert routes.proxy_for(make_request("https", 443)) == ProxyURL("127.0.0.1", 3129)
    assert routes.proxy_for(make_request("http", 80, host="localhost")) is None
    assert routes.proxy_for(make_request("https", 443, host="api.internal")) is None
    assert routes.proxy_for(make_request("http", 8080, host="10.0.0.1")) is None
    assert routes.proxy_for(make_request("http", 8081, host="10.0.0.1")) is not None


def test_routes_no_proxy_star(clean_environment: pytest.MonkeyPatch) -> None:
    clean_environment.setenv("https_proxy", "http://127.0.0.1:3129")
    clean_environment.setenv("no_proxy", "*")

    routes = ProxyRoutes.from_env()

    assert routes.proxy_for(make_request("https", 443)) is None


def test_routes_scheme_without_proxy_goes_direct(clean_environment: pytest.MonkeyPatch) -> None:
    clean_environment.setenv("https_proxy", "http://127.0.0.1:3129")

    routes = ProxyRoutes.from_env()

    assert routes.proxy_for(make_request("http", 80)) is None
    assert routes.proxy_for(make_request("https", 443)) is not None


def test_routes_from_env_rejects_malformed(clean_environment: pytest.MonkeyPatch) -> None:
    clean_environment.setenv("https_proxy", f"http://alice:{PASSWORD}@127.0.0.1:bad")

    with pytest.raises(ConfigurationError) as caught:
        ProxyTransport.from_env()

    assert caught.value.field == "https_proxy"
    assert PASSWORD not in str(caught.value)


# --- Sync transport through tinyproxy ------------------------------------------------------


def test_sync_http_target_uses_absolute_form(proxy: TinyProxy, origin: LoopbackHTTPServer) -> None:
    request = make_request("http", origin.port)
    with ProxyTransport(proxy.url()) as transport:
        response = transport.send(request)

    assert response.status == 200
    received = origin.requests[0]
    assert received.path == request.target
    assert received.body == request.body
    assert f"POST {request.url} HTTP/1.1" in proxy.request_lines()


def test_sync_https_target_uses_tunnel(
    proxy: TinyProxy, tls_origin: TLSServer, tls_context: ssl.SSLContext
) -> None:
    request = make_request("https", tls_origin.port)
    with ProxyTransport(proxy.url(), ssl_context=tls_context) as transport:
        response = transport.send(request)

    assert response.status == 200
    assert tls_origin.requests[0].path == request.target
    assert tls_origin.requests[0].body == request.body
    lines = proxy.request_lines()
    assert len(lines) == 1
    assert lines[0].startswith(f"CONNECT 127.0.0.1:{tls_origin.port} ")


def test_sync_sends_credentials(
    auth_proxy: TinyProxy,
    origin: LoopbackHTTPServer,
    tls_origin: TLSServer,
    tls_context: ssl.SSLContext,
) -> None:
    with ProxyTransport(auth_proxy.authorized_url, ssl_context=tls_context) as transport:
        plain = transport.send(make_request("http", origin.port))
        tunnelled = transport.send(make_request("https", tls_origin.port))

    assert plain.status == 200
    assert tunnelled.status == 200
    # The origin behind the tunnel must never see the proxy credentials.
    assert tls_origin.requests[0].headers == [
        (name, value)
        for name, value in tls_origin.requests[0].headers
        if name.lower() != "proxy-authorization"
    ]


def test_sync_407_on_tunnel_is_proxy_error(
    auth_proxy: TinyProxy, tls_origin: TLSServer, tls_context: ssl.SSLContext
) -> None:
    with (
        ProxyTransport(auth_proxy.url(), ssl_context=tls_context) as transport,
        pytest.raises(ProxyError) as caught,
    ):
        transport.send(make_request("https", tls_origin.port))

    assert caught.value.maybe_sent is False
    assert "407" in str(caught.value)
    assert "user:password@" in str(caught.value)
    assert isinstance(caught.value.__cause__, Exception)
    assert tls_origin.requests == []


def test_sync_407_on_absolute_form_is_proxy_error(
    auth_proxy: TinyProxy, origin: LoopbackHTTPServer
) -> None:
    # Without a body tinyproxy closes cleanly, so its 407 always arrives.
    request = make_request("http", origin.port, method="GET", body=b"", headers=())
    with ProxyTransport(auth_proxy.url()) as transport, pytest.raises(ProxyError) as caught:
        transport.send(request)

    assert "407" in str(caught.value)
    assert origin.requests == []


def test_sync_wrong_password_is_proxy_error(
    auth_proxy: TinyProxy, tls_origin: TLSServer, tls_context: ssl.SSLContext
) -> None:
    url = auth_proxy.url("alice", "wrong-password")
    with (
        ProxyTransport(url, ssl_context=tls_context) as transport,
        pytest.raises(ProxyError) as caught,
    ):
        transport.send(make_request("https", tls_origin.port))

    assert "check the user and password" in str(caught.value)
    assert "wrong-password" not in str(caught.value)


def test_sync_refused_connect_is_proxy_error(
    tls_context: ssl.SSLContext, origin: LoopbackHTTPServer
) -> None:
    with (
        run_tinyproxy(connect_ports=(free_port(),)) as refusing,
        ProxyTransport(refusing.url(), ssl_context=tls_context) as transport,
        pytest.raises(ProxyError) as caught,
    ):
        transport.send(make_request("https", origin.port))

    assert "rejected the tunnel: 403" in str(caught.value)
    assert caught.value.maybe_sent is False


def test_sync_unreachable_proxy_is_proxy_error(origin: LoopbackHTTPServer) -> None:
    with ProxyTransport(f"http://127.0.0.1:{free_port()}") as transport:
        for scheme in ("http", "https"):
            with pytest.raises(ProxyError) as caught:
                transport.send(make_request(scheme, origin.port))
            assert "could not connect to proxy" in str(caught.value)
            assert caught.value.maybe_sent is False


def test_sync_from_env_bypasses_no_proxy(
    clean_environment: pytest.MonkeyPatch, proxy: TinyProxy, origin: LoopbackHTTPServer
) -> None:
    clean_environment.setenv("http_proxy", proxy.url())
    clean_environment.setenv("no_proxy", "127.0.0.1")
    with ProxyTransport.from_env() as transport:
        response = transport.send(make_request("http", origin.port))

    assert response.status == 200
    assert len(origin.requests) == 1
    assert proxy.request_lines() == []


def test_sync_from_env_uses_proxy(
    clean_environment: pytest.MonkeyPatch, proxy: TinyProxy, origin: LoopbackHTTPServer
) -> None:
    clean_environment.setenv("HTTP_PROXY", proxy.url())
    with ProxyTransport.from_env() as transport:
        transport.send(make_request("http", origin.port))

    assert len(proxy.request_lines()) == 1


def test_sync_logs_leave_out_secrets(
    caplog: pytest.LogCaptureFixture, auth_proxy: TinyProxy, origin: LoopbackHTTPServer
) -> None:
    caplog.set_level(logging.DEBUG, logger="pusher.transport")
    with ProxyTransport(auth_proxy.authorized_url) as transport:
        transport.send(make_request("http", origin.port))

    assert "sending request via" in caplog.text
    assert PASSWORD not in caplog.text
    assert SIGNATURE not in caplog.text


# --- Async transport through tinyproxy -----------------------------------------------------


async def test_async_both_targets_through_proxy(
    auth_proxy: TinyProxy,
    origin: LoopbackHTTPServer,
    tls_origin: TLSServer,
    tls_context: ssl.SSLContext,
) -> None:
    plain_request = make_request("http", origin.port)
    async with AsyncProxyTransport(auth_proxy.authorized_url, ssl_context=tls_context) as transport:
        plain = await transport.send(plain_request)
        tunnelled = await transport.send(make_request("https", tls_origin.port))

    assert plain.status == 200
    assert tunnelled.status == 200
    assert origin.requests[0].path == plain_request.target
    assert tls_origin.requests[0].path == plain_request.target
    assert all(name.lower() != "proxy-authorization" for name, _ in tls_origin.requests[0].headers)
    lines = auth_proxy.request_lines()
    assert f"POST {plain_request.url} HTTP/1.1" in lines
    assert any(line.startswith(f"CONNECT 127.0.0.1:{tls_origin.port} ") for line in lines)


@pytest.mark.parametrize("scheme", ["http", "https"])
async def test_async_407_is_proxy_error(
    scheme: str,
    auth_proxy: TinyProxy,
    origin: LoopbackHTTPServer,
    tls_origin: TLSServer,
    tls_context: ssl.SSLContext,
) -> None:
    port = origin.port if scheme == "http" else tls_origin.port
    async with AsyncProxyTransport(auth_proxy.url(), ssl_context=tls_context) as transport:
        with pytest.raises(ProxyError) as caught:
            await transport.send(make_request(scheme, port))

    assert "407" in str(caught.value)
    assert caught.value.maybe_sent is False
    assert SIGNATURE not in str(caught.value)


async def test_async_refused_and_unreachable_proxy(
    tls_context: ssl.SSLContext, origin: LoopbackHTTPServer
) -> None:
    with run_tinyproxy(connect_ports=(free_port(),)) as refusing:
        async with AsyncProxyTransport(refusing.url(), ssl_context=tls_context) as transport:
            with pytest.raises(ProxyError) as refused:
                await transport.send(make_request("https", origin.port))
    async with AsyncProxyTransport(f"http://127.0.0.1:{free_port()}") as transport:
        with pytest.raises(ProxyError) as unreachable:
            await transport.send(make_request("http", origin.port))

    assert "403" in str(refused.value)
    assert "could not connect to proxy" in str(unreachable.value)


async def test_async_from_env_bypasses_no_proxy(
    clean_environment: pytest.MonkeyPatch, proxy: TinyProxy, origin: LoopbackHTTPServer
) -> None:
    clean_environment.setenv("http_proxy", proxy.url())
    clean_environment.setenv("no_proxy", f"127.0.0.1:{origin.port}")
    async with AsyncProxyTransport.from_env() as transport:
        response = await transport.send(make_request("http", origin.port))

    assert response.status == 200
    assert proxy.request_lines() == []


# --- End to end: soketi behind tinyproxy --------------------------------------------------


@pytest.mark.e2e
def test_trigger_through_proxy_accepted(soketi: SoketiServer) -> None:
    with run_tinyproxy(credentials=("alice", PASSWORD)) as running:
        transport = ProxyTransport(running.authorized_url)
        with Client(Config.for_url(soketi.url), transport) as client:
            client.trigger("proxied-channel", "my-event", {"a": 1})
        transport.close()

        lines = running.request_lines()

    assert any(
        line.startswith(f"POST {soketi.base_url}/apps/{soketi.app_id}/events?") for line in lines
    )


@pytest.mark.e2e
async def test_async_trigger_through_proxy_accepted(soketi: SoketiServer) -> None:
    with run_tinyproxy(credentials=("alice", PASSWORD)) as running:
        async with AsyncProxyTransport(running.authorized_url) as transport:
            client = AsyncClient(Config.for_url(soketi.url), transport)
            await client.trigger("proxied-channel", "my-event", {"a": 1})
            await client.close()

        lines = running.request_lines()

    assert any(line.startswith(f"POST {soketi.base_url}/apps/") for line in lines)


@pytest.mark.e2e
def test_trigger_without_credentials_fails_typed(soketi: SoketiServer) -> None:
    with run_tinyproxy(credentials=("alice", PASSWORD)) as running:
        transport = ProxyTransport(running.url())
        with (
            Client(Config.for_url(soketi.url), transport) as client,
            pytest.raises(ConnectionFailedError) as caught,
        ):
            client.trigger("proxied-channel", "my-event", {"a": 1})
        transport.close()

    # tinyproxy closes before reading the body, so the 407 may be lost to the reset:
    # the error is then a ConnectionFailedError that still names the likely cause.
    assert "user:password@" in str(caught.value)
    assert soketi.secret not in str(caught.value)


@pytest.mark.e2e
async def test_async_trigger_without_credentials_fails(soketi: SoketiServer) -> None:
    with run_tinyproxy(credentials=("alice", PASSWORD)) as running:
        async with AsyncProxyTransport(running.url()) as transport:
            client = AsyncClient(Config.for_url(soketi.url), transport)
            with pytest.raises(ConnectionFailedError) as caught:
                await client.trigger("proxied-channel", "my-event", {"a": 1})

    assert "user:password@" in str(caught.value)
