"""wsgi.py exports both entry points."""

from __future__ import annotations

import urllib.request

from tests.helpers import BIN, free_port, running_server


def test_uvicorn_serves_the_project_through_asgi_app(tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}/hello-world"
    args = [str(BIN / "uvicorn"), "wsgi:asgi_app", "--host", "127.0.0.1", "--port", str(port)]
    env = {"FRAMEWORK__DATABASE__URI": f"sqlite:///{tmp_path / 'served.sqlite3'}"}  # not the repo's instance/
    with running_server(args, url, env=env), urllib.request.urlopen(url, timeout=5) as response:
        assert response.read() == b"Hello World!"
