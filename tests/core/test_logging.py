"""framework.logging.get_logger: level from config, colour only on a terminal."""

from __future__ import annotations

import io
import logging

from framework import logging as fw_logging


def test_level_comes_from_config(project):
    logger = fw_logging.get_logger("framework.tests.level")
    project.config("[logging]\nlevel = WARNING\n")
    project.create_app()
    assert logger.level == logging.WARNING
    later = fw_logging.get_logger("framework.tests.later")
    assert later.level == logging.WARNING
    project.config("[logging]\nlevel = debug\n")
    project.create_app()
    assert logger.level == later.level == logging.DEBUG
    fw_logging.set_level("INFO")


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
