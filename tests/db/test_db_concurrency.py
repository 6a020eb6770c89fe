"""Concurrent writes over real HTTP into PostgreSQL: nothing lost, no 500 on a race."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import requests
import sqlalchemy as sa

from .conftest import dispose, live_server, make_app

THREADS = 8
INSERTS = 50
ACCOUNTS = ["blueprints.accounts"]


def test_8_threads_x_50_inserts_all_land(postgres_uri):
    app = make_app(postgres_uri)
    with live_server(app) as base:

        def worker(n: int) -> list[int]:
            statuses = []
            with requests.Session() as http:
                for i in range(INSERTS):
                    r = http.post(f"{base}/books", json={"title": f"t{n}-{i}"}, timeout=30)
                    statuses.append(r.status_code)
            return statuses

        with ThreadPoolExecutor(THREADS) as pool:
            results = list(pool.map(worker, range(THREADS)))
    assert all(s == 201 for statuses in results for s in statuses)
    engine = sa.create_engine(postgres_uri)
    with engine.connect() as conn:
        titles = set(conn.execute(sa.text("SELECT title FROM dbtest_books")).scalars())
    engine.dispose()
    assert titles == {f"t{n}-{i}" for n in range(THREADS) for i in range(INSERTS)}
    dispose(app)


def test_racing_creates_of_one_username_give_one_201_and_one_1002(postgres_uri):
    app = make_app(
        postgres_uri,
        apps=ACCOUNTS,
        flask={"secret_key": "test-secret-key-for-concurrency"},
        middlewares={"active": ["blueprints.accounts.middleware.AuthMiddleware"]},
    )
    outcomes = []
    with live_server(app) as base:
        for round_ in range(10):
            barrier = threading.Barrier(2)

            def create(
                _: int, username: str = f"racer{round_}", barrier: threading.Barrier = barrier
            ) -> tuple[int, dict]:
                barrier.wait()
                r = requests.post(
                    f"{base}/users", timeout=30, json={"username": username, "password": "Correct-Horse-9"}
                )
                return r.status_code, r.json()

            with ThreadPoolExecutor(2) as pool:
                outcomes.append(sorted(pool.map(create, range(2)), key=lambda o: o[0]))
    for (first, _), (second, body) in outcomes:
        assert (first, second) == (201, 400)
        assert body["code"] == 1002 and body["data"] == {"username": ["Username already taken"]}
    engine = sa.create_engine(postgres_uri)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM accounts_users")).scalar() == 10
    engine.dispose()
    dispose(app)
