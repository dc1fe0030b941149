"""Transports that carry `pusher_core` requests over the wire, and the clients built on them.

`Client` is the blocking client on urllib3 and `AsyncClient` the asyncio client, by
default on aiohttp. Each transport implements the small port in `pusher_transports.base`.
"""

from typing import TYPE_CHECKING, Any

from pusher_transports.async_client import AsyncClient
from pusher_transports.base import AsyncTransport, SyncTransport
from pusher_transports.client import Client
from pusher_transports.pool import KeepAlivePool, PoolPolicy, PoolStats

# proxy.py imports aiohttp only inside AsyncProxyTransport's methods, so this import
# works without the aiohttp extra.
from pusher_transports.proxy import AsyncProxyTransport, ProxyError, ProxyTransport
from pusher_transports.urllib3_transport import Urllib3Transport

if TYPE_CHECKING:
    from pusher_transports.aiohttp_transport import AiohttpTransport

__all__ = [
    "AiohttpTransport",
    "AsyncClient",
    "AsyncProxyTransport",
    "AsyncTransport",
    "Client",
    "KeepAlivePool",
    "PoolPolicy",
    "PoolStats",
    "ProxyError",
    "ProxyTransport",
    "SyncTransport",
    "Urllib3Transport",
]


def __getattr__(name: str) -> Any:
    # aiohttp is an optional extra, so its transport is imported on first use only.
    if name == "AiohttpTransport":
        from pusher_transports.aiohttp_transport import AiohttpTransport

        return AiohttpTransport
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
