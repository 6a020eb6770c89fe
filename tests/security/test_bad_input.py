"""Bad input through the test client: every case answers 4xx in the envelope and the app
keeps serving."""

from __future__ import annotations

import json

import pytest

from .conftest import MAX_BODY, assert_envelope


@pytest.fixture(autouse=True)
def still_serving(client):
    """After each case the same app still answers a good request."""
    yield
    response = client.get("/ok")
    assert response.status_code == 200


# ------------------------------------------------------------------------ JSON bodies
@pytest.mark.parametrize(
    "body",
    [
        b"{",
        b"{'a': 1}",
        b'{"a": }',
        b"[1, 2,]",
        b"nul",
        b'"unterminated',
        b"\x00\x01\x02",
        b'{"a": NaN',
        b"\xff\xfe{}",
        b'{"a": "\xff"}',
        b"NaN",
        b"[Infinity]",
        b'{"a": -Infinity}',
        b"9" * 4400,
    ],
)
@pytest.mark.parametrize("route", ["/echo", "/aecho"])
def test_malformed_json_is_400_1002(client, route, body):
    response = client.post(route, data=body, content_type="application/json")
    payload = assert_envelope(response, 400, 1002)
    assert payload["data"] == {"body": ["Malformed JSON"]}


@pytest.mark.parametrize("opening,closing", [(b"[", b"]"), (b'{"a":', b"}")])
def test_json_nested_10000_deep_is_400(client, opening, closing):
    depth = 10_000
    body = opening * depth + b"1" + closing * depth
    assert len(body) < MAX_BODY * 20
    app_max = client.application.config["MAX_CONTENT_LENGTH"]
    client.application.config["MAX_CONTENT_LENGTH"] = len(body) + 1
    try:
        response = client.post("/echo", data=body, content_type="application/json")
    finally:
        client.application.config["MAX_CONTENT_LENGTH"] = app_max
    assert_envelope(response, 400, 1002)


def test_json_nested_just_under_the_limit_is_accepted(client):
    body = b"[" * 50 + b"1" + b"]" * 50
    response = client.post("/echo", data=body, content_type="application/json")
    assert response.status_code == 200 and response.json == {"type": "list"}


# ---------------------------------------------------------------------- body size limit
@pytest.mark.parametrize("route", ["/echo", "/raw", "/form", "/aecho"])
def test_body_over_max_content_length_is_413(client, route):
    body = b'{"a": "' + b"x" * MAX_BODY + b'"}'
    response = client.post(route, data=body, content_type="application/json")
    assert_envelope(response, 413, 1005)


def test_declared_length_over_the_limit_is_413_even_where_the_body_is_unused(client):
    response = client.post("/ignore", data=b"x" * (MAX_BODY + 1), content_type="text/plain")
    assert_envelope(response, 413, 1005)


def test_multipart_over_the_limit_is_413(client):
    response = client.post(
        "/form",
        data={"f": (__import__("io").BytesIO(b"x" * (MAX_BODY * 2)), "a.bin")},
        content_type="multipart/form-data",
    )
    assert_envelope(response, 413, 1005)


def test_body_at_the_limit_is_accepted(client):
    body = json.dumps(["x" * (MAX_BODY - 10)]).encode()[:MAX_BODY]
    body = body[: MAX_BODY - 2] + b'"]'
    assert len(body) <= MAX_BODY
    response = client.post("/raw", data=body, content_type="application/octet-stream")
    assert response.status_code == 200 and response.json == {"length": len(body)}


# ----------------------------------------------------------------------- content types
@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/xml",
        "image/png",
        "application/jsonx",
        "",
        "garbage;;;=",
        "application/json-seq",
    ],
)
def test_json_route_with_a_wrong_content_type_is_415(client, content_type):
    response = client.post("/echo", data=b'{"a": 1}', headers={"Content-Type": content_type})
    assert_envelope(response, 415, 1006)


def test_multipart_without_boundary_is_400(client):
    response = client.post("/form", data=b"--x\r\n", content_type="multipart/form-data")
    assert_envelope(response, 400, 1002)


@pytest.mark.parametrize(
    "body",
    [
        b"garbage without any boundary",
        b"--xyz\r\nContent-Disposition: form-data\r\n\r\nno name\r\n--xyz--\r\n",
        b'--xyz\r\nContent-Disposition: form-data; name="a"\r\n\r\nunterminated',
        b"--xyz\r\n\r\n\r\n--xyz--",
    ],
)
def test_broken_multipart_bodies_are_not_server_errors(client, body):
    response = client.post("/form", data=body, content_type="multipart/form-data; boundary=xyz")
    assert response.status_code < 500
    if response.status_code >= 400:
        assert_envelope(response, 400, 1002)


def test_form_with_invalid_utf8_is_not_a_server_error(client):
    response = client.post(
        "/form", data=b"a=%FF%FE&b\xff=\xfe", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200  # Werkzeug drops a form body that is not UTF-8
    response = client.post("/form", data=b"a=%FF%FE&b=1", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200 and response.json["fields"] == ["a", "b"]


def test_wrong_method_is_405_in_the_envelope(client):
    response = client.delete("/echo")
    assert_envelope(response, 405, 1004)


# --------------------------------------------------------------------- invalid UTF-8
def test_invalid_utf8_in_path_is_404(client):
    response = client.get("/%FF%FE%FD")
    assert_envelope(response, 404, 1001)


def test_invalid_utf8_in_url_variable_is_404(client):
    response = client.get("/media/%FF%C0%AF")
    assert_envelope(response, 404, 1001)


def test_invalid_utf8_in_query_is_replaced(client):
    response = client.get("/query?a=%FF%FE&%C0%AF=1")
    assert response.status_code == 200
    # as Backendpy builds params: undecodable bytes become U+FFFD
    assert response.json == {"a": "\ufffd\ufffd", "\ufffd\ufffd": "1"}


def test_invalid_utf8_in_a_header_is_kept_as_latin1(client):
    response = client.get("/header", environ_overrides={"HTTP_X_PROBE": "\xff\xfe"})
    assert response.status_code == 200
    assert response.json == {"value": "\xff\xfe"}


def test_nul_byte_in_a_file_path_is_404(client):
    response = client.get("/file?path=hello.txt%00.png")
    assert_envelope(response, 404, 1001)


def test_nul_byte_in_a_template_name_is_404(client):
    response = client.get("/page?name=page.html%00")
    assert_envelope(response, 404, 1001)
