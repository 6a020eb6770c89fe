"""framework.logging.get_logger: level from config, colour only on a terminal."""

from __future__ import annotations

import io
import logging

from flask import Flask

from framework import Framework
from framework import logging as fw_logging


def _emitted(caplog, logger_name):
    return [(r.levelname, r.getMessage()) for r in caplog.records if r.name == logger_name]


def test_level_comes_from_config(project, caplog):
    logger = fw_logging.get_logger("framework.tests.level")
    project.config("[logging]\nlevel = WARNING\n")
    app = project.create_app()
    later = fw_logging.get_logger("framework.tests.later")
    with caplog.at_level(logging.DEBUG), app.app_context():
        for log in (logger, later):
            log.info("quiet")
            log.warning("heard")
    assert _emitted(caplog, logger.name) == _emitted(caplog, later.name) == [("WARNING", "heard")]
    caplog.clear()
    project.config("[logging]\nlevel = debug\n")
    app = project.create_app()
    with caplog.at_level(logging.DEBUG), app.app_context():
        logger.debug("heard too")
    assert _emitted(caplog, logger.name) == [("DEBUG", "heard too")]
    fw_logging.set_level("INFO")


def _host_logging_at(level: str) -> Flask:
    host = Flask(f"host_logging_{level.lower()}")
    log = fw_logging.get_logger("framework.tests.per_project")

    @host.get("/log")
    def log_everything():
        log.debug("debug from %s", level)
        log.info("info from %s", level)
        log.warning("warning from %s", level)
        return "logged"

    Framework(host, config={"logging": {"level": level}})
    return host


def test_two_projects_in_one_process_log_at_their_own_level(caplog):
    verbose, quiet = _host_logging_at("DEBUG"), _host_logging_at("WARNING")
    with caplog.at_level(logging.DEBUG):
        for host in (verbose, quiet, verbose):  # the last init_app does not win
            assert host.test_client().get("/log").data == b"logged"
    assert _emitted(caplog, "framework.tests.per_project") == [
        ("DEBUG", "debug from DEBUG"),
        ("INFO", "info from DEBUG"),
        ("WARNING", "warning from DEBUG"),
        ("WARNING", "warning from WARNING"),
        ("DEBUG", "debug from DEBUG"),
        ("INFO", "info from DEBUG"),
        ("WARNING", "warning from DEBUG"),
    ]


def test_init_app_leaves_the_process_default_level_alone(caplog):
    log = fw_logging.get_logger("framework.tests.outside")
    _host_logging_at("DEBUG")
    _host_logging_at("ERROR")
    with caplog.at_level(logging.DEBUG):
        log.debug("outside any project")
        log.info("the default level")
    assert _emitted(caplog, log.name) == [("INFO", "the default level")]


def test_colour_only_on_a_terminal():
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "boom", None, None)
    assert "\033[31mERROR" in fw_logging.ColorFormatter("%(levelname)s %(message)s").format(record)

    class Tty(io.StringIO):
        def isatty(self):
            return True

    assert isinstance(fw_logging._handler_for(Tty()).formatter, fw_logging.ColorFormatter)
    plain = fw_logging._handler_for(io.StringIO()).formatter
    assert not isinstance(plain, fw_logging.ColorFormatter)
    assert "\033" not in plain.format(record)


def test_stdlib_names_are_reachable_as_in_backendpy():
    assert fw_logging.getLogger is logging.getLogger
