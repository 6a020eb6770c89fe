"""Rate limits (framework.ratelimit): which limit a route gets, the 429 envelope, where the
counts live (memory, a shared Redis, a Redis that goes away), who is never limited."""

from __future__ import annotations

import logging
import re
import sys
import types
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask

from framework import Framework
from framework.app import App
from framework.config import ImproperlyConfigured
from framework.error import RATE_LIMITED, SERVICE_UNAVAILABLE, envelope
from framework.flask_app import FrameworkFlask
from framework.ratelimit import exempt, hit
from framework.router import Route, Routes

REFUSED = envelope(RATE_LIMITED, "Too many requests")
UNAVAILABLE = envelope(SERVICE_UNAVAILABLE, "Service unavailable")


def ok(request: Any) -> dict[str, int]:
    return {"ok": 1}


def other(request: Any) -> dict[str, int]:
    return {"ok": 2}


def health(request: Any) -> dict[str, str]:
    return {"status": "up"}


health.framework_operational = True  # type: ignore[attr-defined]


@exempt
def webhook(request: Any) -> dict[str, int]:
    return {"ok": 3}


def custom(request: Any) -> dict[str, int]:
    hit("2/minute", "custom", request.headers.get("X-Account", "-"))
    return {"ok": 4}


def sample_routes() -> Routes:
    """``/limited`` (its own 2/minute, by decorator), ``/plain`` and ``/other`` (no limit of
    their own), ``/healthz`` (operational), ``/webhook`` (exempt), ``/custom`` (counts
    2/minute per ``X-Account`` with ``hit``)."""
    routes = Routes(
        Route("/plain", ["GET"], ok),
        Route("/other", ["GET", "POST"], other),
        Route("/healthz", ["GET"], health),
        Route("/webhook", ["POST"], webhook),
        Route("/custom", ["GET"], custom),
    )
    routes.post("/limited", rate_limit="2/minute")(ok)
    return routes


@pytest.fixture
def make() -> Iterator[Callable[..., Flask]]:
    """``make(app=App(...), owned=True, package=None, **sections)``: a Flask app of one framework
    project whose only app is ``app`` (the sample routes by default)."""
    packages: list[str] = []

    def build(
        app: App | None = None, owned: bool = True, package: str | None = None, **sections: Any
    ) -> Flask:
        if package is None:
            package = f"ratelimit_app_{uuid.uuid4().hex[:8]}"
            module = types.ModuleType(package)
            module.__path__ = []  # type: ignore[attr-defined]
            module.__file__ = __file__
            main = types.ModuleType(f"{package}.main")
            main.app = app or App(routes=[sample_routes()])  # type: ignore[attr-defined]
            sys.modules[package], sys.modules[f"{package}.main"] = module, main
            packages.append(package)
        flask_app = FrameworkFlask(package, static_folder=None) if owned else Flask(package)
        config = {"database": {"uri": "sqlite://"}, "apps": {"active": [package]}, **sections}
        Framework(flask_app, config=config, owns_app=owned)
        flask_app.testing = True
        return flask_app

    yield build
    for package in packages:
        sys.modules.pop(package, None)
        sys.modules.pop(f"{package}.main", None)


def statuses(client: Any, method: str, path: str, times: int, **kwargs: Any) -> list[int]:
    return [client.open(path, method=method, **kwargs).status_code for _ in range(times)]


# ------------------------------------------------------------------ the rules
def test_a_spent_route_limit_answers_429_in_the_envelope_with_retry_after(make):
    client = make().test_client()
    assert statuses(client, "POST", "/limited", 2) == [200, 200]
    refused = client.post("/limited")
    assert refused.status_code == 429
    assert refused.get_json() == REFUSED
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert client.get("/plain").status_code == 200  # no limit there


def test_the_most_specific_limit_wins_route_then_app_then_default(make):
    app = App(routes=[sample_routes()], rate_limit="3/minute")
    client = make(app, ratelimit={"default": "1/minute"}).test_client()
    assert statuses(client, "POST", "/limited", 3) == [200, 200, 429]  # the route's 2
    assert statuses(client, "GET", "/plain", 4) == [200, 200, 200, 429]  # the app's 3
    # each route keeps its own count: /other still has the app's 3
    assert statuses(client, "GET", "/other", 4) == [200, 200, 200, 429]


