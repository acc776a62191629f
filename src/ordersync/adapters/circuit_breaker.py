"""A circuit breaker for one outside system (one URL), shared by every thread of a process.

Closed: calls go through and consecutive failed calls are counted. After `failures_to_open`
of them it opens: every call is refused at once, without touching the network, so a system
that is down costs callers nothing and is not hammered. After `half_open_after_s` it lets
one trial call through (half-open): success closes it, failure opens it for another period.

Why not pybreaker: its `CircuitBreaker.call` holds the breaker's lock while the guarded
function runs, so every call to one URL would be serialised behind the slowest one, and its
half-open "one trial call" relies on that same lock. Here the lock guards only the state's
transitions (a few attribute reads and writes), never a call in flight.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass


class CircuitOpen(Exception):
    """The breaker refused the call: the outside system failed too often, too recently."""


# Half-open admits this many trial calls at a time: one is enough to learn whether the
# system is back, and only one caller pays for it if it is not.
HALF_OPEN_TRIAL_CALLS = 1


@dataclass
class BreakerState:
    """What a breaker remembers; kept apart so that another storage (shared between
    processes, say) could replace this in-memory one without touching the transitions."""

    consecutive_failures: int = 0
    opened_at: float | None = None  # monotonic seconds; None: closed
    trials_in_flight: int = 0


class CircuitBreaker:
    def __init__(
        self,
        *,
        # Consecutive failed calls (a call = one request to the gateway, its retries
        # included) that open the circuit; from settings (`*_breaker_failures`).
        failures_to_open: int,
        # Seconds an open circuit refuses calls before it lets a trial through; from
        # settings (`*_breaker_reset_s`).
        half_open_after_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if failures_to_open < 1 or half_open_after_s <= 0:
            raise ValueError("failures_to_open must be >= 1 and half_open_after_s > 0")
        self.failures_to_open = failures_to_open
        self.half_open_after_s = half_open_after_s
        self._clock = clock
        self._lock = threading.Lock()
        self._state = BreakerState()

    @property
    def is_open(self) -> bool:
        """Open or half-open: the last calls failed and the system has not answered since."""
        with self._lock:
            return self._state.opened_at is not None

    @contextmanager
    def guard(self, *, is_failure: Callable[[BaseException], bool]) -> Iterator[None]:
        """Run the block as one call through the breaker: CircuitOpen at once when it is
        open; otherwise the block's outcome is recorded - an exception for which
        `is_failure` is true counts as a failure, anything else as a success (the system
        answered)."""
        trial = self._admit()
        try:
            yield
        except BaseException as exc:
            self._record(success=not is_failure(exc), trial=trial)
            raise
        self._record(success=True, trial=trial)

    def _admit(self) -> bool:
        """Whether the call is a half-open trial; CircuitOpen when it may not go through."""
        with self._lock:
            state = self._state
            if state.opened_at is None:
                return False
            waited = self._clock() - state.opened_at
            if waited < self.half_open_after_s:
                raise CircuitOpen(
                    f"circuit open after {state.consecutive_failures} consecutive failures, "
                    f"next try in {self.half_open_after_s - waited:.1f} s"
                )
            if state.trials_in_flight >= HALF_OPEN_TRIAL_CALLS:
                raise CircuitOpen("circuit open, a trial call is in flight")
            state.trials_in_flight += 1
            return True

    def _record(self, *, success: bool, trial: bool) -> None:
        with self._lock:
            state = self._state
            if trial:
                state.trials_in_flight -= 1
            if success:
                state.consecutive_failures = 0
                # A call admitted while closed may end after the circuit opened: its success
                # shows the system answers, which is what a trial would have shown.
                state.opened_at = None
                return
            state.consecutive_failures += 1
            if trial or (
                state.opened_at is None and state.consecutive_failures >= self.failures_to_open
            ):
                state.opened_at = self._clock()
