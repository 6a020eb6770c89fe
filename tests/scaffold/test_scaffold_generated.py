"""Generated projects for real: ``flask create-project`` in a subprocess, the project's own
tests under pytest, and the project served by gunicorn.

Flask finds ``create-project`` and ``create-app`` through the ``flask.commands`` entry point
group. So that these tests need no installed package, each run puts a small ``*.dist-info``
folder declaring those entry points on ``PYTHONPATH``: Flask then discovers the commands
exactly as it does for an installed distribution. One test uses the installed entry point
itself and runs only when the package is installed (as in CI).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import urllib.request
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from tests.helpers import BIN, ROOT, free_port, pytest_command, running_server

ENTRY_POINTS = """\
[flask.commands]
create-project = framework.scaffold:create_project
create-app = framework.scaffold:create_app_command
"""


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment of a shell where ``flask create-project`` is available."""
    folder = tmp_path_factory.mktemp("scaffold")
    dist = folder / "_entry_points" / "framework_scaffold_commands-0.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: framework-scaffold-commands\nVersion: 0.0\n")
    (dist / "entry_points.txt").write_text(ENTRY_POINTS)
    result = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("FLASK_", "FRAMEWORK_", "GUNICORN_", "PYTEST_"))
    }
    result["PYTHONPATH"] = os.pathsep.join([str(dist.parent), str(ROOT)])
    return result


@pytest.fixture
def work(tmp_path: Path) -> Path:
    folder = tmp_path / "work"
    folder.mkdir()
    return folder


