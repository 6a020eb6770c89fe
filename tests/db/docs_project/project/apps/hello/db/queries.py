from sqlalchemy import select
from .models import User

async def get_user(session, identifier):
    return session.get(User, identifier)

async def get_users(session):
    return session.execute(select(User)).scalars().all()

async def set_user(session, data):
    session.add(User(first_name=data['first_name'], last_name=data['last_name']))
    session.commit()
    return True
