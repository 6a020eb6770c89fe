"""``AuthMiddleware``: bearer-token authentication for the framework's routes.

Activate it in ``[middlewares] active = blueprints.accounts.middleware.AuthMiddleware`` (the
accounts app must be active too). A protected route needs ``Authorization: Bearer <token>``
from ``POST /login``; the user is put in ``request.context['auth']`` as
``{'user_id': ..., 'user_roles': [...]}``. Anything else answers 401 in the error envelope.
Public routes: ``PUBLIC`` below plus ``[accounts] public_paths``, and CORS preflights (an
``OPTIONS`` carrying ``Access-Control-Request-Method``, which browsers send without
credentials); any other ``OPTIONS`` needs a token like every method.

A token is accepted only while its account exists with the token version it names (see
``tokens``): a password change, ``POST /logout`` or the account's deletion revokes it.
"""

from __future__ import annotations

import hmac
from typing import Any

from framework import signals
from framework.config import ImproperlyConfigured, as_list
from framework.error import Error
from framework.middleware import Middleware

from . import errors as e
from .models import User
from .tokens import TokenError, read_token, token_max_age

__all__ = ["AuthMiddleware"]

APP_PACKAGE = __package__ or "blueprints.accounts"


class AuthMiddleware(Middleware):
    """Checks the bearer token of every request to a protected framework route."""

    #: (method, path) pairs open to anyone; method ``*`` matches any method.
    PUBLIC: frozenset[tuple[str, str]] = frozenset(
        {
            ("*", "/hello-world"),
            ("*", "/home"),
            ("POST", "/users"),
            ("*", "/login"),
            ("*", "/docs"),
            ("*", "/openapi.json"),
        }
    )

    def is_public(self, request: Any) -> bool:
        if is_cors_preflight(request):
            return True
        path = request.path
        if ("*", path) in self.PUBLIC or (request.method, path) in self.PUBLIC:
            return True
        extra = as_list((request.app.config.get("accounts") or {}).get("public_paths"))
        return path in extra

    #: What the OpenAPI document says of the routes this middleware protects.
    openapi_error_codes = (e.AUTH_REQUIRED, e.INVALID_TOKEN)
    openapi_security_schemes = {
        "bearerAuth": {"type": "http", "scheme": "bearer", "description": "A token from POST /login"}
    }

    def openapi_applies_to(self, fw: Any, method: str, path: str) -> bool:
        """False for the public routes (the document's view of ``is_public``)."""
        extra = as_list((fw.config.get("accounts") or {}).get("public_paths"))
        return not (("*", path) in self.PUBLIC or (method, path) in self.PUBLIC or path in extra)

    def process_request(self, request: Any) -> tuple[Any, Any]:
        if self.is_public(request):
            return request, None
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        challenge = {"WWW-Authenticate": "Bearer"}
        if scheme.lower() != "bearer" or not token.strip():
            raise Error(e.AUTH_REQUIRED, headers=challenge)
        try:
            subject = read_token(token.strip(), token_max_age(request.app.config))
        except TokenError:
            raise Error(e.INVALID_TOKEN, headers=challenge) from None
        user = request.app.context["db_session"]().get(User, subject.user_id)
        # deleted since, or revoked by a password change or a logout
        if user is None or not hmac.compare_digest(user.token_version.encode(), subject.version.encode()):
            raise Error(e.INVALID_TOKEN, headers=challenge)
        request.context["auth"] = {"user_id": user.id, "user_roles": user.role_list}
        return request, None


def is_cors_preflight(request: Any) -> bool:
    """An ``OPTIONS`` request a browser sends before a cross-origin call (never carries a token)."""
    return request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers


def is_active(fw: Any) -> bool:
    """Whether ``[middlewares] active`` holds an ``AuthMiddleware`` (or a subclass of it)."""
    return any(isinstance(m, AuthMiddleware) for m in getattr(fw, "middlewares", ()))


def check_app_is_active(fw: Any) -> None:
    """``startup``: the middleware answers with the accounts app's error codes and reads its
    table, so the app must be active too."""
    if is_active(fw) and APP_PACKAGE not in getattr(fw, "apps", {}):
        raise ImproperlyConfigured(
            f"[middlewares] active: {__name__}.AuthMiddleware needs the app {APP_PACKAGE!r} in [apps] active"
        )


signals.startup.connect(check_app_is_active, weak=False)