@pytest.fixture(scope="module")
def created(env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """``flask create-project --name demo`` run once for the module: the untouched project
    and what the command printed. Tests work on copies of it (``demo``)."""
    folder = tmp_path_factory.mktemp("pristine")
    result = flask(["create-project", "--name", "demo"], folder, env)
    assert result.returncode == 0, result.stderr
    return folder / "demo", result.stdout


@pytest.fixture(scope="module")
def created_full(env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``flask create-project --name demo --full`` run once for the module (the untouched
    project; tests work on copies of it, ``full_demo``)."""
    folder = tmp_path_factory.mktemp("pristine-full")
    result = flask(["create-project", "--name", "demo", "--full"], folder, env)
    assert result.returncode == 0, result.stderr
    return folder / "demo"


@pytest.fixture
def demo(created: tuple[Path, str], work: Path) -> Path:
    """A fresh copy of the project made by ``flask create-project --name demo``."""
    return Path(shutil.copytree(created[0], work / "demo", symlinks=True))


@pytest.fixture
def full_demo(created_full: Path, work: Path) -> Path:
    """A fresh copy of the project made by ``flask create-project --name demo --full``."""
    return Path(shutil.copytree(created_full, work / "demo", symlinks=True))


def run(
    args: list[str], cwd: Path, env: dict[str, str], timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def flask(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run([sys.executable, "-m", "flask", *args], cwd, env)


def run_generated_tests(folder: Path, env: dict[str, str], *args: str) -> int:
    """Run pytest in ``folder``; assert that everything passed and nothing was skipped."""
    result = run(
        pytest_command("-rs", *args),
        folder,
        env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    summary = result.stdout.strip().splitlines()[-1]
    assert "skipped" not in summary and "error" not in summary, summary
    return int(re.search(r"(\d+) passed", summary).group(1))


def gunicorn_args(port: int) -> list[str]:
    from gunicorn.config import KNOWN_SETTINGS

    args = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1"]
    if any(s.name == "control_socket_disable" for s in KNOWN_SETTINGS):
        args.append("--no-control-socket")  # no shared socket under $HOME
    return args + ["wsgi:app"]


def fetch(url: str, data: dict | None = None) -> tuple[int, str]:
    body = json.dumps(data).encode() if data is not None else None
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, response.read().decode()


def test_flask_lists_the_commands_without_an_app(work, env):
    result = flask(["--help"], work, env)
    assert result.returncode == 0, result.stderr
    assert "create-project" in result.stdout and "create-app" in result.stdout


def test_created_project_passes_its_tests_and_serves_with_gunicorn(created, demo, env):
    project = demo
    assert "Created project 'demo'" in created[1]

    assert run_generated_tests(project, env) == 7

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with running_server(gunicorn_args(port), f"{base}/hello-world", cwd=project, env=env):
        assert fetch(f"{base}/hello-world") == (200, "Hello World!")
        status, page = fetch(f"{base}/home")
        assert status == 200 and "<h1>Hello World!</h1>" in page


@pytest.mark.skipif(importlib.util.find_spec("uvicorn") is None, reason="uvicorn is not installed")
def test_created_project_serves_with_uvicorn(demo, env):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    args = [sys.executable, "-m", "uvicorn", "--host", "127.0.0.1", "--port", str(port), "wsgi:asgi_app"]
    with running_server(args, f"{base}/hello-world", cwd=demo, env=env):
        assert fetch(f"{base}/hello-world") == (200, "Hello World!")


def test_full_project_passes_its_tests_inits_and_serves_with_gunicorn(full_demo, env):
    project = full_demo

    # hello (7), blog's hello part (3), blog's posts (9), project-level blog (2)
    assert run_generated_tests(project, env) == 21

    made = flask(["--app", "wsgi", "create-db"], project, env)
    assert made.returncode == 0, made.stderr
    assert "blog_posts" in made.stdout
    init = flask(["--app", "wsgi", "init-project", "--no-input"], project, env)
    assert init.returncode == 0, init.stderr
    assert "Initialized 1 app(s)" in init.stdout

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with running_server(gunicorn_args(port), f"{base}/hello-world", cwd=project, env=env):
        assert fetch(f"{base}/hello-world") == (200, "Hello World!")
        status, body = fetch(f"{base}/blog/posts", {"title": "Served", "body": "by gunicorn"})
        assert status == 201
        post = json.loads(body)["data"]
        status, body = fetch(f"{base}/blog/posts")
        assert [p["title"] for p in json.loads(body)["data"]] == ["Welcome", "Served"]
        status, page = fetch(f"{base}/blog/posts/page")
        assert status == 200 and "<strong>Served</strong>: by gunicorn" in page
        assert fetch(f"{base}/blog/posts/{post['id']}")[1] == json.dumps(
            {"status": "success", "data": post}, separators=(",", ":")
        )


def test_created_app_joins_a_project_and_its_tests_pass(demo, env):
    project = demo
    created = flask(["create-app", "--name", "shop", "--full"], project / "apps", env)
    assert created.returncode == 0, created.stderr
    assert "apps.shop" in created.stdout

    config = project / "config.ini"
    config.write_text(config.read_text().replace("    apps.hello\n", "    apps.hello\n    apps.shop\n"))
    # hello (7) and shop: its hello part (3) and its posts (9)
    assert run_generated_tests(project, env) == 19

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with running_server(gunicorn_args(port), f"{base}/hello-world", cwd=project, env=env):
        assert fetch(f"{base}/shop/hello-world") == (200, "Hello World!")
        status, body = fetch(f"{base}/shop/posts", {"title": "Lamp"})
        assert status == 201 and json.loads(body)["data"]["title"] == "Lamp"


def test_created_app_outside_a_project_passes_its_tests(work, env):
    created = flask(["create-app", "--name", "shop"], work, env)
    assert created.returncode == 0, created.stderr
    assert "your project's config.ini" in created.stdout
    assert run_generated_tests(work, env, "shop") == 3


def test_refusal_exits_1_with_a_message(work, env):
    (work / "demo").mkdir()
    result = flask(["create-project", "--name", "demo"], work, env)
    assert result.returncode == 1
    assert "already exists" in result.stderr
    result = flask(["create-app", "--name", "no-dash"], work, env)
    assert result.returncode == 1
    assert "not a Python identifier" in result.stderr


def _installed_commands() -> dict[str, str]:
    return {
        ep.name: ep.value for ep in entry_points(group="flask.commands") if ep.value.startswith("framework.")
    }


@pytest.mark.skipif(
    not _installed_commands(),
    reason="the framework package is not installed (its flask.commands entry points are absent)",
)
def test_installed_entry_point_creates_a_project(work):
    assert set(_installed_commands()) >= {"create-project", "create-app"}
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLASK_")}
    result = run([str(BIN / "flask"), "create-project", "--name", "demo", "--full"], work, env)
    assert result.returncode == 0, result.stderr
    assert (work / "demo" / "apps" / "blog" / "models.py").is_file()
    result = run([str(BIN / "flask"), "create-app", "--name", "shop"], work / "demo" / "apps", env)
    assert result.returncode == 0, result.stderr
    assert (work / "demo" / "apps" / "shop" / "main.py").is_file()


@pytest.mark.parametrize("full", [False, True], ids=["plain", "full"])
def test_flask_db_upgrade_works_in_a_fresh_project(request, env, full):
    project = request.getfixturevalue("full_demo" if full else "demo")
    assert (project / "migrations" / "env.py").is_file()
    upgraded = flask(["--app", "wsgi", "db", "upgrade"], project, env)
    assert upgraded.returncode == 0, upgraded.stdout + upgraded.stderr
    if full:
        # the blog's first revision made its table, and it matches the model exactly
        assert "Running upgrade  -> 0001_blog_posts" in upgraded.stderr
        checked = flask(["--app", "wsgi", "db", "check"], project, env)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert "No new upgrade operations detected" in checked.stdout


def test_the_readme_install_command_brings_pytest(created):
    from importlib.metadata import requires

    from packaging.requirements import Requirement

    project = created[0]  # read only
    readme = (project / "README.md").read_text()
    install = readme.split("## Install", 1)[1].split("## ", 1)[0]
    assert "pip install -r requirements.txt" in install
    wanted = [
        Requirement(line)
        for line in (project / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    names = {r.name for r in wanted}
    for req in wanted:
        if req.name == "framework":
            for extra in req.extras:  # what the framework's extra pulls in, from its metadata
                names |= {
                    Requirement(r).name
                    for r in requires("framework") or ()
                    if Requirement(r).marker and Requirement(r).marker.evaluate({"extra": extra})
                }
    assert "framework" in names and "pytest" in names


def test_the_full_projects_first_revision_upgrades_postgresql(full_demo, env):
    from framework.testing.postgres import require_postgres, temporary_database

    require_postgres()
    project = full_demo
    with temporary_database() as uri:
        pg_env = {**env, "FRAMEWORK__DATABASE__URI": uri}
        upgraded = flask(["--app", "wsgi", "db", "upgrade"], project, pg_env)
        assert upgraded.returncode == 0, upgraded.stdout + upgraded.stderr
        checked = flask(["--app", "wsgi", "db", "check"], project, pg_env)
        assert checked.returncode == 0, checked.stdout + checked.stderr
