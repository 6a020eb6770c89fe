from framework import Backendpy
from framework.db import get_db_engine, get_db_session

bp = Backendpy()

@bp.event('startup')
async def on_startup():
    bp.context['db_engine'] = get_db_engine(config=bp.config['database'])
    bp.context['db_session'] = get_db_session(engine=bp.context['db_engine'], scope_func=bp.get_current_request)

@bp.event('shutdown')
async def on_shutdown():
    await bp.context['db_engine'].dispose()

@bp.event('request_end')
async def on_request_end():
    await bp.context['db_session'].remove()
