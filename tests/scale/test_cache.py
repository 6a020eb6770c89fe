"""``framework.cache``: Flask-Caching per app, ``@cache.cached`` on handlers, Redis or memory."""

from __future__ import annotations

import gzip
import logging

import pytest

from framework import cache
from framework.cache import MAX_KEY_LENGTH, RedisBackend
from framework.config import ImproperlyConfigured
from framework.redis_client import get_redis

#: The start of a handlers module whose handlers count their runs (``run(name)``): a
#: second answer with the same count came from the cache.
COUNTING = """
    from collections import Counter

    import flask

    from framework import cache
    from framework.error import NOT_FOUND, Error
    from framework.response import JSON, Text
    from framework.router import Routes

    routes = Routes()
    RUNS = Counter()

    def run(name):
        RUNS[name] += 1
        return RUNS[name]
"""

HANDLERS = (
    COUNTING
    + """

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
)


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


#: One route per option of ``cached`` that Flask-Caching also has; each counts its runs.
OPTION_HANDLERS = (
    COUNTING
    + """

    @routes.get('/unless')
    @cache.cached(unless=lambda: flask.request.headers.get('X-No-Cache') == '1')
    def unless_plain(request):
        return Text(str(run('unless')))

    @routes.get('/unless-args')
    @cache.cached(unless=lambda handler, request: request.args.get('live') == '1')
    async def unless_args(request):
        return Text(str(run('unless-args')))

    @routes.get('/filtered')
    @cache.cached(response_filter=lambda response: response.get_json()['final'])
    def filtered(request):
        runs = run('filtered')
        return JSON({'runs': runs, 'final': runs >= 2})

    @routes.get('/forced')
    @cache.cached(forced_update=lambda request: request.headers.get('X-Refresh') == '1')
    async def forced(request):
        return Text(str(run('forced')))

    @routes.get('/forced-plain')
    @cache.cached(forced_update=lambda: flask.request.args.get('refresh') == '1')
    def forced_plain(request):
        return Text(str(run('forced-plain')))

    @routes.get('/stale')
    @cache.cached(is_stale=lambda response: int(response.get_data(as_text=True)) < 2)
    def stale(request):
        return Text(str(run('stale')))

    @routes.get('/per-user')
    @cache.cached(make_cache_key=lambda request: 'user/' + request.headers.get('X-User', ''))
    async def per_user(request):
        return Text(request.headers.get('X-User', '') + str(run('per-user')))

    @routes.get('/hit')
    @cache.cached(response_hit_indication=True)
    def hit(request):
        return Text(str(run('hit')))

    @routes.get('/code-one')
    @cache.cached(key_prefix='shared', source_check=True)
    def code_one(request):
        return Text('one ' + str(run('code-one')))

    @routes.get('/code-two')
    @cache.cached(key_prefix='shared', source_check=True)
    def code_two(request):
        return Text('two ' + str(run('code-two')))

    @routes.get('/code-query')
    @cache.cached(query_string=True, source_check=True)
    def code_query(request):
        return Text(str(run('code-query')))
"""
)


@pytest.fixture
def options(make_route_app):
    return make_route_app(OPTION_HANDLERS)


def texts(client, path, times=2, **kwargs):
    return [client.get(path, **kwargs).text for _ in range(times)]


def test_unless_bypasses_the_cache_called_with_or_without_arguments(options):
    client = options.test_client()
    assert texts(client, "/unless") == ["1", "1"]
    assert texts(client, "/unless", headers={"X-No-Cache": "1"}) == ["2", "3"]
    assert client.get("/unless").text == "1"  # the stored answer was left alone
    assert texts(client, "/unless-args") == ["1", "1"]
    assert texts(client, "/unless-args?live=1") == ["2", "3"]


def test_response_filter_keeps_the_answers_it_refuses_out(options):
    client = options.test_client()
    assert [client.get("/filtered").json["runs"] for _ in range(3)] == [1, 2, 2]


def test_forced_update_runs_the_handler_and_replaces_the_stored_answer(options):
    client = options.test_client()
    assert texts(client, "/forced") == ["1", "1"]
    assert client.get("/forced", headers={"X-Refresh": "1"}).text == "2"
    assert texts(client, "/forced") == ["2", "2"]
    assert texts(client, "/forced-plain") == ["1", "1"]
    assert client.get("/forced-plain?refresh=1").text == "2"
    assert client.get("/forced-plain").text == "2"


def test_is_stale_replaces_a_stored_answer_it_rejects(options):
    client = options.test_client()
    assert texts(client, "/stale", times=3) == ["1", "2", "2"]


def test_make_cache_key_gives_the_key_and_delete_drops_it(options):
    client = options.test_client()
    assert texts(client, "/per-user", headers={"X-User": "alice"}) == ["alice1", "alice1"]
    assert texts(client, "/per-user", headers={"X-User": "bob"}) == ["bob2", "bob2"]
    with options.app_context():
        assert cache.delete("user/alice") is True
    assert client.get("/per-user", headers={"X-User": "alice"}).text == "alice3"
    assert client.get("/per-user", headers={"X-User": "bob"}).text == "bob2"


def test_response_hit_indication_marks_answers_from_the_cache(options):
    client = options.test_client()
    first, second = client.get("/hit"), client.get("/hit")
    assert first.text == second.text == "1"
    assert "hit_cache" not in first.headers and second.headers["hit_cache"] == "True"


def test_source_check_serves_no_answer_stored_by_other_code(options):
    client = options.test_client()
    # the same key, other source code: each handler gets only its own answers
    assert texts(client, "/code-one") == ["one 1", "one 1"]
    assert texts(client, "/code-two") == ["two 1", "two 1"]
    assert texts(client, "/code-query?a=1") == ["1", "1"]
    with options.app_context():
        assert cache.forget("/code-query") is True and cache.delete("shared") is True
    assert client.get("/code-query?a=1").text == "2"
    assert client.get("/code-one").text == "one 2"


@pytest.mark.parametrize("option", ["cache_none", "hash_method"])
def test_flask_caching_options_without_use_here_are_refused(option):
    with pytest.raises(TypeError, match=option):
        cache.cached(**{option: True})


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
