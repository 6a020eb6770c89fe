from framework.data_handler.data import Data
from framework.data_handler.fields import TYPE_URL_VAR, Integer, String
from framework.response import Success
from framework.router import Routes
from ..db import queries

routes = Routes()


class UserFilterData(Data):
    id = Integer(field_type=TYPE_URL_VAR, required=True)


class UserCreationData(Data):
    first_name = String(required=True)
    last_name = String(required=True)
    username = String()
    password = String()


def to_dict(user):
    return {'id': user.id, 'first_name': user.first_name, 'last_name': user.last_name}


@routes.get('/hello-world')
async def hello(request):
    db_session = request.app.context['db_session']()
    return Success({'users': len(await queries.get_users(db_session))})


@routes.get('/users/<id:int>', data_handler=UserFilterData)
async def user_detail(request):
    data = await request.get_cleaned_data()
    db_session = request.app.context['db_session']()
    result = await queries.get_user(db_session, data['id'])
    return Success(to_dict(result))


@routes.post('/users', data_handler=UserCreationData)
async def user_creation(request):
    data = await request.get_cleaned_data()
    db_session = request.app.context['db_session']()
    await queries.set_user(db_session, data)
    return Success({'created': True})
