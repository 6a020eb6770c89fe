from framework.router import Routes, Route
from .url_handlers import hello_world, login

routes = Routes(
    Route('/v4/hello-world', ('GET',), hello_world),
    Route('/v4/login', ('POST',), login)
)
