"""``framework.cache``: Flask-Caching per app, ``@cache.cached`` on handlers, Redis or memory."""

from __future__ import annotations

import gzip
import logging

import pytest

from framework import cache
from framework.cache import MAX_KEY_LENGTH, RedisBackend
from framework.config import ImproperlyConfigured
from framework.redis_client import get_redis

#: Each handler counts its runs: a second answer with the same count came from the cache.
HANDLERS = """
    from collections import Counter

    from framework import cache
    from framework.error import NOT_FOUND, Error
    from framework.response import JSON, Text
    from framework.router import Routes

    routes = Routes()
    RUNS = Counter()

    def run(name):
        RUNS[name] += 1
        return RUNS[name]

    @routes.get('/async')
    @cache.cached(timeout=60)
    async def async_handler(request):
        return JSON({'runs': run('async')}, headers={'X-Kept': 'yes'})

    @routes.get('/sync')
    @cache.cached(timeout=60)
    def sync_handler(request):
        return Text(str(run('sync')))

    @routes.get('/plain')
    @cache.cached()
    def plain(request):
        return {'runs': run('plain')}

    @routes.get('/status/<code:int>')
    @cache.cached()
    async def status(request):
        return JSON({'runs': run('status')}, status=int(request.url_vars['code']))

    @routes.get('/raises')
    @cache.cached()
    def raises(request):
        run('raises')
        raise Error(NOT_FOUND)

    @routes.get('/cookie')
    @cache.cached()
    def cookie(request):
        response = JSON({'runs': run('cookie')})
        response.set_cookie('session', 'abc')
        return response

    @routes.get('/private')
    @cache.cached()
    def private(request):
        return JSON({'runs': run('private')}, headers={'Cache-Control': 'private'})

    @routes.get('/vary')
    @cache.cached()
    def vary(request):
        return JSON({'runs': run('vary')}, headers={'Vary': 'Accept-Language'})

    @routes.get('/query')
    @cache.cached(query_string=True)
    async def query(request):
        return JSON({'runs': run('query')})

    @routes.get('/named')
    @cache.cached(key_prefix='all-items')
    def named(request):
        return Text(str(run('named')))

    @routes.route('/both', methods=('GET', 'POST'))
    @cache.cached()
    def both(request):
        return Text(str(run('both')))

    @routes.get('/gzip')
    @cache.cached()
    def zipped(request):
        return Text('x' * 1000 + str(run('gzip')), compress=True)

    @routes.get('/echo/<rest>')
    @cache.cached()
    def echo(request):
        return Text(str(run('echo')))

    @routes.get('/direct')
    async def direct(request):
        seen = cache.get('direct')
        stored = cache.set('direct', 'hello', timeout=60)
        return JSON({'seen': seen, 'stored': stored, 'runs': run('direct')})
"""


def runs(client, path, **kwargs):
    response = client.get(path, **kwargs)
    assert response.status_code < 500, response.get_data(as_text=True)
    return response


@pytest.fixture
def app(make_route_app):
    return make_route_app(HANDLERS)


@pytest.fixture
def client(app):
    return app.test_client()


def test_an_async_handler_is_answered_from_the_cache_the_second_time(client):
    first, second = client.get("/async"), client.get("/async")
    assert first.status_code == second.status_code == 200
    assert first.json == second.json == {"runs": 1}
    assert second.headers["X-Kept"] == "yes"
    assert second.headers["Content-Type"] == "application/json"


def test_sync_handlers_and_plain_return_values_are_cached(client):
    assert [client.get("/sync").text for _ in range(3)] == ["1", "1", "1"]
    assert client.get("/plain").json == client.get("/plain").json == {"runs": 1}


def test_only_successful_answers_are_cached(client):
    assert [client.get("/status/404").json["runs"] for _ in range(2)] == [1, 2]
    assert [client.get("/status/201").json["runs"] for _ in range(2)] == [3, 3]
    assert client.get("/status/201").status_code == 201
    raised = [client.get("/raises") for _ in range(2)]
    assert [r.status_code for r in raised] == [404, 404]
    assert raised[1].json["status"] == "error"


