"""Users CRUD and login."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from framework.error import Error
from framework.response import Status, Success
from framework.router import Routes

from . import errors as e
from .data import LoginData, UserCreationData, UserIdData, UserListData, UserUpdateData
from .models import User
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


def _may_edit(request: Any, user_id: int) -> None:
    auth = request.context.get("auth") or {}
    if auth.get("user_id") != user_id and "admin" not in (auth.get("user_roles") or ()):
        raise Error(e.PERMISSION_DENIED)


@routes.post("/users", data_handler=UserCreationData)
def create_user(request):
    """Create an account (public); the password is stored hashed."""
    data = request.get_cleaned_data()
    session = _session(request)
    user = User(username=data["username"], password_hash=generate_password_hash(data["password"]),
                first_name=data.get("first_name"), last_name=data.get("last_name"), roles="user")
    session.add(user)
    _commit(session)
    request.app.execute_event("user_created", {"username": user.username})
    return Success(user.to_dict(), status=Status.CREATED)


@routes.get("/users/<id:int>", data_handler=UserIdData)
def user_detail(request):
    data = request.get_cleaned_data()
    return Success(_user_or_404(_session(request), data["id"]).to_dict())


@routes.get("/users", data_handler=UserListData)
def user_list(request):
    """A page of users, oldest first: ``?page=1&per_page=20``."""
    data = request.get_cleaned_data()
    page, per_page = data["page"], data["per_page"]
    session = _session(request)
    total = session.execute(select(func.count()).select_from(User)).scalar_one()
    users = session.execute(select(User).order_by(User.id)
                            .offset((page - 1) * per_page).limit(per_page)).scalars()
    return Success({"items": [u.to_dict() for u in users], "page": page, "per_page": per_page,
                    "total": total, "pages": (total + per_page - 1) // per_page})


@routes.patch("/users/<id:int>", data_handler=UserUpdateData)
def update_user(request):
    """Change one's own account (an admin may change any)."""
    data = request.get_cleaned_data()
    _may_edit(request, data["id"])
    session = _session(request)
    user = _user_or_404(session, data["id"])
    for name in ("username", "first_name", "last_name"):
        if data.get(name) is not None:
            setattr(user, name, data[name])
    if data.get("password") is not None:
        user.password_hash = generate_password_hash(data["password"])
    _commit(session)
    return Success(user.to_dict())


@routes.delete("/users/<id:int>", data_handler=UserIdData)
def delete_user(request):
    """Delete one's own account (an admin may delete any)."""
    data = request.get_cleaned_data()
    _may_edit(request, data["id"])
    session = _session(request)
    session.delete(_user_or_404(session, data["id"]))
    session.commit()
    return Success()


@routes.post("/login", data_handler=LoginData)
def login(request):
    """Exchange a username and password for a bearer token."""
    data = request.get_cleaned_data()
    session = _session(request)
    user = session.execute(select(User).where(User.username == data["username"])).scalar_one_or_none()
    if user is None or not check_password_hash(user.password_hash, data["password"]):
        raise Error(e.INVALID_CREDENTIALS)
    max_age = token_max_age(request.app.config)
    return Success({"token": issue_token(user.id), "token_type": "bearer", "expires_in": max_age,
                    "user": user.to_dict()})
