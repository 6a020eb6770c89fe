"""Invalid response headers and form-field caps under every server: gunicorn, uvicorn
through ``framework.asgi.to_asgi``, the ASGI adapter in process, and Werkzeug's
development server. A header no server may send answers the 500 envelope (code 1000, no
traceback); too many form fields answer 413 (code 1005); and the worker keeps serving."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from framework.asgi import to_asgi
from tests.liveserver import LiveServer, http_get, parse_response, raw_request

from .conftest import assert_raw_envelope
from .test_hostile_input import BAD_HEADER_PATHS, _urlencoded, assert_server_error_envelope


def _post_form(port: int, body: bytes) -> tuple[int, dict[str, str], bytes]:
    head = (
        f"POST /form HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
        f"Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    return parse_response(raw_request(port, head + body))


@pytest.fixture(scope="module")
def dev_server(app) -> Iterator[int]:
    """Werkzeug's development server, threaded, on a free port of this process."""
    with LiveServer(app=app, kind="thread") as live:
        yield live.port


@pytest.fixture(params=["gunicorn", "uvicorn", "werkzeug"])
def port(request: pytest.FixtureRequest) -> int:
    if request.param == "gunicorn":
        return request.getfixturevalue("server").port
    if request.param == "uvicorn":
        return request.getfixturevalue("asgi_server").port
    return request.getfixturevalue("dev_server")


@pytest.mark.parametrize("path", BAD_HEADER_PATHS)
def test_an_invalid_response_header_is_the_500_envelope_under_every_server(port, path):
    status, headers, body = http_get(port, path)
    assert_server_error_envelope(status, headers.items(), body)
    status, _, body = http_get(port, "/ok")
    assert status == 200, body


def test_the_servers_log_no_traceback_for_invalid_headers(server, asgi_server):
    for live in (server, asgi_server):
        for path in BAD_HEADER_PATHS:
            assert http_get(live.port, path)[0] == 500
        log = live.log_text()
        assert "Traceback" not in log, log[-3000:]
        assert log.count("answered 500 instead") >= len(BAD_HEADER_PATHS)


@pytest.mark.parametrize("count,status", [(1000, 200), (1001, 413)])
def test_form_field_cap_under_every_server(port, count, status):
    status_got, headers, body = _post_form(port, _urlencoded(count))
    if status == 200:
        assert status_got == 200 and len(json.loads(body)["fields"]) == count
    else:
        assert_raw_envelope(status_got, headers, body, 413, 1005)


# ----------------------------------------------------------- the ASGI adapter in process
async def _asgi_get(app: Any, paths: list[str]) -> list[httpx.Response]:
    transport = httpx.ASGITransport(app=to_asgi(app))
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
        return [await client.get(path) for path in paths]


def test_an_invalid_response_header_through_to_asgi_in_process(app):
    responses = asyncio.run(_asgi_get(app, [*BAD_HEADER_PATHS, "/ok"]))
    for response in responses[:-1]:
        assert_server_error_envelope(response.status_code, response.headers.multi_items(), response.content)
    assert responses[-1].status_code == 200
