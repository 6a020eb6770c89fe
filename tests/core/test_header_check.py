"""``HeaderCheck`` on plain WSGI applications, including one that calls ``start_response``
only when its body is first iterated (allowed by PEP 3333)."""

from __future__ import annotations

import json

import pytest
from werkzeug.test import Client

from framework.header_check import HeaderCheck, header_problem


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


@pytest.mark.parametrize("make", ["lazy", "eager"])
def test_bad_header_is_the_500_envelope_and_the_body_is_closed(make):
    closed: list[bool] = []
    headers = [("X-Bad", "a\r\nb")]
    app = lazy_app(headers) if make == "lazy" else eager_app(headers, closed)
    response = Client(HeaderCheck(app)).get("/")
    assert response.status_code == 500
    assert json.loads(response.get_data()) == {"status": "error", "code": 1000, "message": "Server error"}
    assert "X-Bad" not in response.headers
    if make == "eager":
        assert closed == [True]


@pytest.mark.parametrize("make", ["lazy", "eager"])
def test_good_headers_pass(make):
    headers = [("X-Good", "tab\tok \xe9")]
    app = lazy_app(headers) if make == "lazy" else eager_app(headers, [])
    response = Client(HeaderCheck(app)).get("/")
    assert response.status_code == 200 and response.get_data() == b"hello"
    assert response.headers["X-Good"] == "tab\tok \xe9"


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
