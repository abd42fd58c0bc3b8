"""Building blocks for declaring what a route takes and answers in the OpenAPI document.

Models named with `ref()` are added to `components.schemas` by `install(app)`: FastAPI collects
only the models it validates with, and most bodies here are declared, not validated (package
docstring).  Component providers (`add_components`) add schemas that are not pydantic models —
the licence types' field schemas come from their templates."""

from __future__ import annotations

import copy
from typing import Any, Callable

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from license_svc.web.schemas.common import Problem

REF = "#/components/schemas/{model}"
JSON = "application/json"
PROBLEM_MEDIA = "application/problem+json"
BINARY = {"type": "string", "format": "binary"}

_models: dict[str, type[BaseModel]] = {}
_providers: list[Callable[[], dict[str, dict]]] = []


def ref(model: type[BaseModel]) -> dict:
    """`{"$ref": …}` to `model`'s component, registering it for `install`."""
    _models[model.__name__] = model
    return {"$ref": REF.format(model=model.__name__)}


def array_of(model: type[BaseModel]) -> dict:
    return {"type": "array", "items": ref(model)}


def add_components(provider: Callable[[], dict[str, dict]]) -> None:
    """Register a function giving extra component schemas by name (called once per document)."""
    _providers.append(provider)


def component_schemas() -> dict[str, dict]:
    _, defs = models_json_schema([(m, "serialization") for m in _models.values()],
                                 ref_template=REF)
    out = dict(defs.get("$defs", {}))
    for provider in _providers:
        out.update(provider())
    return out


def install(app) -> None:
    """Add the registered components to the app's OpenAPI document (built once, then cached),
    and the errors (`_problems`)."""
    build = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            document = build()
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            for name, schema in component_schemas().items():
                schemas.setdefault(name, schema)
            _problems(document)
        return app.openapi_schema

    app.openapi = openapi


def _problem(description: str) -> dict:
    return {"description": description, "content": {PROBLEM_MEDIA: {"schema": PROBLEM}}}


PROBLEM = ref(Problem)
PROBLEMS = {"4XX": _problem("请求有误 / client error (problem+json; `type` says which)"),
            "5XX": _problem("服务端暂不可用 / server error or unavailable (problem+json)")}
_FASTAPI_422 = {"$ref": REF.format(model="HTTPValidationError")}


def _problems(document: dict) -> None:
    """Every operation, whichever module added it, answers errors as problem+json
    (web/problems.py): `4XX`/`5XX` on each, a problem body on any error a route describes only in
    words (`403: {"description": …}`), and FastAPI's own 422 shape — never sent here — removed."""
    for item in document.get("paths", {}).values():
        for op in item.values():
            responses = op.setdefault("responses", {})
            fastapi_422 = responses.get("422", {}).get("content", {}).get(JSON, {}).get("schema")
            if fastapi_422 == _FASTAPI_422:
                del responses["422"]
            for code, response in PROBLEMS.items():
                responses.setdefault(code, copy.deepcopy(response))
            for code, response in responses.items():
                if code[0] in "45" and not response.get("content"):
                    response["content"] = {PROBLEM_MEDIA: {"schema": PROBLEM}}
    schemas = document.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)


def ok(model: type[BaseModel] | dict, status: int = 200, *, description: str | None = None,
       example: Any = None, media: str = JSON) -> dict:
    """`responses=` entry: a JSON success answer of `model` (a model or a raw schema)."""
    content: dict[str, Any] = {"schema": ref(model) if isinstance(model, type) else model}
    if example is not None:
        content["example"] = example
    entry: dict[str, Any] = {"content": {media: content}}
    if description:
        entry["description"] = description
    return {status: entry}


def binary(*media: str, status: int = 200, description: str | None = None) -> dict:
    """`responses=` entry: the answer is the bytes of a file of one of these media types."""
    entry: dict[str, Any] = {"content": {m: {"schema": BINARY} for m in media}}
    if description:
        entry["description"] = description
    return {status: entry}


def body(content: dict[str, dict | type[BaseModel]], *, required: bool = True,
         description: str | None = None, examples: dict[str, Any] | None = None,
         named_examples: dict[str, dict[str, dict]] | None = None) -> dict:
    """`openapi_extra=` for a route that reads its body itself: media type → model or schema.
    `examples` (media type → example) or `named_examples` (media type → name → {"summary",
    "value"}) are shown by /docs and sent by schemathesis."""
    request: dict[str, Any] = {"required": required, "content": {}}
    for media, schema in content.items():
        entry = {"schema": ref(schema) if isinstance(schema, type) else schema}
        if examples and media in examples:
            entry["example"] = examples[media]
        if named_examples and media in named_examples:
            entry["examples"] = named_examples[media]
        request["content"][media] = entry
    if description:
        request["description"] = description
    return {"requestBody": request}
