import unittest
from asyncio import current_task
from framework.unittest import AsyncTestCase
from framework.db import get_db_engine, get_db_session
from ..db import queries

DATABASE = {'host': 'localhost', 'port': '5432', 'name': 'your_db_name',
            'username': 'your_db_user', 'password': 'your_db_password'}

class QueriesTestCase(AsyncTestCase):

    def setUp(self) -> None:
        self.db_engine = get_db_engine(DATABASE, echo=True)
        self.db_session = get_db_session(self.db_engine, scope_func=current_task)

    async def tearDown(self) -> None:
        await self.db_session.remove()
        await self.db_engine.dispose()

    async def test_get_users(self):
        result = await queries.get_users(self.db_session())
        self.assertNotEqual(result, False)

if __name__ == '__main__':
    unittest.main()
