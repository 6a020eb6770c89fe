from framework.app import App

from . import features
from .handlers import routes
from .hooks import TICK_EVERY, hooks

options = {}
if features.SCHEDULES:
    import framework

    options["schedules"] = [framework.Schedule(event="tick", every=TICK_EVERY)]

app = App(routes=[routes], hooks=[hooks], models=["scale_demo.models"], **options)
