"""Hooks run by the worker: a queued job and the periodic tick write rows."""

import os
import time

from framework.db import db
from framework.hook import Hooks

from .models import Job, Tick

hooks = Hooks()

#: Seconds between two ticks (``Schedule(event="tick", every=TICK_EVERY)``): two, so that a
#: tick the worker runs a little late is still told apart from the next one.
TICK_EVERY = 2


@hooks.event("record_job", background=True)
def record_job(name):
    db.session.add(Job(name=name, pid=os.getpid()))
    db.session.commit()


@hooks.event("startup")
def note_startup():
    """Leave a file per started process where ``$SCALE_DEMO_STARTED`` says (the tests count
    the workers whose start-up has run)."""
    folder = os.environ.get("SCALE_DEMO_STARTED")
    if folder:
        with open(os.path.join(folder, str(os.getpid())), "w"):
            pass


@hooks.event("tick")
def record_tick():
    db.session.add(Tick(at=time.time()))
    db.session.commit()
