"""``flask --app wsgi openapi``: print the OpenAPI document (for CI and client generators).

It works whether or not the two URLs are enabled, since it needs no server.
"""

from __future__ import annotations

import json
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext

__all__ = ["openapi_command"]


@click.command("openapi")
@click.option(
    "--output",
    "-o",
    type=click.File("w", encoding="utf-8"),
    default="-",
    help="Write the document to this file instead of standard output.",
)
@click.option(
    "--indent",
    type=click.IntRange(0, 8),
    default=2,
    show_default=True,
    help="Spaces of indentation (0: one line).",
)
@with_appcontext
def openapi_command(output: Any, indent: int) -> None:
    """Print the project's OpenAPI document as JSON."""
    state = current_app.extensions.get("framework.openapi")
    if state is None:
        raise click.ClickException("this application has no framework OpenAPI support installed")
    try:
        document = state.document()
    except ImportError as exc:
        raise click.ClickException(
            f"the openapi command needs apispec: pip install apispec ({exc})"
        ) from None
    json.dump(document, output, indent=indent or None, ensure_ascii=False)
    output.write("\n")
