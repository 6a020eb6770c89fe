from framework.middleware import Middleware


class MyMiddleware(Middleware):

    @staticmethod
    def process_application(application):
        ...
        def marked(environ, start_response):  # filled in: a header from the application layer
            def start(status, headers, exc_info=None):
                headers.append(('X-Application-Layer', 'MyMiddleware'))
                return start_response(status, headers, exc_info)
            return application(environ, start)
        return marked

    @staticmethod
    async def process_request(request):
        ...
        request.context['layers'] = ['request']  # filled in
        return request, None

    @staticmethod
    async def process_handler(request, handler):
        ...
        async def wrapped(request):  # filled in
            request.context['layers'].append('handler')
            return await handler(request)
        return wrapped

    @staticmethod
    async def process_response(request, response):
        ...
        response.headers['X-Layers'] = ','.join(request.context.get('layers', []) + ['response'])  # filled in
        return response
