"""``[accounts] login_rate_limit``: how many logins a client address, and a username, may try.

Two counts, each against the same limit (``10/minute`` unless set; Flask-Limiter's syntax;
blank turns both off): one per client address, one per submitted username, so that neither
one address trying many names nor many addresses trying one name get far. Every attempt
counts, a successful one too; spending either answers 429 (code 1011) with ``Retry-After``.
The counts live where the project's rate limits do (``framework.ratelimit``): in Redis at
``[redis] url``, shared by every instance, else in each process's memory.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from limits import RateLimitItem

from framework.ratelimit import hit, parse_limits

__all__ = ["DEFAULT_LOGIN_RATE_LIMIT", "login_rate_limit", "count_login"]

DEFAULT_LOGIN_RATE_LIMIT = "10/minute"


def login_rate_limit(config: Mapping[str, Any]) -> list[RateLimitItem]:
    """The parsed ``[accounts] login_rate_limit`` (empty: not limited);
    ``ImproperlyConfigured`` naming the setting when it is not a rate limit."""
    raw = (config.get("accounts") or {}).get("login_rate_limit", DEFAULT_LOGIN_RATE_LIMIT)
    return parse_limits(raw, "[accounts] login_rate_limit")


def count_login(request: Any, username: str) -> None:
    """Count one login attempt of ``request``'s address and of ``username``; raises the 429
    ``Error`` when either has spent the limit."""
    limits = login_rate_limit(request.app.config)
    if not limits:
        return
    hit(limits, "accounts.login.address", request.remote_addr or "-")
    # a digest: any submitted name makes a short key, and no names are stored in Redis
    digest = hashlib.sha256(username.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    hit(limits, "accounts.login.username", digest)
