from sqlalchemy import select
from .models import User

async def get_user(session, identifier):
    return await session.get(User, identifier)

async def get_users(session):
    return (await session.scalars(select(User))).all()

async def set_user(session, data):
    session.add(User(first_name=data['first_name'], last_name=data['last_name']))
    await session.commit()
    return True
