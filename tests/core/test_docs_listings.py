"""Backendpy's documentation listings (sections 3.1, 4.1 to 4.6, 4.11), run with the import
prefix ``backendpy`` replaced by ``framework`` and nothing else changed."""

from __future__ import annotations

import sys
import textwrap

import pytest
from werkzeug.test import Client

FILES = {
    # 3.1 Listing 1, plus 3.3 Listing 9 (reading the config from the project object)
    "project/main.py": """
        from framework import Backendpy

        bp = Backendpy()

        print(bp.config['database']['host'])
    """,
    # 3.1 Listing 4 and 3.3 Listing 8 (the parts that do not name other projects' apps)
    "project/config.ini": """
        ; Backendpy Configurations

        [networking]
        allowed_hosts =
            127.0.0.1:8000
            localhost:8000
            localhost
        stream_size = 32768

        [environment]
        media_path = /foo/bar

        [apps]
        active =
            project.apps.hello

        [middlewares]
        active =

        [database]
        host = localhost
        port = 5432
        name =
        username =
        password =

        [accounts]
        aes_key = 11111111111111111111111111111111
        auth_tokens_secret = 22222222222222222222222222222222
    """,
    "project/__init__.py": "",
    "project/apps/__init__.py": "",
    "project/apps/hello/__init__.py": "",
    # 4.1 Listing 1: an app with all its parameters
    "project/apps/hello/main.py": """
        from framework.app import App
        from .controllers.handlers import routes
        from .controllers.hooks import hooks
        from .controllers.errors import errors
        from .controllers.init import init_func

        app = App(
            routes=[routes],
            hooks=[hooks],
            errors=[errors],
            models=['project.apps.hello.db.models'],
            template_dirs=['templates'],
            init_func=init_func)
    """,
    "project/apps/hello/db/__init__.py": "",
    "project/apps/hello/db/models.py": "MODELS_IMPORTED = True\n",
    "project/apps/hello/controllers/__init__.py": "",
    "project/apps/hello/controllers/init.py": """
        async def init_func(config):
            return config
    """,
    # 4.6 Listing 17
    "project/apps/hello/controllers/errors.py": """
        from framework.response import Status
        from framework.error import ErrorCode, ErrorList

        errors = ErrorList(
            ErrorCode(1100, "Authorization error", Status.UNAUTHORIZED),
            ErrorCode(1101, "User '{}' does not exists", Status.BAD_REQUEST)
        )
    """,
    "project/apps/hello/controllers/hooks.py": """
        from framework.hook import Hooks
        hooks = Hooks()
    """,
    # 4.2 to 4.6 and 4.11 handler listings, one module each so their names do not clash
    "project/apps/hello/controllers/handlers.py": """
        from framework.router import Routes
        from . import (l_3_1, l_4_2_2, l_4_2_3, l_4_2_urls, l_4_2_8, l_4_2_9, l_4_4_12,
                       l_4_4_13, l_4_4_14, l_4_4_15, l_4_5_16, l_4_6_19, l_4_11_37)
        routes = Routes()
        for module in (l_3_1, l_4_2_2, l_4_2_3, l_4_2_8, l_4_2_9, l_4_4_12, l_4_4_13,
                       l_4_4_14, l_4_4_15, l_4_5_16, l_4_6_19, l_4_11_37):
            routes.extend(module.routes)
        routes.extend(l_4_2_urls.routes)
    """,
    "project/apps/hello/controllers/l_3_1.py": """
        from framework.router import Routes
        from framework.response import Text

        routes = Routes()

        @routes.get('/hello-world')
        async def hello_world(request):
            return Text('Hello World!')
    """,
    "project/apps/hello/controllers/l_4_2_2.py": """
        from framework.router import Routes
        from framework.response import Text

        routes = Routes()

        @routes.get('/v2/hello-world')
        async def hello_world(request):
            return Text('Hello World!')

        @routes.post('/login')
        async def login(request):
            ...
    """,
    "project/apps/hello/controllers/l_4_2_3.py": """
        from framework.router import Routes
        from framework.response import Text

        routes = Routes()

        @routes.route('/v3/hello-world', ('GET', 'POST'))
        async def hello_world(request):
            return Text('Hello World!')
    """,
    # 4.2.2 Listings 4 and 5
    "project/apps/hello/controllers/l_4_2_handlers.py": """
        from framework.response import Text

        async def hello_world(request):
            return Text('Hello World!')

        async def login(request):
            ...
    """,
    "project/apps/hello/controllers/l_4_2_urls.py": """
        from framework.router import Routes, Route
        from .l_4_2_handlers import hello_world, login

        routes = Routes(
            Route('/v4/hello-world', ('GET',), hello_world),
            Route('/v4/login', ('POST',), login)
        )
    """,
    "project/apps/hello/controllers/l_4_2_8.py": """
        from framework.router import Routes
        from framework.response import Text

        routes = Routes()

        @routes.patch('/users/<id>')
        async def user_modification(request):
            id = request.url_vars['id']
            return Text(id)
    """,
    "project/apps/hello/controllers/l_4_2_9.py": """
        from framework.router import Routes
        from framework.response import Text

        routes = Routes()

        @routes.patch('/int-users/<id:int>')
        async def user_modification(request):
            id = int(request.url_vars['id'])
            return Text(str(id + 1))
    """,
    "project/apps/hello/controllers/l_4_4_12.py": """
        from framework.router import Routes
        from framework.response import JSON

        routes = Routes()

        @routes.get('/json/hello-world')
        async def hello_world(request):
            return JSON({'message': 'Hello World!'})
    """,
    "project/apps/hello/controllers/l_4_4_13.py": """
        from framework.router import Routes
        from framework.response import HTML

        routes = Routes()

        @routes.get('/html/hello-world')
        async def hello_world(request):
            return HTML('<html><body>Hello World!</body></html>')
    """,
    "project/apps/hello/controllers/l_4_4_14.py": """
        import os
        from framework.router import Routes
        from framework.response import File

        routes = Routes()

        @routes.get('/file/hello-world')
        async def hello_world(request):
            return File(os.path.join('images', 'logo.jpg'))
    """,
    "project/apps/hello/controllers/l_4_4_15.py": """
        from framework.router import Routes
        from framework.response import Success

        routes = Routes()

        @routes.get('/success/hello-world')
        async def hello_world(request):
            return Success()

        @routes.post('/success/login')
        async def login(request):
            return Success('Successful login!')
    """,
    "project/apps/hello/controllers/l_4_5_16.py": """
        from framework.router import Routes
        from framework.exception import BadRequest

        routes = Routes()

        @routes.post('/bad/login')
        async def login(request):
            raise BadRequest({'message': 'Login failed!'})
    """,
    "project/apps/hello/controllers/l_4_6_19.py": """
        from framework.router import Routes
        from framework.error import Error

        routes = Routes()

        @routes.get('/example-error')
        async def example_error(request):
            raise Error(1100)

        @routes.post('/error/login')
        async def login(request):
            raise Error(1101, 'jalil')
    """,
    # 4.11 Listings 36 and 37
    "project/apps/hello/templates/home.html": """
        <!DOCTYPE html>
        <html>
        <head>
        <title>Backendpy</title>
        </head>
        <body>
          <h1>{{ message }}</h1>
        </body>
        </html>
    """,
    "project/apps/hello/controllers/l_4_11_37.py": """
        from framework.router import Routes
        from framework.response import HTML
        from framework.templating import Template

        routes = Routes()

        @routes.get('/home')
        async def home(request):
            context = {'message': 'Hello World!'}
            return HTML(await Template('home.html').render(context))
    """,
}


