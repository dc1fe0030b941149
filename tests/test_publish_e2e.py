"""Publishing and querying against a real soketi, with pusher-js receiving the events."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from pusher_core import AuthenticationError, Config
from tests.e2e_clients import CLIENT_FACTORIES
from tests.support.peers import SoketiServer, Subscriber

pytestmark = pytest.mark.e2e

_counter = itertools.count()


def unique(prefix: str) -> str:
    """Return a channel name no other test in this session uses."""
    return f"{prefix}-{next(_counter)}"


@pytest.fixture(params=sorted(CLIENT_FACTORIES))
def client(request: pytest.FixtureRequest, soketi: SoketiServer) -> Iterator[Any]:
    config = Config.for_url(soketi.url)
    with CLIENT_FACTORIES[request.param](config) as client:
        yield client


def subscribed(subscriber: Callable[..., Subscriber], *channels: str) -> Subscriber:
    listener = subscriber(list(channels))
    listener.wait_subscribed(channels)
    return listener


def test_single_channel(client: Any, subscriber: Callable[..., Subscriber]) -> None:
    channel = unique("single")
    listener = subscribed(subscriber, channel)

    client.trigger(channel, "greeting", {"message": "hello"})

    [event] = listener.events(1)
    assert event["channel"] == channel
    assert event["event"] == "greeting"
    assert event["data"] == {"message": "hello"}


def test_multiple_channels(client: Any, subscriber: Callable[..., Subscriber]) -> None:
    channels = [unique("multi-a"), unique("multi-b"), unique("multi-c")]
    listener = subscribed(subscriber, *channels)

    client.trigger(channels, "fan-out", {"n": 3})

    events = listener.events(3)
    assert sorted(event["channel"] for event in events) == sorted(channels)
    assert all(event["data"] == {"n": 3} for event in events)


def test_batch(client: Any, subscriber: Callable[..., Subscriber]) -> None:
    first, second = unique("batch-a"), unique("batch-b")
    listener = subscribed(subscriber, first, second)

    client.trigger_batch(
        [
            {"channel": first, "name": "one", "data": {"i": 1}},
            {"channel": second, "name": "two", "data": "plain text"},
        ]
    )

    events = {event["event"]: event for event in listener.events(2)}
    assert events["one"]["channel"] == first
    assert events["one"]["data"] == {"i": 1}
    assert events["two"]["channel"] == second
    assert events["two"]["data"] == "plain text"


def test_socket_id_excludes_sender(client: Any, subscriber: Callable[..., Subscriber]) -> None:
    channel = unique("exclude")
    sender = subscribed(subscriber, channel)
    other = subscribed(subscriber, channel)

    client.trigger(channel, "skip-sender", {"x": 1}, socket_id=sender.socket_id)
    client.trigger(channel, "marker", {"x": 2})

    assert [event["event"] for event in other.events(2)] == ["skip-sender", "marker"]
    assert [event["event"] for event in sender.events(1)] == ["marker"]


def test_unicode_data(client: Any, subscriber: Callable[..., Subscriber]) -> None:
    channel = unique("unicode")
    listener = subscribed(subscriber, channel)
    data = {"text": "héllo wörld 👋 日本語", "quote": 'a "b" & c # d'}

    client.trigger(channel, "unicode", data)

    assert listener.events(1)[0]["data"] == data


def test_channel_with_every_punctuation(client: Any, subscriber: Callable[..., Subscriber]) -> None:
    channel = unique("Az09_-=@,.;")
    listener = subscribed(subscriber, channel)

    client.trigger(channel, "punctuation", {"ok": True})

    [event] = listener.events(1)
    assert event["channel"] == channel
    assert event["data"] == {"ok": True}


def test_data_exactly_at_limit(client: Any, subscriber: Callable[..., Subscriber]) -> None:
    channel = unique("limit")
    listener = subscribed(subscriber, channel)
    padding = "x" * (10240 - len('{"p":""}'))
    data = {"p": padding}
    assert len(json.dumps(data, separators=(",", ":")).encode()) == 10240

    client.trigger(channel, "big", data)

    assert listener.events(1)[0]["data"] == data


def test_channel_queries_see_subscriber(client: Any, subscriber: Callable[..., Subscriber]) -> None:
    prefix = unique("query")
    channel = f"{prefix}-room"
    subscribed(subscriber, channel)

    listed = client.list_channels(filter_by_prefix=prefix)
    info = client.get_channel(channel, info=["subscription_count"])

    assert list(listed.channels) == [channel]
    assert info.occupied is True
    assert info.subscription_count == 1


def test_unoccupied_channel(client: Any) -> None:
    info = client.get_channel(unique("empty"))
    assert info.occupied is False


def test_wrong_secret_gets_401(soketi: SoketiServer) -> None:
    config = Config.for_url(soketi.url.replace(soketi.secret, "wrong-secret"))
    for factory in CLIENT_FACTORIES.values():
        with factory(config) as client, pytest.raises(AuthenticationError) as caught:
            client.trigger("any", "event", "data")
        assert caught.value.status == 401
        assert "The secret authentication failed" in caught.value.body
        assert "wrong-secret" not in str(caught.value)
