"""The world-readable config warning keeps one marker per live process group, no more."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile

from framework import config


def test_markers_of_finished_process_groups_are_removed(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    folder = tmp_path / f"framework-{os.getuid()}"
    folder.mkdir(mode=0o700)
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True
    )
    gone = int(done.stdout)  # a process that has exited: no /proc entry any more
    stale = folder / f"warned-{gone}-0-0123456789abcdef"
    stale.touch()
    # this process's group is alive even where its leader has exited (a detached job)
    alive = folder / f"warned-{os.getpgrp()}-0-fedcba9876543210"
    alive.touch()
    assert config._first_in_process_group(str(tmp_path / "config.ini")) is True
    left = sorted(p.name for p in folder.iterdir())
    assert stale.name not in left
    assert alive.name in left
    assert len(left) == 2  # the live marker above and the one just written
    # the same group asking again is told it was not first
    assert config._first_in_process_group(str(tmp_path / "config.ini")) is False
