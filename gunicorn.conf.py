"""gunicorn settings, read from the project root by ``gunicorn wsgi:app``.

Bind address and worker count come from the environment (GUNICORN_BIND, WEB_CONCURRENCY,
GUNICORN_TIMEOUT, GUNICORN_GRACEFUL_TIMEOUT); the worker hooks fire the framework's
``startup`` and ``shutdown`` events once per worker process.
"""

import multiprocessing
import os

from framework.serving import on_worker_exit, on_worker_init

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", str(min(4, multiprocessing.cpu_count() * 2))))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "20"))
accesslog = os.environ.get("GUNICORN_ACCESSLOG") or None


def post_worker_init(worker):
    on_worker_init(worker)


def worker_exit(server, worker):
    on_worker_exit(worker)
