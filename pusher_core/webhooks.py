"""Checking and reading the webhooks that Channels sends, and signing test webhooks.

A webhook is a POST with a JSON body ``{"time_ms": ..., "events": [...]}`` and three
headers: ``Content-Type: application/json``, ``X-Pusher-Key`` (the app key) and
``X-Pusher-Signature``, the lowercase hex HMAC-SHA256 of the raw body under that key's
secret. `Webhook` checks all of them, and its accessors raise `WebhookError` unless the
webhook is valid, so unchecked data cannot be read by mistake.
"""

from __future__ import annotations

import hmac
import json
import math
import re
import time
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, Protocol

from attrs import field, frozen

from pusher_core import encryption
from pusher_core.data import to_json
from pusher_core.errors import EncryptionError, ValidationError, WebhookError

if TYPE_CHECKING:
    from pusher_core.config import Config

__all__ = [
    "CacheMiss",
    "ChannelOccupied",
    "ChannelVacated",
    "ClientEvent",
    "CredentialsLike",
    "MemberAdded",
    "MemberRemoved",
    "SubscriptionCount",
    "UnknownEvent",
    "Webhook",
    "WebhookEvent",
    "WebhookReason",
    "sign_webhook",
]

WebhookReason = Literal["bad_content_type", "unknown_key", "bad_signature", "bad_body", "stale"]

_SIGNATURE_PATTERN = re.compile(r"[0-9a-f]{64}\Z", re.ASCII)
_JSON_MEDIA_TYPE = "application/json"


class _KeySecret(Protocol):
    @property
    def key(self) -> str: ...

    @property
    def secret(self) -> str: ...


CredentialsLike = _KeySecret | tuple[str, str] | Mapping[str, str]


# Events


def _freeze(value: Any) -> Any:
    # Parsed JSON is rebuilt from read-only mappings and tuples, so a caller cannot
    # change what a valid webhook reports.
    if isinstance(value, dict):
        return MappingProxyType({key: _freeze(item) for key, item in value.items()})
    if isinstance(value, list):
        return tuple(_freeze(item) for item in value)
    return value


@frozen(kw_only=True)
class WebhookEvent:
    """One event of a webhook.

    Attributes:
        name: The event type, such as ``"channel_occupied"``.
        raw: The event's JSON object as sent, read-only.
    """

    name: str
    raw: Mapping[str, Any] = field(eq=False, repr=False)


@frozen(kw_only=True)
class ChannelOccupied(WebhookEvent):
    """A channel got its first subscriber.

    Attributes:
        channel: The channel name.
    """

    channel: str


@frozen(kw_only=True)
class ChannelVacated(WebhookEvent):
    """A channel lost its last subscriber.

    Attributes:
        channel: The channel name.
    """

    channel: str


@frozen(kw_only=True)
class MemberAdded(WebhookEvent):
    """A user joined a presence channel.

    Attributes:
        channel: The presence channel name.
        user_id: The user id from the member's signed ``channel_data``.
    """

    channel: str
    user_id: str


@frozen(kw_only=True)
class MemberRemoved(WebhookEvent):
    """A user left a presence channel.

    Attributes:
        channel: The presence channel name.
        user_id: The user id from the member's signed ``channel_data``.
    """

    channel: str
    user_id: str


@frozen(kw_only=True)
class ClientEvent(WebhookEvent):
    """A client sent an event on a private or presence channel.

    Attributes:
        channel: The channel name.
        event: The client event name, such as ``"client-typing"``.
        data: The event data, or None. Pusher sends the JSON text the client sent;
            soketi 1.6.1 sends the decoded JSON value instead, which is kept read-only
            (mappings and tuples).
        socket_id: The sender's socket id, or None.
        user_id: The sender's user id on presence channels, or None.
    """

    channel: str
    event: str
    data: Any = None
    socket_id: str | None = None
    user_id: str | None = None

    @property
    def is_encrypted(self) -> bool:
        """Whether the event came from a ``private-encrypted-`` channel."""
        return encryption.is_encrypted_channel(self.channel)

    def decrypt(self, config: Config) -> Any:
        """Open the data of a client event sent on an encrypted channel.

        Args:
            config: A configuration with the app's master key.

        Returns:
            The decoded JSON value the client sealed.

        Raises:
            ValidationError: The channel is not a ``private-encrypted-`` channel.
            ConfigurationError: No master key is configured.
            EncryptionError: The data is missing, not sealed, or fails authentication.
        """
        return encryption.decrypt(config, self.channel, _data_text(self.data))


