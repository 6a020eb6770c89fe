"""The accounts app's error codes (1100 and up)."""

from framework.error import ErrorCode, ErrorList
from framework.response import Status

INVALID_CREDENTIALS = 1100
USER_NOT_FOUND = 1101
INVALID_TOKEN = 1102
AUTH_REQUIRED = 1103
PERMISSION_DENIED = 1104

errors = ErrorList(
    ErrorCode(INVALID_CREDENTIALS, "Invalid username or password", Status.UNAUTHORIZED),
    ErrorCode(USER_NOT_FOUND, "User {} not found", Status.NOT_FOUND),
    ErrorCode(INVALID_TOKEN, "Invalid or expired token", Status.UNAUTHORIZED),
    ErrorCode(AUTH_REQUIRED, "Authentication required", Status.UNAUTHORIZED),
    ErrorCode(PERMISSION_DENIED, "Permission denied", Status.FORBIDDEN),
)
