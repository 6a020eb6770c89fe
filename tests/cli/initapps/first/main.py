import asyncio

from framework.app import App

from ..record import record


async def init_first(config):
    await asyncio.sleep(0)
    record({"app": "first", "async": True, "has_database": "uri" in config["database"]})


app = App(init_func=init_first)
