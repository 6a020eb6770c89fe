"""A model of one app relating to a model of another app."""

from sqlalchemy import Column, ForeignKey, Integer, String
from sqlalchemy.orm import relationship

from framework.db import Base


class Book(Base):
    __tablename__ = "dbtest_books"

    id = Column(Integer(), primary_key=True)
    title = Column(String(100), nullable=False)
    author_id = Column(Integer(), ForeignKey("dbtest_authors.id"), nullable=True)
    author = relationship("Author", backref="books")
