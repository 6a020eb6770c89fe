"""``/docs`` renders in headless Chromium with no request leaving the machine.

gunicorn serves the project on 127.0.0.1; Chromium loads ``/docs`` with every other
host name unresolvable and its own background traffic off, records its network log, and
dumps the DOM after the page's scripts ran. Skipped when no Chromium is installed
(``apt-get install chromium``).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from urllib.parse import urlsplit

import pytest

from tests.liveserver import LiveServer

from .conftest import ROOT, SAMPLE_APPS

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed")

#: Flags that stop Chromium's own traffic (updates, sync, metrics) and make every host
#: but 127.0.0.1 unresolvable, so a stray link on the page could not be fetched either.
OFFLINE_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--no-first-run",
    "--no-default-browser-check",
    "--metrics-recording-only",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
]


@pytest.fixture
def live_server(tmp_path):
    """The project under gunicorn (one worker) on a free port of 127.0.0.1."""
    env = {
        "FRAMEWORK__APPS__ACTIVE": "\n".join(SAMPLE_APPS),
        "FRAMEWORK__DATABASE__URI": f"sqlite:///{tmp_path / 'browser.sqlite'}",
        "FRAMEWORK__OPENAPI__ENABLED": "true",
        "FRAMEWORK__OPENAPI__TITLE": "Sample API",
        "PYTHONPATH": str(ROOT),
        "PYTHONWARNINGS": "ignore",
    }
    with LiveServer(ROOT, workers=1, env=env) as server:
        yield server.url


def test_docs_render_offline_in_headless_chromium(live_server, tmp_path):
    net_log = tmp_path / "netlog.json"
    completed = subprocess.run(
        [
            CHROMIUM,
            *OFFLINE_FLAGS,
            f"--user-data-dir={tmp_path / 'profile'}",
            f"--log-net-log={net_log}",
            "--virtual-time-budget=20000",
            "--dump-dom",
            f"{live_server}/docs",
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    dom = completed.stdout
    # Swagger UI ran: it fetched the document and drew the title and each operation
    assert 'class="swagger-ui' in dom
    assert "Sample API" in dom
    assert "opblock-summary-path" in dom
    for path in ("/hello-world", "/users/{id}", "/login"):
        assert f'data-path="{path}"' in dom, path
    requests = _requests(net_log)
    page_origin = live_server
    from_page = [r for r in requests if r["initiator"] == page_origin or r["request_type"] == "main frame"]
    fetched = {r["url"] for r in from_page}
    for path in (
        "/docs",
        "/docs/init.js",
        "/docs/swagger-ui-bundle.js",
        "/docs/swagger-ui.css",
        "/openapi.json",
    ):
        assert f"{page_origin}{path}" in fetched, path
    # everything the page asked for is on this machine
    assert all(urlsplit(r["url"]).hostname == "127.0.0.1" for r in from_page), fetched
    # Chromium's own background requests (updates, account checks) may be attempted, but
    # none was made by the page and none got past name resolution: nothing left the machine
    for r in requests:
        if urlsplit(r["url"]).hostname != "127.0.0.1":
            assert r["initiator"] == "not an origin", r
            assert r["net_error"] == NAME_NOT_RESOLVED, r


NAME_NOT_RESOLVED = -105


def _requests(net_log):
    """Each URL request in a Chromium net log: url, initiator, request type, net error."""
    log = json.loads(net_log.read_text(encoding="utf-8"))
    names = {number: name for name, number in log["constants"]["logEventTypes"].items()}
    by_source: dict[int, dict] = {}
    for event in log["events"]:
        params = event.get("params") or {}
        entry = by_source.setdefault(event["source"]["id"], {"net_error": None})
        if names.get(event["type"]) == "URL_REQUEST_START_JOB" and "url" in params:
            entry.update(
                url=params["url"], initiator=params.get("initiator"), request_type=params.get("request_type")
            )
        if "net_error" in params:
            entry["net_error"] = params["net_error"]
    return [entry for entry in by_source.values() if "url" in entry]
