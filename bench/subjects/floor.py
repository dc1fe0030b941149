"""The floors: the same work done with bare urllib3, aiohttp and hashlib, signed by hand.

No SDK code runs here. Each request is signed as the Channels HTTP API defines it, so
the server could check it, but with nothing else: no input checks, no result types.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time

from bench.fixtures import (
    BATCH_PATH,
    CHANNEL,
    DATA,
    EVENT,
    EVENTS_PATH,
    KEY,
    SECRET,
    Spec,
    peak_rss_mb,
    rss_growth_in_flight,
    timed_in_flight,
    timed_loop,
    timed_threads,
    webhook_request,
)

_SECRET = SECRET.encode()
_HEADERS = {"Content-Type": "application/json", "X-Pusher-Library": "bench-floor"}


def sign(path: str, body: bytes) -> str:
    """Return the signed request target for a POST of `body` to `path`."""
    digest = hashlib.md5(body).hexdigest()
    query = f"auth_key={KEY}&auth_timestamp={int(time.time())}&auth_version=1.0&body_md5={digest}"
    signature = hmac.new(_SECRET, f"POST\n{path}\n{query}".encode(), hashlib.sha256).hexdigest()
    return f"{path}?{query}&auth_signature={signature}"


def trigger_body() -> bytes:
    """Return the body of a trigger of DATA on CHANNEL, as the API expects it."""
    data = json.dumps(DATA, separators=(",", ":"))
    return json.dumps({"name": EVENT, "channels": [CHANNEL], "data": data}).encode()


def signed_trigger() -> tuple[str, bytes]:
    """Encode and sign one trigger: the signing floor."""
    body = trigger_body()
    return sign(EVENTS_PATH, body), body


def build(spec: Spec) -> float:
    return timed_loop(spec["count"], signed_trigger)


def _urllib3_pool(spec: Spec, maxsize: int) -> object:
    import urllib3

    return urllib3.HTTPConnectionPool("127.0.0.1", spec["port"], maxsize=maxsize, retries=False)


def _urllib3_trigger(pool: object) -> bytes:
    target, body = signed_trigger()
    response = pool.request("POST", target, body=body, headers=_HEADERS)  # type: ignore[attr-defined]
    return response.data  # type: ignore[no-any-return]


def sync(spec: Spec) -> float:
    pool = _urllib3_pool(spec, 1)
    return timed_loop(spec["count"], lambda: _urllib3_trigger(pool))


def threads(spec: Spec) -> float:
    pool = _urllib3_pool(spec, spec["threads"])
    return timed_threads(spec["count"], spec["threads"], lambda: _urllib3_trigger(pool))


async def _aiohttp_posts(spec: Spec, count: int, make: object) -> float:
    import aiohttp

    origin = f"http://127.0.0.1:{spec['port']}"
    async with aiohttp.ClientSession() as session:

        async def post() -> bytes:
            target, body = make()  # type: ignore[operator]
            async with session.post(origin + target, data=body, headers=_HEADERS) as response:
                return await response.read()

        return await timed_in_flight(count, spec["in_flight"], post)


async def async_(spec: Spec) -> float:
    return await _aiohttp_posts(spec, spec["count"], signed_trigger)


def _signed_batch(counter: list[int], channels: int) -> tuple[str, bytes]:
    batch = []
    for _ in range(10):
        index = counter[0]
        counter[0] += 1
        data = json.dumps({"sequence": index}, separators=(",", ":"))
        batch.append({"channel": f"{CHANNEL}-{index % channels}", "name": EVENT, "data": data})
    body = json.dumps({"batch": batch}).encode()
    return sign(BATCH_PATH, body), body


async def bulk_batches(spec: Spec) -> float:
    """Send the events as batch requests of 10 with bare aiohttp; return events per second."""
    counter = [0]
    requests_per_second = await _aiohttp_posts(
        spec, spec["count"] // 10, lambda: _signed_batch(counter, spec["channels"])
    )
    return requests_per_second * 10


def webhook(spec: Spec) -> float:
    headers, body = webhook_request()

    def validate() -> object:
        expected = hmac.new(_SECRET, body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(expected, headers["X-Pusher-Signature"])
        return json.loads(body)

    return timed_loop(spec["count"], validate)


def memory_build(spec: Spec) -> float:
    for _ in range(spec["count"]):
        signed_trigger()
    return peak_rss_mb()


async def memory_async(spec: Spec) -> float:
    import aiohttp

    origin = f"http://127.0.0.1:{spec['port']}"
    async with aiohttp.ClientSession() as session:

        async def post() -> bytes:
            target, body = signed_trigger()
            async with session.post(origin + target, data=body, headers=_HEADERS) as response:
                return await response.read()

        return await rss_growth_in_flight(spec["warmup"], spec["count"], spec["in_flight"], post)


WORKLOADS = {
    "build": build,
    "sync": sync,
    "threads": threads,
    "async": async_,
    "bulk_batches": bulk_batches,
    "webhook": webhook,
    "memory_build": memory_build,
    "memory_async": memory_async,
}

__all__ = ["WORKLOADS", "asyncio"]
