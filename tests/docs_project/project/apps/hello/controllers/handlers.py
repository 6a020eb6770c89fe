import os
from framework.router import Routes
from framework.response import HTML, JSON, Binary, File, Redirect, Success, Text
from framework.exception import BadRequest
from framework.error import Error
from framework.templating import Template
from .data_handlers import UserCreationData, UserFilterData
from . import group_data_handlers  # filled in: listing 20 whole, on a route of its own
from ..db import queries

routes = Routes()


@routes.get('/hello-world')
async def hello_world(request):
    return Text('Hello World!')


@routes.post('/login')
async def login(request):
    return Success('Successful login!')


@routes.route('/any/hello-world', ('GET', 'POST'))
async def any_hello_world(request):
    return Text('Hello World!')


@routes.patch('/str-users/<id>')
async def user_rename(request):
    id = request.url_vars['id']
    return Text(id)  # filled in


@routes.patch('/int-users/<id:int>')
async def user_modification(request):
    id = int(request.url_vars['id'])
    return Text(str(id + 1))  # filled in


@routes.get('/json/hello-world')
async def json_hello_world(request):
    return JSON({'message': 'Hello World!'})


@routes.get('/html/hello-world')
async def html_hello_world(request):
    return HTML('<html><body>Hello World!</body></html>')


@routes.get('/file/hello-world')
async def file_hello_world(request):
    return File(os.path.join('images', 'logo.jpg'))


@routes.get('/binary/hello-world')  # filled in: the docs name Binary without a listing
async def binary_hello_world(request):
    return Binary(b'\x00Hello World!\xff')


@routes.get('/redirect/hello-world')  # filled in: the docs name Redirect without a listing
async def redirect_hello_world(request):
    return Redirect('/hello-world')


@routes.get('/success/hello-world')
async def success_hello_world(request):
    return Success()


@routes.post('/bad/login')
async def bad_login(request):
    raise BadRequest({'message': 'Login failed!'})


@routes.get('/example-error')
async def example_error(request):
    raise Error(1100)


@routes.post('/error/login')
async def error_login(request):
    raise Error(1101, 'jalil')


@routes.get('/home')
async def home(request):
    context = {'message': 'Hello World!'}
    return HTML(await Template('home.html').render(context))


@routes.post('/users', data_handler=UserCreationData)
async def user_creation(request):
    data = await request.get_cleaned_data()
    db_session = request.app.context['db_session']()  # filled in: store the user
    await queries.set_user(db_session, data)  # filled in
    await request.app.execute_event('user_created', {'username': data['username']})
    return Success({'username': data['username']})  # filled in


@routes.post('/groups/<group>/users', data_handler=group_data_handlers.UserCreationData)
async def group_user_creation(request):  # filled in
    data = await request.get_cleaned_data()
    db_session = request.app.context['db_session']()
    await queries.set_user(db_session, data)
    return Success({'group': data['group'], 'username': data['username']})


@routes.get('/users/<id:int>', data_handler=UserFilterData)
async def user_detail(request):
    data = await request.get_cleaned_data()
    db_session = request.app.context['db_session']()
    result = await queries.get_user(db_session, data['id'])
    return Success(to_dict(result))


@routes.get('/db/hello-world')
async def hello(request):
    db_session = request.app.context['db_session']()
    return Success({'users': len(await queries.get_users(db_session))})  # filled in


def to_dict(user):  # filled in
    return {'id': user.id, 'first_name': user.first_name, 'last_name': user.last_name}


@routes.get('/private/profile')  # filled in: AuthMiddleware guards /private/
async def profile(request):
    return JSON(request.context['auth'])


@routes.get('/layers')  # filled in: what MyMiddleware's request and handler layers did
async def layers(request):
    return JSON({'layers': request.context['layers']})


@routes.get('/started')  # filled in: did the startup hooks run before this request?
async def started(request):
    return JSON({'started': request.app.context.get('started', False)})
