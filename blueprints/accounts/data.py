"""The accounts app's data handlers."""

from __future__ import annotations

from framework.data_handler import filters as f
from framework.data_handler import validators as v
from framework.data_handler.data import Data
from framework.data_handler.fields import TYPE_PARAM, TYPE_URL_VAR, Integer, String

from .models import User

#: At least 10 characters mixing two of: lower case, upper case, digits, symbols.
PASSWORD_POLICY = v.PasswordPolicy(min_length=10, min_classes=2)


class UserCreationData(Data):
    username = String(
        required=True,
        processors=[
            v.NotNull(),
            f.ToStringObject(),
            v.UserNamePolicy(),
            v.Unique(User, "username", message="Username already taken"),
        ],
    )
    password = String(required=True, processors=[v.NotNull(), f.ToStringObject(), PASSWORD_POLICY])
    first_name = String(processors=[f.ToStringObject(), v.Length(max=50)])
    last_name = String(processors=[f.ToStringObject(), v.Length(max=50)])


class UserIdData(Data):
    id = Integer(field_type=TYPE_URL_VAR, required=True)


class UserUpdateData(Data):
    id = Integer(field_type=TYPE_URL_VAR, required=True)
    username = String(
        processors=[
            f.ToStringObject(),
            v.UserNamePolicy(),
            v.Unique(User, "username", exclude_self_by_field="id", message="Username already taken"),
        ]
    )
    password = String(processors=[f.ToStringObject(), PASSWORD_POLICY])
    first_name = String(processors=[f.ToStringObject(), v.Length(max=50)])
    last_name = String(processors=[f.ToStringObject(), v.Length(max=50)])


class UserListData(Data):
    # bounded so that the OFFSET ((page - 1) * per_page) fits any database's integer
    page = Integer(field_type=TYPE_PARAM, default=1, processors=[v.Limit(min=1, max=1_000_000)])
    per_page = Integer(field_type=TYPE_PARAM, default=20, processors=[v.Limit(min=1, max=100)])


class LoginData(Data):
    username = String(required=True, processors=[v.NotNull(), f.ToStringObject()])
    password = String(required=True, processors=[v.NotNull(), f.ToStringObject()])
