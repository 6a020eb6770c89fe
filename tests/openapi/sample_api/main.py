"""Routes whose data handlers use each field type and each validator the document maps."""

from __future__ import annotations

from framework.app import App
from framework.data_handler import validators as v
from framework.data_handler.data import Data
from framework.data_handler.fields import (
    TYPE_CONTENT,
    TYPE_FILE,
    TYPE_FORM_FIELD,
    TYPE_HEADER,
    TYPE_PARAM,
    TYPE_URL_VAR,
    Integer,
    List,
    String,
)
from framework.error import Error, ErrorCode, ErrorList
from framework.response import JSON, Redirect, Status, Success, Text
from framework.router import Route, Routes

LOCKED = 1200
errors = ErrorList(ErrorCode(LOCKED, "Item {} is locked", Status.CONFLICT))
routes = Routes()


class ItemQuery(Data):
    id = Integer(field_type=TYPE_URL_VAR, required=True, processors=[v.Limit(min=1, max=1000)])
    colour = String(field_type=TYPE_PARAM, processors=[v.In(["red", "green", "blue"])])
    limit = Integer(field_type=TYPE_PARAM, default=10, processors=[v.Limit(min=1, max=50)])
    trace = String("X-Trace-Id", field_type=TYPE_HEADER, processors=[v.UUID()])


class ItemCreate(Data):
    name = String(required=True, processors=[v.NotNull(), v.Length(min=2, max=40)])
    code = String(processors=[v.MatchRegex(r"[A-Z]{3}-[0-9]{2}$")])
    email = String(processors=[v.EmailAddress()])
    ref = String(processors=[v.UUID()])
    size = Integer(default=1, processors=[v.Limit(min=1, max=10)])
    labels = List(processors=[v.Length(max=3), [v.Length(min=1, max=10)]])


class Upload(Data):
    title = String(field_type=TYPE_FORM_FIELD, required=True, processors=[v.Length(max=20)])
    attachment = String(field_type=TYPE_FILE, required=True)


class Contact(Data):
    name = String(field_type=TYPE_FORM_FIELD, required=True, processors=[v.NotNull()])
    email = String(field_type=TYPE_FORM_FIELD, processors=[v.EmailAddress()])


class RawBody(Data):
    content = String(field_type=TYPE_CONTENT, required=True)


@routes.get("/items/<id:int>", data_handler=ItemQuery)
def item_detail(request):
    """Show one item.

    Item 13 is locked and answers 409.
    """
    data = request.get_cleaned_data()
    if data["id"] == 13:
        raise Error(LOCKED, data["id"])
    return Success(data)


@routes.post("/items", data_handler=ItemCreate)
async def create_item(request):
    """Create an item from a JSON body."""
    data = await request.get_cleaned_data()
    return Success(data, status=Status.CREATED)


@routes.post("/uploads", data_handler=Upload)
def upload(request):
    """Upload one file with a title (multipart)."""
    data = request.get_cleaned_data()
    return Success({"title": data["title"], "size": len(data["attachment"] or b"")})


@routes.post("/contact", data_handler=Contact)
def contact(request):
    """Send a form."""
    data = request.get_cleaned_data()
    return Text(f"Thanks, {data['name']}")


@routes.put("/raw", data_handler=RawBody)
def raw(request):
    """Store a raw body."""
    data = request.get_cleaned_data()
    return JSON({"received": len(data["content"])})


@routes.get("/old-items")
def old_items(request):
    """Moved to /items/1."""
    return Redirect("/items/1", permanent=True)


@routes.get("/internal", openapi=False)
def internal(request):
    """Not for the public document."""
    return Text("internal")


def listed_hidden(request):
    return Text("hidden")


routes.append(Route("/listed-hidden", ["GET"], listed_hidden, openapi=False))

app = App(routes=[routes], errors=[errors])
