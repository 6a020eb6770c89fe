"""The routes: a cached counter, a background job, a rate-limited route, the server's pid."""

import os

from sqlalchemy import func, select

from framework import cache
from framework.response import Status, Success
from framework.router import Routes

from .models import Hit

routes = Routes()


def _count(request):
    session = request.app.context["db_session"]()
    return session.execute(select(func.count()).select_from(Hit)).scalar_one()


@routes.get("/scale/counter")
@cache.cached(timeout=60, key_prefix="counter")
def counter(request):
    """The number of hits, cached for a minute under the key ``counter``."""
    return Success({"count": _count(request)})


@routes.post("/scale/counter")
def hit(request):
    """Add a hit and drop the cached count, on every instance at once (the cache is shared)."""
    session = request.app.context["db_session"]()
    session.add(Hit())
    session.commit()
    cache.delete("counter")
    return Success({"count": _count(request)}, status=Status.CREATED)


@routes.get("/scale/pid")
def pid(request):
    """Which process answered."""
    return Success({"pid": os.getpid()})


@routes.post("/scale/jobs")
def start_job(request):
    """Queue the event ``record_job``; the worker runs it."""
    name = str(request.args.get("name") or "job")[:64]
    request.app.execute_event("record_job", {"name": name}, background=True)
    return Success({"queued": name}, status=Status.ACCEPTED)


@routes.get("/scale/limited", rate_limit="2/minute")
def limited(request):
    """Twice a minute per client, counted across every instance."""
    return Success({"ok": True})
