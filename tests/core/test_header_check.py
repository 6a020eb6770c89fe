"""``HeaderCheck`` on plain WSGI applications, including one that calls ``start_response``
only when its body is first iterated (allowed by PEP 3333)."""

from __future__ import annotations

import json
import logging

import pytest
from werkzeug.test import Client

from framework.header_check import HeaderCheck, header_problem
from framework.request_id import RequestIdMiddleware

#: The ways the framework wraps an application with the check: alone, and inside the
#: request id layer.
LAYERINGS = {
    "check": HeaderCheck,
    "id around check": lambda app: RequestIdMiddleware(HeaderCheck(app)),
}


def lazy_app(headers):
    def app(environ, start_response):
        def body():
            start_response("200 OK", headers)
            yield b"hello"

        return body()

    return app


def eager_app(headers, closed):
    class Body(list):
        def close(self):
            closed.append(True)

    def app(environ, start_response):
        start_response("200 OK", headers)
        return Body([b"hello"])

    return app


@pytest.mark.parametrize("layering", LAYERINGS)
@pytest.mark.parametrize("make", ["lazy", "eager"])
def test_bad_header_is_the_500_envelope_and_the_body_is_closed(make, layering, caplog):
    closed: list[bool] = []
    headers = [("X-Bad", "a\r\nb")]
    app = lazy_app(headers) if make == "lazy" else eager_app(headers, closed)
    with caplog.at_level(logging.ERROR, logger="framework.headers"):
        response = Client(LAYERINGS[layering](app)).get("/", headers={"X-Request-ID": "req-1"})
    assert response.status_code == 500
    assert json.loads(response.get_data()) == {"status": "error", "code": 1000, "message": "Server error"}
    assert "X-Bad" not in response.headers
    if layering != "check":
        assert response.headers.getlist("X-Request-ID") == ["req-1"]
    if make == "eager":
        assert closed == [True]
    logged = [r.getMessage() for r in caplog.records if r.name == "framework.headers"]
    assert len(logged) == 1 and "header 'X-Bad'" in logged[0], logged


@pytest.mark.parametrize("layering", LAYERINGS)
@pytest.mark.parametrize("make", ["lazy", "eager"])
def test_good_headers_pass(make, layering):
    headers = [("X-Good", "tab\tok \xe9")]
    app = lazy_app(headers) if make == "lazy" else eager_app(headers, [])
    response = Client(LAYERINGS[layering](app)).get("/")
    assert response.status_code == 200 and response.get_data() == b"hello"
    assert response.headers["X-Good"] == "tab\tok \xe9"
    if layering != "check":
        assert len(response.headers.getlist("X-Request-ID")) == 1


@pytest.mark.parametrize("own", ["X-Request-ID", "x-request-id"])
def test_an_id_the_application_set_is_kept_alone(own):
    app = eager_app([("Content-Type", "text/plain"), (own, "the-apps-own")], [])
    response = Client(RequestIdMiddleware(HeaderCheck(app))).get("/", headers={"X-Request-ID": "from-client"})
    assert response.status_code == 200
    assert response.headers.getlist("X-Request-ID") == ["the-apps-own"]


@pytest.mark.parametrize("layering", LAYERINGS)
def test_a_status_line_or_header_seen_before_is_checked_again_when_the_list_differs(layering):
    """A remembered status with an unremembered bad pair is refused; the same answer with
    good headers only, twice, passes both times (the second from the remembered sets)."""
    wrapped = LAYERINGS[layering]
    good = [("Content-Type", "text/plain"), ("Content-Length", "5")]
    for _ in range(2):
        assert Client(wrapped(eager_app(list(good), []))).get("/").status_code == 200
    bad = [*good, ("X-Late", "x\ny")]
    assert Client(wrapped(eager_app(bad, []))).get("/").status_code == 500


@pytest.mark.parametrize(
    "status,headers,culprit",
    [
        ("200 OK\r\nX: y", [], "status line"),
        ("200 OK", [("Bad Name", "v")], "header name"),
        ("200 OK", [("X", "\x00")], "value of header 'X'"),
        ("200 OK", [("X", "\u20ac")], "value of header 'X'"),
        ("200 OK", [("X", "\x7f")], "value of header 'X'"),
    ],
)
def test_header_problem_names_the_culprit(status, headers, culprit):
    assert culprit in (header_problem(status, headers) or "")
    assert header_problem("204 No Content", [("X-Ok", "fine")]) is None


def test_remembered_headers_do_not_let_a_bad_one_through():
    """Checked pairs are remembered: a good answer repeated passes, and a bad value under a
    remembered name, a bad status or a pair that is not a tuple of ``str`` is still refused."""
    good = [("Content-Type", "text/plain"), ("Content-Length", "5")]
    assert header_problem("200 OK", list(good)) is None
    assert header_problem("200 OK", list(good)) is None
    assert "value of header 'Content-Type'" in (
        header_problem("200 OK", [*good, ("Content-Type", "text/plain\r\nX: y")]) or ""
    )
    assert "status line" in (header_problem("200 OK\n", list(good)) or "")
    assert "header name" in (header_problem("200 OK", [*good, (b"Content-Type", "text/plain")]) or "")
    assert "value of header" in (header_problem("200 OK", [["X", "\x00"]]) or "")


def test_remembered_headers_are_bounded():
    """However many different good headers pass, only a bounded number is kept."""
    from framework import header_check

    for number in range(header_check._KNOWN_MAX + 50):
        assert header_problem("200 OK", [("X-Count", str(number)), ("X-Long", "v" * 500)]) is None
    assert len(header_check._KNOWN_HEADERS) <= header_check._KNOWN_MAX
    assert ("X-Long", "v" * 500) not in header_check._KNOWN_HEADERS
