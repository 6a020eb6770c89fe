"""The routes: a cached counter, a background job, a rate-limited route, the server's pid."""

import os

from sqlalchemy import func, select

from framework.response import Status, Success
from framework.router import Routes

from . import features
from .models import Hit

routes = Routes()

if features.CACHE:
    from framework import cache

    cached_counter = cache.cached(timeout=60, key_prefix="counter")
else:  # the feature's branch is not merged: the counter is never cached

    def cached_counter(func):
        return func


def _count(request):
    session = request.app.context["db_session"]()
    return session.execute(select(func.count()).select_from(Hit)).scalar_one()


@routes.get("/scale/counter")
@cached_counter
def counter(request):
    """The number of hits, cached for a minute under the key ``counter``."""
    return Success({"count": _count(request)})


@routes.post("/scale/counter")
def hit(request):
    """Add a hit and drop the cached count, on every instance at once (the cache is shared)."""
    session = request.app.context["db_session"]()
    session.add(Hit())
    session.commit()
    if features.CACHE:
        cache.delete("counter")
    return Success({"count": _count(request)}, status=Status.CREATED)


@routes.get("/scale/pid")
def pid(request):
    """Which process answered."""
    return Success({"pid": os.getpid()})


if features.BACKGROUND:

    @routes.post("/scale/jobs")
    def start_job(request):
        """Queue the event ``record_job``; the worker runs it."""
        name = str(request.args.get("name") or "job")[:64]
        request.app.execute_event("record_job", {"name": name}, background=True)
        return Success({"queued": name}, status=Status.ACCEPTED)


if features.RATELIMIT:

    @routes.get("/scale/limited", rate_limit="2/minute")
    def limited(request):
        """Twice a minute per client, counted across every instance."""
        return Success({"ok": True})
