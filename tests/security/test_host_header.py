"""Host header attacks against ``[networking] allowed_hosts``: 400 with code 1003."""

from __future__ import annotations

import pytest

from .conftest import assert_envelope

BAD_HOSTS = [
    "evil.com",
    "evil.com:80",
    "example.com.evil.com",
    "evilexample.com",
    "example.com@evil.com",
    "example.com/evil",
    "example.com evil.com",
    "example.com:80@evil.com",
    "localhost.",
    "[::1]",
    "",
    "\xff\xfe",
    "example.com\r\nX-Injected: 1",
    "EXAMPLE.COM.",
    "*",
]


@pytest.mark.parametrize("host", BAD_HOSTS)
@pytest.mark.parametrize("path", ["/host", "/ok", "/no-such-route"])
def test_disallowed_host_is_1003(client, host, path):
    response = client.get(path, environ_overrides={"HTTP_HOST": host})
    payload = assert_envelope(response, 400, 1003)
    assert "evil" not in str(payload)


def test_disallowed_host_on_post_with_a_body_is_1003(client):
    response = client.post(
        "/echo",
        data=b'{"a": 1}',
        content_type="application/json",
        environ_overrides={"HTTP_HOST": "evil.com"},
    )
    assert_envelope(response, 400, 1003)


@pytest.mark.parametrize(
    "host", ["example.com", "EXAMPLE.com", "example.com:8080", "localhost", "127.0.0.1:5000"]
)
def test_allowed_hosts_are_served(client, host):
    response = client.get("/host", environ_overrides={"HTTP_HOST": host})
    assert response.status_code == 200
    assert response.get_data(as_text=True) == host


def test_forwarded_host_is_ignored_without_trusted_proxies(client):
    response = client.get(
        "/host", headers={"X-Forwarded-Host": "evil.com"}, environ_overrides={"HTTP_HOST": "example.com"}
    )
    assert response.status_code == 200 and response.get_data() == b"example.com"
    response = client.get(
        "/go?to=/ok", headers={"X-Forwarded-Host": "evil.com"}, environ_overrides={"HTTP_HOST": "example.com"}
    )
    assert "evil" not in response.headers["Location"]
