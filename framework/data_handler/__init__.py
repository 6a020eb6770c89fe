"""Data handlers: ``Data`` classes of fields with validators and filters (Backendpy's
``backendpy.data_handler``), each a marshmallow ``Schema``."""

from .data import Data as Data
from .fields import Field as Field
