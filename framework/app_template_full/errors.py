"""The $app app's error codes (an app's codes start at 1100 and are its own)."""

from framework.error import ErrorCode, ErrorList
from framework.response import Status

POST_NOT_FOUND = 1100
POST_EXISTS = 1101

errors = ErrorList(
    ErrorCode(POST_NOT_FOUND, "Post {} not found", Status.NOT_FOUND),
    ErrorCode(POST_EXISTS, "A post titled {!r} exists already", Status.BAD_REQUEST),
)
