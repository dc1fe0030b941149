"""The state each command runs with: options, environment, inputs and output."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Mapping
from typing import Any

from pusher_core.config import Config
from pusher_transports.cli._inputs import Inputs
from pusher_transports.cli._settings import load_config

PROGRAM = "pusher-channels"


class Output:
    """Writes results to standard output, as text lines or, with ``--json``, as JSON.

    Progress and notes go to standard error, so standard output contains only the result.
    """

    def __init__(self, json_mode: bool) -> None:
        self.json_mode = json_mode

    def result(self, value: Any, lines: Iterable[str]) -> None:
        """Write ``value`` as one JSON document in JSON mode, else the text lines."""
        if self.json_mode:
            self.json(value)
            return
        for line in lines:
            sys.stdout.write(line + "\n")

    def json(self, value: Any) -> None:
        """Write ``value`` as one line of JSON, keeping non-ASCII characters as they are."""
        sys.stdout.write(json.dumps(value, ensure_ascii=False) + "\n")

    def note(self, text: str) -> None:
        """Write a progress line or a note to standard error."""
        sys.stderr.write(f"{PROGRAM}: {text}\n")
        sys.stderr.flush()


class Context:
    """The state one command runs with.

    Attributes:
        args: The parsed options.
        environ: The environment variables.
        inputs: The reader for files and standard input.
        output: The writer for results and notes.
    """

    def __init__(self, args: argparse.Namespace, environ: Mapping[str, str]) -> None:
        self.args = args
        self.environ = environ
        self.inputs = Inputs()
        self.output = Output(bool(getattr(args, "json", False)))

    def config(self, *, app_required: bool = True) -> Config:
        """Build the app configuration; see `load_config`."""
        return load_config(self.args, self.environ, self.inputs, app_required=app_required)
