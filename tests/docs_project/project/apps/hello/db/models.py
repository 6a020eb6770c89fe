from sqlalchemy import Column, Integer, String
from framework.db import Base

class User(Base):
    __tablename__ = 'users'

    id = Column(Integer(), primary_key=True)
    first_name = Column(String(50))
    last_name = Column(String(50))
    username = Column(String(50))  # filled in: the init function and the API test send one
