"""Users CRUD, login and logout.

Every route but ``POST /users`` and ``POST /login`` runs behind ``AuthMiddleware`` (the app
refuses to start without it). The handlers still read the caller from ``request.context['auth']``
and answer 401 when it is missing, so a route reached without the middleware serves no one.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from framework.error import Error
from framework.response import Status, Success
from framework.router import Routes

from . import errors as e
from .data import LoginData, UserCreationData, UserIdData, UserListData, UserUpdateData
from .login_limit import count_login
from .models import User
from .passwords import hash_password, verify_password
from .tokens import issue_token, token_max_age

routes = Routes()

_TAKEN = {"username": ["Username already taken"]}


def _session(request: Any) -> Any:
    return request.app.context["db_session"]()


def _commit(session: Any) -> None:
    """Commit; a unique username lost to a concurrent request is bad data, not a crash."""
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise Error(1002, data=_TAKEN) from None


def _user_or_404(session: Any, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise Error(e.USER_NOT_FOUND, user_id)
    return user


def _caller(request: Any) -> dict[str, Any]:
    """``request.context['auth']`` (set by ``AuthMiddleware``); 401 without it."""
    auth = request.context.get("auth")
    if not auth or not isinstance(auth.get("user_id"), int):
        raise Error(e.AUTH_REQUIRED, headers={"WWW-Authenticate": "Bearer"})
    return auth


def _is_admin(auth: dict[str, Any]) -> bool:
    return "admin" in (auth.get("user_roles") or ())


def _may_access(request: Any, user_id: int) -> None:
    """One's own account, or any account for an admin; 403 otherwise (whether it exists or not)."""
    auth = _caller(request)
    if auth["user_id"] != user_id and not _is_admin(auth):
        raise Error(e.PERMISSION_DENIED)


@routes.post("/users", data_handler=UserCreationData)
def create_user(request):
    """Create an account (public); the password is stored hashed."""
    data = request.get_cleaned_data()
    session = _session(request)
    user = User(
        username=data["username"],
        password_hash=hash_password(data["password"]),
        first_name=data.get("first_name"),
        last_name=data.get("last_name"),
        roles="user",
    )
    session.add(user)
    _commit(session)
    request.app.execute_event("user_created", {"username": user.username})
    return Success(user.to_dict(), status=Status.CREATED)


@routes.get("/users/<id:int>", data_handler=UserIdData)
def user_detail(request):
    # one's own account (an admin may read any)
    data = request.get_cleaned_data()
    _may_access(request, data["id"])
    return Success(_user_or_404(_session(request), data["id"]).to_dict())


@routes.get("/users", data_handler=UserListData)
def user_list(request):
    """A page of users, oldest first: ``?page=1&per_page=20``.

    An admin sees every account; anyone else sees only their own (a page of one).
    """
    data = request.get_cleaned_data()
    auth = _caller(request)
    page, per_page = data["page"], data["per_page"]
    session = _session(request)
    visible = select(User)
    if not _is_admin(auth):
        visible = visible.where(User.id == auth["user_id"])
    total = session.execute(select(func.count()).select_from(visible.subquery())).scalar_one()
    users = session.execute(visible.order_by(User.id).offset((page - 1) * per_page).limit(per_page)).scalars()
    return Success(
        {
            "items": [u.to_dict() for u in users],
            "page": page,
            "per_page": per_page,
            "total": total,
            "pages": (total + per_page - 1) // per_page,
        }
    )


@routes.patch("/users/<id:int>", data_handler=UserUpdateData)
def update_user(request):
    """Change one's own account (an admin may change any). A new password revokes every token
    issued to the account so far, the caller's included: log in again with the new one."""
    data = request.get_cleaned_data()
    _may_access(request, data["id"])
    session = _session(request)
    user = _user_or_404(session, data["id"])
    for name in ("username", "first_name", "last_name"):
        if data.get(name) is not None:
            setattr(user, name, data[name])
    if data.get("password") is not None:
        user.password_hash = hash_password(data["password"])
        user.revoke_tokens()
    _commit(session)
    return Success(user.to_dict())


@routes.delete("/users/<id:int>", data_handler=UserIdData)
def delete_user(request):
    """Delete one's own account (an admin may delete any); its tokens die with the row."""
    data = request.get_cleaned_data()
    _may_access(request, data["id"])
    session = _session(request)
    session.delete(_user_or_404(session, data["id"]))
    session.commit()
    return Success()


@routes.post("/login", data_handler=LoginData)
def login(request):
    """Exchange a username and password for a bearer token."""
    # an unknown username costs the same password check as a wrong password (verify_password)
    data = request.get_cleaned_data()
    # [accounts] login_rate_limit attempts per client address and per username: 429 past either
    count_login(request, data["username"])
    session = _session(request)
    user = session.execute(select(User).where(User.username == data["username"])).scalar_one_or_none()
    matches = verify_password(user.password_hash if user is not None else None, data["password"])
    if user is None or not matches:
        raise Error(e.INVALID_CREDENTIALS)
    max_age = token_max_age(request.app.config)
    return Success(
        {
            "token": issue_token(user.id, user.token_version),
            "token_type": "bearer",
            "expires_in": max_age,
            "user": user.to_dict(),
        }
    )


@routes.post("/logout")
def logout(request):
    """Revoke every token of the caller's account, on every device (``Authorization: Bearer``)."""
    auth = _caller(request)
    session = _session(request)
    _user_or_404(session, auth["user_id"]).revoke_tokens()
    session.commit()
    return Success()
