"""docs/openapi.json is the document the service serves: regenerate it with
`license-svc openapi --out docs/openapi.json` when the API changes, and this test says so."""

from __future__ import annotations

import re
from pathlib import Path

import jsonschema
import pytest

from license_svc.cli.openapi import openapi_document, render

DOC = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


def test_docs_openapi_json_is_current():
    assert DOC.read_text("utf-8") == render(openapi_document()), (
        "docs/openapi.json is stale: run `license-svc openapi --out docs/openapi.json`")


def test_the_served_document_is_the_exported_one(client):
    served = client.get("/openapi.json").json()
    exported = openapi_document()
    assert served["paths"].keys() == exported["paths"].keys()


def _operations(document: dict):
    for path, item in document["paths"].items():
        for method, op in item.items():
            yield f"{method.upper()} {path}", op


def _has_schema(content: dict) -> bool:
    return bool(content) and all(entry.get("schema") for entry in content.values())


@pytest.fixture(scope="module")
def document() -> dict:
    return openapi_document()


def test_every_operation_declares_its_success_body(document):
    """A client generator gets a type for every answer: each operation has a 2xx response whose
    every media type carries a schema (raw files: a binary string)."""
    missing = [name for name, op in _operations(document)
               if not any(code.startswith("2") and _has_schema(r.get("content", {}))
                          for code, r in op["responses"].items())]
    assert not missing, (f"{missing}: declare the answer, e.g. responses=ok(Model) with the model in "
                         "license_svc/web/schemas/ (docs/api.md \"For route authors\")")


def test_every_body_has_a_schema_and_errors_are_problems(document):
    schemas = document["components"]["schemas"]
    for name, op in _operations(document):
        if "requestBody" in op:
            assert _has_schema(op["requestBody"]["content"]), name
        for code in ("4XX", "5XX", *(c for c in op["responses"] if c[0] in "45")):
            problem = op["responses"][code]["content"]["application/problem+json"]["schema"]
            assert problem == {"$ref": "#/components/schemas/Problem"}, (name, code)
        assert "422" not in op["responses"] or "application/json" not in op["responses"]["422"].get(
            "content", {}), f"{name}: FastAPI's validation shape, which this service never sends"
    assert "HTTPValidationError" not in schemas
    # The raw-body routes that read JSON document it too.
    for path in ("/api/v1/licences", "/api/v1/licences/batch", "/api/v1/verify",
                 "/api/v1/seals/{es_id}/sign", "/api/v1/federation/retrievals"):
        assert "application/json" in document["paths"][path]["post"]["requestBody"]["content"]


def test_every_reference_resolves(document):
    """A `$ref` to a component nobody added would leave that answer unchecked by schemathesis."""
    names = set(re.findall(r'"#/components/schemas/([^"]+)"', render(document)))
    assert names and names <= set(document["components"]["schemas"]), names - set(
        document["components"]["schemas"])


def test_issue_request_follows_the_templates(document):
    """One variant per licence type, its `fields` the template's schema.json, its example the
    template's example.json — so the document changes when a template does."""
    from license_svc import templates

    schemas = document["components"]["schemas"]
    known = templates.load_templates()
    assert set(schemas["IssueRequest"]["discriminator"]["mapping"]) == set(known)
    for folder, template in known.items():
        fields = schemas[f"LicenceFields_{folder}"]
        assert fields["properties"] == template.schema["properties"]
        assert fields.get("required") == template.schema.get("required")
        example = schemas[f"IssueRequest_{folder}"]["examples"][0]
        assert example["type"] == folder and example["holders"] == template.example["holders"]
        # The example passes the template's own validation, as a real request would.
        jsonschema.validate(example["fields"], template.schema)
    shown = document["paths"]["/api/v1/licences"]["post"]["requestBody"]["content"][
        "application/json"]["examples"]
    assert set(shown) == set(known)


def test_the_problem_answers_match_the_documented_shape(client, document):
    """What an error looks like on the wire is what the document says (schemathesis checks the
    rest against a live node: .ci/api-contract)."""
    problem = document["components"]["schemas"]["Problem"]
    answer = client.get("/api/v1/licences/1.2.3")
    assert answer.status_code == 401
    assert answer.headers["content-type"].startswith("application/problem+json")
    jsonschema.validate(answer.json(), problem)