def test_answers_that_set_a_cookie_are_private_or_vary_are_not_cached(client):
    cookies = [client.get("/cookie") for _ in range(2)]
    assert [r.json["runs"] for r in cookies] == [1, 2]
    assert all("session=abc" in r.headers["Set-Cookie"] for r in cookies)
    assert [client.get("/private").json["runs"] for _ in range(2)] == [1, 2]
    assert [client.get("/vary").json["runs"] for _ in range(2)] == [1, 2]


def test_only_get_and_head_are_cached(client):
    assert client.post("/both").text == "1"
    assert client.post("/both").text == "2"
    assert client.get("/both").text == "3"
    assert client.head("/both").status_code == 200
    assert client.get("/both").text == "3"


def test_the_query_string_is_ignored_unless_asked_for(client):
    assert client.get("/sync?page=1").text == "1"
    assert client.get("/sync?page=2").text == "1"  # one entry per path by default
    assert client.get("/query?a=1&b=2").json["runs"] == 1
    assert client.get("/query?b=2&a=1").json["runs"] == 1  # the same parameters
    assert client.get("/query?a=2").json["runs"] == 2
    assert client.get("/query").json["runs"] == 3


def test_forget_a_path_and_delete_a_key_prefix(app, client):
    client.get("/sync"), client.get("/named"), client.get("/query?a=1"), client.get("/query?a=2")
    with app.app_context():
        assert cache.forget("/sync") is True
        assert cache.delete("all-items") is True
        assert cache.forget("/query") is True  # every query-string variant
        assert cache.forget("/never-cached") is False
    assert client.get("/sync").text == "2"
    assert client.get("/named").text == "2"
    assert client.get("/query?a=1").json["runs"] == 3
    assert client.get("/query?a=2").json["runs"] == 4


def test_a_compressed_answer_is_still_negotiated_on_a_hit(client):
    plain = client.get("/gzip")
    zipped = client.get("/gzip", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.data).decode() == plain.text == "x" * 1000 + "1"
    assert "Accept-Encoding" in zipped.headers["Vary"]


def test_handlers_use_get_set_delete_directly(app, client):
    assert client.get("/direct").json == {"seen": None, "stored": True, "runs": 1}
    assert client.get("/direct").json == {"seen": "hello", "stored": True, "runs": 2}
    with app.app_context():
        assert cache.get("direct") == "hello"
        cache.delete("direct")
    assert client.get("/direct").json["seen"] is None


def test_without_redis_each_app_keeps_its_own_in_memory_cache(app, client, project):
    from flask_caching.backends import SimpleCache

    other = project.create_app()  # a second app of the same project, in this process
    with app.app_context():
        assert isinstance(cache.cache, SimpleCache)
    assert client.get("/sync").text == "1"
    assert other.test_client().get("/sync").text == "2"  # not the first app's entry
    with app.app_context():
        cache.forget("/sync")
    assert other.test_client().get("/sync").text == "2"  # still its own


def test_hostile_paths_make_bounded_keys(app, client):
    long_path = "/echo/" + "a" * 5000
    assert runs(client, long_path).text == runs(client, long_path).text == "1"
    assert runs(client, "/echo/%23x%3F%F0%9F%90%8D%ED%A0%80").status_code == 200
    with app.app_context():
        assert cache.forget(long_path) is True


def test_using_the_cache_outside_an_app_context_says_so():
    with pytest.raises(RuntimeError, match="application context"):
        cache.get("anything")


def test_memoize_caches_a_plain_function_per_app(app, project):
    calls = []

    @cache.memoize(timeout=60)
    def square(n):
        calls.append(n)
        return n * n

    with app.app_context():
        assert [square(3), square(3), square(4)] == [9, 9, 16]
    with project.create_app().app_context():
        assert square(3) == 9  # another app: its own entries
    assert calls == [3, 4, 3]


