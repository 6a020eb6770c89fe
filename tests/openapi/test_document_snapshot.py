"""What the data handlers put in the OpenAPI document of the sample apps and of the
repository's project: every operation's parameters and request body, and the component
schemas the bodies refer to (where validators and fields show).

The snapshots in ``snapshots/`` were written from main before validators described their
own schema (``Validator.openapi_schema``); that move must not change them. Responses,
error codes and ``info`` are left out, and operations added later are not compared, so
unrelated changes to the document do not touch them. After a deliberate change to what
fields or validators say, rewrite them with
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
    "sample_api": {
        "apps": {"active": ALL_APPS},
        "middlewares": {"active": [AUTH_MIDDLEWARE]},
        "openapi": {"enabled": "true"},
    },
    # the repository's own project: its config.ini as it is, with the document on
    "project": {"openapi": {"enabled": "true"}},
}


def build_document(name: str, folder: Path) -> dict[str, Any]:
    config = {
        **PROJECTS[name],
        "database": {"uri": f"sqlite:///{folder / 'snapshot.sqlite'}"},
        "flask": {"testing": True, "secret_key": "snapshot"},
    }
    app = create_app(ROOT, config=config)
    response = app.test_client().get("/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def inputs(document: dict[str, Any]) -> dict[str, Any]:
    """The parameters and request bodies of ``document``, with the schemas they use."""
    operations: dict[str, Any] = {}
    names: set[str] = set()
    for path, item in document["paths"].items():
        for method, operation in item.items():
            part = {key: operation[key] for key in ("parameters", "requestBody") if key in operation}
            operations[f"{method.upper()} {path}"] = part
            names.update(ref.rsplit("/", 1)[1] for ref in _refs(part))
    schemas = document.get("components", {}).get("schemas", {})
    return {"operations": operations, "schemas": {name: schemas[name] for name in sorted(names)}}


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if "$ref" in node else []
        return own + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def _dump(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=1, sort_keys=True) + "\n"


@pytest.mark.parametrize("name", sorted(PROJECTS))
def test_document_is_unchanged(name, tmp_path):
    expected = json.loads((SNAPSHOTS / f"{name}.json").read_text(encoding="utf-8"))
    found = inputs(build_document(name, tmp_path))
    assert expected["operations"] and expected["schemas"]  # the projects have bodies to compare
    # what the snapshot holds must be there unchanged; routes added since are not compared
    for part in ("operations", "schemas"):
        for key, value in expected[part].items():
            assert key in found[part], f"{part}: {key} is gone"
            # compared as text, so a failure shows the keyword that moved
            assert _dump(found[part][key]) == _dump(value), f"{part}: {key} changed"


if __name__ == "__main__":  # pragma: no cover - rewrites the snapshots
    SNAPSHOTS.mkdir(exist_ok=True)
    for project in sorted(PROJECTS):
        with tempfile.TemporaryDirectory() as tmp:
            text = _dump(inputs(build_document(project, Path(tmp))))
        (SNAPSHOTS / f"{project}.json").write_text(text, encoding="utf-8")
        print(f"wrote {SNAPSHOTS / project}.json", file=sys.stderr)
