"""Response headers in Backendpy's shape: lists of ``[bytes, bytes]`` pairs, passed by a handler
or set by a middleware, beside Flask's ``Headers``."""

from __future__ import annotations

import pytest

from framework.response import JSON, Text

HANDLERS = """
    from framework.response import Text, Success
    from framework.router import Routes
    routes = Routes()

    @routes.get('/pairs')
    async def pairs(request):
        # Backendpy's responses carry their headers as [bytes, bytes] pairs
        return Text('x', headers=[[b'x-one', b'1'], [b'x-two', b'2'], [b'x-one', b'3']])

    @routes.get('/flask-style')
    def flask_style(request):
        return Success({'ok': True}, headers={'X-Flask': 'yes'})
"""

MIDDLEWARE = """
    from framework.middleware import Middleware

    class Replace(Middleware):
        # as a Backendpy middleware writes it: its own list in place of the headers
        async def process_response(self, request, response):
            if request.path == '/pairs':
                response.headers = [[b'x-frame-options', b'DENY']]
            return response

    class Extend(Middleware):
        def process_response(self, request, response):
            response.headers.append([b'x-appended', b'a'])
            response.headers += [[b'x-added', b'b']]
            response.headers[b'x-set'] = b'c'
            return response
"""


@pytest.fixture
def client(project, make_route_app):
    middleware = project.module("mw.py", MIDDLEWARE)
    return make_route_app(
        HANDLERS,
        config_extra=(f"[middlewares]\nactive =\n    {middleware}.Replace\n    {middleware}.Extend\n"),
    ).test_client()


def test_handler_passes_bytes_pairs_and_a_middleware_sets_and_extends_them(client):
    response = client.get("/pairs")
    assert response.status_code == 200 and response.data == b"x"
    # the Replace middleware's list replaced the handler's pairs; the body's headers stay
    assert response.headers.get_all("X-One") == []
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert response.headers["Content-Length"] == "1"
    assert [response.headers[h] for h in ("X-Appended", "X-Added", "X-Set")] == ["a", "b", "c"]


def test_flask_headers_keep_working_beside_them(client):
    response = client.get("/flask-style")
    assert response.headers["X-Flask"] == "yes"
    assert response.headers["X-Appended"] == "a"
    assert response.json == {"status": "success", "data": {"ok": True}}


def test_repeated_pairs_are_all_sent():
    response = Text("x", headers=[[b"x-one", b"1"], [b"x-two", b"2"], [b"x-one", b"3"]])
    assert response.headers.get_all("x-one") == ["1", "3"] and response.headers["x-two"] == "2"


def test_a_newline_in_a_bytes_value_is_refused():
    with pytest.raises(ValueError):
        JSON({}, headers=[[b"x-bad", b"a\r\nSet-Cookie: x=1"]])


def test_text_header_set_by_item_replaces_and_refuses_newlines():
    import pytest

    from framework.response import Text

    response = Text("x")
    response.headers["X-A"] = "1"
    response.headers["x-a"] = "2"  # one header whatever the case
    assert response.headers.get_all("X-A") == ["2"]
    assert response.headers["Content-Length"] == "1"
    with pytest.raises(ValueError):
        response.headers["X-B"] = "bad\r\nX-Injected: yes"
    assert "X-B" not in response.headers
