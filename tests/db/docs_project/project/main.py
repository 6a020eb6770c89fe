from framework import Backendpy
from framework.db import set_database_hooks

bp = Backendpy()
set_database_hooks(bp)
