"""Periodic work: ``Schedule(event, every=... | cron=...)`` in ``App(schedules=[...])``.

At each period the custom event ``event`` fires in the background: its hooks run on a
worker (``framework worker``). Only ``framework beat`` (Celery beat, one per project)
sends the periods; a web process never schedules anything. Each run is guarded on the
worker by a Redis key named after the schedule and the period's start (``SET NX``), so a
period runs once even when two beats were started by mistake.

The period's start is taken when beat sends it: for ``every=N`` seconds it is the send
time rounded down to a multiple of N (counted from the Unix epoch), for ``cron`` the send
time rounded down to the minute (a crontab fires at most once a minute).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

__all__ = ["Schedule", "period_start"]

#: The least interval ``every`` accepts, in seconds.
MIN_EVERY = 1.0


class Schedule:
    """Fire the custom event ``event`` with ``args`` in the background, periodically.

    :param event: the event's name (its hooks run on the worker).
    :param every: the period, in seconds or as a ``timedelta`` (at least one second).
    :param cron: instead of ``every``, a crontab of five fields, ``"minute hour
        day-of-month month day-of-week"`` (``"*/15 * * * *"``), in ``[celery] timezone``
        (UTC unless set).
    :param args: the event's keyword arguments: JSON values (they travel to the worker).
    """

    __slots__ = ("event", "every", "cron", "args", "name")

    def __init__(
        self,
        event: str,
        every: float | timedelta | None = None,
        cron: str | None = None,
        args: Mapping[str, Any] | None = None,
    ) -> None:
        from .background import BUILTIN_EVENTS, check_args

        if not isinstance(event, str) or not event:
            raise TypeError(f"Schedule: event must be an event name, got {event!r}")
        if event in BUILTIN_EVENTS:
            raise ValueError(f"Schedule: {event!r} is a framework event; schedule a custom event")
        if (every is None) == (cron is None):
            raise TypeError(f"Schedule({event!r}): give exactly one of every= or cron=")
        self.event = event
        self.every: float | None = None
        self.cron: str | None = None
        if every is not None:
            seconds = every.total_seconds() if isinstance(every, timedelta) else every
            if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
                raise TypeError(f"Schedule({event!r}): every= must be seconds or a timedelta, got {every!r}")
            if not math.isfinite(seconds) or seconds < MIN_EVERY:
                raise ValueError(f"Schedule({event!r}): every= must be at least {MIN_EVERY:g} second")
            self.every = float(seconds)
            self.name = f"{event} every {self.every:g}s"
        else:
            fields = str(cron).split()
            if len(fields) != 5:
                raise ValueError(
                    f"Schedule({event!r}): cron= needs five fields 'minute hour day-of-month "
                    f"month day-of-week', got {cron!r}"
                )
            self.cron = " ".join(fields)
            self.name = f"{event} cron {self.cron}"
            try:
                self.celery_schedule()  # a bad field is refused here, where it is written
            except ImportError:
                pass  # checked again by ``framework beat``, which needs Celery
        #: What the hooks receive, already in the form a worker sees (a JSON round trip).
        self.args: dict[str, Any] = check_args(event, dict(args or {}))

    def celery_schedule(self) -> Any:
        """The Celery schedule object (``celery.schedules.schedule`` or ``crontab``); beat
        gives it the project's Celery app, hence ``[celery] timezone``."""
        from celery.schedules import crontab, schedule

        if self.every is not None:
            return schedule(timedelta(seconds=self.every))
        assert self.cron is not None
        minute, hour, day_of_month, month, day_of_week = self.cron.split()
        try:
            return crontab(
                minute=minute,
                hour=hour,
                day_of_month=day_of_month,
                month_of_year=month,
                day_of_week=day_of_week,
            )
        except ValueError as exc:
            raise ValueError(f"Schedule({self.event!r}): cron= {self.cron!r} is no crontab ({exc})") from None

    def __repr__(self) -> str:
        return f"<Schedule {self.name}>"


def period_start(length: float, now: float | None = None) -> int:
    """The start (Unix seconds) of the period of ``length`` seconds holding ``now``."""
    current = time.time() if now is None else now
    return int(current // length * length)
