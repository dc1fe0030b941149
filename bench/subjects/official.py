"""The workloads on the official Python package, PyPI ``pusher`` 3.3.4.

It runs in the peers' virtual environment (bench/.venv-peers), never in the SDK's.
"""

from __future__ import annotations

import pusher
from pusher.aiohttp import AsyncIOBackend

from bench.fixtures import (
    APP_ID,
    CHANNEL,
    DATA,
    ENCRYPTED_CHANNEL,
    EVENT,
    KEY,
    MASTER_KEY_BASE64,
    SECRET,
    Spec,
    peak_rss_mb,
    timed_in_flight,
    timed_loop,
    timed_threads,
    webhook_request,
)


def _client(spec: Spec, **options: object) -> pusher.Pusher:
    return pusher.Pusher(
        app_id=APP_ID,
        key=KEY,
        secret=SECRET,
        host="127.0.0.1",
        port=spec.get("port", 80),
        ssl=False,
        encryption_master_key_base64=MASTER_KEY_BASE64,
        **options,
    )


def _build_one(client: pusher.Pusher, channel: str) -> object:
    # `make_request` encodes and signs; a backend then reads the URL and the headers.
    request = client._pusher_client.trigger.make_request(channel, EVENT, DATA)
    return request.url, request.headers, request.body


def build(spec: Spec) -> float:
    client = _client(spec)
    return timed_loop(spec["count"], lambda: _build_one(client, CHANNEL))


def encrypted_build(spec: Spec) -> float:
    client = _client(spec)
    return timed_loop(spec["count"], lambda: _build_one(client, ENCRYPTED_CHANNEL))


def sync(spec: Spec) -> float:
    client = _client(spec)
    return timed_loop(spec["count"], lambda: client.trigger(CHANNEL, EVENT, DATA))


def threads(spec: Spec) -> float:
    # The package shares one requests.Session between threads, as its users do.
    client = _client(spec)
    return timed_threads(
        spec["count"], spec["threads"], lambda: client.trigger(CHANNEL, EVENT, DATA)
    )


async def async_(spec: Spec) -> float:
    client = _client(spec, backend=AsyncIOBackend)
    return await timed_in_flight(
        spec["count"], spec["in_flight"], lambda: client.trigger(CHANNEL, EVENT, DATA)
    )


def webhook(spec: Spec) -> float:
    client = _client(spec)
    headers, body = webhook_request()

    def validate() -> object:
        result = client.validate_webhook(KEY, headers["X-Pusher-Signature"], body)
        assert result is not None
        return result

    return timed_loop(spec["count"], validate)


def memory_build(spec: Spec) -> float:
    client = _client(spec)
    for _ in range(spec["count"]):
        _build_one(client, CHANNEL)
    return peak_rss_mb()


WORKLOADS = {
    "build": build,
    "encrypted_build": encrypted_build,
    "sync": sync,
    "threads": threads,
    "async": async_,
    "webhook": webhook,
    "memory_build": memory_build,
}
