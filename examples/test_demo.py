"""The demo that ``scripts/demo`` runs, end to end against its own soketi and pusher-js."""

from __future__ import annotations

import pytest

from examples import demo

pytestmark = pytest.mark.e2e


def test_demo_reports_every_event(capsys: pytest.CaptureFixture[str]) -> None:
    status = demo.main()
    output = capsys.readouterr().out

    assert status == 0
    assert output.count("pusher-js received") == len(demo.SENT)
    assert output.rstrip().endswith("every event arrived as sent")
