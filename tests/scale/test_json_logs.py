"""``[logging] format = json`` (framework.logging): one JSON object per line, per project."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from flask import Flask

from framework import Framework
from framework import logging as fw_logging
from framework.config import ImproperlyConfigured

HANDLERS = """
from framework.router import Routes
from framework.response import Text
from framework.logging import get_logger

routes = Routes()
LOG = get_logger('framework.tests.json')

@routes.get('/note')
def note(request):
    LOG.warning('two\\nlines "quoted"')
    return Text('ok')

@routes.get('/boom')
def boom(request):
    raise ValueError('broken on purpose')
"""


@pytest.fixture
def written() -> Iterator[io.StringIO]:
    """What the framework's own handler writes, for the duration of a test."""
    handler = next(h for h in logging.getLogger("framework").handlers if isinstance(h, logging.StreamHandler))
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        yield stream
    finally:
        handler.setStream(previous)
        fw_logging.set_format("text")


def _lines(stream: io.StringIO) -> list[str]:
    return stream.getvalue().splitlines()


def test_json_lines_hold_time_level_logger_message_request_id_and_exception(make_route_app, written):
    app = make_route_app(HANDLERS, config_extra="[logging]\nformat = json\n")
    client = app.test_client()
    assert client.get("/note", headers={"X-Request-ID": "json-1"}).status_code == 200
    assert client.get("/boom", headers={"X-Request-ID": "json-2"}).status_code == 500
    entries = [json.loads(line) for line in _lines(written)]  # every line is one object
    note, boom = entries[-2], entries[-1]
    assert note["message"] == 'two\nlines "quoted"'
    assert (note["level"], note["logger"], note["request_id"]) == (
        "WARNING",
        "framework.tests.json",
        "json-1",
    )
    assert note["time"].endswith("+00:00") and "T" in note["time"]
    assert "exception" not in note
    assert (boom["level"], boom["logger"], boom["request_id"]) == ("ERROR", "framework", "json-2")
    assert "ValueError: broken on purpose" in boom["exception"]
    assert boom["exception"].startswith("Traceback")
    # outside any request the id is null; the owning project made JSON the process default
    fw_logging.get_logger("framework.tests.json").warning("after")
    assert json.loads(_lines(written)[-1])["request_id"] is None


def test_text_stays_the_default_and_names_the_request(make_route_app, written):
    app = make_route_app(HANDLERS)
    app.test_client().get("/note", headers={"X-Request-ID": "text-1"})
    line = _lines(written)[0]
    assert " WARNING [framework.tests.json] [text-1] two" in line
    assert not line.startswith("{")


def test_a_host_application_keeps_its_logging(written):
    root = logging.getLogger()
    before = (list(root.handlers), root.level)
    host = Flask("json_host")
    log = fw_logging.get_logger("framework.tests.json_host")

    @host.get("/log")
    def log_once() -> str:
        log.warning("inside")
        return "ok"

    Framework(host, config={"logging": {"format": "json"}})
    assert (list(root.handlers), root.level) == before
    host.test_client().get("/log", headers={"X-Request-ID": "host-1"})
    log.warning("outside")  # no project's context: the process default, text
    inside, outside = _lines(written)[-2:]
    assert json.loads(inside)["request_id"] == "host-1"
    assert outside.endswith("[framework.tests.json_host] outside")


def test_an_unknown_format_stops_start_up(make_route_app):
    with pytest.raises(ImproperlyConfigured, match=r"\[logging\] format: unknown logging format 'xml'"):
        make_route_app(HANDLERS, config_extra="[logging]\nformat = xml\n")
