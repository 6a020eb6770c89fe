from framework.middleware import Middleware


class MyMiddleware(Middleware):

    @staticmethod
    def process_application(application):
        ...
        return application

    @staticmethod
    async def process_request(request):
        ...
        return request, None

    @staticmethod
    async def process_handler(request, handler):
        ...
        return handler

    @staticmethod
    async def process_response(request, response):
        ...
        return response
