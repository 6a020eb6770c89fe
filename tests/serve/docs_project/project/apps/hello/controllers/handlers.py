from framework.router import Routes
from framework.response import HTML, JSON, Success, Text
from framework.exception import BadRequest
from framework.error import Error
from framework.templating import Template
from .data_handlers import UserCreationData

routes = Routes()


@routes.get('/hello-world')
async def hello_world(request):
    return Text('Hello World!')


@routes.patch('/int-users/<id:int>')
async def user_modification(request):
    id = int(request.url_vars['id'])
    return Text(str(id + 1))


@routes.get('/json/hello-world')
async def json_hello_world(request):
    return JSON({'message': 'Hello World!'})


@routes.get('/html/hello-world')
async def html_hello_world(request):
    return HTML('<html><body>Hello World!</body></html>')


@routes.post('/success/login')
async def success_login(request):
    return Success('Successful login!')


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
    await request.app.execute_event('user_created', {'username': data['username']})
    return JSON({'username': data['username'], 'auth': request.context['auth']})  # filled in


@routes.get('/started')  # filled in: did the startup hooks run before this request?
async def started(request):
    return JSON({'started': request.app.context.get('started', False)})
