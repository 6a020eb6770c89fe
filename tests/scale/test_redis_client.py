"""``[redis] url``: read, checked, one client per project (framework.redis_client)."""

from __future__ import annotations

import pytest

from framework.config import ImproperlyConfigured
from framework.redis_client import get_redis, redis_url


def test_without_redis_the_project_keeps_state_in_memory(make_route_app):
    app = make_route_app("from framework.router import Routes\nroutes = Routes()\n")
    framework = app.extensions["framework"]
    assert redis_url(framework) is None
    assert get_redis(framework) is None


def test_a_url_of_another_scheme_names_the_setting(make_route_app):
    app = make_route_app("from framework.router import Routes\nroutes = Routes()\n")
    framework = app.extensions["framework"]
    framework.config["redis"] = {"url": "http://127.0.0.1:6379/0"}
    with pytest.raises(ImproperlyConfigured, match=r"\[redis\] url"):
        redis_url(framework)


def test_one_client_per_project_talks_to_the_configured_server(make_route_app, redis_server):
    redis_server.flush()
    app = make_route_app(
        "from framework.router import Routes\nroutes = Routes()\n",
        config_extra=f"[redis]\nurl = {redis_server.url(3)}\n",
    )
    framework = app.extensions["framework"]
    client = get_redis(framework)
    assert client is get_redis(framework)
    try:
        client.set("greeting", "hello")
        assert client.get("greeting") == b"hello"
        assert client.connection_pool.connection_kwargs["db"] == 3
    finally:
        client.close()
