"""The $app app's tables (imported at start-up through ``App(models=[...])``)."""

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from framework.db import Base


class Post(Base):
    __tablename__ = "${app}_posts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(100), unique=True)
    body: Mapped[str] = mapped_column(Text, default="")

    def to_dict(self):
        return {"id": self.id, "title": self.title, "body": self.body}
