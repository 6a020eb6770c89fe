from framework.app import App
from framework.response import Success
from framework.router import Routes

routes = Routes()


@routes.options("/probe")
def probe(request):
    """Answers who called: a handler that must not run for an anonymous caller."""
    return Success({"handler_ran": True, "auth": request.context.get("auth")})


app = App(routes=[routes])
