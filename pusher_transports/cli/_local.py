"""The commands that need no server: sign, auth, webhook sign and verify, decrypt."""

from __future__ import annotations

import json
import re
import time
from typing import Any

from pusher_core import encryption
from pusher_core.auth import authenticate_user, authorize_channel
from pusher_core.builder import RequestBuilder
from pusher_core.config import Config
from pusher_core.errors import ConfigurationError, ValidationError
from pusher_core.webhooks import Webhook, sign_webhook
from pusher_transports.cli._context import Context
from pusher_transports.cli._inputs import decode_utf8, parse_json, parse_json_object
from pusher_transports.cli._settings import MASTER_KEY_VARIABLE

_FORBIDDEN_PATH_CHARACTERS = frozenset("?# \t\r\n")
# A request line ("POST /hook HTTP/1.1") or status line ("HTTP/1.1 200 OK"), as in the
# first line of a dump made with ``curl -D`` or copied from a server log.
_START_LINE = re.compile(r"(?:[A-Z]+ \S+ HTTP/\d(?:\.\d)?|HTTP/\d(?:\.\d)? \d{3}.*)\Z")
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+\Z")


# sign


def run_sign(ctx: Context) -> int:
    """Print the signed query string, or the full URL, for a request sent by other means."""
    args = ctx.args
    config = ctx.config()
    path = _app_path(config, args.path)
    body = _sign_body(ctx)
    builder = _builder(config, args.timestamp)
    query = builder.create_signed_query_string(args.method, path, body, _params(args.param))
    url = f"{config.scheme}://{config.host}:{config.port}{config.base_path}{path}?{query}"

    result = {"method": args.method.upper(), "path": path, "query_string": query, "url": url}
    ctx.output.result(result, [url if args.url_output else query])
    return 0


def _app_path(config: Config, path: str) -> str:
    """Return the full request path, adding ``/apps/APP_ID`` to a path relative to the app."""
    if not path.startswith("/"):
        raise ValidationError("PATH", f"{path!r} must start with '/'")
    if _FORBIDDEN_PATH_CHARACTERS.intersection(path):
        raise ValidationError(
            "PATH", "must not contain '?', '#' or whitespace; give query params with --param"
        )
    if path.startswith("/apps/"):
        return path
    return f"/apps/{config.app_id}{path}"


def _sign_body(ctx: Context) -> bytes | None:
    args = ctx.args
    if args.body is not None and args.body_file is not None:
        raise ValidationError("--body", "give --body or --body-file, not both")
    if args.body_file is not None:
        return ctx.inputs.read_bytes("--body-file", args.body_file)
    if args.body is not None:
        encoded: bytes = args.body.encode("utf-8")
        return encoded
    return None


def _builder(config: Config, timestamp: int | None) -> RequestBuilder:
    if timestamp is None:
        return RequestBuilder(config)
    return RequestBuilder(config, clock=lambda: float(timestamp))


def _params(pairs: list[str] | None) -> dict[str, str]:
    params: dict[str, str] = {}
    for pair in pairs or ():
        name, separator, value = pair.partition("=")
        if not separator or not name:
            raise ValidationError("--param", f"{pair!r} is not NAME=VALUE")
        if name in params:
            raise ValidationError("--param", f"{name!r} is given twice; join values with commas")
        params[name] = value
    return params


# auth


def run_auth_channel(ctx: Context) -> int:
    """Print the JSON an auth endpoint returns for a private or presence channel."""
    args = ctx.args
    channel_data = None
    if args.channel_data is not None:
        channel_data = parse_json_object("--channel-data", args.channel_data)
    result = authorize_channel(ctx.config(), args.socket_id, args.channel, channel_data)
    ctx.output.json(result)
    return 0


def run_auth_user(ctx: Context) -> int:
    """Print the JSON a user authentication endpoint returns."""
    args = ctx.args
    user_data = parse_json_object("--user-data", args.user_data)
    ctx.output.json(authenticate_user(ctx.config(), args.socket_id, user_data))
    return 0


# webhook sign


