"""Drive peers/subscriber.js, a pusher-js 8.6.0 client, and collect what it reports."""

from __future__ import annotations

import contextlib
import json
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from typing import IO, Any

from tests.support.node import (
    PEERS_DIR,
    PeerError,
    PeerTimeoutError,
    check_node_peers,
    child_environment,
    node_executable,
)

SUBSCRIBER_SCRIPT = PEERS_DIR / "subscriber.js"
DEFAULT_TIMEOUT = 10.0

Record = dict[str, Any]
Match = str | Callable[[Record], bool]


def _as_predicate(match: Match) -> Callable[[Record], bool]:
    if callable(match):
        return match
    return lambda record: record.get("type") == match


def _subscription_result(channel: str) -> Callable[[Record], bool]:
    def matches(record: Record) -> bool:
        return record.get("channel") == channel and record.get("type") in (
            "subscribed",
            "subscription_error",
        )

    return matches


class Subscriber:
    """A running ``node peers/subscriber.js`` process and the JSON records it printed.

    ``config`` is the JSON config that subscriber.js documents (host, port, key,
    channels, channel_auth_endpoint, user_auth_endpoint, signin, client_events).
    Every wait method searches all records since start, in arrival order, so
    calling one twice returns the same record.
    """

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self._records: list[Record] = []
        self._condition = threading.Condition()
        self._stdout_closed = False
        self._process: subprocess.Popen[str] | None = None
        self._stderr_file: IO[bytes] | None = None
        self._reader: threading.Thread | None = None

    def start(self) -> None:
        """Start the node process and the thread that reads its stdout."""
        if self._process is not None:
            raise PeerError("subscriber is already running")
        check_node_peers()
        # stderr goes to a file because no thread reads it while the client runs.
        # close() closes the file.
        self._stderr_file = tempfile.TemporaryFile()  # noqa: SIM115
        self._process = subprocess.Popen(
            [node_executable(), str(SUBSCRIBER_SCRIPT), json.dumps(self.config)],
            cwd=PEERS_DIR,
            env=child_environment(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr_file,
            text=True,
            encoding="utf-8",
        )
        self._reader = threading.Thread(
            target=self._read_stdout,
            args=(self._process.stdout,),
            name="subscriber-stdout",
            daemon=True,
        )
        self._reader.start()

    def _read_stdout(self, stdout: IO[str]) -> None:
        for line in stdout:
            line = line.strip()
            if not line:
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                record = {"type": "invalid_line", "line": line}
            with self._condition:
                self._records.append(record)
                self._condition.notify_all()
        with self._condition:
            self._stdout_closed = True
            self._condition.notify_all()

    @property
    def records(self) -> list[Record]:
        """A copy of every record received so far, in arrival order."""
        with self._condition:
            return list(self._records)

    def stderr_text(self) -> str:
        """Return what the node process wrote to stderr so far."""
        if self._stderr_file is None:
            return ""
        with self._condition:
            self._stderr_file.seek(0)
            return self._stderr_file.read().decode("utf-8", errors="replace")

    def _describe(self) -> str:
        records = "\n".join(json.dumps(record) for record in self.records) or "(none)"
        return f"Records so far:\n{records}\nstderr:\n{self.stderr_text() or '(empty)'}"

    def wait_for(self, match: Match, timeout: float = DEFAULT_TIMEOUT) -> Record:
        """Return the first record whose type equals ``match`` or that ``match`` accepts.

        Raises PeerTimeoutError after ``timeout`` seconds, and PeerError if the
        process ends first. Both messages list every record seen so far.
        """
        return self._wait_for_matches(match, 1, timeout, f"a record matching {match!r}")[0]

    def _wait_for_matches(
        self, match: Match, count: int, timeout: float, what: str
    ) -> list[Record]:
        predicate = _as_predicate(match)
        deadline = time.monotonic() + timeout
        with self._condition:
            while True:
                found = [record for record in self._records if predicate(record)]
                if len(found) >= count:
                    return found[:count]
                if self._stdout_closed:
                    raise PeerError(f"subscriber exited before {what} arrived.\n{self._describe()}")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise PeerTimeoutError(
                        f"timed out after {timeout} s waiting for {what} "
                        f"({len(found)} found).\n{self._describe()}"
                    )
                self._condition.wait(remaining)

    def wait_subscribed(self, channels: Iterable[str], timeout: float = DEFAULT_TIMEOUT) -> None:
        """Wait until every channel in ``channels`` reported ``subscribed``.

        Raises PeerError as soon as one of them reports ``subscription_error``.
        """
        pending = set(channels)
        deadline = time.monotonic() + timeout
        for channel in sorted(pending):
            remaining = max(deadline - time.monotonic(), 0.0)
            record = self.wait_for(_subscription_result(channel), remaining)
            if record["type"] == "subscription_error":
                raise PeerError(
                    f"subscription to {channel!r} failed: {record['error']}.\n{self._describe()}"
                )

    @property
    def socket_id(self) -> str:
        """The socket id from the ``connected`` record, waiting up to DEFAULT_TIMEOUT for it."""
        return str(self.wait_for("connected")["socket_id"])

    def events(self, n: int, timeout: float = DEFAULT_TIMEOUT) -> list[Record]:
        """Return the first ``n`` ``event`` records, raising PeerTimeoutError if fewer arrive."""
        return self._wait_for_matches("event", n, timeout, f"{n} event record(s)")

    def collect(self, timeout: float) -> list[Record]:
        """Wait ``timeout`` seconds, then return every record received since start.

        Use it to check that something did not arrive.
        """
        time.sleep(timeout)
        return self.records

    def close(self, timeout: float = 10.0) -> None:
        """Stop the node process by closing its stdin, then join the reader thread."""
        process, self._process = self._process, None
        if process is None:
            return
        assert process.stdin is not None
        assert process.stdout is not None
        with contextlib.suppress(BrokenPipeError):
            process.stdin.close()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if self._reader is not None:
            self._reader.join(timeout)
        process.stdout.close()
        if self._stderr_file is not None:
            self._stderr_file.close()
            self._stderr_file = None

    def __enter__(self) -> Subscriber:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
