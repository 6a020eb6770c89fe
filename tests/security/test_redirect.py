"""CR/LF in redirect targets cannot split the response's headers."""

from __future__ import annotations

import pytest

TARGETS = [
    "/next\r\nSet-Cookie: session=stolen",
    "/next\nSet-Cookie: session=stolen",
    "/next\rSet-Cookie: session=stolen",
    "/next%0d%0aSet-Cookie:%20session=stolen",
    "/next\r\n\r\n<script>alert(1)</script>",
    "http://example.com/\u2028Set-Cookie: a=b",
    "/next\x00\r\nX-Evil: 1",
]


@pytest.mark.parametrize("target", TARGETS)
def test_crlf_in_redirect_target_does_not_split_headers(client, target):
    response = client.get("/go", query_string={"to": target})
    assert response.status_code == 307
    location = response.headers["Location"]
    assert "\r" not in location and "\n" not in location and "\x00" not in location
    assert "Set-Cookie" not in response.headers and "X-Evil" not in response.headers
    assert location.startswith(target[:5].replace("\u2028", ""))
    assert b"<script>" not in response.get_data()
