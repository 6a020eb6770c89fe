"""Fixtures for the data handler tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from tests.data_handler.helpers import build_app, echo_routes


@pytest.fixture
def client_for():
    """``client_for(DataClass, path='/x', methods=('POST',), asynchronous=False)`` -> test client."""

    def make(
        data_class: type,
        path: str = "/x",
        methods: tuple[str, ...] = ("POST",),
        asynchronous: bool = False,
        setup: Callable[[Flask], Any] | None = None,
        config: dict[str, dict[str, Any]] | None = None,
    ):
        return build_app(echo_routes(data_class, path, methods, asynchronous), setup, config).test_client()

    return make


@pytest.fixture
def app_for():
    """``app_for(routes, setup=None)`` -> a Flask app serving ``routes``."""
    return build_app
