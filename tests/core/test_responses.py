"""Typed responses: content types, streaming, files, redirects, compression."""

from __future__ import annotations

import gzip
import os

import pytest

HANDLERS = """
    import os, time
    from framework.router import Routes
    from framework.response import (Response, Text, HTML, JSON, Binary, File, Redirect,
                                    Success, Status)
    routes = Routes()
    STATE = {'produced': 0}

    @routes.get('/text')
    def text(request): return Text('Hello World!')
    @routes.get('/html')
    def html(request): return HTML('<b>hi</b>')
    @routes.get('/json')
    def json_(request): return JSON({'message': 'Hello World!'}, status=Status.CREATED)
    @routes.get('/raw')
    def raw(request): return Response(b'raw', headers={'X-A': 'b'}, content_type='text/csv')
    @routes.get('/binary')
    def binary(request): return Binary(b'\\x00\\x01')

    @routes.get('/stream')
    def stream(request):
        def chunks():
            for i in range(3):
                STATE['produced'] = i + 1
                yield f'chunk{i};'.encode()
        return Binary(chunks())

    @routes.get('/produced')
    def produced(request): return JSON(STATE)

    @routes.get('/file/<path:str>')
    def file(request):
        return File(request.url_vars['path'], partial=True)
    @routes.get('/nested-file')
    def nested_file(request):
        return File(os.path.join('sub', 'b.txt'))
    @routes.get('/traverse')
    def traverse(request):
        return File(request.params['p'])

    @routes.get('/redirect')
    def redirect(request): return Redirect('/text')
    @routes.get('/redirect-permanent')
    def redirect_permanent(request): return Redirect('/text', permanent=True)
    @routes.get('/redirect-crlf')
    def redirect_crlf(request): return Redirect('/x\\r\\nSet-Cookie: evil=1')

    @routes.get('/success')
    def success(request): return Success()
    @routes.post('/success')
    def success_msg(request): return Success('Successful login!', status=Status.CREATED)

    @routes.get('/big')
    def big(request): return Text('x' * 5000, compress=True)
    @routes.get('/big-stream')
    def big_stream(request):
        return Binary((b'y' * 1000 for _ in range(5)), compress=True)
"""


@pytest.fixture
def app(make_route_app, project):
    media = project.root / "media"
    (media / "sub").mkdir(parents=True)
    (media / "a.txt").write_bytes(b"0123456789")
    (media / "sub" / "b.txt").write_bytes(b"nested")
    (project.root / "secret.txt").write_text("top secret")
    os.symlink(project.root / "secret.txt", media / "link.txt")
    return make_route_app(HANDLERS)


@pytest.fixture
def client(app):
    client = app.test_client()
    opener = client.open

    def buffered_open(*args, **kwargs):
        kwargs.setdefault("buffered", True)  # closes file bodies, as a server would
        return opener(*args, **kwargs)

    client.open = buffered_open
    return client


@pytest.mark.parametrize(
    "path,ctype,body",
    [
        ("/text", "text/plain; charset=utf-8", b"Hello World!"),
        ("/html", "text/html; charset=utf-8", b"<b>hi</b>"),
        ("/binary", "application/octet-stream", b"\x00\x01"),
        ("/raw", "text/csv", b"raw"),
    ],
)
def test_simple_responses(client, path, ctype, body):
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == ctype
    assert response.data == body


def test_json_and_status(client):
    response = client.get("/json")
    assert response.status_code == 201
    assert response.headers["Content-Type"] == "application/json"
    assert response.json == {"message": "Hello World!"}


def test_custom_headers(client):
    assert client.get("/raw").headers["X-A"] == "b"


def test_binary_streams_an_iterator_without_buffering(client):
    response = client.get("/stream", buffered=False)
    chunks = response.response
    assert next(chunks) == b"chunk0;"
    assert client.get("/produced").json == {"produced": 1}
    assert b"".join(chunks) == b"chunk1;chunk2;"
    response.close()


def test_file_inside_media(client):
    response = client.get("/file/a.txt")
    assert response.status_code == 200
    assert response.data == b"0123456789"
    assert response.headers["Content-Type"].startswith("text/plain")
    assert response.headers["Accept-Ranges"] == "bytes"
    assert client.get("/nested-file").data == b"nested"


@pytest.mark.parametrize(
    "path", ["../secret.txt", "/etc/passwd", "sub/../../secret.txt", "link.txt", "missing.txt", "sub"]
)
def test_file_outside_media_or_missing_is_404(client, path):
    response = client.get("/traverse", query_string={"p": path})
    assert response.status_code == 404
    assert b"top secret" not in response.data and b"root:" not in response.data


def test_file_range_gives_206(client):
    response = client.get("/file/a.txt", headers={"Range": "bytes=2-4"})
    assert response.status_code == 206
    assert response.data == b"234"
    assert response.headers["Content-Range"] == "bytes 2-4/10"


def test_file_conditional_requests_give_304(client):
    first = client.get("/file/a.txt")
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert client.get("/file/a.txt", headers={"If-None-Match": etag}).status_code == 304
    assert client.get("/file/a.txt", headers={"If-Modified-Since": modified}).status_code == 304
    assert client.get("/file/a.txt", headers={"If-None-Match": '"other"'}).status_code == 200


def test_redirects(client):
    response = client.get("/redirect")
    assert response.status_code == 307 and response.headers["Location"] == "/text"
    assert client.get("/redirect-permanent").status_code == 308


def test_redirect_cannot_split_headers(client):
    response = client.get("/redirect-crlf")
    assert response.status_code == 307
    assert "\n" not in response.headers["Location"] and "\r" not in response.headers["Location"]
    assert "Set-Cookie" not in response.headers


def test_success_envelope(client):
    assert client.get("/success").json == {"status": "success"}
    response = client.post("/success")
    assert response.status_code == 201
    assert response.json == {"status": "success", "data": "Successful login!"}


def test_compress_only_when_the_client_accepts_gzip(client):
    plain = client.get("/big")
    assert plain.data == b"x" * 5000
    assert "Content-Encoding" not in plain.headers
    assert "Accept-Encoding" in plain.headers["Vary"]
    zipped = client.get("/big", headers={"Accept-Encoding": "gzip, deflate"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert int(zipped.headers["Content-Length"]) < 5000
    assert gzip.decompress(zipped.data) == b"x" * 5000
    assert "Accept-Encoding" in zipped.headers["Vary"]


def test_compress_a_stream(client):
    response = client.get("/big-stream", headers={"Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(response.data) == b"y" * 5000


def test_json_body_is_compact_utf8_with_dates_uuids_and_decimals_as_strings():
    import datetime
    import decimal
    import json
    import uuid

    from framework.response import JSON

    u = uuid.UUID("12345678-1234-5678-1234-567812345678")
    data = {"name": "Zoë", "at": datetime.date(2024, 5, 1), "id": u, "n": decimal.Decimal("1.50")}
    data["t"] = (1, 2)
    for _ in range(2):  # the encoder is shared between responses
        body = JSON(data).get_data()
        assert (
            body
            == (
                '{"name":"Zoë","at":"2024-05-01","id":"12345678-1234-5678-1234-567812345678",'
                '"n":"1.50","t":[1,2]}'
            ).encode()
        )
    with pytest.raises(TypeError, match="not JSON serializable"):
        JSON({"x": object()})
    assert json.loads(JSON([1, {"a": None}]).get_data()) == [1, {"a": None}]
