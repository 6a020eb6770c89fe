"""``request.params`` and ``request.body`` form/files keyed and valued as Backendpy builds them.

Each expectation below was observed on Backendpy 0.2.5a2 itself (a one-route app under
uvicorn, the same requests sent with curl); where Backendpy answers with a server error or a
``repr`` of bytes, the test says what is kept instead.
"""

from __future__ import annotations

import io

import pytest

HANDLERS = """
    from framework.router import Routes
    from framework.response import JSON
    routes = Routes()

    def _file(upload):
        return {'content': upload['content'].decode('latin-1'), 'file-name': upload['file-name'],
                'content-type': upload['content-type'], 'filename': upload.filename}

    @routes.route('/echo', ('GET', 'POST'))
    async def echo(request):
        return JSON({'params': request.params, 'form': request.body.form,
                     'files': {k: _file(v) for k, v in request.body.files.items()}})
"""


@pytest.fixture
def client(make_route_app):
    return make_route_app(HANDLERS).test_client()


def test_params_last_value_list_keys_kept_blanks_dropped(client):
    body = client.get("/echo?a=1&a=2&b[]=x&b[]=y&c[]=z&e=&f=%20+q&g=%ff&h[]=&i=1;j=2").json
    assert body["params"] == {
        "a": "2",
        "b[]": ["x", "y"],
        "c[]": ["z"],
        "f": "  q",
        "g": "\ufffd",
        "i": "1;j=2",
    }


def test_params_without_a_query_string(client):
    # Backendpy gives None; an empty dict reads the same in ``if request.params`` and .get()
    assert client.get("/echo").json["params"] == {}


def test_urlencoded_form_one_value_or_the_list(client):
    body = client.post(
        "/echo", data="a=1&a=2&b[]=x&c[]=y&c[]=z&e=&f=%20+q", content_type="application/x-www-form-urlencoded"
    ).json
    assert body["form"] == {"a": ["1", "2"], "b[]": "x", "c[]": ["y", "z"], "f": "  q"}
    assert body["files"] == {}


def test_multipart_form_and_files_last_part_wins(client):
    body = client.post(
        "/echo",
        data={
            "a": ["1", "2"],
            "b[]": ["x", "y"],
            "e": "",
            "u": "é",
            "up": [
                (io.BytesIO(b"first"), "one.txt", "text/x-one"),
                (io.BytesIO(b"second"), "hosts", "text/x-h"),
            ],
            "many[]": [(io.BytesIO(b"vm\n"), "hostname", "application/octet-stream")],
        },
    ).json
    # Backendpy stores each value as ``str(bytes)`` ("b'2'"); the text itself is kept here
    assert body["form"] == {"a": "2", "b[]": "y", "e": "", "u": "é"}
    assert body["files"] == {
        "up": {"content": "second", "file-name": "hosts", "content-type": "text/x-h", "filename": "hosts"},
        "many[]": {
            "content": "vm\n",
            "file-name": "hostname",
            "content-type": "application/octet-stream",
            "filename": "hostname",
        },
    }


def test_data_handlers_still_see_every_value_of_a_list_key(make_route_app):
    app = make_route_app("""
        from framework.data_handler.data import Data
        from framework.data_handler.fields import String, TYPE_PARAM
        from framework.response import JSON
        from framework.router import Routes
        routes = Routes()

        class Query(Data):
            tags = String('tags', field_type=TYPE_PARAM)           # the short name
            ids = String('ids[]', field_type=TYPE_PARAM)           # Backendpy's name
            page = String('page', field_type=TYPE_PARAM)

        @routes.get('/q', data_handler=Query)
        async def q(request):
            return JSON(await request.get_cleaned_data())
    """)
    body = app.test_client().get("/q?tags[]=a&tags[]=b&ids[]=1&ids[]=2&page=1&page=3").json
    assert body == {"tags": ["a", "b"], "ids": ["1", "2"], "page": "3"}
