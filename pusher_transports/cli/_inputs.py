"""Reading the CLI's inputs: files, standard input and JSON arguments.

Every failure raises `ValidationError` naming the option at fault, so `main` reports it
as bad input with exit status 2. Standard input can feed only one value per run,
because the first read consumes it.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from pusher_core.errors import ValidationError

STDIN_NAME = "-"


class Inputs:
    """Reads option values from files, or from standard input, which one option at most may read."""

    def __init__(self) -> None:
        self._stdin_owner: str | None = None

    def read_stdin(self, option: str) -> bytes:
        """Return all of standard input, or raise if another option already read it."""
        if self._stdin_owner is not None:
            raise ValidationError(
                option,
                f"cannot read standard input, because {self._stdin_owner} already read it",
            )
        self._stdin_owner = option
        stream = sys.stdin
        # Text-mode stdin would translate line endings, so prefer the byte stream.
        buffer = getattr(stream, "buffer", None)
        if buffer is not None:
            data: bytes = buffer.read()
            return data
        return stream.read().encode("utf-8")

    def read_bytes(self, option: str, path: str) -> bytes:
        """Return a file's bytes exactly, reading standard input for ``-``."""
        if path == STDIN_NAME:
            return self.read_stdin(option)
        try:
            with open(path, "rb") as file:
                return file.read()
        except OSError as exc:
            raise ValidationError(option, f"cannot read {path!r}: {exc.strerror}") from None

    def read_text(self, option: str, path: str) -> str:
        """Return a file's content decoded as UTF-8, reading standard input for ``-``."""
        return decode_utf8(option, self.read_bytes(option, path))

    def read_line_value(self, option: str, path: str) -> str:
        """Return a one-line value, such as a secret, without its final line ending."""
        text = self.read_text(option, path)
        return strip_line_ending(text)


def decode_utf8(option: str, data: bytes) -> str:
    """Decode bytes as UTF-8, or raise naming the option."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValidationError(option, f"is not UTF-8 text (byte {exc.start})") from None


def strip_line_ending(text: str) -> str:
    """Remove one final ``\\n`` or ``\\r\\n``, which editors and ``echo`` add."""
    if text.endswith("\r\n"):
        return text[:-2]
    if text.endswith("\n"):
        return text[:-1]
    return text


def parse_json(option: str, text: str) -> Any:
    """Decode a JSON argument, or raise naming the option and the position of the fault."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationError(
            option, f"is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except RecursionError:
        raise ValidationError(option, "is not valid JSON: nested too deeply") from None


def parse_json_object(option: str, text: str) -> dict[str, Any]:
    """Decode a JSON argument that must be an object."""
    value = parse_json(option, text)
    if not isinstance(value, dict):
        raise ValidationError(option, f"must be a JSON object, got {type(value).__name__}")
    return value
