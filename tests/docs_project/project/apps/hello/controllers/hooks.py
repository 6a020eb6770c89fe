import os  # filled in
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
    if os.environ.get('HOOK_LOG'):  # filled in: the suite reads the events from a file
        with open(os.environ['HOOK_LOG'], 'a') as log:
            log.write(f'user_created:{username} {os.getpid()}\n')
