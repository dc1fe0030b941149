"""The commands that call the HTTP API: trigger, channels, channel, users, terminate."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from pusher_core import encryption
from pusher_core.errors import ValidationError
from pusher_core.results import ChannelAttributes
from pusher_transports.cli._context import Context
from pusher_transports.cli._transports import open_transport
from pusher_transports.client import Client


@contextmanager
def open_client(ctx: Context) -> Iterator[Client]:
    """Yield a client on the chosen transport, closing the transport afterwards."""
    config = ctx.config()
    transport = open_transport(ctx.args)
    try:
        with Client(config, transport) as client:
            yield client
    finally:
        transport.close()


def attributes_json(attributes: ChannelAttributes) -> dict[str, Any]:
    """Return every attribute the server reported, as a plain dict."""
    return dict(attributes.raw)


def _attribute_text(values: Mapping[str, Any]) -> str:
    return " ".join(f"{name}={value}" for name, value in values.items())


# trigger


def run_trigger(ctx: Context) -> int:
    """Publish one event on one or more channels."""
    args = ctx.args
    text = _trigger_data(ctx)
    data = _data_for_channels(args.channel, text)
    with open_client(ctx) as client:
        result = client.trigger(
            args.channel, args.event, data, socket_id=args.socket_id, info=args.info
        )

    channels = {name: attributes_json(value) for name, value in result.channels.items()}
    lines = [f"published {args.event!r} on {', '.join(args.channel)}"]
    lines += [f"{name} {_attribute_text(values)}" for name, values in channels.items()]
    ctx.output.result({"ok": True, "channels": channels}, lines)
    return 0


def _trigger_data(ctx: Context) -> str:
    args = ctx.args
    if args.data is not None and args.data_file is not None:
        raise ValidationError("DATA", "give DATA or --data-file, not both")
    if args.data_file is not None:
        return ctx.inputs.read_text("--data-file", args.data_file)
    if args.data == "-":
        return ctx.inputs.read_text("DATA", "-")
    if args.data is None:
        raise ValidationError(
            "DATA", "is missing: give DATA, '-' for standard input, or --data-file"
        )
    data: str = args.data
    return data


def _data_for_channels(channels: list[str], text: str) -> Any:
    """Return the data to publish: the text as given, or its JSON value when encrypted.

    On a plain channel the text is sent unchanged. Data for an encrypted channel is
    always sealed as JSON, so JSON text is sealed as its value. Subscribers then receive
    the same value that a plain channel would give them.
    """
    if not any(encryption.is_encrypted_channel(name) for name in channels):
        return text
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return text


# channels, channel, users, terminate


def run_channels(ctx: Context) -> int:
    """List the occupied channels."""
    args = ctx.args
    with open_client(ctx) as client:
        result = client.list_channels(filter_by_prefix=args.prefix, info=args.info)

    channels = {name: attributes_json(value) for name, value in result.channels.items()}
    lines = [f"{name} {_attribute_text(values)}".rstrip() for name, values in channels.items()]
    ctx.output.result({"channels": channels}, lines)
    return 0


def run_channel(ctx: Context) -> int:
    """Show the state of one channel."""
    args = ctx.args
    with open_client(ctx) as client:
        info = client.get_channel(args.name, info=args.info)

    values = {"occupied": info.occupied, **dict(info.raw)}
    lines = [f"{name}: {_json_value(value)}" for name, value in values.items()]
    ctx.output.result(values, lines)
    return 0


def _json_value(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def run_users(ctx: Context) -> int:
    """List the users of a presence channel."""
    with open_client(ctx) as client:
        result = client.get_users(ctx.args.name)

    ids = [user.id for user in result.users]
    ctx.output.result({"users": [{"id": user_id} for user_id in ids]}, ids)
    return 0


def run_terminate(ctx: Context) -> int:
    """Disconnect every connection of a user."""
    user_id = ctx.args.user_id
    with open_client(ctx) as client:
        client.terminate_user_connections(user_id)

    ctx.output.result({"ok": True}, [f"terminated the connections of user {user_id!r}"])
    return 0
