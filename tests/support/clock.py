"""A simulated clock that moto's SQS reads too, so message delays pass without waiting.

moto's SQS decides whether a delayed message is visible from
``moto.sqs.models.unix_time_millis``; patching that one name (the server runs
in this process) makes the real SQS API honour ``DelaySeconds`` and visibility
timeouts against the test's clock. Nothing sleeps: a test advances the clock.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest


class SimulatedClock:
    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        self.now = start

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now

    def millis(self) -> float:
        return self.now.timestamp() * 1000

    def seconds(self) -> float:
        return self.now.timestamp()

    def drive_sqs(self, monkeypatch: pytest.MonkeyPatch) -> SimulatedClock:
        """Make moto's SQS keep time by this clock (undone by monkeypatch at the test's end)."""
        import moto.sqs.models

        monkeypatch.setattr(moto.sqs.models, "unix_time_millis", lambda *_: self.millis())
        monkeypatch.setattr(moto.sqs.models, "unix_time", lambda *_: self.seconds())
        return self
