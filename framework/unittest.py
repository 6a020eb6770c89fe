"""Backendpy's ``backendpy.unittest`` name for the test case classes."""

from .testing.case import AsyncTestCase as AsyncTestCase
from .testing.case import TestCase as TestCase