@frozen(kw_only=True)
class CacheMiss(WebhookEvent):
    """A client subscribed to a cache channel that contains no cached event.

    Attributes:
        channel: The cache channel name.
    """

    channel: str


@frozen(kw_only=True)
class SubscriptionCount(WebhookEvent):
    """The number of subscriptions to a channel changed.

    Attributes:
        channel: The channel name.
        subscription_count: The new number of subscriptions.
    """

    channel: str
    subscription_count: int


@frozen(kw_only=True)
class UnknownEvent(WebhookEvent):
    """An event type this SDK does not know, kept so that no event is lost.

    Attributes:
        channel: The ``channel`` field when it is a str, else None.
    """

    channel: str | None = None


def _data_text(data: Any) -> str:
    # A sealed event is the JSON text {"nonce", "ciphertext"}. soketi 1.6.1 delivers it
    # decoded, so it is encoded again; its two base64 strings survive that unchanged.
    if isinstance(data, str):
        return data
    if isinstance(data, Mapping):
        return json.dumps(_thaw(data))
    raise EncryptionError("the client event has no encrypted data {nonce, ciphertext}")


class _BadBodyError(Exception):
    """The body is not the JSON shape that webhooks have."""


def _required(raw: Mapping[str, Any], name: str, kind: type) -> Any:
    value = raw.get(name)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise _BadBodyError(f"{raw.get('name')} event without a valid {name}")
    return value


def _optional_str(raw: Mapping[str, Any], name: str) -> str | None:
    value = raw.get(name)
    if value is None or isinstance(value, str):
        return value
    raise _BadBodyError(f"{raw.get('name')} event with a non-str {name}")


def _channel_event(cls: Callable[..., WebhookEvent]) -> Callable[[Mapping[str, Any]], WebhookEvent]:
    def parse(raw: Mapping[str, Any]) -> WebhookEvent:
        return cls(name=raw["name"], raw=raw, channel=_required(raw, "channel", str))

    return parse


def _member_event(cls: Callable[..., WebhookEvent]) -> Callable[[Mapping[str, Any]], WebhookEvent]:
    def parse(raw: Mapping[str, Any]) -> WebhookEvent:
        return cls(
            name=raw["name"],
            raw=raw,
            channel=_required(raw, "channel", str),
            user_id=_required(raw, "user_id", str),
        )

    return parse


def _client_event(raw: Mapping[str, Any]) -> WebhookEvent:
    return ClientEvent(
        name=raw["name"],
        raw=raw,
        channel=_required(raw, "channel", str),
        event=_required(raw, "event", str),
        data=raw.get("data"),
        socket_id=_optional_str(raw, "socket_id"),
        user_id=_optional_str(raw, "user_id"),
    )


def _subscription_count(raw: Mapping[str, Any]) -> WebhookEvent:
    return SubscriptionCount(
        name=raw["name"],
        raw=raw,
        channel=_required(raw, "channel", str),
        subscription_count=_required(raw, "subscription_count", int),
    )


def _unknown_event(raw: Mapping[str, Any]) -> WebhookEvent:
    channel = raw.get("channel")
    return UnknownEvent(
        name=raw["name"], raw=raw, channel=channel if isinstance(channel, str) else None
    )


_EVENT_PARSERS: dict[str, Callable[[Mapping[str, Any]], WebhookEvent]] = {
    "channel_occupied": _channel_event(ChannelOccupied),
    "channel_vacated": _channel_event(ChannelVacated),
    "member_added": _member_event(MemberAdded),
    "member_removed": _member_event(MemberRemoved),
    "client_event": _client_event,
    "cache_miss": _channel_event(CacheMiss),
    "subscription_count": _subscription_count,
}


