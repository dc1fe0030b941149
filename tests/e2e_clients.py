"""The clients the end-to-end tests publish through: one per transport.

Each entry builds a client with the same blocking interface, so one end-to-end test
body checks every adapter against soketi and pusher-js. Add an entry here when a
transport is added.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from pusher_core import Config
from pusher_transports import Client

ClientFactory = Callable[[Config], Any]


@contextmanager
def urllib3_client(config: Config) -> Iterator[Client]:
    with Client(config) as client:
        yield client


CLIENT_FACTORIES: dict[str, Callable[[Config], Any]] = {
    "urllib3": urllib3_client,
}
