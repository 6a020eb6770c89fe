"""``init_app`` on a host application changes nothing process-wide: no signal handler.

Each check runs in a fresh interpreter, whose SIGTERM disposition is the default one.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _sigterm_handler_after(body: str) -> str:
    script = textwrap.dedent("""
        import signal
        {body}
        print("default" if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL else "handled")
    """).format(body=textwrap.indent(textwrap.dedent(body), "").strip())
    # an in-memory database: the repository's instance/ folder is left alone
    env = {**os.environ, "FRAMEWORK__DATABASE__URI": "sqlite://"}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def test_init_app_on_a_host_app_installs_no_signal_handler():
    assert (
        _sigterm_handler_after("""
        from flask import Flask
        from framework import Framework
        host = Flask("host")
        host.get("/")(lambda: "host")
        Framework(host, config={"apps": {"active": ["blueprints.hello"]}})
        client = host.test_client()
        assert client.get("/").data == b"host"
        assert client.get("/hello-world").status_code == 200  # startup fired
    """)
        == "default"
    )


def test_an_app_the_framework_owns_turns_sigterm_into_an_exit():
    assert (
        _sigterm_handler_after("""
        from framework import create_app
        app = create_app(".", config={"flask": {"secret_key": "k" * 40}})
        assert app.test_client().get("/hello-world").status_code == 200
    """)
        == "handled"
    )
