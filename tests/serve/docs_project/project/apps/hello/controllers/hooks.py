from framework.hook import Hooks
from framework.logging import get_logger

LOGGER = get_logger(__name__)
hooks = Hooks()


@hooks.event('startup')
async def example():
    LOGGER.debug("Server starting")


@hooks.event('user_created')
async def example2(username):
    LOGGER.debug(f"User '{username}' creation")
