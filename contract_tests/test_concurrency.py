"""Contract: a client shared by many threads or tasks returns correct results within its cap."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from contract_tests.harness import Subject, config_for
from contract_tests.server import ContractServer, RecordedRequest, ServerConnection
from pusher_transports.async_client import AsyncClient
from pusher_transports.client import Client

StartServer = Callable[..., ContractServer]

THREADS = 16
CALLS_PER_THREAD = 8
TASKS = 200


def echo_channel(request: RecordedRequest, connection: ServerConnection) -> None:
    """Reply to a channel query with a subscription count taken from the channel name.

    The name ``n-42`` yields 42, so each caller can check that it got its own result.
    """
    name = request.target.split("?", 1)[0].rsplit("/", 1)[1]
    body = json.dumps({"occupied": True, "subscription_count": int(name[2:])}).encode()
    # A short pause keeps several requests in flight at once.
    connection.wait(0.002)
    head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n\r\n".encode()
    connection.send(head + body)


@pytest.mark.transport_kind("sync")
async def test_threads_share_sync_client(subject: Subject, start_server: StartServer) -> None:
    server = start_server(echo_channel)
    client = Client(config_for(server), subject.transport)
    start = threading.Barrier(THREADS)

    def worker(thread_number: int) -> list[tuple[int, int | None]]:
        start.wait()
        answers = []
        for call in range(CALLS_PER_THREAD):
            expected = thread_number * 100 + call
            info = client.get_channel(f"n-{expected}", info="subscription_count")
            answers.append((expected, info.subscription_count))
        return answers

    def run_all() -> list[tuple[int, int | None]]:
        with ThreadPoolExecutor(THREADS) as pool:
            results = pool.map(worker, range(THREADS))
            return [answer for answers in results for answer in answers]

    answers = await asyncio.wait_for(asyncio.to_thread(run_all), 60)

    assert len(answers) == THREADS * CALLS_PER_THREAD
    assert all(expected == received for expected, received in answers)
    assert len(server.requests) == THREADS * CALLS_PER_THREAD
    own = subject.own_connections(server)
    assert own.max_concurrent_connections <= subject.options.max_connections


@pytest.mark.transport_kind("async")
async def test_tasks_share_async_client(subject: Subject, start_server: StartServer) -> None:
    server = start_server(echo_channel)
    client = AsyncClient(config_for(server), subject.transport)

    async def one_call(expected: int) -> tuple[int, int | None]:
        info = await client.get_channel(f"n-{expected}", info="subscription_count")
        return expected, info.subscription_count

    answers = await asyncio.wait_for(asyncio.gather(*(one_call(n) for n in range(TASKS))), 60)

    assert len(answers) == TASKS
    assert all(expected == received for expected, received in answers)
    assert len(server.requests) == TASKS
    own = subject.own_connections(server)
    assert own.max_concurrent_connections <= subject.options.max_connections
