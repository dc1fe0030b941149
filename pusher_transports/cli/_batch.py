"""The batch command: publish events read as JSON lines, in batch requests of up to 10.

Every line is parsed and validated before the first request, so a typo on the last line
of a file publishes nothing. By default the events go through `BulkPublisher`, which
sends the batches of different channels in parallel. ``--ordered`` sends one batch at a
time in file order instead. Both stop queueing events after the first failure.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from concurrent.futures import Future
from typing import Any

from pusher_core.builder import PreparedEvent, RequestBuilder
from pusher_core.errors import ValidationError
from pusher_core.results import ChannelAttributes, parse_batch_response
from pusher_core.validation import MAX_BATCH_EVENTS
from pusher_transports.cli._context import Context
from pusher_transports.cli._inputs import STDIN_NAME, parse_json_object
from pusher_transports.cli._remote import open_client
from pusher_transports.client import Client

_STDIN_LABEL = "standard input"

# Each event as read, for the bulk publisher, and as validated, for --ordered.
Events = list[tuple[Mapping[str, Any], PreparedEvent]]


def run_batch(ctx: Context) -> int:
    """Publish every event of a JSON lines file, reporting progress on standard error."""
    args = ctx.args
    source = _STDIN_LABEL if args.file == STDIN_NAME else args.file
    text = ctx.inputs.read_text("FILE", args.file)
    with open_client(ctx) as client:
        events = _read_events(client.builder, source, text)
        progress = Progress(ctx, len(events), args.progress_every)
        if args.ordered:
            _send_in_order(client, events, progress)
        else:
            _send_in_bulk(client, events, progress)

    ctx.output.result({"ok": True, "sent": progress.sent}, [f"sent {progress.sent} events"])
    return 0


def _read_events(builder: RequestBuilder, source: str, text: str) -> Events:
    """Parse and validate every line; blank lines are skipped."""
    events: Events = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{source} line {number}"
        event = parse_json_object(where, line)
        try:
            prepared = builder.prepare_batch_event(event)
        except ValidationError as exc:
            field = exc.field.removeprefix("events[0].")
            message = str(exc).removeprefix(f"{exc.field}: ")
            raise ValidationError(f"{where}: {field}", message) from None
        events.append((event, prepared))
    if not events:
        raise ValidationError("FILE", f"{source} contains no events")
    return events


class Progress:
    """Counts the events sent and reports every ``every`` of them on standard error.

    It is safe to call `add` from the bulk publisher's lane threads.
    """

    def __init__(self, ctx: Context, total: int, every: int) -> None:
        self.total = total
        self.sent = 0
        self.first_error: BaseException | None = None
        self._ctx = ctx
        self._every = every
        self._lock = threading.Lock()

    def add(self, count: int) -> None:
        """Count events the server accepted, and report each multiple of ``every`` passed."""
        with self._lock:
            before, self.sent = self.sent, self.sent + count
            if self._every > 0 and before // self._every != self.sent // self._every:
                self._ctx.output.note(f"sent {self.sent} of {self.total} events")

    def fail(self, error: BaseException) -> None:
        """Keep the first failure, which decides the exit status."""
        with self._lock:
            if self.first_error is None:
                self.first_error = error

    @property
    def failed(self) -> bool:
        """Whether any event failed."""
        with self._lock:
            return self.first_error is not None

    def raise_first_error(self) -> None:
        """Report how far the run got, then raise the first failure, if there was one."""
        if self.first_error is None:
            return
        self._ctx.output.note(f"sent {self.sent} of {self.total} events before the failure")
        raise self.first_error


def _send_in_order(client: Client, events: Events, progress: Progress) -> None:
    prepared = [item for _, item in events]
    for start in range(0, len(prepared), MAX_BATCH_EVENTS):
        chunk = prepared[start : start + MAX_BATCH_EVENTS]
        request = client.builder.trigger_prepared(chunk)
        try:
            parse_batch_response(client.send(request), request)
        except Exception as exc:
            progress.fail(exc)
            break
        progress.add(len(chunk))
    progress.raise_first_error()


def _send_in_bulk(client: Client, events: Events, progress: Progress) -> None:
    from pusher_transports.bulk import BulkPublisher

    with BulkPublisher(client) as publisher:
        for event, _ in events:
            if progress.failed:
                break
            future = publisher.publish(
                event["channel"],
                event["name"],
                event["data"],
                socket_id=event.get("socket_id"),
                info=event.get("info"),
            )
            future.add_done_callback(lambda done: _record(progress, done))
    progress.raise_first_error()


def _record(progress: Progress, future: Future[ChannelAttributes]) -> None:
    error = future.exception()
    if error is None:
        progress.add(1)
    else:
        progress.fail(error)
