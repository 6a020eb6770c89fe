import unittest
from framework.unittest import TestCase
from framework.utils import http

class MyTestCase(TestCase):

    def setUp(self) -> None:
        self.client = http.Client('127.0.0.1', 8000)

    def test_user_creation(self):
        with self.client as session:
            data = {'first_name': 'Jalil',
                    'last_name': 'Hamdollahi Oskouei',
                    'username': 'my_user',
                    'password': 'my_pass'}
            result = session.post('/users', json=data)
            self.assertEqual(result.status, 200)
            self.assertNotEqual(result.data, '')

if __name__ == '__main__':
    unittest.main()