def _parse_event(raw: object) -> WebhookEvent:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("name"), str):
        raise _BadBodyError("an event is not an object with a str name")
    return _EVENT_PARSERS.get(raw["name"], _unknown_event)(raw)


def _parse_payload(body: bytes) -> tuple[int, tuple[WebhookEvent, ...]]:
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise _BadBodyError("the body is not UTF-8 JSON") from None
    if not isinstance(payload, dict):
        raise _BadBodyError("the body is not a JSON object")
    time_ms = payload.get("time_ms")
    events = payload.get("events")
    if not isinstance(time_ms, int) or isinstance(time_ms, bool) or not isinstance(events, list):
        raise _BadBodyError("the body lacks an int time_ms or an events list")
    return time_ms, tuple(_parse_event(_freeze(event)) for event in events)


# Headers and credentials


def _text(value: object) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        # ASGI servers pass raw header bytes; HTTP header text is Latin-1.
        return value.decode("latin-1")
    return None


def _header_pairs(headers: object) -> Iterable[object]:
    if isinstance(headers, Mapping):
        return tuple(headers.items())
    if isinstance(headers, (str, bytes)) or not isinstance(headers, Iterable):
        raise ValidationError(
            "headers", f"must be a mapping or a list of pairs, got {type(headers).__name__}"
        )
    return tuple(headers)


def _index_headers(headers: object) -> dict[str, list[str | None]]:
    """Group header values by lowercase name; a value that is not text becomes None."""
    index: dict[str, list[str | None]] = {}
    for pair in _header_pairs(headers):
        if not isinstance(pair, tuple) or len(pair) != 2:
            raise ValidationError("headers", "must contain (name, value) pairs")
        name = _text(pair[0])
        if name is None:
            raise ValidationError("headers", f"names must be str, got {type(pair[0]).__name__}")
        index.setdefault(name.lower(), []).append(_text(pair[1]))
    return index


def _single(index: Mapping[str, list[str | None]], name: str) -> str | None:
    # A repeated header is ambiguous, so it counts as missing.
    values = index.get(name, [])
    return values[0] if len(values) == 1 else None


def _credential(value: object, field_name: str) -> tuple[str, str]:
    if isinstance(value, tuple) and len(value) == 2:
        key, secret = value
    elif isinstance(value, Mapping):
        key, secret = value.get("key"), value.get("secret")
    else:
        key, secret = getattr(value, "key", None), getattr(value, "secret", None)
    if not isinstance(key, str) or not key or not isinstance(secret, str) or not secret:
        raise ValidationError(
            field_name,
            "must be a (key, secret) tuple, a {'key', 'secret'} dict or an object with "
            ".key and .secret, all non-empty str",
        )
    return key, secret


def _credentials(config: Config, extra: Iterable[CredentialsLike]) -> tuple[tuple[str, str], ...]:
    if isinstance(extra, (str, bytes, Mapping)) or not isinstance(extra, Iterable):
        raise ValidationError("extra_credentials", "must be a list of credentials")
    pairs = [(config.key, config.secret)]
    for index, item in enumerate(extra):
        pairs.append(_credential(item, f"extra_credentials[{index}]"))
    return tuple(pairs)


def _is_json_content_type(value: str | None) -> bool:
    if value is None:
        return False
    media_type = value.split(";", 1)[0].strip()
    return media_type.lower() == _JSON_MEDIA_TYPE


def _signature_matches(
    credentials: Iterable[tuple[str, str]], key: str, signature: str, body: bytes
) -> bool:
    # Every secret of the key is tried, so a secret being rotated out still verifies.
    matched = False
    for candidate_key, secret in credentials:
        if candidate_key != key:
            continue
        expected = hmac.new(secret.encode("utf-8"), body, "sha256").hexdigest()
        matched |= hmac.compare_digest(expected, signature)
    return matched


