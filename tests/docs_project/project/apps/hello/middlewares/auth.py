from framework.middleware import Middleware
from framework.exception import BadRequest
from types import SimpleNamespace  # filled in


def is_invalid_token(token): return token != 'Bearer good'  # filled in
def get_user(token): return SimpleNamespace(id=7, roles=['admin'])  # filled in


class AuthMiddleware(Middleware):

    @staticmethod
    async def process_request(request):
        if not request.path.startswith('/private/'):  # filled in: which routes need a token
            return request, None
        auth_token = request.headers.get('authorization')

        if is_invalid_token(auth_token):
            raise BadRequest({'error': 'Invalid auth token'})

        user = get_user(auth_token)

        request.context["auth"] = {
            'user_id': user.id,
            'user_roles': user.roles}

        return request, None