def test_the_default_applies_to_routes_without_a_limit_and_may_hold_several(make):
    client = make(ratelimit={"default": "5/minute\n2/hour"}).test_client()
    assert statuses(client, "GET", "/plain", 3) == [200, 200, 429]  # the tighter of the two
    assert statuses(client, "POST", "/limited", 3) == [200, 200, 429]


def test_enabled_false_turns_every_limit_off(make):
    client = make(ratelimit={"default": "1/minute", "enabled": "false"}).test_client()
    assert statuses(client, "POST", "/limited", 4) == [200] * 4
    assert statuses(client, "GET", "/plain", 3) == [200] * 3


def test_operational_exempt_and_preflight_requests_are_never_counted(make):
    client = make(ratelimit={"default": "1/minute"}).test_client()
    assert statuses(client, "GET", "/healthz", 4) == [200] * 4
    assert statuses(client, "POST", "/webhook", 4) == [200] * 4
    preflight = {"Origin": "https://example.org", "Access-Control-Request-Method": "GET"}
    assert statuses(client, "OPTIONS", "/plain", 4, headers=preflight) == [200] * 4
    assert statuses(client, "GET", "/plain", 2) == [200, 429]  # the preflights took nothing


def test_an_empty_route_limit_means_no_limit_whatever_the_app_and_default_say(make):
    routes = Routes(Route("/free", ["GET"], ok, rate_limit=""), Route("/paid", ["GET"], other))
    client = make(
        App(routes=[routes], rate_limit="1/minute"), ratelimit={"default": "1/minute"}
    ).test_client()
    assert statuses(client, "GET", "/free", 3) == [200] * 3
    assert statuses(client, "GET", "/paid", 2) == [200, 429]


def test_a_route_declaring_options_counts_them(make):
    routes = Routes()
    routes.options("/opt", rate_limit="1/minute")(ok)
    client = make(App(routes=[routes])).test_client()
    assert statuses(client, "OPTIONS", "/opt", 2) == [200, 429]


def test_the_openapi_document_is_not_limited_and_lists_429_where_limits_apply(make):
    client = make(ratelimit={"default": "1/minute"}, openapi={"enabled": "true"}).test_client()
    documents = [client.get("/openapi.json") for _ in range(3)]
    assert [d.status_code for d in documents] == [200] * 3
    paths = documents[0].get_json()["paths"]
    assert "1011" in str(paths["/plain"]["get"]["responses"]["429"])
    assert "429" not in paths["/healthz"]["get"]["responses"]


def test_a_host_applications_own_routes_are_left_alone(make):
    app = make(owned=False, ratelimit={"default": "1/minute"})

    @app.get("/host")
    def host() -> str:
        return "host"

    client = app.test_client()
    assert statuses(client, "GET", "/host", 3) == [200] * 3
    refused = [client.get("/plain") for _ in range(2)][-1]
    assert refused.status_code == 429 and refused.get_json() == REFUSED
    assert "Retry-After" in refused.headers


# ------------------------------------------------------------------ the key
def test_a_spoofed_x_forwarded_for_does_not_escape_the_limit(make):
    client = make(ratelimit={"default": "2/minute"}).test_client()
    spoofed = [
        client.get("/plain", headers={"X-Forwarded-For": f"203.0.113.{i}"}).status_code for i in range(3)
    ]
    assert spoofed == [200, 200, 429]


def test_behind_trusted_proxies_each_forwarded_client_counts_apart(make):
    client = make(ratelimit={"default": "1/minute"}, networking={"trusted_proxies": "1"}).test_client()
    forwarded = [
        client.get("/plain", headers={"X-Forwarded-For": f"203.0.113.{i}"}).status_code for i in range(3)
    ]
    assert forwarded == [200, 200, 200]
    again = client.get("/plain", headers={"X-Forwarded-For": "203.0.113.0"})
    assert again.status_code == 429


