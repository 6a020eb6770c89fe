"""gunicorn settings, read from the project root by ``gunicorn wsgi:app``.

Bind address, workers and threads come from the environment (GUNICORN_BIND, WEB_CONCURRENCY,
GUNICORN_THREADS, GUNICORN_KEEPALIVE, GUNICORN_TIMEOUT, GUNICORN_GRACEFUL_TIMEOUT). Workers
are threaded (``gthread``): a client that sends its request slowly holds one thread, not a
whole worker, and idle keep-alive connections wait in the worker's event loop, holding no
thread. Put a buffering proxy (nginx) in front in production: it reads whole requests
before passing them on, so slow clients never reach a thread (the framework's deployment
guide, docs/deployment.md).

Proxy headers: ``X-Forwarded-Proto`` is honoured only from ``forwarded_allow_ips``, which is
empty unless ``[networking] trusted_proxies`` is above 0 (then ``$FORWARDED_ALLOW_IPS``, or
the local host). The worker hooks fire the framework's ``startup`` and ``shutdown`` events
once per worker process.

Metrics (``[metrics] path``): the workers write their values to one folder,
``$PROMETHEUS_MULTIPROC_DIR`` (emptied at start) or a temporary one made for this run, so
a scrape answered by any worker adds up all of them; an exited worker's gauges are dropped.
"""

import multiprocessing
import os

from framework.metrics import forget_worker, prepare_metrics_dir, remove_metrics_dir
from framework.serving import forwarded_allow_ips as _forwarded_allow_ips
from framework.serving import on_worker_exit, on_worker_init

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", str(min(4, multiprocessing.cpu_count() * 2))))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "20"))
accesslog = os.environ.get("GUNICORN_ACCESSLOG") or None
# The project served is the one gunicorn runs in (its working directory).
forwarded_allow_ips = _forwarded_allow_ips(os.getcwd())


def post_worker_init(worker):
    on_worker_init(worker)


def worker_exit(server, worker):
    on_worker_exit(worker)


def on_starting(server):
    prepare_metrics_dir(server.log)


def child_exit(server, worker):
    forget_worker(worker.pid)


def on_exit(server):
    remove_metrics_dir()
