"""The ``pusher-channels`` command line: publish, query, sign and verify from a shell.

`main` runs one command and returns its exit status:

- 0: success.
- 1: the server rejected the request, or its response body is not what the API
  defines, or ``webhook verify`` found the webhook invalid.
- 2: invalid input or configuration: a usage error, an invalid value, an unreadable
  file, or a missing secret or master key.
- 3: the network failed or a request timed out.
- 70: an unexpected internal error, which is a bug.
- 130: interrupted with Ctrl-C.

Every error is one line on standard error, ``pusher-channels: error: ...``, and no
output quotes the app secret or the master key. With ``--json``, an error raised while
a command runs is also one JSON object on standard output:
``{"ok": false, "error": TYPE, "status": STATUS, "message": MESSAGE}``.
"""

from __future__ import annotations

import argparse
import enum
import json
import logging
import os
import sys
from collections.abc import Sequence

from pusher_core.errors import (
    EncryptionError,
    PusherError,
    RequestError,
    TransportError,
    UnexpectedResponseError,
    ValidationError,
)
from pusher_transports.cli._context import PROGRAM, Context
from pusher_transports.cli._parser import UsageError, build_parser
from pusher_transports.cli._settings import MASTER_KEY_VARIABLE
from pusher_transports.cli._transports import transport_name

__all__ = ["ExitStatus", "main"]


class ExitStatus(enum.IntEnum):
    """The exit statuses of ``pusher-channels``."""

    OK = 0
    REJECTED = 1
    INVALID_INPUT = 2
    NETWORK_FAILURE = 3
    INTERNAL_ERROR = 70
    INTERRUPTED = 130


# Checked in order, so a subclass must come before its base class.
_STATUS_BY_ERROR: tuple[tuple[type[BaseException], ExitStatus], ...] = (
    (RequestError, ExitStatus.REJECTED),
    (UnexpectedResponseError, ExitStatus.REJECTED),
    (ValidationError, ExitStatus.INVALID_INPUT),
    (EncryptionError, ExitStatus.INVALID_INPUT),
    (TransportError, ExitStatus.NETWORK_FAILURE),
    (PusherError, ExitStatus.REJECTED),
)

# Config fields whose core messages name a Config argument, with the CLI way to set them.
_FIELD_HINTS = {
    "encryption_master_key_base64": f"pass --master-key-file or set {MASTER_KEY_VARIABLE}",
    "secret": "give it once, with --secret-file, --secret-stdin, --secret or the URL",
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run one ``pusher-channels`` command and return its exit status.

    Args:
        argv: The arguments after the program name; by default ``sys.argv[1:]``.
    """
    try:
        args = build_parser().parse_args(argv)
    except UsageError as exc:
        return _fail(str(exc), ExitStatus.INVALID_INPUT)
    except SystemExit as exc:
        # --help and --version print and exit with status 0.
        return exc.code if isinstance(exc.code, int) else ExitStatus.OK

    log_handler = _log_to_stderr() if args.verbose else None
    try:
        return _run(args)
    finally:
        if log_handler is not None:
            logging.getLogger("pusher").removeHandler(log_handler)


def _run(args: argparse.Namespace) -> int:
    try:
        # Checked before the command runs, so that even a command that sends nothing
        # rejects a --proxy that would be ignored.
        transport_name(args)
        status: int = args.handler(Context(args, os.environ))
    except PusherError as exc:
        if getattr(args, "json", False):
            _print_json_failure(exc)
        return _fail(_message(exc), _status_for(exc))
    except KeyboardInterrupt:
        return _fail("interrupted", ExitStatus.INTERRUPTED)
    except BrokenPipeError:
        return _close_broken_stdout()
    except Exception as exc:
        # Only the type is shown, because the message of an unexpected error could
        # quote anything, a secret included.
        return _fail(
            f"internal error {type(exc).__name__}; please report it with the command you ran",
            ExitStatus.INTERNAL_ERROR,
        )
    return status


def _status_for(error: BaseException) -> ExitStatus:
    for error_type, status in _STATUS_BY_ERROR:
        if isinstance(error, error_type):
            return status
    return ExitStatus.REJECTED


def _message(error: PusherError) -> str:
    hint = _FIELD_HINTS.get(getattr(error, "field", ""))
    return f"{error} ({hint})" if hint else str(error)


def _print_json_failure(error: PusherError) -> None:
    # The status is the HTTP status (or the body's code) for a server rejection or an
    # unexpected body, and null for bad input and network failures.
    failure = {
        "ok": False,
        "error": type(error).__name__,
        "status": getattr(error, "status", None),
        "message": _message(error),
    }
    sys.stdout.write(json.dumps(failure, ensure_ascii=False) + "\n")


def _fail(message: str, status: ExitStatus) -> int:
    sys.stderr.write(f"{PROGRAM}: error: {_escape_unprintable(message)}\n")
    return int(status)


def _escape_unprintable(text: str) -> str:
    # An error can quote the server's body. Written as it is, a line break would split
    # the one-line message, and terminal escape codes could rewrite the screen.
    return "".join(
        char if char.isprintable() else char.encode("unicode_escape").decode("ascii")
        for char in text
    )


def _close_broken_stdout() -> int:
    # The reader of standard output went away, as with `| head`. Pointing stdout at
    # devnull keeps the interpreter's final flush from raising again.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return 128 + 13  # what a shell reports for a process ended by SIGPIPE


def _log_to_stderr() -> logging.Handler:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(f"{PROGRAM}: %(name)s: %(message)s"))
    # Only the SDK's loggers: urllib3's own debug lines include the signed URL.
    logger = logging.getLogger("pusher")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    return handler
