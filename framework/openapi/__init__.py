"""OpenAPI 3 document and offline documentation page, built from the project's routes."""

from .integration import EXTENSION_KEY as EXTENSION_KEY
from .integration import init_openapi as init_openapi
from .settings import OpenAPISettings as OpenAPISettings
from .settings import read_settings as read_settings
from .views import OpenAPIState as OpenAPIState