def test_each_address_counts_apart(make):
    client = make(ratelimit={"default": "1/minute"}).test_client()
    first = [client.get("/plain", environ_base={"REMOTE_ADDR": f"198.51.100.{i}"}) for i in range(2)]
    assert [r.status_code for r in first] == [200, 200]
    assert client.get("/plain", environ_base={"REMOTE_ADDR": "198.51.100.0"}).status_code == 429


# ------------------------------------------------------------------ storage
def test_in_memory_each_app_object_counts_alone(make):
    one = make(ratelimit={"default": "1/minute"})
    two = make(package=one.name, ratelimit={"default": "1/minute"})  # the same project, twice
    assert statuses(one.test_client(), "GET", "/plain", 2) == [200, 429]
    assert two.test_client().get("/plain").status_code == 200


def test_with_redis_two_app_objects_share_the_counts(make, redis_server):
    settings = {
        "ratelimit": {"default": "2/minute", "key_prefix": f"test-{uuid.uuid4().hex}"},
        "redis": {"url": redis_server.url(5)},
    }
    one = make(**settings)
    two = make(package=one.name, **settings)
    assert one.test_client().get("/plain").status_code == 200
    assert two.test_client().get("/plain").status_code == 200
    refused = one.test_client().get("/plain")
    assert refused.status_code == 429 and refused.get_json() == REFUSED
    assert 1 <= int(refused.headers["Retry-After"]) <= 60


#: The one line logged when Redis counts again after an outage (with how long it lasted).
RECOVERED = re.compile(r"rate limits: Redis answers again after \d+\.\d s; counting there")


def recovered(caplog: Any) -> bool:
    return any(RECOVERED.fullmatch(r.getMessage()) for r in caplog.records)


def warnings_of(caplog: Any) -> list[str]:
    ours = [r for r in caplog.records if r.name == "framework.ratelimit"]
    return [r.getMessage() for r in ours if r.levelno == logging.WARNING]


@pytest.fixture
def own_redis() -> Iterator[Any]:
    """A private ``redis-server`` of this test alone, which it may stop and start again
    (tests.redisserver); skipped where the binary is absent."""
    from tests.redisserver import private_redis, redis_available

    if not redis_available():
        pytest.skip("redis-server is not installed")
    with private_redis() as server:
        yield server


def test_redis_down_counts_in_memory_with_one_warning(make, caplog, own_redis):
    client = make(ratelimit={"default": "2/minute"}, redis={"url": own_redis.url(5)}).test_client()
    assert client.get("/plain").status_code == 200
    own_redis.stop()
    with caplog.at_level(logging.INFO, logger="framework.ratelimit"):
        # counted again from zero in this process's memory, still limited
        assert statuses(client, "GET", "/plain", 3) == [200, 200, 429]
    assert len(warnings_of(caplog)) == 1
    assert "each process counts requests in its own memory" in warnings_of(caplog)[0]


def test_redis_down_local_counts_in_redis_again_once_it_answers(make, caplog, own_redis):
    import redis

    from tests.liveserver import wait_until

    client = make(ratelimit={"default": "1000/minute"}, redis={"url": own_redis.url(5)}).test_client()
    assert client.get("/plain").status_code == 200
    own_redis.stop()
    with caplog.at_level(logging.INFO, logger="framework.ratelimit"):
        assert client.get("/plain").status_code == 200  # counted in this process's memory
        own_redis.start()  # an empty server: nothing persisted

        def counting_in_redis_again() -> bool:
            assert client.get("/plain").status_code == 200
            return recovered(caplog)

        # tried again after 1 s, then 2, 4 ... (never on every request while it is away)
        wait_until(counting_in_redis_again, timeout=60, interval=0.2, what="counting in Redis again")
    check = redis.Redis.from_url(own_redis.url(5))
    try:
        assert check.keys("LIMITS:*"), "the route's counter is back in Redis"
    finally:
        check.close()


def test_redis_down_with_refuse_answers_503_until_it_is_back(make, caplog, own_redis):
    settings = {"default": "5/minute", "on_redis_down": "refuse"}
    client = make(ratelimit=settings, redis={"url": own_redis.url(5)}).test_client()
    assert client.get("/plain").status_code == 200
    own_redis.stop()
    with caplog.at_level(logging.INFO, logger="framework.ratelimit"):
        down = [client.get("/plain") for _ in range(2)]
        assert [r.status_code for r in down] == [503, 503]
        assert down[0].get_json() == UNAVAILABLE
        assert client.get("/healthz").status_code == 200  # never limited, never refused
        own_redis.start()
        assert client.get("/plain").status_code == 200
    assert len(warnings_of(caplog)) == 1
    assert recovered(caplog)


