"""An async handler waiting on the database holds up only its own request, under uvicorn
(``framework.asgi.to_asgi``) and under gunicorn: another request is answered meanwhile."""

from __future__ import annotations

import secrets
import textwrap
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import sqlalchemy as sa

from tests.liveserver import LiveServer, wait_until

from .conftest import ROOT, dispose, make_app
from .test_awaitable_session import AWAITED_APPS

SERVED = """
    import os
    from framework import create_app
    from framework.asgi import to_asgi

    app = create_app({root!r}, config={{
        'apps': {{'active': {apps!r}}}, 'middlewares': {{'active': []}},
        'database': {{'uri': os.environ['AWAITED_DB_URI']}}}})
    asgi_app = to_asgi(app)
"""


def _sleeping_backend(engine: sa.Engine, token: str) -> int | None:
    with engine.connect() as conn:
        return conn.execute(
            sa.text("SELECT pid FROM pg_stat_activity WHERE state = 'active' AND query LIKE :q"),
            {"q": f"%slow-{token}%"},
        ).scalar()


def _wait_for_sleep(engine: sa.Engine, token: str, slow) -> int:
    def started() -> int | None:
        pid = _sleeping_backend(engine, token)
        assert pid is not None or not slow.done(), slow.result().text
        return pid

    return wait_until(started, timeout=60, what="the slow query to start")


@pytest.mark.parametrize("kind, app", [("uvicorn", "served_db:asgi_app"), ("gunicorn", "served_db:app")])
def test_a_waiting_query_does_not_hold_up_other_requests(postgres_uri, tmp_path, kind, app):
    dispose(make_app(postgres_uri, AWAITED_APPS))  # creates the tables
    (tmp_path / "served_db.py").write_text(textwrap.dedent(SERVED).format(root=ROOT, apps=AWAITED_APPS))
    # gunicorn: one worker process with two threads, so the answer comes from the same process
    server = LiveServer(
        str(tmp_path), app, kind=kind, workers=1, threads=2, env={"AWAITED_DB_URI": postgres_uri}
    )
    engine = sa.create_engine(postgres_uri)
    token = secrets.token_hex(8)
    pid = None
    with server, ThreadPoolExecutor(1) as pool:
        try:
            slow = pool.submit(
                requests.get, f"{server.url}/awaited/slow", params={"token": token}, timeout=300
            )
            pid = _wait_for_sleep(engine, token, slow)
            fast = requests.get(f"{server.url}/awaited/fast", timeout=60)
            assert fast.status_code == 200 and fast.json()["data"] == 42
            # answered while the slow query was still running in the database
            assert not slow.done()
            assert _sleeping_backend(engine, token) == pid
        finally:
            if pid is not None:
                with engine.connect() as conn:
                    conn.execute(sa.text("SELECT pg_cancel_backend(:pid)"), {"pid": pid})
        answer = slow.result(timeout=120)
        assert answer.status_code == 200 and answer.json()["data"] == {"cancelled": True}
    engine.dispose()
