from sqlalchemy import Column, Integer, String
from framework.db import Base

class User(Base):
    __tablename__ = 'users'

    id = Column(Integer(), primary_key=True)
    first_name = Column(String(50))
    last_name = Column(String(50))
