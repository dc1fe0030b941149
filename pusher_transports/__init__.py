"""Transports that carry `pusher_core` requests over the wire, and the clients built on them.

`Client` is the blocking client on urllib3. Each transport implements the small port in
`pusher_transports.base`.
"""

from pusher_transports.base import AsyncTransport, SyncTransport
from pusher_transports.client import Client
from pusher_transports.urllib3_transport import Urllib3Transport

__all__ = ["AsyncTransport", "Client", "SyncTransport", "Urllib3Transport"]
