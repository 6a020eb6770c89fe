"""Runs the code listings of the documentation site (``docs/**/*.md``).

Every page is one test. Its listings run in order, in one namespace (so a later listing may
use what an earlier one defined, as a reader following the page would), with a fresh
temporary folder as the working directory and on ``sys.path``.

What the fences mean:

- A ```` ```python ```` fence is run.
- An HTML comment right before a fence (blank lines allowed between) changes that:
  ``<!-- listing: skip -->`` leaves the fence alone (for fragments; use it sparingly), and
  ``<!-- listing: file PATH -->`` writes the fence (any language: python, ini, html...) to
  ``PATH`` inside the page's folder instead of running it, so a page can lay out a small
  project (``config.ini``, ``blog/main.py``, ``blog/templates/page.html``) that its later
  listings build with ``create_app()``. Folders of written ``.py`` files get an empty
  ``__init__.py`` unless the page writes one.
- The listings of a page run as one module registered in ``sys.modules``, so a listing
  can install an app it defines itself with ``create_app(config={"apps": {"active":
  [__name__]}})`` (which works in a standalone script too, where ``__name__`` is
  ``__main__``).
- Other fences (``sh``, ``ini``, ``json``, ...) are not run.

Listings that define an app are expected to exercise it with the test client and assert
on what it answers; this test only runs them, so an assertion in a listing is the check.
"""

from __future__ import annotations

import functools
import re
import sys
import textwrap
import types
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"

_FENCE = re.compile(
    r"^(?P<indent>[ \t]*)```(?P<lang>[\w+-]*)[^\n]*\n(?P<body>.*?)^(?P=indent)```[ \t]*$", re.M | re.S
)
_MARKER = re.compile(r"<!--\s*listing:\s*(?P<what>skip|file)\s*(?P<arg>[^\s>]*)\s*-->\s*\Z")


@dataclass
class Listing:
    line: int
    lang: str
    code: str
    action: str  # "run", "file" or "skip"
    path: str = ""


def listings(text: str) -> list[Listing]:
    """The page's fences in order, with what to do with each."""
    found = []
    for match in _FENCE.finditer(text):
        before = text[: match.start()].rstrip()
        marker = _MARKER.search(before[-200:] + "\n") if before.endswith("-->") else None
        lang = match.group("lang").lower()
        code = textwrap.dedent(match.group("body"))
        line = text.count("\n", 0, match.start()) + 1
        if marker and marker.group("what") == "skip":
            found.append(Listing(line, lang, code, "skip"))
        elif marker and marker.group("what") == "file":
            if not marker.group("arg"):
                raise AssertionError(f"line {line}: '<!-- listing: file -->' needs a path")
            found.append(Listing(line, lang, code, "file", marker.group("arg")))
        elif lang in ("python", "py"):
            found.append(Listing(line, lang, code, "run"))
    return found


def pages() -> list[Path]:
    return sorted(DOCS.rglob("*.md"))


def test_docs_have_pages() -> None:
    assert pages(), "docs/ holds no Markdown page"


def test_marker_parsing() -> None:
    text = (
        "a\n\n<!-- listing: skip -->\n```python\nboom(\n```\n\n"
        "<!-- listing: file pkg/mod.py -->\n\n```python\nX = 1\n```\n"
        "```python\nprint(1)\n```\n```sh\nls\n```\n"
    )
    found = listings(text)
    assert [(item.action, item.path) for item in found] == [("skip", ""), ("file", "pkg/mod.py"), ("run", "")]
    assert found[2].code == "print(1)\n"


@pytest.mark.parametrize("page", pages(), ids=lambda p: str(p.relative_to(DOCS)))
def test_page_listings(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    items = listings(page.read_text(encoding="utf-8"))
    if not any(item.action == "run" for item in items):
        pytest.skip("no runnable listing")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    before = set(sys.modules)
    apps = _record_flask_apps(monkeypatch)
    # The listings run as one module, importable by its name, so a listing may install
    # the app it defines itself: create_app(config={"apps": {"active": [__name__]}}).
    module = types.ModuleType("docs_listing_" + re.sub(r"\W", "_", page.stem))
    module.__file__ = str(tmp_path / f"{module.__name__}.py")
    sys.modules[module.__name__] = module
    namespace: dict[str, object] = module.__dict__
    try:
        for item in items:
            if item.action == "file":
                target = tmp_path / item.path
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(item.code, encoding="utf-8")
                if target.suffix == ".py":
                    folder = target.parent
                    while folder != tmp_path:
                        (folder / "__init__.py").touch(exist_ok=True)
                        folder = folder.parent
            elif item.action == "run":
                source = f"{page.relative_to(ROOT)}:{item.line}"
                try:
                    exec(compile(item.code, source, "exec"), namespace)
                except Exception as exc:
                    raise AssertionError(f"listing at {source} failed: {exc!r}") from exc
    finally:
        sys.modules.pop(module.__name__, None)
        for name in set(sys.modules) - before:
            module = sys.modules.get(name)
            places = [getattr(module, "__file__", None) or "", *getattr(module, "__path__", [])]
            if any(str(place).startswith(str(tmp_path)) for place in places):
                sys.modules.pop(name, None)
        _close_apps(apps)


def _record_flask_apps(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The list every Flask app built from now on (by ``Flask`` or a subclass, inside a
    listing's function too) is added to, until the test ends.

    Recording them as they are made replaces a walk over every object of the process
    (``gc.get_objects()``), whose cost grew with everything the worker had run before.
    """
    from flask import Flask

    apps: list[object] = []
    real_init = Flask.__init__

    @functools.wraps(real_init)
    def recording_init(self, *args, **kwargs):
        real_init(self, *args, **kwargs)
        apps.append(self)

    monkeypatch.setattr(Flask, "__init__", recording_init)
    return apps


def _close_apps(apps: list[object]) -> None:
    """Dispose of the database engines of the apps the page built, so no connection is
    left open."""
    for app in apps:
        ext = app.extensions.get("sqlalchemy")
        if ext is not None:
            with app.app_context():
                for engine in ext.engines.values():
                    engine.dispose()
    apps.clear()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q", *sys.argv[1:]]))
