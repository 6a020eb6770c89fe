"""``Client``: a small HTTP client for testing a running server (Backendpy's ``utils.http``).

``with Client('127.0.0.1', 8000) as session: result = session.post('/users', json=data)``;
``result.status`` is the status code, ``result.headers`` the headers and ``result.data`` the
decoded JSON body (text for other content types).
"""

from __future__ import annotations

import http.client
import json as _json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

__all__ = ["Client", "Result"]


@dataclass
class Result:
    status: int
    headers: dict[str, str]
    data: Any


class Client:
    """One keep-alive connection to ``host:port`` while used as a context manager."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 8000,
        *,
        timeout: float = 30.0,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.headers = dict(headers or {})
        self._conn: http.client.HTTPConnection | None = None

    def __enter__(self) -> Client:
        self._conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        data: Any = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Result:
        """Send one request and read the whole answer."""
        all_headers = {**self.headers, **(headers or {})}
        body: bytes | None = None
        if json is not None:
            body = _json.dumps(json).encode()
            all_headers.setdefault("Content-Type", "application/json")
        elif isinstance(data, dict):
            body = urlencode(data).encode()
            all_headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        elif data is not None:
            body = data if isinstance(data, bytes) else str(data).encode()
        if params:
            path += ("&" if "?" in path else "?") + urlencode(params, doseq=True)
        own = self._conn is None  # outside ``with``: a connection for this request only
        conn = (
            self._conn
            if self._conn is not None
            else http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        )
        try:
            conn.request(method, path, body=body, headers=all_headers)
            response = conn.getresponse()
            raw = response.read()
            result_headers = {k.lower(): v for k, v in response.getheaders()}
        finally:
            if own:
                conn.close()
        content_type = result_headers.get("content-type", "")
        payload: Any = raw
        if "json" in content_type:
            payload = _json.loads(raw) if raw else None
        elif content_type.startswith("text/") or not content_type:
            payload = raw.decode(errors="replace")
        return Result(response.status, result_headers, payload)

    def get(self, path: str, **kwargs: Any) -> Result:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Result:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> Result:
        return self.request("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> Result:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Result:
        return self.request("DELETE", path, **kwargs)
