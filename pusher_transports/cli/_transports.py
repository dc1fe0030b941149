"""The transports ``--transport`` can choose, opened lazily by name.

Each factory imports its adapter only when chosen, so a missing optional dependency
affects only the run that chooses it, with an error that names the choices.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import importlib.util
import threading
from collections.abc import Callable
from types import ModuleType

from pusher_core.errors import ConfigurationError
from pusher_core.messages import Request, Response
from pusher_transports.base import AsyncTransport, SyncTransport

DEFAULT_TRANSPORT = "urllib3"

# The package extra that provides each third-party module an adapter imports.
_EXTRAS = {"aiohttp": "aiohttp", "yarl": "aiohttp"}


class AsyncBridge:
    """Runs an asyncio transport behind the blocking `SyncTransport` interface.

    The bridge owns one event loop for its lifetime, and creates the transport inside
    it, because aiohttp binds its session to the loop that is running when it is made.
    A loop runs in one thread at a time, so concurrent sends, such as those of the bulk
    publisher's lanes, take turns.
    """

    def __init__(self, factory: Callable[[], AsyncTransport]) -> None:
        self._loop = asyncio.new_event_loop()
        self._lock = threading.Lock()
        self._transport = self._loop.run_until_complete(_create(factory))

    def send(self, request: Request) -> Response:
        """Send the request on the bridge's loop and return the complete response."""
        with self._lock:
            return self._loop.run_until_complete(self._transport.send(request))

    def close(self) -> None:
        """Close the transport, then the loop."""
        try:
            with self._lock:
                self._loop.run_until_complete(self._transport.close())
        finally:
            self._loop.close()


async def _create(factory: Callable[[], AsyncTransport]) -> AsyncTransport:
    return factory()


def _import_adapter(choice: str, module: str) -> ModuleType:
    try:
        return importlib.import_module(f"pusher_transports.{module}")
    except ModuleNotFoundError as exc:
        if exc.name in _EXTRAS:
            extra = _EXTRAS[exc.name]
            raise ConfigurationError(
                "--transport",
                f"{choice} needs the {extra} extra: pip install 'pusher-channels[{extra}]'",
            ) from None
        if exc.name == f"pusher_transports.{module}":
            raise ConfigurationError(
                "--transport",
                f"{choice} is not available in this installation; "
                f"choose from: {', '.join(available_transports())}",
            ) from None
        raise


def _urllib3(args: argparse.Namespace) -> SyncTransport:
    module = _import_adapter("urllib3", "urllib3_transport")
    transport: SyncTransport = module.Urllib3Transport()
    return transport


def _pool(args: argparse.Namespace) -> SyncTransport:
    module = _import_adapter("pool", "pool")
    transport: SyncTransport = module.KeepAlivePool()
    return transport


def _aiohttp(args: argparse.Namespace) -> SyncTransport:
    module = _import_adapter("aiohttp", "aiohttp_transport")
    return AsyncBridge(module.AiohttpTransport)


def _proxy(args: argparse.Namespace) -> SyncTransport:
    module = _import_adapter("proxy", "proxy")
    proxy_url = getattr(args, "proxy", None)
    if not proxy_url:
        # The proxy is never taken from HTTP_PROXY, so requests go only to the hosts
        # named on the command line.
        raise ConfigurationError(
            "--proxy", "is missing: --transport proxy needs --proxy http://HOST:PORT"
        )
    transport: SyncTransport = module.ProxyTransport(proxy_url)
    return transport


# Name -> (module under pusher_transports, factory).
TRANSPORTS: dict[str, tuple[str, Callable[[argparse.Namespace], SyncTransport]]] = {
    "urllib3": ("urllib3_transport", _urllib3),
    "pool": ("pool", _pool),
    "aiohttp": ("aiohttp_transport", _aiohttp),
    "proxy": ("proxy", _proxy),
}


def available_transports() -> list[str]:
    """Return the transport names whose adapter module is installed."""
    found = []
    for name, (module, _factory) in TRANSPORTS.items():
        if importlib.util.find_spec(f"pusher_transports.{module}") is not None:
            found.append(name)
    return found


def transport_name(args: argparse.Namespace) -> str:
    """Return the transport to use: ``--transport``, else proxy with ``--proxy``, else the default.

    Raises:
        ConfigurationError: ``--proxy`` is empty, or given with a transport other than
            proxy, either of which would send the request without the proxy.
    """
    name: str | None = getattr(args, "transport", None)
    proxy: str | None = getattr(args, "proxy", None)
    if proxy is None:
        return name or DEFAULT_TRANSPORT
    if not proxy.strip():
        # An empty value, such as an unset variable in `--proxy "$PROXY"`, must not
        # quietly send the request around the proxy.
        raise ConfigurationError("--proxy", "is empty: give http://HOST:PORT")
    if name not in (None, "proxy"):
        raise ConfigurationError(
            "--proxy",
            f"works only with --transport proxy, got --transport {name}; "
            "drop --transport or set it to proxy",
        )
    return "proxy"


def open_transport(args: argparse.Namespace) -> SyncTransport:
    """Open the transport `transport_name` chooses.

    Raises:
        ConfigurationError: The name is unknown, its adapter or dependency is missing,
            or ``--proxy`` is given with another transport than proxy.
    """
    name = transport_name(args)
    entry = TRANSPORTS.get(name)
    if entry is None:
        raise ConfigurationError(
            "--transport",
            f"{name!r} is unknown; choose from: {', '.join(available_transports())}",
        )
    return entry[1](args)
