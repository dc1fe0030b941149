"""Building signed `Request` values for every call of the Channels HTTP API.

`RequestBuilder` validates its inputs, encodes the body, signs, and returns a frozen
`Request`. It performs no I/O and never changes the caller's objects, so the same inputs
and the same clock reading always give the same request.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import quote

from attrs import field, frozen

from pusher_core import encryption
from pusher_core._version import __version__
from pusher_core.config import Config
from pusher_core.data import (
    check_payload_size,
    encode_batch_entry,
    encode_body,
    encode_data,
    encode_event_body,
    to_json,
)
from pusher_core.errors import ValidationError
from pusher_core.messages import Headers, Request, trusted_request
from pusher_core.signing import Params, QuerySigner, normalize_params, signed_query_string
from pusher_core.validation import (
    MAX_BATCH_EVENTS,
    require_utf8,
    validate_channel,
    validate_channels,
    validate_event_name,
    validate_method,
    validate_path,
    validate_socket_id,
    validate_user_id,
)

__all__ = ["LIBRARY_HEADER", "PreparedEvent", "RequestBuilder"]

LIBRARY_HEADER = ("X-Pusher-Library", f"pusher-channels-python {__version__}")
_JSON_HEADERS: Headers = (LIBRARY_HEADER, ("Content-Type", "application/json"))
_PLAIN_HEADERS: Headers = (LIBRARY_HEADER,)

_BATCH_FIELDS = frozenset({"channel", "name", "data", "socket_id", "info"})
_ENCRYPTED_PREFIX = "private-encrypted-"


def _join_info(info: object, field: str) -> str:
    """Return ``info`` attribute names as one comma-joined value."""
    if isinstance(info, str):
        names: tuple[object, ...] = tuple(info.split(","))
    elif isinstance(info, Iterable) and not isinstance(info, Mapping):
        names = tuple(info)
    else:
        raise ValidationError(field, f"must be a str or a list of str, got {type(info).__name__}")
    for name in names:
        if not isinstance(name, str) or not name or not name.isidentifier():
            raise ValidationError(field, f"{name!r} is not an attribute name")
    return ",".join(names)  # type: ignore[arg-type]


def _is_encrypted(channel: str) -> bool:
    return channel.startswith(_ENCRYPTED_PREFIX)


@frozen
class PreparedEvent:
    """One batch event, validated and encoded by `RequestBuilder.prepare_batch_event`.

    Attributes:
        channel: The channel name.
        name: The event name.
        data: The data as sent: JSON text, or the sealed ciphertext for a
            ``private-encrypted-`` channel.
        socket_id: A connection to exclude from the recipients, or None.
        info: The comma-joined channel attributes to return, or None.
        encoded: The event as one UTF-8 JSON entry of a ``batch_events`` body, encoded
            once here so that building a batch only joins entries.

    Raises:
        ValidationError: A value contains a lone surrogate, which UTF-8 cannot carry.
    """

    channel: str
    name: str
    data: str
    socket_id: str | None = None
    info: str | None = None
    encoded: bytes = field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        entry = encode_batch_entry(self.channel, self.name, self.data, self.socket_id, self.info)
        object.__setattr__(self, "encoded", entry)

    def as_entry(self) -> dict[str, str]:
        """Return the event as one entry of a ``batch_events`` body."""
        entry = {"channel": self.channel, "name": self.name, "data": self.data}
        if self.socket_id is not None:
            entry["socket_id"] = self.socket_id
        if self.info is not None:
            entry["info"] = self.info
        return entry


class RequestBuilder:
    """Builds signed requests for one app.

    Args:
        config: The app configuration.
        clock: Returns the current time in seconds since the epoch. Tests inject a fixed
            clock to get reproducible signatures.
        nonce_factory: Returns a fresh 24-byte nonce for each encrypted event. Tests inject
            fixed nonces to get reproducible ciphertexts.
    """

    def __init__(
        self,
        config: Config,
        *,
        clock: Callable[[], float] = time.time,
        nonce_factory: Callable[[], bytes] | None = None,
    ) -> None:
        self.config = config
        self._clock = clock
        self._nonce_factory = nonce_factory or _random_nonce
        # Computed once, because every request needs them. Config is frozen, so they
        # cannot go stale.
        self._secret = config.secret.encode("utf-8")
        self._signer = QuerySigner(config.key, self._secret)
        self._app_path = f"/apps/{config.app_id}"
        self._key = config.key
        self._scheme = config.scheme
        self._host = config.host
        self._port = config.port
        self._path_prefix = config.base_path
        self._timeout = config.timeout

    def __repr__(self) -> str:
        return f"<RequestBuilder app_id={self.config.app_id!r} host={self.config.host!r}>"

    # Publishing

    def trigger(
        self,
        channels: str | Iterable[str],
        event: str,
        data: Any,
        socket_id: str | None = None,
        info: str | Iterable[str] | None = None,
    ) -> Request:
        """Build a request that publishes one event on one or more channels.

        Args:
            channels: A channel name, or an iterable of 1 to 100 names.
            event: The event name, 1 to 200 characters.
            data: A str sent as it is, bytes decoded as UTF-8, or a value encoded as JSON.
            socket_id: A connection to exclude from the recipients.
            info: Channel attributes to return, such as ``["subscription_count"]``.

        Raises:
            ValidationError: An argument is invalid, or the data is over the size limit.
        """
        names = validate_channels(channels)
        name = validate_event_name(event)
        text = self._event_data(names, data, "data")
        socket = None if socket_id is None else validate_socket_id(socket_id, "socket_id")
        joined = None if info is None else _join_info(info, "info")
        # The key order matches the npm library's, so equal inputs give equal bodies.
        return self._signed("POST", "/events", encode_event_body(name, text, names, socket, joined))

    def trigger_batch(self, events: Iterable[Mapping[str, Any]]) -> Request:
        """Build a request that publishes up to 10 events in one call.

        Each event is a mapping with ``channel``, ``name`` and ``data``, and optionally
        ``socket_id`` and ``info``. The caller's mappings are read, never changed.

        Raises:
            ValidationError: An event is invalid; the field names its index.
        """
        if isinstance(events, (str, bytes, Mapping)) or not isinstance(events, Iterable):
            raise ValidationError("events", "must be a list of event mappings")
        items = tuple(events)
        if not items:
            raise ValidationError("events", "must contain at least one event")
        if len(items) > MAX_BATCH_EVENTS:
            raise ValidationError(
                "events", f"at most {MAX_BATCH_EVENTS} events allowed, got {len(items)}"
            )
        batch = [self._batch_entry(index, item) for index, item in enumerate(items)]
        return self._signed("POST", "/batch_events", encode_body({"batch": batch}))

    def prepare_batch_event(self, event: Mapping[str, Any]) -> PreparedEvent:
        """Validate and encode one batch event now, to send later with `trigger_prepared`.

        The event has the shape `trigger_batch` takes. Data for a ``private-encrypted-``
        channel is encrypted here, with a fresh nonce.

        Raises:
            ValidationError: The event is invalid; the field is prefixed ``events[0].``.
        """
        entry = self._batch_entry(0, event)
        return PreparedEvent(
            channel=entry["channel"],
            name=entry["name"],
            data=entry["data"],
            socket_id=entry.get("socket_id"),
            info=entry.get("info"),
        )

    def trigger_prepared(self, events: Sequence[PreparedEvent]) -> Request:
        """Build a batch request from 1 to 10 events made by `prepare_batch_event`.

        The events were checked when they were prepared, so only their count is checked.

        Raises:
            ValidationError: There are no events or more than 10.
        """
        if not 1 <= len(events) <= MAX_BATCH_EVENTS:
            raise ValidationError(
                "events", f"must hold 1 to {MAX_BATCH_EVENTS} events, got {len(events)}"
            )
        body = b'{"batch":[' + b",".join([event.encoded for event in events]) + b"]}"
        return self._signed("POST", "/batch_events", body)

    def send_to_user(self, user_id: str, event: str, data: Any) -> Request:
        """Build a request that sends an event to every connection of a signed-in user."""
        channel = f"#server-to-user-{validate_user_id(user_id)}"
        body = {
            "name": validate_event_name(event),
            "data": self._sized_data(encode_data(data, self.config.json_encoder), "data"),
            "channels": [channel],
        }
        return self._signed("POST", "/events", encode_body(body))

    def terminate_user_connections(self, user_id: str) -> Request:
        """Build a request that disconnects every connection of a user.

        The user id is percent-escaped in the path, and the escaped path is signed.
        """
        escaped = quote(validate_user_id(user_id), safe="")
        return self._signed("POST", f"/users/{escaped}/terminate_connections", b"{}")

    # Queries

    def list_channels(
        self, filter_by_prefix: str | None = None, info: str | Iterable[str] | None = None
    ) -> Request:
        """Build a request for the occupied channels, optionally filtered by name prefix."""
        params: dict[str, str] = {}
        if filter_by_prefix is not None:
            # A prefix outside the channel name alphabet could match no channel at all.
            params["filter_by_prefix"] = validate_channel(filter_by_prefix, "filter_by_prefix")
        if info is not None:
            params["info"] = _join_info(info, "info")
        return self._signed("GET", "/channels", None, params)

    def get_channel(self, channel: str, info: str | Iterable[str] | None = None) -> Request:
        """Build a request for the state of one channel."""
        name = validate_channel(channel)
        params = {} if info is None else {"info": _join_info(info, "info")}
        return self._signed("GET", f"/channels/{name}", None, params)

    def get_users(self, channel: str) -> Request:
        """Build a request for the users of a presence channel."""
        name = validate_channel(channel)
        if not name.startswith("presence-"):
            raise ValidationError("channel", f"{name!r} is not a presence- channel")
        return self._signed("GET", f"/channels/{name}/users", None)

    # Generic calls

    def get(self, path: str, params: Params | None = None) -> Request:
        """Build a signed GET for a path relative to the app, such as ``/channels``."""
        return self._signed("GET", self._relative_path(path), None, normalize_params(params))

    def post(self, path: str, body: Any, params: Params | None = None) -> Request:
        """Build a signed POST for a path relative to the app.

        A str or bytes body is sent as it is; anything else is encoded as JSON.
        """
        if isinstance(body, (bytes, bytearray, memoryview)):
            raw = bytes(body)
        elif isinstance(body, str):
            raw = require_utf8(body, "body").encode("utf-8")
        else:
            text = to_json(body, self.config.json_encoder, "body")
            raw = require_utf8(text, "body").encode("utf-8")
        return self._signed("POST", self._relative_path(path), raw, normalize_params(params))

    def create_signed_query_string(
        self,
        method: str,
        path: str,
        body: str | bytes | None = None,
        params: Params | None = None,
    ) -> str:
        """Return the signed, wire-ready query string for a request sent by other means.

        Args:
            method: The HTTP method.
            path: The full path the server will see, such as ``/apps/123/events``.
            body: The exact body to send, if any; its MD5 is signed.
            params: Extra query params to sign and send.
        """
        verb = validate_method(method)
        full_path = validate_path(path)
        raw = _body_bytes(body)
        return signed_query_string(
            key=self.config.key,
            secret=self._secret,
            method=verb,
            path=full_path,
            params=normalize_params(params),
            body=raw,
            timestamp=self._timestamp(),
        )

    # Helpers

    def _timestamp(self) -> int:
        return math.floor(self._clock())

    def _relative_path(self, path: object) -> str:
        path = validate_path(path)
        prefix = self._app_path
        if path == prefix or path.startswith(prefix + "/"):
            return path[len(prefix) :]
        return path

    def _sized_data(self, text: str, field: str) -> str:
        check_payload_size(text, self.config.payload_limit, field)
        return text

    def _event_data(self, channels: tuple[str, ...], data: Any, field: str) -> str:
        encrypted = [name for name in channels if _is_encrypted(name)]
        if not encrypted:
            return self._sized_data(encode_data(data, self.config.json_encoder, field), field)
        if len(channels) > 1:
            raise ValidationError(
                "channels",
                f"an event for {encrypted[0]!r} must name that channel only, "
                "because each encrypted channel has its own key",
            )
        plaintext = to_json(data, self.config.json_encoder, field)
        sealed = encryption.encrypt_event_data(
            self.config, encrypted[0], plaintext, self._nonce_factory()
        )
        return self._sized_data(sealed, field)

    def _add_options(
        self, body: dict[str, Any], socket_id: object, info: object, prefix: str
    ) -> None:
        if socket_id is not None:
            body["socket_id"] = validate_socket_id(socket_id, f"{prefix}socket_id")
        if info is not None:
            body["info"] = _join_info(info, f"{prefix}info")

    def _batch_entry(self, index: int, event: object) -> dict[str, Any]:
        prefix = f"events[{index}]."
        if not isinstance(event, Mapping):
            raise ValidationError(f"events[{index}]", "must be a mapping")
        if not _BATCH_FIELDS.issuperset(event):
            unknown = sorted(set(event) - _BATCH_FIELDS, key=str)
            raise ValidationError(f"{prefix}{unknown[0]}", "is not a batch event field")
        for required in ("channel", "name", "data"):
            if required not in event:
                raise ValidationError(f"{prefix}{required}", "is missing")
        channel = validate_channel(event["channel"], f"{prefix}channel")
        entry: dict[str, Any] = {
            "channel": channel,
            "name": validate_event_name(event["name"], f"{prefix}name"),
            "data": self._event_data((channel,), event["data"], f"{prefix}data"),
        }
        self._add_options(entry, event.get("socket_id"), event.get("info"), prefix)
        return entry

    def _signed(
        self, method: str, path: str, body: bytes | None, params: Mapping[str, str] | None = None
    ) -> Request:
        full_path = self._app_path + path
        query = self._signer.sign(method, full_path, params or {}, body, math.floor(self._clock()))
        return trusted_request(
            method,
            self._scheme,
            self._host,
            self._port,
            self._path_prefix + full_path,
            query,
            _JSON_HEADERS if body else _PLAIN_HEADERS,
            body or b"",
            self._timeout,
        )


def _body_bytes(body: object) -> bytes | None:
    if body is None or isinstance(body, bytes):
        return body
    if isinstance(body, (bytearray, memoryview)):
        return bytes(body)
    if isinstance(body, str):
        return require_utf8(body, "body").encode("utf-8")
    raise ValidationError("body", f"must be str, bytes or None, got {type(body).__name__}")


def _random_nonce() -> bytes:
    return os.urandom(24)
