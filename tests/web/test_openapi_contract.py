"""docs/openapi.json is the document the service serves: regenerate it with
`license-svc openapi --out docs/openapi.json` when the API changes, and this test says so."""

from __future__ import annotations

from pathlib import Path

from license_svc.cli.openapi import openapi_document, render

DOC = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


def test_docs_openapi_json_is_current():
    assert DOC.read_text("utf-8") == render(openapi_document()), (
        "docs/openapi.json is stale: run `license-svc openapi --out docs/openapi.json`")


def test_the_served_document_is_the_exported_one(client):
    served = client.get("/openapi.json").json()
    exported = openapi_document()
    assert served["paths"].keys() == exported["paths"].keys()
