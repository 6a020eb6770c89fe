from sqlalchemy import Column, Integer, String

from framework.db import Base


class Author(Base):
    __tablename__ = "dbtest_authors"

    id = Column(Integer(), primary_key=True)
    name = Column(String(50), nullable=False, unique=True)
