"""The Request object handed to handlers."""

from __future__ import annotations

import io

import flask
import pytest

HANDLERS = """
    import flask
    from framework.router import Routes
    from framework.response import JSON
    from framework.request import Request
    routes = Routes()

    @routes.route('/inspect/<item>', ('GET', 'POST'))
    async def inspect(request):
        request.context['seen'] = True
        body = request.body
        return JSON({
            'is_framework_request': isinstance(request, Request),
            'is_flask_request': isinstance(request, flask.Request),
            'same_as_flask_request': request is flask.request._get_current_object(),
            'app_is_fw': request.app is flask.current_app.extensions['framework'],
            'context': request.context,
            'method': request.method,
            'path': request.path,
            'root_path': request.root_path,
            'scheme': request.scheme,
            'server': list(request.server) if request.server else None,
            'client': list(request.client),
            'header': request.headers.get('x-custom'),
            'url_vars': request.url_vars,
            'params': request.params,
            'json': body.json,
            'form': body.form,
            'files': {k: v.filename for k, v in body.files.items()},
            'content_length': len(body.content),
        })

    SEEN = []

    @routes.post('/remember')
    def remember(request):
        import weakref
        SEEN.append(weakref.ref(request))
        return JSON({'json': request.body.json, 'again': request.body.json is request.body.json})

    @routes.get('/cleaned')
    def cleaned(request):
        return JSON(request.get_cleaned_data())
"""


@pytest.fixture
def client(make_route_app):
    return make_route_app(HANDLERS).test_client()


def test_request_attributes(client):
    body = client.get("/inspect/thing?a=1&a=2&tag[]=x&tag[]=y", headers={"X-Custom": "yes"}).json
    assert body["is_framework_request"] and body["is_flask_request"] and body["same_as_flask_request"]
    assert body["app_is_fw"] is True
    assert body["context"] == {"seen": True}
    assert body["method"] == "GET"
    assert body["path"] == "/inspect/thing"
    assert body["scheme"] == "http"
    assert body["root_path"] == ""
    assert body["server"] == ["localhost", 80]
    assert body["client"][0] == "127.0.0.1"
    assert body["header"] == "yes"
    assert body["url_vars"] == {"item": "thing"}
    # Backendpy's shape: the last value of a plain key, a ``[]`` key kept with its list
    assert body["params"] == {"a": "2", "tag[]": ["x", "y"]}
    assert body["json"] is None


def test_json_body(client):
    body = client.post("/inspect/x", json={"k": [1, 2]}).json
    assert body["json"] == {"k": [1, 2]}
    assert body["content_length"] == len(b'{"k": [1, 2]}')


def test_form_and_files(client):
    body = client.post(
        "/inspect/x", data={"name": "n", "many[]": ["a", "b"], "doc": (io.BytesIO(b"abc"), "a.txt")}
    ).json
    # multipart, as Backendpy builds it: the last part of each name, keys unchanged
    assert body["form"] == {"name": "n", "many[]": "b"}
    assert body["files"] == {"doc": "a.txt"}


def test_malformed_json_is_a_1002(client):
    response = client.post("/inspect/x", data=b"{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json["code"] == 1002
    assert "Traceback" not in response.text


@pytest.mark.parametrize(
    "raw",
    [
        '{"name": "Zoë", "n": [1, 2.5, null]}'.encode(),
        '{"name": "Zoë", "n": [1, 2.5, null]}'.encode("utf-8-sig"),  # a byte order mark
        '{"name": "Zoë", "n": [1, 2.5, null]}'.encode("utf-16"),
        '{"name": "Zoë", "n": [1, 2.5, null]}'.encode("utf-32-le"),
    ],
)
def test_json_body_in_every_encoding_json_loads_reads(client, raw):
    body = client.post("/inspect/x", data=raw, content_type="application/json").json
    assert body["json"] == {"name": "Zoë", "n": [1, 2.5, None]}


def test_json_body_parsed_again_for_each_request(client):
    # the decoder is shared between requests: nothing of one body leaks into the next
    assert client.post("/inspect/x", json={"a": 1}).json["json"] == {"a": 1}
    assert client.post("/inspect/x", json=[True]).json["json"] == [True]
    assert client.post("/inspect/x", data=b"NaN", content_type="application/json").status_code == 400
    assert client.post("/inspect/x", json={"b": 2}).json["json"] == {"b": 2}


def test_multipart_without_boundary_is_a_1002(client):
    response = client.post("/inspect/x", data=b"--x\r\n", content_type="multipart/form-data")
    assert response.status_code == 400
    assert response.json["code"] == 1002


def test_cleaned_data_without_data_handler_is_empty(client):
    assert client.get("/cleaned").json == {}


def test_context_does_not_leak_between_requests(client):
    first = client.get("/inspect/a").json["context"]
    second = client.get("/inspect/b").json["context"]
    assert first == second == {"seen": True}


def test_host_request_class_is_extended_in_extension_mode(tmp_path):
    from framework import Framework
    from framework.request import RequestMixin

    class HostRequest(flask.Request):
        marker = "host"

    host = flask.Flask(__name__, instance_path=str(tmp_path / "instance"))
    host.request_class = HostRequest
    Framework(host, config={})
    assert issubclass(host.request_class, HostRequest)
    assert issubclass(host.request_class, RequestMixin)


def test_cleaned_data_is_computed_once_per_request(make_route_app):
    app = make_route_app("""
        from framework.router import Routes
        from framework.response import JSON
        from framework.data_handler.data import Data
        from framework.data_handler.fields import String, TYPE_PARAM
        from framework.data_handler import validators as v
        routes = Routes()
        CALLS = []

        class Counting(v.Validator):
            async def __call__(self, value, meta):
                CALLS.append(value)
                return None

        class Query(Data):
            name = String('name', field_type=TYPE_PARAM, processors=[Counting()])

        @routes.get('/twice', data_handler=Query)
        async def twice(request):
            first = await request.get_cleaned_data()
            second = await request.get_cleaned_data()
            return JSON({'same': first is second, 'calls': len(CALLS), 'data': first})

        @routes.get('/twice-sync', data_handler=Query)
        def twice_sync(request):
            first = request.get_cleaned_data()
            return JSON({'same': first is request.get_cleaned_data(), 'calls': len(CALLS)})
    """)
    client = app.test_client()
    assert client.get("/twice?name=x").json == {"same": True, "calls": 1, "data": {"name": "x"}}
    assert client.get("/twice-sync?name=y").json == {"same": True, "calls": 2}


def test_a_request_that_read_its_body_is_freed_without_the_cycle_collector(make_route_app):
    """Reading ``request.body`` makes no reference cycle: once its answer is complete the
    request is freed at once, not left (with its environ and body) to the cyclic collector."""
    import gc
    import sys

    app = make_route_app(HANDLERS)
    client = app.test_client()
    handlers = next(m for m in list(sys.modules.values()) if hasattr(m, "SEEN") and hasattr(m, "remember"))
    gc.collect()
    gc.disable()
    try:
        answer = client.post("/remember", json={"k": 1})
        assert answer.json == {"json": {"k": 1}, "again": True}
        assert handlers.SEEN[-1]() is None
    finally:
        gc.enable()
