from framework import logging  # filled in: 4.12's listing
from framework.response import Text

LOGGER = logging.get_logger(__name__)


async def hello_world(request):
    return Text('Hello World!')


async def login(request):
    LOGGER.debug("Example debug log")  # filled in
    return Text('login')  # filled in
