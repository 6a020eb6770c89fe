"""The scaffold's templates as files: shipped in the package, one source for the repository's
own ``wsgi.py``/``gunicorn.conf.py`` and the generated ones, rendered completely, linted."""

from __future__ import annotations

import os
import re
import runpy
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from framework import scaffold
from tests.helpers import ROOT

PACKAGE = ROOT / "framework"
TEMPLATE_FOLDERS = ("project_template", "project_template_full", "app_template", "app_template_full")
#: A ``string.Template`` placeholder (``$name`` or ``${name}``) left in a written file.
PLACEHOLDER = re.compile(r"\$(?:\{[A-Za-z_]\w*\}|[A-Za-z_])")


def template_files(folder: Path) -> set[str]:
    """The template files under ``folder``, relative to it (byte-code caches are not)."""
    return {
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }


def files_under(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.mark.parametrize("name", ["wsgi.py", "gunicorn.conf.py"])
def test_the_repositorys_entry_points_are_the_generated_ones(tmp_path, name):
    template = (PACKAGE / "project_template" / name).read_bytes()
    assert (ROOT / name).read_bytes() == template
    project = scaffold.write_project(tmp_path, "demo")
    assert (project / name).read_bytes() == template


def test_generated_gunicorn_conf_uses_threads_and_trusts_proxies_only_when_configured(tmp_path, monkeypatch):
    for var in ("FORWARDED_ALLOW_IPS", "FRAMEWORK_ENV", "BACKENDPY_ENV"):
        monkeypatch.delenv(var, raising=False)
    for var in [v for v in os.environ if v.startswith(("GUNICORN_", "FRAMEWORK__"))]:
        monkeypatch.delenv(var)
    project = scaffold.write_project(tmp_path, "demo")
    monkeypatch.chdir(project)  # gunicorn runs the file in the project folder
    settings = runpy.run_path(str(project / "gunicorn.conf.py"))
    assert settings["worker_class"] == "gthread"
    assert settings["forwarded_allow_ips"] == ""
    config = project / "config.ini"
    config.write_text(config.read_text().replace("[networking]\n", "[networking]\ntrusted_proxies = 1\n"))
    settings = runpy.run_path(str(project / "gunicorn.conf.py"))
    assert settings["forwarded_allow_ips"] == "127.0.0.1,::1"


def _uvicorn_commands(markdown: str) -> set[str]:
    return {line.split("#")[0].strip() for line in markdown.splitlines() if line.startswith("uvicorn ")}


def test_generated_readme_runs_uvicorn_as_the_deployment_guide_does(tmp_path):
    readme = (scaffold.write_project(tmp_path, "demo") / "README.md").read_text()
    commands = _uvicorn_commands(readme)
    assert commands == {"uvicorn wsgi:asgi_app --no-proxy-headers --timeout-graceful-shutdown 20"}
    assert commands <= _uvicorn_commands((ROOT / "docs" / "deployment.md").read_text())


@pytest.mark.parametrize("full", [False, True], ids=["plain", "full"])
def test_every_template_file_is_written_and_every_placeholder_filled(tmp_path, full):
    project = scaffold.write_project(tmp_path, "demo", full=full)
    written = files_under(project)
    expected = set()
    for folder in ["project_template"] + (["project_template_full"] if full else []):
        for name in template_files(PACKAGE / folder):
            name = name.removesuffix("-tpl").removesuffix(".append")
            expected.add(".gitignore" if name == "gitignore" else name)
    apps = [("hello", "app_template")] + ([("blog", "app_template_full")] if full else [])
    for app, folder in apps:
        expected |= {
            f"apps/{app}/" + name.replace("tests/test_app.py", f"tests/test_{app}.py")
            for name in template_files(PACKAGE / folder)
        }
    assert expected <= set(written)
    rendered = [name for name in written if name.startswith("apps/")] + [
        "README.md",
        "config.ini",
        "requirements.txt",
    ]
    for name in rendered:
        assert not PLACEHOLDER.search(written[name].decode()), name
    if full:
        assert b"\n## Database\n" in written["README.md"]


def test_both_app_variants_share_their_common_files():
    plain, full = PACKAGE / "app_template", PACKAGE / "app_template_full"
    common = template_files(plain) - {"main.py", "hooks.py"}
    assert common and common <= template_files(full)
    for name in common:
        assert (plain / name).read_bytes() == (full / name).read_bytes(), name


def test_ruff_checks_every_template_and_finds_nothing():
    folders = [str(PACKAGE / f) for f in TEMPLATE_FOLDERS]
    listed = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--show-files", *folders],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    python_files = {
        str(PACKAGE / f / name)
        for f in TEMPLATE_FOLDERS
        for name in template_files(PACKAGE / f)
        if name.endswith(".py")
    }
    assert python_files <= set(listed.split())
    for command in (["check"], ["format", "--check"]):
        result = subprocess.run(
            [sys.executable, "-m", "ruff", *command, *folders], cwd=ROOT, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stdout + result.stderr


def test_a_built_wheel_carries_the_templates_and_scaffolds_from_them(tmp_path):
    """What a non-editable install gets: the wheel's files, imported instead of the tree."""
    source = tmp_path / "source"
    source.mkdir()
    for name in ("setup.cfg", "pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    shutil.copytree(
        PACKAGE, source / "framework", ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    )
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path / "dist"), str(source)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = (tmp_path / "dist").glob("framework-*.whl")
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    for folder in TEMPLATE_FOLDERS:
        assert template_files(site / "framework" / folder) == template_files(PACKAGE / folder), folder

    out = tmp_path / "out"
    out.mkdir()
    script = (
        "import sys, framework\n"
        "from framework.scaffold import write_app, write_project\n"
        "assert framework.__file__.startswith(sys.argv[1]), framework.__file__\n"
        "project = write_project(sys.argv[2], 'demo', full=True)\n"
        "write_app(project / 'apps', 'shop', full=True)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(site)}
    ran = subprocess.run(
        [sys.executable, "-c", script, str(site), str(out)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ran.returncode == 0, ran.stderr
    from_tree = scaffold.write_project(tmp_path, "demo", full=True)
    scaffold.write_app(from_tree / "apps", "shop", full=True)
    installed, expected = files_under(out / "demo"), files_under(from_tree)
    assert installed.keys() == expected.keys()
    differ = {name for name in expected if installed[name] != expected[name]}
    assert differ == {"config.ini"}  # its fresh secret key
