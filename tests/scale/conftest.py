"""The scale tests' project (tests/scale/two_instances_project), copied to a temporary
folder so that what its processes write (a beat schedule, logs) never lands in the
repository, and the ``framework`` command that deploys and runs it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest

#: The project the scale tests serve.
PROJECT = Path(__file__).parent / "two_instances_project"
#: This environment's ``framework`` command (setup.cfg's console script).
FRAMEWORK = os.path.join(os.path.dirname(sys.executable), "framework")
#: The revision ``framework migrate`` brings the project's database to.
HEAD = "c7e2a91d5f10"
#: The project's own tables, made by its migrations.
TABLES = {"alembic_version", "accounts_users", "scale_demo_hits", "scale_demo_jobs", "scale_demo_ticks"}


def copy_project(folder: Path) -> Path:
    """A copy of the project in ``folder`` (no ``__pycache__``). Its ``migrations/`` is the
    repository's (Alembic's set-up and the accounts app's revisions) with the project's own
    ``scale_demo`` revision added, so the two never drift apart."""
    from tests.liveserver import REPO

    target = folder / "project"
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(Path(REPO) / "migrations", target / "migrations", ignore=ignore)
    shutil.copytree(PROJECT, target, ignore=ignore, dirs_exist_ok=True)
    return target


def framework_env(project: Path, env: Mapping[str, str]) -> dict[str, str]:
    """The environment of a ``framework`` command run in ``project``: the repository
    importable (``blueprints.accounts``) and ``env`` laid over this process's."""
    from tests.liveserver import REPO

    result = dict(os.environ)
    result["PYTHONPATH"] = os.pathsep.join(p for p in (REPO, result.get("PYTHONPATH")) if p)
    result.setdefault("FRAMEWORK__FLASK__SECRET_KEY", "test-secret-key-not-for-production")
    result.update(env)
    return result


def run_framework(project: Path, env: Mapping[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``framework ARGS`` in ``project`` and wait for it."""
    return subprocess.run(
        [FRAMEWORK, *args],
        cwd=project,
        env=framework_env(project, env),
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def project_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_project(tmp_path_factory.mktemp("scale"))
