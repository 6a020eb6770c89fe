from asyncio import current_task
from framework.db import get_db_engine, get_db_session
from framework.logging import logging
from ..db import queries

LOGGER = logging.getLogger(__name__)

async def init_data(config):
    # Get db session
    db_engine = get_db_engine(config['database'], echo=False)
    db_session = get_db_session(db_engine, current_task)

    try:
        # ...
        # Create admin user
        if await queries.get_users(db_session):
            LOGGER.warning('Users created already [SKIPPED]')
        else:
            try:
                user_data = {
                    'first_name': input('Enter first name:\n'),
                    'last_name': input('Enter last name:\n'),
                    'username': input('Enter admin username:\n'),
                    'password': input('Enter admin password:\n')}
            except Exception as e:
                raise Exception(f'Input error:\n{e}')

            if await queries.set_user(db_session, user_data):
                LOGGER.info('Admin user created successfully')
            else:
                raise Exception('Admin user creation error')
    finally:
        await db_session.remove()
        await db_engine.dispose()