def _body_bytes(body: object) -> bytes | None:
    if isinstance(body, (bytes, bytearray, memoryview)):
        return bytes(body)
    if isinstance(body, str):
        try:
            return body.encode("utf-8")
        except UnicodeEncodeError:
            return None
    raise ValidationError("body", f"must be bytes or str, got {type(body).__name__}")


def _check_max_age(max_age: object) -> None:
    if max_age is None:
        return
    if isinstance(max_age, bool) or not isinstance(max_age, (int, float)):
        raise ValidationError("max_age", f"must be a number of seconds or None, got {max_age!r}")
    if not math.isfinite(max_age) or max_age <= 0:
        raise ValidationError(
            "max_age", f"must be a positive, finite number of seconds, got {max_age}"
        )


class Webhook:
    """A received webhook, checked at construction.

    Checks run in this order, and the first failure sets `reason`:

    1. The content type is ``application/json``, compared without case and ignoring
       parameters such as ``charset``.
    2. ``X-Pusher-Key`` names a known key.
    3. ``X-Pusher-Signature`` is the lowercase hex HMAC-SHA256 of the raw body under one
       of that key's secrets, compared in constant time.
    4. The body is a JSON object with an int ``time_ms`` and an ``events`` list.
    5. With `max_age`, ``time_ms`` is within `max_age` seconds of the clock in either
       direction.

    Args:
        config: The app configuration; its key and secret are the first credentials.
        headers: The request headers, as a mapping or a list of (name, value) pairs of
            str or bytes. Names are compared without case, and a repeated webhook
            header counts as missing.
        body: The raw request body, exactly as received.
        extra_credentials: More (key, secret) pairs to accept, such as an old secret
            during rotation: tuples, ``{"key", "secret"}`` dicts or objects with
            ``.key`` and ``.secret``.
        max_age: The maximum age of ``time_ms`` in seconds, or None to skip the check.
        clock: Returns the current time in seconds since the epoch.

    Raises:
        ValidationError: An argument has the wrong type, or `max_age` is not positive.
            A wrong header or body value never raises; it makes the webhook invalid.
    """

    __slots__ = ("_config", "_events", "_key", "_reason", "_time_ms")

    def __init__(
        self,
        config: Config,
        headers: Mapping[str, Any] | Iterable[tuple[Any, Any]],
        body: bytes | str,
        *,
        extra_credentials: Iterable[CredentialsLike] = (),
        max_age: float | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        _check_max_age(max_age)
        index = _index_headers(headers)
        raw = _body_bytes(body)
        credentials = _credentials(config, extra_credentials)

        self._config = config
        self._key = _single(index, "x-pusher-key")
        self._time_ms = 0
        self._events: tuple[WebhookEvent, ...] = ()
        self._reason = self._check(index, raw, credentials, max_age, clock)

    def _check(
        self,
        index: Mapping[str, list[str | None]],
        raw: bytes | None,
        credentials: tuple[tuple[str, str], ...],
        max_age: float | None,
        clock: Callable[[], float],
    ) -> WebhookReason | None:
        if not _is_json_content_type(_single(index, "content-type")):
            return "bad_content_type"
        if self._key is None or all(key != self._key for key, _ in credentials):
            return "unknown_key"
        if raw is None:
            return "bad_body"

        signature = _single(index, "x-pusher-signature")
        if signature is None or not _SIGNATURE_PATTERN.match(signature):
            return "bad_signature"
        if not _signature_matches(credentials, self._key, signature, raw):
            return "bad_signature"

        try:
            self._time_ms, self._events = _parse_payload(raw)
        except _BadBodyError:
            return "bad_body"
        if max_age is not None and abs(clock() * 1000 - self._time_ms) > max_age * 1000:
            return "stale"
        return None

    def __repr__(self) -> str:
        return f"<Webhook key={self._key!r} reason={self._reason!r}>"

    @property
    def key(self) -> str | None:
        """The ``X-Pusher-Key`` header, or None when it is missing or repeated."""
        return self._key

    @property
    def reason(self) -> WebhookReason | None:
        """Why the webhook is invalid, for logs, or None when it is valid.

        One of ``bad_content_type``, ``unknown_key``, ``bad_signature``, ``bad_body``
        and ``stale``.
        """
        return self._reason

    def is_valid(self) -> bool:
        """Return whether every check passed. It never raises."""
        return self._reason is None

    def _require_valid(self) -> None:
        if self._reason is not None:
            raise WebhookError(
                self._reason,
                f"the webhook is invalid ({self._reason}); check is_valid() before reading it",
            )

    @property
    def time_ms(self) -> int:
        """The time the webhook was created, in milliseconds since the epoch.

        Raises:
            WebhookError: The webhook is invalid.
        """
        self._require_valid()
        return self._time_ms

    @property
    def events(self) -> tuple[WebhookEvent, ...]:
        """The events, typed by name; unknown names become `UnknownEvent`.

        Raises:
            WebhookError: The webhook is invalid.
        """
        self._require_valid()
        return self._events

    @property
    def data(self) -> dict[str, Any]:
        """A new dict ``{"time_ms": ..., "events": [...]}`` decoded from the body.

        Raises:
            WebhookError: The webhook is invalid.
        """
        self._require_valid()
        events = [_thaw(event.raw) for event in self._events]
        return {"time_ms": self._time_ms, "events": events}


def _thaw(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {key: _thaw(item) for key, item in value.items()}
    if isinstance(value, tuple):
        return [_thaw(item) for item in value]
    return value


# Signing


def sign_webhook(
    credentials: Config | CredentialsLike,
    events: Iterable[Mapping[str, Any]],
    time_ms: int,
) -> tuple[dict[str, str], bytes]:
    """Build a signed webhook request, for testing your own webhook endpoint.

    The body is serialised first, and the signature covers those exact bytes.

    Args:
        credentials: A `Config`, a (key, secret) tuple, a ``{"key", "secret"}`` dict or
            an object with ``.key`` and ``.secret``.
        events: The event objects, such as
            ``{"name": "channel_occupied", "channel": "my-channel"}``.
        time_ms: The webhook time in milliseconds since the epoch.

    Returns:
        The headers (``Content-Type``, ``X-Pusher-Key``, ``X-Pusher-Signature``) and
        the body bytes.

    Raises:
        ValidationError: The credentials, an event or the time is invalid, or the
            events cannot be encoded as JSON. An event is invalid when `Webhook` would
            reject it as ``bad_body``: it lacks a str ``name``, or a field its type needs.
    """
    key, secret = _credential(credentials, "credentials")
    if isinstance(time_ms, bool) or not isinstance(time_ms, int):
        raise ValidationError("time_ms", f"must be an int, got {type(time_ms).__name__}")
    if isinstance(events, (str, bytes, Mapping)) or not isinstance(events, Iterable):
        raise ValidationError("events", "must be a list of event mappings")
    items = []
    for index, event in enumerate(events):
        if not isinstance(event, Mapping):
            raise ValidationError(f"events[{index}]", "must be a mapping")
        items.append(dict(event))

    # Reject what `Webhook` would reject, so that a receiver accepts every signed test
    # webhook. Each event goes through the receiver's parser after a JSON round trip.
    text = to_json({"time_ms": time_ms, "events": items}, None, "events")
    for index, item in enumerate(json.loads(text)["events"]):
        try:
            _parse_event(_freeze(item))
        except _BadBodyError as error:
            raise ValidationError(f"events[{index}]", str(error)) from None

    try:
        body = text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError(
            "events", "contain a lone surrogate, which UTF-8 cannot encode"
        ) from None
    signature = hmac.new(secret.encode("utf-8"), body, "sha256").hexdigest()
    headers = {
        "Content-Type": _JSON_MEDIA_TYPE,
        "X-Pusher-Key": key,
        "X-Pusher-Signature": signature,
    }
    return headers, body
