"""Running the loopback nginx that every network workload sends to."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from bench import cores

CONFIG_TEMPLATE = Path(__file__).with_name("nginx.conf")
STARTUP_TIMEOUT = 10.0


def nginx_executable() -> str | None:
    """Return the nginx binary's path, or None when it is not installed."""
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin")


def free_port() -> int:
    """Return a TCP port of 127.0.0.1 that was free a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_listening(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"nginx exited with status {process.returncode}: {log.read_text()}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nginx did not listen on 127.0.0.1:{port} within {STARTUP_TIMEOUT} s")


@contextlib.contextmanager
def run_nginx() -> Iterator[int]:
    """Run nginx on a free loopback port for the ``with`` block and yield the port."""
    executable = nginx_executable()
    if executable is None:
        raise RuntimeError("nginx is not installed: run `apt-get install -y nginx-light`")
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="pusher-bench-nginx-") as prefix:
        config = Path(prefix) / "nginx.conf"
        text = CONFIG_TEMPLATE.read_text().replace("@PREFIX@", prefix)
        config.write_text(text.replace("@PORT@", str(port)))
        log = Path(prefix) / "error.log"
        command = [executable, "-p", prefix, "-e", str(log), "-c", str(config)]
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, preexec_fn=cores.pin_server())
        try:
            _wait_until_listening(port, process, log)
            yield port
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
