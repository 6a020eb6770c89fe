import os  # filled in

from framework import Backendpy
from framework.db import set_database_hooks
from framework.logging import get_logger

LOGGER = get_logger(__name__)

bp = Backendpy()
set_database_hooks(bp)


def note(event):  # filled in: the suite reads the hooks' order from a file
    if os.environ.get('HOOK_LOG'):
        with open(os.environ['HOOK_LOG'], 'a') as log:
            log.write(f'{event} {os.getpid()}\n')


@bp.event('startup')
async def on_startup():
    LOGGER.debug("Server starting")
    bp.context['started'] = True  # filled in
    note('startup')  # filled in


@bp.event('shutdown')
async def on_shutdown():
    LOGGER.debug("Server stopping")
    note('shutdown')  # filled in