@pytest.fixture
def bp(tmp_path, monkeypatch):
    for rel, text in FILES.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
    media = tmp_path / "media" / "images"
    media.mkdir(parents=True)
    (media / "logo.jpg").write_bytes(b"\xff\xd8\xff\xe0fake jpeg")
    (tmp_path / "project" / "config.ini").chmod(0o600)
    monkeypatch.setenv("FRAMEWORK__ENVIRONMENT__MEDIA_PATH", str(tmp_path / "media"))
    monkeypatch.syspath_prepend(str(tmp_path))
    # A ``project`` package another test of this worker left imported (tests/serve keeps the
    # docs project's models) would stand in for this one's: set it aside for the test.
    for name in [m for m in sys.modules if m == "project" or m.startswith("project.")]:
        monkeypatch.delitem(sys.modules, name)
    import importlib

    main = importlib.import_module("project.main")
    yield main.bp
    for name in [m for m in sys.modules if m == "project" or m.startswith("project.")]:
        del sys.modules[name]


def test_project_object_is_a_wsgi_app_with_config(bp, capsys):
    assert bp.config["database"]["host"] == "localhost"
    assert bp.config["networking"]["allowed_hosts"] == ["127.0.0.1:8000", "localhost:8000", "localhost"]
    assert bp.config["accounts"]["aes_key"] == "1" * 32
    assert sys.modules["project.apps.hello.db.models"].MODELS_IMPORTED
    client = Client(bp)
    response = client.get("/hello-world")
    assert (response.status_code, response.text) == (200, "Hello World!")


def test_route_listings(bp):
    client = Client(bp)
    assert client.get("/v2/hello-world").text == "Hello World!"
    assert client.post("/v3/hello-world").text == "Hello World!"
    assert client.get("/v4/hello-world").text == "Hello World!"
    assert client.patch("/users/abc").text == "abc"
    assert client.patch("/int-users/41").text == "42"
    assert client.patch("/int-users/abc").status_code == 404


def test_response_listings(bp):
    client = Client(bp)
    assert client.get("/json/hello-world").json == {"message": "Hello World!"}
    assert client.get("/html/hello-world").text == "<html><body>Hello World!</body></html>"
    response = client.get("/file/hello-world")
    assert response.status_code == 200 and response.headers["Content-Type"] == "image/jpeg"
    assert response.data.startswith(b"\xff\xd8")
    response.close()
    assert client.get("/success/hello-world").json == {"status": "success"}
    assert client.post("/success/login").json == {"status": "success", "data": "Successful login!"}


def test_exception_and_error_listings(bp):
    client = Client(bp)
    response = client.post("/bad/login")
    assert (response.status_code, response.json) == (400, {"message": "Login failed!"})
    response = client.get("/example-error")
    assert response.status_code == 401
    assert response.json == {"status": "error", "code": 1100, "message": "Authorization error"}
    response = client.post("/error/login")
    assert response.json["message"] == "User 'jalil' does not exists"


def test_allowed_hosts_listing(bp):
    client = Client(bp)
    assert client.get("/hello-world", headers={"Host": "localhost:8000"}).status_code == 200
    response = client.get("/hello-world", headers={"Host": "attacker.example"})
    assert response.status_code == 400 and response.json["code"] == 1003


def test_template_listing(bp):
    response = Client(bp).get("/home")
    assert "<h1>Hello World!</h1>" in response.text
    assert "<title>Backendpy</title>" in response.text


def test_init_func_is_kept_on_the_app(bp):
    installed = bp.apps["project.apps.hello"]
    assert installed.app.init_func.__name__ == "init_func"
