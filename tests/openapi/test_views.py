"""``/docs`` is Swagger UI served from the installed package: nothing from elsewhere."""

from __future__ import annotations

import re

from .conftest import SAMPLE_APPS


def test_docs_page_loads_only_files_of_this_application(make_app):
    client = make_app(apps=SAMPLE_APPS).test_client()
    page = client.get("/docs")
    assert page.status_code == 200
    assert page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    links = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert len(links) == 4  # stylesheet, icon, bundle, init script
    assert "//" not in html.replace("<!doctype html>", "")
    mimetypes = {}
    for link in links:
        assert link.startswith("/docs/"), link
        with client.get(link) as asset:
            assert asset.status_code == 200, link
            assert len(asset.get_data()) > 0
            mimetypes[link.rpartition("/")[2]] = asset.mimetype
    assert mimetypes["swagger-ui-bundle.js"] in ("text/javascript", "application/javascript")
    assert mimetypes["init.js"] == "text/javascript"
    assert mimetypes["favicon-32x32.png"] == "image/png"


def test_stylesheet_is_served(make_app):
    with make_app(apps=SAMPLE_APPS).test_client().get("/docs/swagger-ui.css") as response:
        assert response.mimetype == "text/css"
        assert b".swagger-ui" in response.get_data()


def test_init_script_points_at_the_document_and_disables_the_online_validator(make_app):
    script = make_app(apps=SAMPLE_APPS).test_client().get("/docs/init.js")
    assert script.mimetype == "text/javascript"
    text = script.get_data(as_text=True)
    assert 'url: "/openapi.json"' in text
    assert "validatorUrl: null" in text


def test_only_the_page_files_are_served(make_app):
    client = make_app(apps=SAMPLE_APPS).test_client()
    for path in ("/docs/swagger-ui.js.map", "/docs/index.html", "/docs/..%2F__init__.py", "/docs/%2e%2e"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.get_json()["code"] == 1001


def test_document_is_built_once(make_app):
    client = make_app(apps=SAMPLE_APPS).test_client()
    first = client.get("/openapi.json").get_data()
    assert client.get("/openapi.json").get_data() == first


def test_extension_mode_documents_only_framework_routes(tmp_path):
    from flask import Flask

    from framework import Framework

    host = Flask("host")

    @host.get("/host-page")
    def host_page():
        return "host"

    Framework(
        host,
        config={
            "apps": {"active": SAMPLE_APPS},
            "database": {"uri": f"sqlite:///{tmp_path / 'ext.sqlite'}"},
            "openapi": {"enabled": "true", "path_prefix": "/meta"},
        },
    )
    client = host.test_client()
    document = client.get("/meta/openapi.json").get_json()
    assert "/users/{id}" in document["paths"] and "/hello-world" in document["paths"]
    assert "/host-page" not in document["paths"]
    assert client.get("/host-page").get_data(as_text=True) == "host"  # untouched
    with client.get("/meta/docs") as page:
        assert page.status_code == 200
