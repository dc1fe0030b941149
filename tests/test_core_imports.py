"""The core must load no I/O module, so it can be embedded in any HTTP stack."""

from __future__ import annotations

import json
import subprocess
import sys

IO_MODULES = ["urllib3", "aiohttp", "socket", "ssl", "asyncio", "http.client", "nacl"]


def test_core_loads_no_io_module() -> None:
    script = (
        "import json, sys\n"
        "import pusher_core\n"
        "import pusher_core.results, pusher_core.signing, pusher_core.encryption\n"
        f"print(json.dumps([name for name in {IO_MODULES!r} if name in sys.modules]))\n"
    )
    output = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(output) == []


def test_probe_detects_a_loaded_module() -> None:
    script = (
        "import json, sys, socket\n"
        "import pusher_core\n"
        f"print(json.dumps([name for name in {IO_MODULES!r} if name in sys.modules]))\n"
    )
    output = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(output) == ["socket"]
