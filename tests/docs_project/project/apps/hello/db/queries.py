from sqlalchemy import select
from .models import User

async def get_user(session, identifier):
    return await session.get(User, identifier)

async def get_users(session):  # filled in: used by the init and test listings
    return (await session.scalars(select(User))).all()

async def set_user(session, data):  # filled in
    session.add(User(first_name=data.get('first_name'), last_name=data.get('last_name'),
                     username=data.get('username')))
    await session.commit()
    return True
