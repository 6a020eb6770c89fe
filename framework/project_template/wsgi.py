"""The project's entry point (see the deployment guide, docs/deployment.md in the framework):

- ``gunicorn wsgi:app`` (settings from ``gunicorn.conf.py``);
- ``uvicorn wsgi:asgi_app --no-proxy-headers --timeout-graceful-shutdown 20`` (with a proxy
  in front and ``[networking] trusted_proxies`` set: ``--forwarded-allow-ips <proxy address>``
  instead of ``--no-proxy-headers``);
- ``flask --app wsgi ...``.
"""

import os

from framework import create_app
from framework.asgi import to_asgi

app = create_app(os.path.dirname(os.path.abspath(__file__)))
asgi_app = to_asgi(app)
