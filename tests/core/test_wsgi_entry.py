"""wsgi.py exports both entry points."""

from __future__ import annotations

import urllib.request

from tests.helpers import BIN, free_port, running_server


def test_uvicorn_serves_the_project_through_asgi_app():
    port = free_port()
    url = f"http://127.0.0.1:{port}/hello-world"
    args = [str(BIN / "uvicorn"), "wsgi:asgi_app", "--host", "127.0.0.1", "--port", str(port)]
    with running_server(args, url), urllib.request.urlopen(url, timeout=5) as response:
        assert response.read() == b"Hello World!"
