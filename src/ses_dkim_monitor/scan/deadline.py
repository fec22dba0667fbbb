"""The time a scan may take, watched by every step that can wait.

A Lambda has 15 minutes at most; a scan that runs past them is killed and
reports nothing. The handler gives the scan a deadline a reserve before the
end (alerting still has to run); whatever is not finished by then is
reported as ``unknown`` with the cause ``out-of-time``, never as healthy and
never as missing. The clock is injected so tests need no sleeps.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Deadline:
    at: float = float("inf")  # on ``clock``'s scale
    clock: Callable[[], float] = field(default=time.monotonic, compare=False)

    @classmethod
    def after(cls, seconds: float, *, clock: Callable[[], float] = time.monotonic) -> Deadline:
        return cls(clock() + max(seconds, 0.0), clock)

    @classmethod
    def never(cls) -> Deadline:
        return cls()

    def remaining(self) -> float:
        return self.at - self.clock()

    def passed(self) -> bool:
        return self.remaining() <= 0
