"""An app that records every event it hears, for the hook and lifecycle tests."""

from __future__ import annotations

import importlib
from types import SimpleNamespace

import pytest

RECORD = """
    EVENTS = []
"""

HANDLERS = """
    import flask

    from framework.exception import BadRequest
    from framework.response import Binary, File, Text
    from framework.router import Routes

    from .record import EVENTS

    routes = Routes()


    @routes.get('/plain')
    async def plain(request):
        EVENTS.append('handler')
        return Text('plain body')


    @routes.get('/sync')
    def sync(request):
        EVENTS.append('handler')
        return Text('sync body')


    @routes.get('/stream')
    def stream(request):
        def chunks():
            for i in range(3):
                EVENTS.append(f'chunk {i}')
                yield f'part{i};'.encode()
        return Binary(chunks())


    @routes.get('/file')
    def file(request):
        return File('note.txt')


    @routes.get('/boom')
    def boom(request):
        raise RuntimeError('handler broke')


    @routes.get('/bad')
    async def bad(request):
        raise BadRequest({'message': 'rejected'})


    @routes.post('/users')
    async def create_user(request):
        await request.app.execute_event('user_created', {'username': request.body.json['username']})
        return Text('created')


    @routes.post('/users-sync')
    def create_user_sync(request):
        request.app.execute_event('user_created', {'username': request.body.json['username']})
        return Text('created')


    def announce(app, username):
        # a plain helper, called from an async handler: the loop is busy
        app.execute_event('user_created', {'username': username})


    @routes.post('/users-helper')
    async def create_user_helper(request):
        announce(request.app, request.body.json['username'])
        return Text('created')


    def fire(app, username):
        return app.execute_event('user_created', {'username': username})


    @routes.post('/users-awaited-helper')
    async def create_user_awaited_helper(request):
        await fire(request.app, request.body.json['username'])
        return Text('created')


    @routes.get('/secure', only_ssl=True)
    async def secure(request):
        EVENTS.append('handler')
        return Text('secret')
"""

HOOKS = """
    import asyncio
    import os

    import flask

    from framework.hook import Hooks

    from .record import EVENTS

    hooks = Hooks()


    @hooks.event('startup')
    async def on_startup():
        await asyncio.sleep(0)
        EVENTS.append('startup')
        if os.environ.get('FAIL_STARTUP'):
            raise RuntimeError('database unreachable')


    @hooks.event('shutdown')
    def on_shutdown():
        EVENTS.append('shutdown')


    @hooks.event('request_start')
    async def on_request_start():
        EVENTS.append(('request_start', flask.request.path))


    @hooks.event('request_end')
    def on_request_end():
        EVENTS.append(('request_end', flask.request.path))


    @hooks.event('user_created')
    async def on_user_created(username):
        EVENTS.append(('user_created', username))


    @hooks.event('user_created')
    def on_user_created_second(username):
        EVENTS.append(('user_created second', username))
"""

MAIN = """
    from framework.app import App

    from .handlers import routes
    from .hooks import hooks

    app = App(routes=[routes], hooks=[hooks])
"""


@pytest.fixture
def events_app(project):
    """An app whose hooks record into ``events``; returns (flask app, events list, fw)."""
    name = project.app_module(
        "events", {"record.py": RECORD, "handlers.py": HANDLERS, "hooks.py": HOOKS, "main.py": MAIN}
    )
    project.config(f"""
        [apps]
        active = {name}
        [environment]
        media_path = media
    """)
    media = project.root / "media"
    media.mkdir()
    (media / "note.txt").write_text("file body")
    app = project.create_app()
    events = importlib.import_module(f"{name}.record").EVENTS
    return SimpleNamespace(
        app=app, events=events, fw=app.extensions["framework"], package=name, project=project
    )