def run_webhook_sign(ctx: Context) -> int:
    """Print the headers and body of a signed webhook, and write them to files if asked."""
    args = ctx.args
    events = _webhook_events(args.events)
    time_ms = args.time_ms if args.time_ms is not None else int(time.time() * 1000)
    headers, body = sign_webhook(ctx.config(), events, time_ms)

    header_text = "".join(f"{name}: {value}\n" for name, value in headers.items())
    if args.headers_out is not None:
        _write_file("--headers-out", args.headers_out, header_text.encode("utf-8"))
    if args.body_out is not None:
        _write_file("--body-out", args.body_out, body)

    body_text = body.decode("utf-8")
    result = {"headers": headers, "body": body_text}
    ctx.output.result(result, [header_text, body_text])
    return 0


def _webhook_events(text: str) -> list[Any]:
    value = parse_json("--events", text)
    if isinstance(value, dict):
        return [value]
    if not isinstance(value, list):
        raise ValidationError("--events", "must be a JSON object or a list of objects")
    return value


def _write_file(option: str, path: str, data: bytes) -> None:
    try:
        with open(path, "wb") as file:
            file.write(data)
    except OSError as exc:
        raise ValidationError(option, f"cannot write {path!r}: {exc.strerror}") from None


# webhook verify


def run_webhook_verify(ctx: Context) -> int:
    """Print whether a webhook is valid, and its events; exit with 1 when it is invalid."""
    args = ctx.args
    config = ctx.config()
    headers = parse_headers(ctx.inputs.read_text("--headers", args.headers))
    body = ctx.inputs.read_bytes("--body", args.body)
    webhook = Webhook(config, headers, body, max_age=args.max_age)

    if not webhook.is_valid():
        result = {"valid": False, "reason": webhook.reason, "key": webhook.key}
        ctx.output.result(result, [f"invalid: {webhook.reason}"])
        return 1

    data = webhook.data
    result = {"valid": True, "reason": None, "key": webhook.key, **data}
    lines = ["valid", f"key: {webhook.key}", f"time_ms: {data['time_ms']}"]
    lines += [f"event: {_describe_event(event)}" for event in data["events"]]
    ctx.output.result(result, lines)
    return 0


def parse_headers(text: str) -> list[tuple[str, str]]:
    """Parse a headers file: a JSON object, or ``Name: value`` lines.

    Blank lines, and a request or status line at the top, are skipped.

    Raises:
        ValidationError: A line is not ``Name: value``, or a JSON value is not a str.
    """
    if text.lstrip().startswith("{"):
        return _json_headers(text)
    pairs = []
    lines = text.splitlines()
    for number, line in enumerate(lines, start=1):
        if not line.strip() or (number == 1 and _START_LINE.match(line.strip())):
            continue
        name, separator, value = line.partition(":")
        if not separator or not _HEADER_NAME.match(name):
            raise ValidationError("--headers", f"line {number} is not 'Name: value'")
        pairs.append((name, value.strip()))
    return pairs


def _json_headers(text: str) -> list[tuple[str, str]]:
    value = parse_json_object("--headers", text)
    for name, item in value.items():
        if not isinstance(item, str):
            raise ValidationError("--headers", f"the value of {name!r} must be a str")
    return list(value.items())


def _describe_event(event: dict[str, Any]) -> str:
    details = " ".join(
        f"{name}={value}" for name, value in event.items() if name != "name" and value is not None
    )
    return f"{event.get('name')} {details}".rstrip()


# decrypt


def run_decrypt(ctx: Context) -> int:
    """Print the data of an event sent on a ``private-encrypted-`` channel."""
    args = ctx.args
    config = ctx.config(app_required=False)
    if config.encryption_master_key_base64 is None:
        raise ConfigurationError(
            "encryption master key",
            f"not set. Pass --master-key-file or set {MASTER_KEY_VARIABLE}",
        )
    data = args.data
    if data == "-":
        data = decode_utf8("DATA", ctx.inputs.read_stdin("DATA")).strip()
    value = encryption.decrypt(config, args.channel, data)
    ctx.output.result({"channel": args.channel, "data": value}, [_json_text(value)])
    return 0


def _json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
