from framework.response import Text


async def hello_world(request):
    return Text('Hello World!')


async def login(request):
    return Text('login')  # filled in
