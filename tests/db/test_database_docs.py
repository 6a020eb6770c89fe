"""docs/database.md runs as written: its listings are put together into the project they
describe (each file listing names its path on its first line), then each script listing is
run from a fresh copy of that project's folder."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT

DOC = Path(ROOT) / "docs" / "database.md"
FENCE = re.compile(r"^```(python|ini)\n(.*?)^```", re.S | re.M)
SCRIPTS = ("try_it.py", "run_init.py", "run_tests.py")


def listings() -> dict[str, str]:
    files = {}
    for _kind, body in FENCE.findall(DOC.read_text(encoding="utf-8")):
        first = body.splitlines()[0]
        match = re.match(r"# ([\w/]+\.(?:py|ini))\b", first)
        assert match, f"a listing without its path: {first!r}"
        files[match.group(1)] = body
    return files


def write_project(folder: Path, files: dict[str, str]) -> None:
    for path, text in files.items():
        target = folder / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        if path == "config.ini":
            target.chmod(0o600)
        parent = target.parent
        while parent != folder:  # the listings' folders are packages
            (parent / "__init__.py").touch()
            parent = parent.parent


def test_every_file_of_the_guide_is_listed():
    files = listings()
    assert {
        "config.ini",
        "main.py",
        "shop/models.py",
        "shop/main.py",
        "shop/handlers.py",
        "shop/flask_style.py",
        "shop/queries.py",
        "shop/init.py",
        "shop/tests/test_queries.py",
        *SCRIPTS,
    } <= set(files)


@pytest.mark.parametrize("script", SCRIPTS)
def test_the_guide_runs(tmp_path, script):
    write_project(tmp_path, listings())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "FRAMEWORK_"))}
    env["PYTHONPATH"] = ROOT
    env["FRAMEWORK__FLASK__SECRET_KEY"] = "docs-test-secret-key-0123456789abcdef"
    result = subprocess.run(
        [sys.executable, script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    if script != "run_tests.py":
        assert result.stdout.strip().endswith("ok")
