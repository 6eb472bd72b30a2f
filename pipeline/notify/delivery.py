"""One message over one channel, with retries: Transient failures are retried with exponential
backoff (or the peer's Retry-After) a few times within the pass, then handed back with the time of
the next try; Permanent failures are not retried. A Retry-After too long to wait within the pass
is honoured by the next pass instead.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from pipeline.notify.channels.base import Channel, Message, Permanent, Transient, Uncertain

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    attempts_per_pass: int = 3          # tries within one pass
    base: float = 1.0                   # first backoff (seconds), doubled each try
    max_wait_in_pass: float = 10.0      # a longer wait is left to a later pass
    max_backoff: float = 300.0          # between passes, at most this
    give_up_after: float = 86400.0      # then the notice is `failed` (recorded on the alert)

    def backoff(self, attempt: int) -> float:
        """Wait after the `attempt`-th failed try (1-based)."""
        return min(self.max_backoff, self.base * 2 ** (attempt - 1))


@dataclass(frozen=True)
class Outcome:
    ok: bool
    attempts: int
    error: str | None = None
    permanent: bool = False
    wait: float = 0.0                   # transient: seconds until the next try
    uncertain: bool = False             # may have been delivered: recorded as such, never resent


def deliver(channel: Channel, message: Message, policy: RetryPolicy, previous_attempts: int = 0,
            sleep: Callable[[float], None] = time.sleep) -> Outcome:
    attempts = 0
    while True:
        attempts += 1
        try:
            channel.send(message)
            return Outcome(True, attempts)
        except Uncertain as exc:
            log.warning("notification %s to %s via %s is uncertain: %s", message.id, message.leader_id, channel.type, exc)
            return Outcome(False, attempts, str(exc), permanent=True, uncertain=True)
        except Permanent as exc:
            log.warning("notification %s to %s via %s failed permanently: %s",
                        message.id, message.leader_id, channel.type, exc)
            return Outcome(False, attempts, str(exc), permanent=True)
        except Transient as exc:
            wait = max(exc.retry_after or 0.0, policy.backoff(previous_attempts + attempts))
            log.info("notification %s to %s via %s: %s (attempt %d; next in %.1fs)",
                     message.id, message.leader_id, channel.type, exc, previous_attempts + attempts, wait)
            if attempts >= policy.attempts_per_pass or wait > policy.max_wait_in_pass:
                return Outcome(False, attempts, str(exc), wait=min(wait, max(policy.max_backoff, exc.retry_after or 0)))
            sleep(wait)
