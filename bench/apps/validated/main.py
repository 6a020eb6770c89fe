"""The two routes of the Backendpy comparison, written as a Backendpy project would port:
``async def`` hello, and a POST whose JSON body a data handler validates."""

from framework.app import App
from framework.data_handler import validators as v
from framework.data_handler.data import Data
from framework.data_handler.fields import String
from framework.response import Success, Text
from framework.router import Routes

routes = Routes()


class SignupData(Data):
    name = String("name", required=True, processors=[v.NotNull(), v.Length(min=1, max=50)])
    email = String("email", required=True, processors=[v.EmailAddress()])


@routes.get("/hello-world")
async def hello_world(request):
    return Text("Hello World!")


@routes.post("/signup", data_handler=SignupData)
async def signup(request):
    return Success(await request.get_cleaned_data())


app = App(routes=[routes])
