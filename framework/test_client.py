"""``FrameworkClient``: Flask's test client, closing each response body when it is complete.

A WSGI server closes the body it was handed once it has sent it; the framework fires
``request_end`` then (``close()`` is the one moment every server signals, and a client that
leaves mid-stream triggers it too). Werkzeug's test client closes a body only when the test
closes the response, so hooks on ``request_end`` would never run in tests written as Flask
users write them. This client closes it the way a server would:

- a body of known length (``Content-Length``, or none by definition: ``HEAD``, 1xx, 204,
  304) is complete when the app has answered: it is read and closed at once;
- a streamed body is closed when the test has read it to the end (or closes the response).

``close()`` runs once either way, so ``request_end`` fires exactly once per request.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from flask.testing import FlaskClient
from werkzeug.datastructures import Headers

__all__ = ["FrameworkClient"]


class _CloseAtEnd:
    """Iterates ``body`` and closes it once, when exhausted or when closed first."""

    __slots__ = ("_body", "_iter", "_closed")

    def __init__(self, body: Iterable[bytes]) -> None:
        self._body = body
        self._iter = iter(body)
        self._closed = False

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        try:
            return next(self._iter)
        except StopIteration:
            self.close()
            raise

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        close = getattr(self._body, "close", None)
        if close is not None:
            close()


def _length_known(status: str, headers: Headers, method: str) -> bool:
    code = int(status.split(None, 1)[0])
    return "Content-Length" in headers or method == "HEAD" or 100 <= code < 200 or code in (204, 304)


class FrameworkClient(FlaskClient):
    """Flask's test client; each response body is closed once complete (see the module)."""

    def run_wsgi_app(self, environ: dict[str, Any], buffered: bool = False) -> Any:
        body, status, headers = super().run_wsgi_app(environ, buffered=buffered)
        if buffered:
            return body, status, headers  # Werkzeug read and closed it already
        if _length_known(status, headers, environ.get("REQUEST_METHOD", "GET")):
            closing = _CloseAtEnd(body)
            return list(closing), status, headers  # reading to the end closes it
        return _CloseAtEnd(body), status, headers
