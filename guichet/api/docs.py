"""The API's documentation page, drawn from its OpenAPI document in the site's own design
(Swagger UI fails the accessibility checks every page passes: nested controls, contrast)."""

from dataclasses import dataclass

from django.shortcuts import render
from django.views.decorators.http import require_GET

from guichet.api.main import api

METHODS = ("get", "post", "put", "patch", "delete")


@dataclass(frozen=True)
class Field:
    name: str
    kind: str
    required: bool
    description: str


@dataclass(frozen=True)
class Operation:
    anchor: str
    method: str
    path: str
    summary: str
    description: str
    parameters: list[Field]
    body: list[Field]
    body_type: str
    answer: list[Field]
    answer_status: str
    needs_write: bool


def _resolve(schema: dict, document: dict) -> dict:
    reference = schema.get("$ref", "")
    if reference.startswith("#/components/schemas/"):
        return document["components"]["schemas"][reference.rsplit("/", 1)[1]]
    return schema


def _kind(schema: dict, document: dict) -> str:
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[1]
    if "anyOf" in schema:
        return " | ".join(_kind(option, document) for option in schema["anyOf"])
    if schema.get("type") == "array":
        return f"[{_kind(schema.get('items', {}), document)}]"
    return schema.get("format") or schema.get("type") or "object"


def _fields(schema: dict, document: dict) -> list[Field]:
    resolved = _resolve(schema, document)
    required = set(resolved.get("required", ()))
    return [Field(name, _kind(field, document), name in required, field.get("description", ""))
            for name, field in resolved.get("properties", {}).items()]


def _body(operation: dict, document: dict) -> tuple[list[Field], str]:
    for content_type, content in operation.get("requestBody", {}).get("content", {}).items():
        return _fields(content.get("schema", {}), document), content_type
    return [], ""


def _answer(operation: dict, document: dict) -> tuple[list[Field], str]:
    for status, response in operation.get("responses", {}).items():
        if status.startswith("2"):
            schema = response.get("content", {}).get("application/json", {}).get("schema")
            return (_fields(schema, document) if schema else []), status
    return [], ""


def operations(document: dict) -> dict[str, list[Operation]]:
    """The operations of the OpenAPI document by tag, in the document's order."""
    grouped: dict[str, list[Operation]] = {}
    for path, methods in document["paths"].items():
        for method in METHODS:
            if method not in methods:
                continue
            operation = methods[method]
            body, body_type = _body(operation, document)
            answer, status = _answer(operation, document)
            grouped.setdefault(operation.get("tags", ["api"])[0], []).append(Operation(
                anchor=operation["operationId"], method=method.upper(), path=path,
                summary=operation.get("summary", ""),
                description=operation.get("description", ""),
                parameters=[Field(item["name"], f"{item['in']} · {_kind(item['schema'], document)}",
                                  item.get("required", False), item.get("description", ""))
                            for item in operation.get("parameters", [])],
                body=body, body_type=body_type, answer=answer, answer_status=status,
                needs_write=method != "get"))
    return grouped


@require_GET
def documentation(request):
    document = api.get_openapi_schema()
    return render(request, "api/docs.html", {
        "groups": operations(document), "title": document["info"]["title"],
        "version": document["info"]["version"],
        "description": document["info"].get("description", "")})
