"""Tests of `AsyncClient` and `AiohttpTransport` beyond the transport contract suite."""

from __future__ import annotations

import asyncio
import inspect
import json
import subprocess
import sys
from collections.abc import Iterator

import aiohttp
import pytest

from contract_tests.harness import config_for, request_for, wait_for_no_connections
from contract_tests.server import ContractServer, reply
from pusher_core.config import Config
from pusher_core.errors import ConfigurationError, NotFoundError, ValidationError
from pusher_core.messages import Request, Response
from pusher_core.results import TriggerResult
from pusher_transports import AsyncClient, Client
from pusher_transports.aiohttp_transport import AiohttpTransport

PUBLIC_METHODS = sorted(name for name in vars(Client) if not name.startswith("_"))


class RecordingTransport:
    """An async transport that returns one response to every request and counts closes."""

    def __init__(self, response: Response) -> None:
        self.response = response
        self.requests: list[Request] = []
        self.closed = 0

    async def send(self, request: Request) -> Response:
        self.requests.append(request)
        return self.response

    async def close(self) -> None:
        self.closed += 1


@pytest.fixture
def server() -> Iterator[ContractServer]:
    started = ContractServer(reply(200, [], b'{"channels": {}}')).start()
    yield started
    started.stop()


def test_async_client_has_client_methods() -> None:
    assert sorted(name for name in vars(AsyncClient) if not name.startswith("_")) == PUBLIC_METHODS


@pytest.mark.parametrize("name", PUBLIC_METHODS)
def test_method_signatures_match(name: str) -> None:
    sync_method = getattr(Client, name)
    async_method = getattr(AsyncClient, name)

    assert inspect.signature(async_method) == inspect.signature(sync_method)
    assert async_method.__doc__ == sync_method.__doc__


def test_constructors_shared_by_both_clients() -> None:
    # `for_url` and `from_env` are defined once, on the base class.
    assert AsyncClient.for_url.__func__ is Client.for_url.__func__
    assert AsyncClient.from_env.__func__ is Client.from_env.__func__


@pytest.mark.parametrize(
    "name", [name for name in PUBLIC_METHODS if name not in ("for_url", "from_env")]
)
def test_io_methods_are_coroutines(name: str) -> None:
    is_coroutine = inspect.iscoroutinefunction(getattr(AsyncClient, name))

    assert is_coroutine is (name != "create_signed_query_string")


async def test_trigger_over_aiohttp(server: ContractServer) -> None:
    async with AsyncClient(config_for(server)) as client:
        result = await client.trigger("my-channel", "my-event", {"a": 1})

    assert result == TriggerResult()
    assert server.requests[0].method == "POST"
    assert server.requests[0].target.startswith("/apps/4242/events?")
    assert json.loads(server.requests[0].body) == {
        "name": "my-event",
        "channels": ["my-channel"],
        "data": '{"a":1}',
    }


async def test_owned_transport_closed_on_exit(server: ContractServer) -> None:
    async with AsyncClient(config_for(server)) as client:
        await client.get("/channels")

    assert isinstance(client.transport, AiohttpTransport)
    assert await wait_for_no_connections(server)


async def test_given_transport_left_open() -> None:
    transport = RecordingTransport(Response(200, (), b"{}"))

    async with AsyncClient(_config(), transport):
        pass

    assert transport.closed == 0


async def test_status_errors_match_sync_client() -> None:
    transport = RecordingTransport(Response(404, (), b"no such app"))
    client = AsyncClient(_config(), transport)

    with pytest.raises(NotFoundError) as failure:
        await client.get_channel("my-channel")

    assert failure.value.path == "/apps/4242/channels/my-channel"


async def test_invalid_input_sends_nothing() -> None:
    transport = RecordingTransport(Response(200, (), b"{}"))
    client = AsyncClient(_config(), transport)

    with pytest.raises(ValidationError):
        await client.trigger("bad channel name!", "my-event", "data")

    assert transport.requests == []


def test_for_url_reads_credentials() -> None:
    transport = RecordingTransport(Response(200))

    client = AsyncClient.for_url("http://key:secret@127.0.0.1:8080/apps/77", transport)

    assert client.config.app_id == "77"
    assert client.config.port == 8080
    assert client.transport is transport


def test_from_env_requires_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PUSHER_URL", raising=False)

    with pytest.raises(ConfigurationError):
        AsyncClient.from_env(RecordingTransport(Response(200)))


def test_from_env_reads_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUSHER_URL", "http://key:secret@127.0.0.1/apps/5")

    client = AsyncClient.from_env(RecordingTransport(Response(200)))

    assert client.config.app_id == "5"


def test_repr_hides_secret() -> None:
    client = AsyncClient(_config(), RecordingTransport(Response(200)))

    assert "contract-secret" not in repr(client)
    assert repr(client) == "<AsyncClient app_id='4242' transport=RecordingTransport>"


async def test_user_session_stays_open(server: ContractServer) -> None:
    async with aiohttp.ClientSession() as session:
        transport = AiohttpTransport(session=session)
        response = await transport.send(request_for(server))
        await transport.close()

        assert response.status == 200
        assert not session.closed


async def test_transport_reopens_after_close(server: ContractServer) -> None:
    transport = AiohttpTransport()
    await transport.send(request_for(server))
    await transport.close()

    response = await transport.send(request_for(server))
    await transport.close()

    assert response.status == 200


def test_transport_bound_to_first_loop(server: ContractServer) -> None:
    transport = AiohttpTransport()
    request = request_for(server)

    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(transport.send(request))
        with pytest.raises(RuntimeError, match="one transport per event loop"):
            asyncio.run(transport.send(request))
        loop.run_until_complete(transport.close())
    finally:
        loop.close()


def test_limit_must_be_positive() -> None:
    with pytest.raises(ValidationError) as failure:
        AiohttpTransport(limit=0)

    assert failure.value.field == "limit"


@pytest.mark.parametrize("limit", ["3", 2.5, True, None])
def test_limit_must_be_an_int(limit: object) -> None:
    with pytest.raises(ValidationError) as failure:
        AiohttpTransport(limit=limit)  # type: ignore[arg-type]

    assert failure.value.field == "limit"
    assert f"must be an int of at least 1, got {limit!r}" in str(failure.value)


def test_package_import_skips_aiohttp() -> None:
    code = (
        "import sys, pusher_transports; "
        "assert 'aiohttp' not in sys.modules; "
        "assert pusher_transports.AiohttpTransport.__name__ == 'AiohttpTransport'"
    )

    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)

    assert result.returncode == 0, result.stderr


def _config() -> Config:
    return Config(app_id="4242", key="key", secret="contract-secret", host="127.0.0.1", tls=False)
