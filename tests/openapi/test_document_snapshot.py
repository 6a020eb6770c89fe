"""The generated OpenAPI document of the sample apps and of the repository's project.

The snapshots in ``snapshots/`` were written from main before validators described their
own schema (``Validator.openapi_schema``); the document must not change with that move.
After a deliberate change to the document, rewrite them with
``python -m tests.openapi.test_document_snapshot`` and review the diff.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

from framework import create_app

from .conftest import ALL_APPS, AUTH_MIDDLEWARE, ROOT

SNAPSHOTS = Path(__file__).with_name("snapshots")

#: name -> the project's config overrides (the database is added per run)
PROJECTS: dict[str, dict[str, Any]] = {
    # tests/openapi/sample_api with the sample blueprints, the auth middleware active
    "sample_api": {"apps": {"active": ALL_APPS},
                   "middlewares": {"active": [AUTH_MIDDLEWARE]},
                   "openapi": {"enabled": "true"}},
    # the repository's own project: its config.ini as it is, with the document on
    "project": {"openapi": {"enabled": "true"}},
}


def build_document(name: str, folder: Path) -> dict[str, Any]:
    config = {**PROJECTS[name], "database": {"uri": f"sqlite:///{folder / 'snapshot.sqlite'}"},
              "flask": {"testing": True, "secret_key": "snapshot"}}
    app = create_app(ROOT, config=config)
    response = app.test_client().get("/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def _dump(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=1, sort_keys=True) + "\n"


@pytest.mark.parametrize("name", sorted(PROJECTS))
def test_document_is_unchanged(name, tmp_path):
    expected = json.loads((SNAPSHOTS / f"{name}.json").read_text(encoding="utf-8"))
    document = build_document(name, tmp_path)
    # compared as text, so a failure shows the keyword that moved
    assert _dump(document) == _dump(expected)


if __name__ == "__main__":  # pragma: no cover - rewrites the snapshots
    SNAPSHOTS.mkdir(exist_ok=True)
    for project in sorted(PROJECTS):
        with tempfile.TemporaryDirectory() as tmp:
            text = _dump(build_document(project, Path(tmp)))
        (SNAPSHOTS / f"{project}.json").write_text(text, encoding="utf-8")
        print(f"wrote {SNAPSHOTS / project}.json", file=sys.stderr)