@pytest.mark.parametrize("mode,answers", [("local", [200, 200, 429]), ("refuse", [503, 503, 503])])
def test_hit_counts_its_own_keys_and_follows_on_redis_down(make, caplog, own_redis, mode, answers):
    settings = {"on_redis_down": mode}  # no route limit: hit alone counts
    client = make(ratelimit=settings, redis={"url": own_redis.url(5)}).test_client()
    alice, bob = {"X-Account": "alice"}, {"X-Account": "bob"}
    assert statuses(client, "GET", "/custom", 3, headers=alice) == [200, 200, 429]
    refused = client.get("/custom", headers=alice)
    assert refused.get_json() == REFUSED and 1 <= int(refused.headers["Retry-After"]) <= 60
    assert client.get("/custom", headers=bob).status_code == 200
    own_redis.stop()
    with caplog.at_level(logging.INFO, logger="framework.ratelimit"):
        assert statuses(client, "GET", "/custom", 3, headers=bob) == answers
        assert len(warnings_of(caplog)) == 1
        own_redis.start()
        assert client.get("/custom", headers={"X-Account": "carol"}).status_code == 200
    assert recovered(caplog)


# ------------------------------------------------------------------ start-up
@pytest.mark.parametrize(
    "app_kwargs,sections,named",
    [
        ({}, {"ratelimit": {"default": "many/minute"}}, r"\[ratelimit\] default"),
        ({"rate_limit": "3 per fortnight"}, {}, r"app '.*': rate_limit"),
        ({}, {"ratelimit": {"on_redis_down": "maybe"}}, r"\[ratelimit\] on_redis_down"),
        ({}, {"ratelimit": {"enabled": "perhaps"}}, r"\[ratelimit\] enabled"),
    ],
)
def test_a_bad_setting_stops_start_up_naming_it(make, app_kwargs, sections, named):
    with pytest.raises(ImproperlyConfigured, match=named):
        make(App(routes=[sample_routes()], **app_kwargs), **sections)


def test_a_bad_route_limit_stops_start_up_naming_the_route(make):
    routes = Routes(Route("/x", ["GET"], ok, rate_limit="5/minit"))
    with pytest.raises(ImproperlyConfigured, match=r"route GET /x: rate_limit: '5/minit'"):
        make(App(routes=[routes]))


# ------------------------------------------------------------------ servers
def test_the_asgi_adapter_serves_the_same_refusal(make):
    from framework.asgi import to_asgi
    from tests.asgi.asgi_harness import STEP, call, http_scope

    adapter = to_asgi(make(ratelimit={"default": "1/minute"}), threads=1)
    try:
        first = call(adapter, http_scope("GET", "/plain"))
        refused = call(adapter, http_scope("GET", "/plain"))
    finally:
        adapter.pool.shutdown(timeout=STEP)
    assert first.status == 200
    assert refused.status == 429 and refused.json() == REFUSED
    assert 1 <= int(refused.headers["retry-after"]) <= 60


def test_route_counters_in_redis_keep_flask_limiters_key_layout(make, redis_server):
    # instances of the previous release (Flask-Limiter's hooks) share the counts in a rolling upgrade
    prefix = f"test-{uuid.uuid4().hex}"
    app = make(ratelimit={"default": "2/minute", "key_prefix": prefix}, redis={"url": redis_server.url(5)})
    client = app.test_client()
    assert client.get("/plain").status_code == 200
    endpoint = next(rule.endpoint for rule in app.url_map.iter_rules() if rule.rule == "/plain")
    import redis

    keys = redis.Redis.from_url(redis_server.url(5)).keys(f"*LIMITER/{prefix}/*")
    # ``limits``' Redis storage puts its own ``LIMITS:`` in front of every key
    assert [k.decode() for k in keys] == [f"LIMITS:LIMITER/{prefix}/127.0.0.1/{endpoint}/2/1/minute"]
