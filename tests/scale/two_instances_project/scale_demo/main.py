import framework
from framework.app import App

from .handlers import routes
from .hooks import TICK_EVERY, hooks

app = App(
    routes=[routes],
    hooks=[hooks],
    models=["scale_demo.models"],
    schedules=[framework.Schedule(event="tick", every=TICK_EVERY)],
)
