"""Rows the tests count: counter hits, background jobs run, periodic ticks."""

from sqlalchemy import Column, Float, Integer, String

from framework.db import Base


class Hit(Base):
    __tablename__ = "scale_demo_hits"

    id = Column(Integer(), primary_key=True)


class Job(Base):
    __tablename__ = "scale_demo_jobs"

    id = Column(Integer(), primary_key=True)
    name = Column(String(64), nullable=False)
    #: the pid of the process that ran the job (the worker's, not an instance's)
    pid = Column(Integer(), nullable=False)


class Tick(Base):
    __tablename__ = "scale_demo_ticks"

    id = Column(Integer(), primary_key=True)
    #: when the tick ran (Unix seconds)
    at = Column(Float(), nullable=False)
