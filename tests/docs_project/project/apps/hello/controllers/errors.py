from framework.response import Status
from framework.error import ErrorCode, ErrorList

errors = ErrorList(
    ErrorCode(1100, "Authorization error", Status.UNAUTHORIZED),
    ErrorCode(1101, "User '{}' does not exists", Status.BAD_REQUEST)
)
