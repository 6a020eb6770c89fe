"""The $app app's hooks: functions run when an event fires."""

from framework.hook import Hooks
from framework.logging import get_logger

LOGGER = get_logger(__name__)
hooks = Hooks()


@hooks.event("startup")
async def announce_startup():
    LOGGER.info("$app app ready")
