"""A middleware that does nothing, on every layer, written as in Backendpy's listing 25."""

from framework.middleware import Middleware


class NoopMiddleware(Middleware):
    @staticmethod
    def process_application(application):
        return application

    @staticmethod
    async def process_request(request):
        return request, None

    @staticmethod
    async def process_handler(request, handler):
        return handler

    @staticmethod
    async def process_response(request, response):
        return response
