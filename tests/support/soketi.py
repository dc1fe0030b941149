"""Run a soketi server (peers/node_modules/@soketi/soketi 1.6.1) on a loopback port."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.node import (
    NODE_MODULES_DIR,
    PeerError,
    PeerTimeoutError,
    check_node_peers,
    child_environment,
    node_executable,
)

SOKETI_SCRIPT = NODE_MODULES_DIR / "@soketi" / "soketi" / "bin" / "server.js"
LOOPBACK_HOST = "127.0.0.1"

# The webhook event types soketi 1.6.1 can send, all enabled by default.
WEBHOOK_EVENT_TYPES = (
    "channel_occupied",
    "channel_vacated",
    "member_added",
    "member_removed",
    "client_event",
)

# Number of log lines quoted in error messages.
LOG_TAIL_LINES = 40


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free when this function checked it.

    Another process can take the port before the caller binds it, so a server
    started on it may still fail to listen.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK_HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def _check_soketi_credential(name: str, value: str) -> None:
    # soketi passes every SOKETI_* value through JSON.parse, so a key such as
    # "123" or "true" would turn into a number or a boolean and break signing.
    # The app id is the exception, because soketi converts it back to a string.
    if not value:
        raise ValueError(f"{name} must be a non-empty string")
    try:
        json.loads(value)
    except ValueError:
        return
    raise ValueError(f"{name}={value!r} is valid JSON, which soketi would not keep as a string")


class SoketiServer:
    """A soketi process with one app, listening on a free port of 127.0.0.1.

    Use it as a context manager or call start() and stop(). The process writes
    its output to ``log_path``, which stop() deletes. After stop(), ``exit_code``
    is the status of the reaped process.
    """

    def __init__(
        self,
        *,
        app_id: str = "app-id",
        key: str = "app-key",
        secret: str = "app-secret",
        webhook_url: str | None = None,
        webhook_event_types: tuple[str, ...] = WEBHOOK_EVENT_TYPES,
        user_authentication: bool = True,
        user_authentication_timeout: float = 3600.0,
        startup_timeout: float = 30.0,
    ) -> None:
        _check_soketi_credential("key", key)
        _check_soketi_credential("secret", secret)
        if not app_id:
            raise ValueError("app_id must be a non-empty string")
        self.host = LOOPBACK_HOST
        self.port = 0
        self.app_id = app_id
        self.key = key
        self.secret = secret
        self.webhook_url = webhook_url
        self.webhook_event_types = webhook_event_types
        self.user_authentication = user_authentication
        self.user_authentication_timeout = user_authentication_timeout
        self.startup_timeout = startup_timeout
        self.exit_code: int | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._log_dir: tempfile.TemporaryDirectory[str] | None = None

    @property
    def url(self) -> str:
        """The app URL in the form ``http://KEY:SECRET@127.0.0.1:PORT/apps/APP_ID``."""
        return f"http://{self.key}:{self.secret}@{self.host}:{self.port}/apps/{self.app_id}"

    @property
    def base_url(self) -> str:
        """The server root URL, ``http://127.0.0.1:PORT``, without credentials."""
        return f"http://{self.host}:{self.port}"

    @property
    def log_path(self) -> Path:
        """The file that receives soketi's stdout and stderr."""
        if self._log_dir is None:
            raise PeerError("soketi has not been started")
        return Path(self._log_dir.name) / "soketi.log"

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        """Return the last lines of soketi's output, or a note if there is none yet."""
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except (OSError, PeerError) as error:
            return f"(soketi log unavailable: {error})"
        return "\n".join(text.splitlines()[-lines:]) or "(soketi log is empty)"

    def _environment(self, metrics_port: int) -> dict[str, str]:
        settings = {
            "SOKETI_DEFAULT_APP_ID": self.app_id,
            "SOKETI_DEFAULT_APP_KEY": self.key,
            "SOKETI_DEFAULT_APP_SECRET": self.secret,
            "SOKETI_DEFAULT_APP_ENABLE_CLIENT_MESSAGES": "true",
            "SOKETI_HOST": self.host,
            "SOKETI_PORT": str(self.port),
            # soketi opens a second listener for /usage even with metrics
            # disabled, by default on 0.0.0.0:9601. Keep it on loopback and on
            # a free port so that several servers can run at once.
            "SOKETI_METRICS_ENABLED": "false",
            "SOKETI_METRICS_HOST": self.host,
            "SOKETI_METRICS_SERVER_PORT": str(metrics_port),
            # The default 3000 ms grace period would delay every stop().
            "SOKETI_SHUTDOWN_GRACE_PERIOD": "0",
        }
        if self.user_authentication:
            # soketi 1.6.1 ignores pusher:signin unless user authentication is
            # on, and then it closes every connection that has not signed in
            # within the timeout, which defaults to 30 s.
            settings["SOKETI_DEFAULT_APP_USER_AUTHENTICATION"] = "true"
            timeout_ms = round(self.user_authentication_timeout * 1000)
            settings["SOKETI_USER_AUTHENTICATION_TIMEOUT"] = str(timeout_ms)
        if self.webhook_url is not None:
            webhooks = [{"url": self.webhook_url, "event_types": list(self.webhook_event_types)}]
            settings["SOKETI_DEFAULT_APP_WEBHOOKS"] = json.dumps(webhooks)
        return child_environment(settings)

    def start(self) -> None:
        """Start soketi and wait until ``GET /`` returns ``OK``, raising PeerError on failure."""
        if self._process is not None:
            raise PeerError("soketi is already running")
        check_node_peers()
        self.port = free_port()
        self._log_dir = tempfile.TemporaryDirectory(prefix="soketi-")
        with open(self.log_path, "wb") as log_file:
            # The working folder is the empty log folder because soketi loads a
            # .env file from its working folder.
            self._process = subprocess.Popen(
                [node_executable(), str(SOKETI_SCRIPT), "start"],
                cwd=self._log_dir.name,
                env=self._environment(metrics_port=free_port()),
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise

    def _wait_until_ready(self) -> None:
        # soketi logs "Server is up and running!" even when it failed to bind
        # the port, so only an OK response on the port counts as ready.
        deadline = time.monotonic() + self.startup_timeout
        last_error = "no probe made"
        while time.monotonic() < deadline:
            assert self._process is not None
            exit_code = self._process.poll()
            if exit_code is not None:
                raise PeerError(
                    f"soketi exited with status {exit_code} during startup on port {self.port}.\n"
                    f"Log tail:\n{self.log_tail()}"
                )
            status, body = self._probe()
            if status == 200 and body == "OK":
                return
            last_error = f"status {status}, body {body!r}"
            time.sleep(0.1)
        raise PeerTimeoutError(
            f"soketi did not respond with OK on {self.base_url}/ within {self.startup_timeout} s "
            f"(last probe: {last_error}).\nLog tail:\n{self.log_tail()}"
        )

    def _probe(self) -> tuple[int | None, str]:
        # http.client ignores proxy variables, unlike urllib.
        connection = http.client.HTTPConnection(self.host, self.port, timeout=1.0)
        try:
            connection.request("GET", "/")
            response = connection.getresponse()
            return response.status, response.read().decode("utf-8", errors="replace")
        except OSError as error:
            return None, str(error)
        finally:
            connection.close()

    def stop(self, timeout: float = 10.0) -> None:
        """Terminate soketi's process group, wait for it, and delete the log."""
        process, self._process = self._process, None
        if process is not None:
            _terminate_group(process, timeout)
            self.exit_code = process.returncode
        if self._log_dir is not None:
            self._log_dir.cleanup()
            self._log_dir = None

    def __enter__(self) -> SoketiServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _terminate_group(process: subprocess.Popen[bytes], timeout: float) -> None:
    # SIGTERM lets soketi close its sockets. SIGKILL covers a hung shutdown.
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=timeout)
            return
        except subprocess.TimeoutExpired:
            continue
    raise PeerError(f"soketi process {process.pid} did not exit after SIGKILL")


@contextmanager
def run_soketi(
    *,
    app_id: str = "app-id",
    key: str = "app-key",
    secret: str = "app-secret",
    webhook_url: str | None = None,
    user_authentication: bool = True,
    user_authentication_timeout: float = 3600.0,
) -> Iterator[SoketiServer]:
    """Run soketi for the duration of the ``with`` block and yield the running server.

    ``webhook_url`` receives every webhook event type in WEBHOOK_EVENT_TYPES.
    ``user_authentication`` lets clients sign in. soketi ignores ``pusher:signin``
    without it, and with it closes with code 4009 every connection that has not
    signed in within ``user_authentication_timeout`` seconds.
    """
    server = SoketiServer(
        app_id=app_id,
        key=key,
        secret=secret,
        webhook_url=webhook_url,
        user_authentication=user_authentication,
        user_authentication_timeout=user_authentication_timeout,
    )
    with server:
        yield server
