"""Test helpers: ``TestCase``, ``AsyncTestCase`` and the pytest plugin's fixtures."""

from .case import AsyncTestCase as AsyncTestCase
from .case import TestCase as TestCase
