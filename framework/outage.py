"""A service's outage as its users see it: one warning when it starts, one line when it
ends, and when to try the service again meanwhile.

The cache and the rate limits (Redis) and each readiness check (Redis, the database) keep
going in their own way while their service is down; this is the one rule they share for
noticing it, so a long outage never floods the log.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import logging

__all__ = ["Outage"]


class Outage:
    """One user's view of a service (Redis, a database) going away and coming back.

    ``failed`` records a failed call and ``answered`` a successful one; the first failure
    of an outage logs one warning (``<subject>: <service> cannot be reached (<reason>);
    <fallback> until it answers again``) and the first success after it one line
    (``<subject>: <service> answers again after <n> s; <resumed>``), so a long outage never
    floods the log. Between failures ``waiting`` is true until the next try is due:
    ``retry_first`` seconds after the first failure, twice as long after each further one,
    up to ``retry_last`` (by default the same: a fixed pause). A caller that always asks
    the service simply never looks at ``waiting``.
    """

    def __init__(
        self,
        logger: logging.Logger,
        subject: str,
        fallback: str,
        resumed: str,
        *,
        service: str,
        retry_first: float = 1.0,
        retry_last: float | None = None,
    ) -> None:
        self.logger, self.subject, self.service = logger, subject, service
        self.fallback, self.resumed = fallback, resumed
        self.retry_first = retry_first
        self.retry_last = retry_first if retry_last is None else retry_last
        #: True from a failure until the next success.
        self.down = False
        self._since = 0.0
        self._retry_at = 0.0
        self._retry_in = retry_first
        self._lock = threading.Lock()

    def waiting(self) -> bool:
        """True while the service is down and the next try is not due: use the fallback
        without asking it (a service that stops answering costs a timeout per try, not per
        call)."""
        return self.down and time.monotonic() < self._retry_at

    def failed(self, reason: object) -> None:
        """A call failed (``reason``: the exception or a few words): note when to try
        again; log the warning if this starts an outage."""
        now = time.monotonic()
        with self._lock:
            starts = not self.down
            if starts:
                self.down, self._since, self._retry_in = True, now, self.retry_first
            self._retry_at = now + self._retry_in
            self._retry_in = min(self._retry_in * 2, self.retry_last)
        if starts:
            self.logger.warning(
                "%s: %s cannot be reached (%s); %s until it answers again",
                self.subject,
                self.service,
                reason,
                self.fallback,
            )

    def answered(self) -> None:
        """A call succeeded: log the recovery if an outage was under way."""
        if not self.down:
            return
        with self._lock:
            if not self.down:
                return
            self.down = False
            lasted = time.monotonic() - self._since
        self.logger.info(
            "%s: %s answers again after %.1f s; %s", self.subject, self.service, lasted, self.resumed
        )
