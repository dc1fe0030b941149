"""The documented command that runs the suite against a third-party transport."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parent.parent
FACTORY = "examples.stdlib_transport:make_transport"


@pytest.mark.registered_only
def test_stdlib_example_passes_whole_suite() -> None:
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-W",
        "error",
        "-q",
        "-p",
        "no:cacheprovider",
        "contract_tests",
        f"--transport={FACTORY}",
    ]

    result = subprocess.run(
        command, cwd=REPOSITORY, capture_output=True, text=True, timeout=110, check=False
    )

    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert " passed" in summary
    assert "failed" not in summary
    assert "error" not in summary
