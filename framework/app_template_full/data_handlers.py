"""The $app app's input data: validated and cleaned before a handler sees it."""

from framework.data_handler import validators as v
from framework.data_handler.data import Data
from framework.data_handler.fields import String


class PostCreationData(Data):
    title = String("title", required=True, processors=[v.NotNull(), v.Length(max=100)])
    body = String("body", processors=[v.Length(max=5000)])