def test_memoize_refuses_an_async_function():
    async def compute():
        return 1

    with pytest.raises(TypeError, match="async function"):
        cache.memoize(timeout=5)(compute)


def test_type_null_caches_nothing(make_route_app):
    client = make_route_app(HANDLERS, config_extra="[cache]\ntype = null\n").test_client()
    assert [client.get("/sync").text for _ in range(2)] == ["1", "2"]


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ("type = memcached", r"\[cache\] type"),
        ("type = redis", r"\[cache\] type = redis needs \[redis\] url"),
        ("default_timeout = soon", r"\[cache\] default_timeout"),
        ("default_timeout = -5", r"\[cache\] default_timeout"),
        ("key_prefix = " + "p" * 101, r"\[cache\] key_prefix"),
    ],
)
def test_a_bad_setting_stops_start_up_naming_it(make_route_app, settings, named):
    with pytest.raises(ImproperlyConfigured, match=named):
        make_route_app(HANDLERS, config_extra=f"[cache]\n{settings}\n")


# ----------------------------------------------------------------------- on Redis
def test_two_instances_on_one_redis_share_entries_and_deletions(make_route_app, project, redis_server):
    redis_server.flush()
    extra = f"[redis]\nurl = {redis_server.url(7)}\n[cache]\ndefault_timeout = 60\n"
    one = make_route_app(HANDLERS, config_extra=extra)
    two = project.create_app()
    first, second = one.test_client(), two.test_client()
    with one.app_context():
        assert isinstance(cache.cache, RedisBackend)
    assert first.get("/async").json == {"runs": 1}
    assert second.get("/async").json == {"runs": 1}  # written by the other instance
    with one.app_context():
        assert cache.forget("/async") is True
    assert second.get("/async").json == {"runs": 2}  # deleted through the other
    assert first.get("/async").json == {"runs": 2}
    assert first.get("/query?a=1").json == second.get("/query?a=1").json == {"runs": 1}
    with two.app_context():
        cache.forget("/query")
    assert first.get("/query?a=1").json == {"runs": 2}

    long_path = "/echo/" + "%F0%9F%90%8D" * 300
    assert first.get(long_path).text == second.get(long_path).text == "1"
    keys = get_redis(one.extensions["framework"]).keys("*")
    # project prefix (<= 100) + a bounded key (<= MAX_KEY_LENGTH) + a query-string suffix
    assert keys and all(len(key) <= 100 + MAX_KEY_LENGTH + 100 for key in keys)


def test_a_redis_outage_serves_uncached_and_logs_once(make_route_app, monkeypatch, caplog):
    from tests.redisserver import private_redis, redis_available

    if not redis_available():
        pytest.skip("redis-server is not installed")
    monkeypatch.setattr(RedisBackend, "retry_after", 0.0)  # try Redis on every call
    with private_redis() as server:
        app = make_route_app(HANDLERS, config_extra=f"[redis]\nurl = {server.url(7)}\n")
        client = app.test_client()
        assert [client.get("/async").json["runs"] for _ in range(2)] == [1, 1]
        server.stop()
        with caplog.at_level(logging.WARNING, logger="framework.cache"):
            down = [client.get("/async") for _ in range(3)]
            direct = client.get("/direct")
        assert [r.status_code for r in down] == [200, 200, 200]
        assert [r.json["runs"] for r in down] == [2, 3, 4]
        assert direct.status_code == 200 and direct.json["stored"] is False
        outage = [r.getMessage() for r in caplog.records if "cannot be reached" in r.getMessage()]
        assert len(outage) == 1 and outage[0].startswith("cache: Redis cannot be reached (")
        assert outage[0].endswith("; requests are served uncached until it answers again")
        with app.app_context():
            assert cache.forget("/async") is False

        server.start()
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="framework.cache"):
            assert [client.get("/async").json["runs"] for _ in range(2)] == [5, 5]
        back = [r.getMessage() for r in caplog.records if "answers again after" in r.getMessage()]
        assert len(back) == 1 and back[0].startswith("cache: Redis answers again after ")
