"""The project served for real: gunicorn from the project root."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest

from tests.helpers import BIN, free_port, running_server


def test_gunicorn_serves_hello_world(tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "1",
        "FRAMEWORK__DATABASE__URI": f"sqlite:///{tmp_path / 'served.sqlite3'}",  # not the repo's instance/
    }
    with running_server([str(BIN / "gunicorn"), "wsgi:app"], f"{base}/hello-world", env=env):
        with urllib.request.urlopen(f"{base}/hello-world", timeout=5) as response:
            assert response.status == 200
            assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
            assert response.read() == b"Hello World!"
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(f"{base}/missing", timeout=5)
        assert info.value.code == 404
        assert b'"code":1001' in info.value.read()
