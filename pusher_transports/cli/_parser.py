"""The argument parser: global options, subcommands and one-line usage errors."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import Any, NoReturn

from pusher_core._version import __version__
from pusher_transports.cli._batch import run_batch
from pusher_transports.cli._context import PROGRAM, Context
from pusher_transports.cli._local import (
    run_auth_channel,
    run_auth_user,
    run_decrypt,
    run_sign,
    run_webhook_sign,
    run_webhook_verify,
)
from pusher_transports.cli._remote import (
    run_channel,
    run_channels,
    run_terminate,
    run_trigger,
    run_users,
)
from pusher_transports.cli._settings import MASTER_KEY_VARIABLE, URL_VARIABLE
from pusher_transports.cli._transports import DEFAULT_TRANSPORT, TRANSPORTS

Handler = Callable[[Context], int]

DEFAULT_PROGRESS_EVERY = 1000
# The Channels HTTP API uses only these two methods.
_SIGN_METHODS = ("GET", "POST")

_DESCRIPTION = f"""\
Publish events, query channels, sign requests and webhooks, and authorize
connections for a Pusher Channels app.

The app comes from {URL_VARIABLE} (http(s)://KEY:SECRET@HOST[:PORT]/apps/APP_ID)
or --url; options such as --host or --secret-file replace single fields of it.
Options go before or after the command name.

exit status: 0 success, 1 the server rejected the request (or webhook verify
found the webhook invalid), 2 invalid input or configuration, 3 network
failure or timeout."""


class UsageError(Exception):
    """The command line is invalid; the message is one line for standard error."""


class Parser(argparse.ArgumentParser):
    """An `argparse.ArgumentParser` whose usage errors are raised as `UsageError`.

    `main` prints them as one line, instead of the usage text argparse prints and the
    exit it makes.
    """

    def error(self, message: str) -> NoReturn:
        """Raise the usage error with a pointer to this command's help."""
        raise UsageError(f"{_redact_values(message)} (see '{self.prog} --help')")


def _redact_values(message: str) -> str:
    # A mistyped option such as --secrt=VALUE is echoed as unrecognized; its value may
    # be the secret, so only the part before '=' is kept.
    prefix = "unrecognized arguments: "
    if not message.startswith(prefix):
        return message
    words = message[len(prefix) :].split(" ")
    redacted = [word.split("=", 1)[0] + "=..." if "=" in word else word for word in words]
    return prefix + " ".join(redacted)


# argparse names the type function in its own message for a ValueError, so these
# raise ArgumentTypeError, whose message is printed as it is.
def _non_negative_int(text: str) -> int:
    try:
        value: int | None = int(text)
    except ValueError:
        value = None
    if value is None or value < 0:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0, got {text!r}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    # NaN fails this comparison too.
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a number above 0, got {text!r}")
    return value


def _add_global_options(parser: argparse.ArgumentParser, *, on_command: bool) -> None:
    # On a command the defaults are SUPPRESS, so an option given only before the
    # command name is not reset by the command's parser.
    def add(*names: str, **options: Any) -> None:
        if on_command:
            options["default"] = argparse.SUPPRESS
        group.add_argument(*names, **options)

    group = parser.add_argument_group("app configuration")
    add("--url", metavar="URL", help=f"the app URL (default: ${URL_VARIABLE})")
    add("--app-id", metavar="ID", help="the app id")
    add("--key", metavar="KEY", help="the app key")
    add("--secret", metavar="SECRET", help="the app secret; visible to other local users")
    add("--secret-file", metavar="PATH", help="read the secret from a file ('-' for stdin)")
    add("--secret-stdin", action="store_true", help="read the secret from standard input")
    add("--host", metavar="HOST", help="the API host, without scheme or port")
    add("--port", metavar="PORT", type=int, help="the API port (default: 443, or 80 without TLS)")
    add("--cluster", metavar="NAME", help="the cluster, such as eu, for api-NAME.pusher.com")
    add("--tls", action=argparse.BooleanOptionalAction, help="use HTTPS (default) or HTTP")
    add("--base-path", metavar="PATH", help="a path prefix before /apps/, such as /pusher")
    add("--timeout", metavar="SECONDS", type=_positive_float, help="seconds per request")
    add(
        "--master-key-file",
        metavar="PATH",
        help=f"read the base64 encryption master key from a file (default: ${MASTER_KEY_VARIABLE})",
    )

    group = parser.add_argument_group("output and transport")
    add(
        "--transport",
        metavar="NAME",
        help=f"the HTTP transport: {', '.join(TRANSPORTS)} (default: {DEFAULT_TRANSPORT})",
    )
    add("--proxy", metavar="URL", help="send through this HTTP proxy (implies --transport proxy)")
    add("--json", action="store_true", help="print machine-readable JSON")
    add("-v", "--verbose", action="store_true", help="log HTTP steps on standard error")


def _command(
    commands: argparse._SubParsersAction[Parser], name: str, handler: Handler, help_text: str
) -> Parser:
    parser = commands.add_parser(
        name,
        help=help_text,
        description=help_text[0].upper() + help_text[1:] + ".",
        allow_abbrev=False,
    )
    parser.set_defaults(handler=handler)
    _add_global_options(parser, on_command=True)
    return parser


def _add_sign(commands: argparse._SubParsersAction[Parser]) -> None:
    parser = _command(
        commands, "sign", run_sign, "print a signed query string for a request sent by other means"
    )
    parser.add_argument(
        "method",
        metavar="METHOD",
        type=str.upper,
        choices=_SIGN_METHODS,
        help="the HTTP method: GET or POST",
    )
    parser.add_argument(
        "path", metavar="PATH", help="the path, such as /events or /apps/APP_ID/events"
    )
    parser.add_argument("--body", metavar="TEXT", help="the exact body to send")
    parser.add_argument(
        "--body-file", metavar="PATH", help="read the body from a file ('-' for stdin)"
    )
    parser.add_argument(
        "--param", metavar="NAME=VALUE", action="append", help="a query param to sign; repeatable"
    )
    parser.add_argument(
        "--timestamp",
        metavar="SECONDS",
        type=_non_negative_int,
        help="the auth_timestamp, in seconds since the epoch (default: now)",
    )
    parser.add_argument("--url-output", action="store_true", help="print the full URL")


def _add_trigger(commands: argparse._SubParsersAction[Parser]) -> None:
    parser = _command(commands, "trigger", run_trigger, "publish one event")
    parser.add_argument(
        "-c",
        "--channel",
        metavar="CHANNEL",
        action="append",
        required=True,
        help="a channel to publish on; repeat for up to 100 channels",
    )
    parser.add_argument("-e", "--event", metavar="EVENT", required=True, help="the event name")
    parser.add_argument("data", metavar="DATA", nargs="?", help="the event data; '-' for stdin")
    parser.add_argument("--data-file", metavar="PATH", help="read the data from a file")
    parser.add_argument("--socket-id", metavar="ID", help="a connection to exclude")
    parser.add_argument("--info", metavar="ATTRS", help="channel attributes to return")


def _add_batch(commands: argparse._SubParsersAction[Parser]) -> None:
    parser = _command(
        commands, "batch", run_batch, "publish events from JSON lines, up to 10 per request"
    )
    parser.add_argument(
        "file",
        metavar="FILE",
        nargs="?",
        default="-",
        help='JSON lines, each {"channel", "name", "data"[, "socket_id", "info"]} (default: stdin)',
    )
    parser.add_argument(
        "--progress-every",
        metavar="N",
        type=_non_negative_int,
        default=DEFAULT_PROGRESS_EVERY,
        help=f"report progress every N events on stderr; 0 for never "
        f"(default: {DEFAULT_PROGRESS_EVERY})",
    )
    parser.add_argument(
        "--ordered",
        action="store_true",
        help="send one request at a time in file order, instead of channels in parallel",
    )


def _add_queries(commands: argparse._SubParsersAction[Parser]) -> None:
    parser = _command(commands, "channels", run_channels, "list the occupied channels")
    parser.add_argument("--prefix", metavar="PREFIX", help="only channels starting with PREFIX")
    parser.add_argument("--info", metavar="ATTRS", help="attributes, such as user_count")

    parser = _command(commands, "channel", run_channel, "show the state of one channel")
    parser.add_argument("name", metavar="NAME", help="the channel name")
    parser.add_argument("--info", metavar="ATTRS", help="attributes, such as subscription_count")

    parser = _command(commands, "users", run_users, "list the users of a presence channel")
    parser.add_argument("name", metavar="NAME", help="the presence- channel name")

    parser = _command(commands, "terminate", run_terminate, "disconnect every connection of a user")
    parser.add_argument("user_id", metavar="USER_ID", help="the user id")


def _add_auth(commands: argparse._SubParsersAction[Parser]) -> None:
    group = commands.add_parser(
        "auth",
        help="print the JSON an auth endpoint returns",
        description="Print the JSON an auth endpoint returns, to test a client without one.",
        allow_abbrev=False,
    )
    kinds = group.add_subparsers(dest="auth_kind", metavar="KIND", required=True)

    parser = _command(kinds, "channel", run_auth_channel, "authorize a private or presence channel")
    parser.add_argument("socket_id", metavar="SOCKET_ID", help="the socket id, such as 123.456")
    parser.add_argument("channel", metavar="CHANNEL", help="the channel name")
    parser.add_argument(
        "--channel-data",
        metavar="JSON",
        help='the presence member, such as {"user_id": "1", "user_info": {}}',
    )

    parser = _command(kinds, "user", run_auth_user, "authenticate a user sign-in")
    parser.add_argument("socket_id", metavar="SOCKET_ID", help="the socket id, such as 123.456")
    parser.add_argument(
        "--user-data", metavar="JSON", required=True, help='the user, such as {"id": "1"}'
    )


def _add_webhook(commands: argparse._SubParsersAction[Parser]) -> None:
    group = commands.add_parser(
        "webhook",
        help="sign or verify webhooks",
        description="Sign or verify webhooks.",
        allow_abbrev=False,
    )
    actions = group.add_subparsers(dest="webhook_action", metavar="ACTION", required=True)

    parser = _command(actions, "sign", run_webhook_sign, "print a signed webhook for testing")
    parser.add_argument(
        "--events",
        metavar="JSON",
        required=True,
        help='an event object or a list, such as {"name": "channel_occupied", "channel": "c"}',
    )
    parser.add_argument(
        "--time-ms", metavar="MS", type=_non_negative_int, help="time_ms (default: now)"
    )
    parser.add_argument("--headers-out", metavar="PATH", help="also write the headers to a file")
    parser.add_argument("--body-out", metavar="PATH", help="also write the body to a file")

    parser = _command(
        actions, "verify", run_webhook_verify, "check a received webhook; exit 1 if invalid"
    )
    parser.add_argument(
        "--headers",
        metavar="PATH",
        required=True,
        help="'Name: value' lines or a JSON object ('-' for stdin)",
    )
    parser.add_argument(
        "--body", metavar="PATH", required=True, help="the raw body ('-' for stdin)"
    )
    parser.add_argument(
        "--max-age", metavar="SECONDS", type=_positive_float, help="reject an older time_ms"
    )


def _add_decrypt(commands: argparse._SubParsersAction[Parser]) -> None:
    parser = _command(
        commands, "decrypt", run_decrypt, "print the data of an event on an encrypted channel"
    )
    parser.add_argument(
        "--channel", metavar="NAME", required=True, help="the private-encrypted- channel"
    )
    parser.add_argument(
        "data", metavar="DATA", help='the event data {"nonce", "ciphertext"}; \'-\' for stdin'
    )


def build_parser() -> Parser:
    """Build the parser for every command."""
    parser = Parser(
        prog=PROGRAM,
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    parser.add_argument("--version", action="version", version=f"{PROGRAM} {__version__}")
    _add_global_options(parser, on_command=False)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for add in (_add_sign, _add_trigger, _add_batch, _add_queries, _add_auth, _add_webhook):
        add(commands)
    _add_decrypt(commands)
    return parser
