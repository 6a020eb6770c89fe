"""``[openapi]``: on by default in debug only; title, version, servers, path prefix."""

from __future__ import annotations

import logging
import sys

import pytest

from framework.config import ImproperlyConfigured

from .conftest import SAMPLE_APPS


def _urls(app):
    client = app.test_client()
    return client.get("/openapi.json").status_code, client.get("/docs").status_code


def test_off_by_default_outside_debug(make_app):
    app = make_app(apps=SAMPLE_APPS, openapi={"enabled": ""})
    assert not app.debug
    assert _urls(app) == (404, 404)
    response = app.test_client().get("/openapi.json")
    assert response.get_json()["code"] == 1001  # the framework's envelope


def test_on_by_default_in_debug(make_app):
    app = make_app(apps=SAMPLE_APPS, openapi={"enabled": ""}, flask={"debug": "true"})
    assert app.debug
    assert _urls(app) == (200, 200)


def test_explicitly_off_in_debug(make_app):
    app = make_app(apps=SAMPLE_APPS, openapi={"enabled": "false"}, flask={"debug": "true"})
    assert _urls(app) == (404, 404)


def test_explicitly_on_outside_debug(make_app):
    assert _urls(make_app(apps=SAMPLE_APPS, openapi={"enabled": "yes"})) == (200, 200)


def test_title_version_description_servers(make_app):
    app = make_app(
        apps=SAMPLE_APPS,
        openapi={
            "title": "Accounts API",
            "version": "2.1.0",
            "description": "Users and logins",
            "servers": ["https://api.example.test", "/v2"],
        },
    )
    document = app.test_client().get("/openapi.json").get_json()
    assert document["info"] == {
        "title": "Accounts API",
        "version": "2.1.0",
        "description": "Users and logins",
    }
    assert document["servers"] == [{"url": "https://api.example.test"}, {"url": "/v2"}]
    assert "<title>Accounts API - API documentation</title>" in app.test_client().get("/docs").get_data(
        as_text=True
    )


def test_defaults_name_the_project(make_app):
    document = make_app(apps=SAMPLE_APPS).test_client().get("/openapi.json").get_json()
    assert document["info"]["version"] == "0.1.0"
    assert document["info"]["title"]  # the Flask app's name
    assert "servers" not in document


def test_mounted_below_a_script_root_the_server_is_that_root(make_app):
    app = make_app(apps=SAMPLE_APPS)
    document = app.test_client().get("/openapi.json", base_url="http://localhost/shop")
    assert document.get_json()["servers"] == [{"url": "/shop"}]


def test_path_prefix_moves_both_urls(make_app):
    app = make_app(apps=SAMPLE_APPS, openapi={"path_prefix": "/api/meta/"})
    client = app.test_client()
    assert client.get("/openapi.json").status_code == 404
    assert client.get("/api/meta/openapi.json").status_code == 200
    page = client.get("/api/meta/docs").get_data(as_text=True)
    assert 'src="/api/meta/docs/swagger-ui-bundle.js"' in page
    assert '"/api/meta/openapi.json"' in client.get("/api/meta/docs/init.js").get_data(as_text=True)


@pytest.mark.parametrize(
    ("section", "culprit"),
    [
        ({"enabled": "maybe"}, "[openapi] enabled"),
        ({"servers": ["ftp://files.example.test"]}, "[openapi] servers"),
        ({"path_prefix": "api"}, "[openapi] path_prefix"),
        ({"title": ["two", "lines"]}, "[openapi] title"),
    ],
)
def test_bad_settings_stop_start_up_naming_the_key(make_app, section, culprit):
    with pytest.raises(ImproperlyConfigured) as info:
        make_app(apps=SAMPLE_APPS, openapi=section)
    assert culprit in str(info.value)


def test_missing_ui_package_when_enabled_explicitly_stops_start_up(make_app, monkeypatch):
    monkeypatch.setitem(sys.modules, "swagger_ui_bundle", None)  # import fails
    with pytest.raises(ImproperlyConfigured, match="pip install swagger-ui-bundle"):
        make_app(apps=SAMPLE_APPS)


def test_missing_ui_package_when_on_by_default_warns_and_leaves_urls_out(make_app, monkeypatch, caplog):
    monkeypatch.setitem(sys.modules, "swagger_ui_bundle", None)
    with caplog.at_level(logging.WARNING, logger="framework.openapi"):
        app = make_app(apps=SAMPLE_APPS, openapi={"enabled": ""}, flask={"debug": "true"})
    assert _urls(app) == (404, 404)
    assert "swagger-ui-bundle" in caplog.text
