"""Send real events through the SDK to a local soketi and print what pusher-js receives.

Run it with ``scripts/demo``, which installs what it needs first. It starts soketi on a
free loopback port, subscribes a pusher-js client (under Node) to two channels, then
publishes a single event, a multi-channel event and a batch with the blocking client.
It exits with status 0 when every event arrived with the data that was sent.
"""

from __future__ import annotations

import json
import sys

from pusher_core import Config
from pusher_transports import Client
from tests.support.peers import Subscriber, run_soketi, subscriber_config

CHANNELS = ["orders", "alerts"]
# The first two entries are one event published on two channels at once.
SENT = [
    ("orders", "order-created", {"id": 1, "item": "café au lait"}),
    ("alerts", "order-created", {"id": 1, "item": "café au lait"}),
    ("orders", "order-paid", {"id": 1, "total": "3.50"}),
    ("alerts", "maintenance", "back in 5 minutes"),
]


def main() -> int:
    """Run the demo and return the process exit status."""
    with run_soketi() as server:
        print(f"soketi is listening on {server.base_url} (app id {server.app_id!r})")
        with Subscriber(subscriber_config(server, CHANNELS)) as listener:
            listener.wait_subscribed(CHANNELS)
            print(f"pusher-js subscribed to {CHANNELS} as socket {listener.socket_id}")

            with Client(Config.for_url(server.url)) as client:
                client.trigger(["orders", "alerts"], "order-created", SENT[0][2])
                client.trigger_batch([{"channel": c, "name": n, "data": d} for c, n, d in SENT[2:]])
            print(f"sent {len(SENT)} events through the SDK")

            received = listener.events(len(SENT))
            for event in received:
                print(
                    f"pusher-js received {event['event']!r} on {event['channel']!r}: "
                    f"{json.dumps(event['data'], ensure_ascii=False)}"
                )

    got = sorted((e["channel"], e["event"], json.dumps(e["data"])) for e in received)
    want = sorted((c, n, json.dumps(d)) for c, n, d in SENT)
    if got != want:
        print("some events did not arrive as sent", file=sys.stderr)
        return 1
    print("every event arrived as sent")
    return 0


if __name__ == "__main__":
    sys.exit(main())
