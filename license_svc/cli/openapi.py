"""`license-svc openapi [--out FILE]`: the HTTP API's OpenAPI document, as served at
/openapi.json, for approval-system developers to generate clients from.  The copy in
docs/openapi.json is made by this command and kept current by a test
(tests/web/test_openapi_contract.py)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from license_svc.cli import app


def openapi_document() -> dict:
    """The document of a Shanghai node (the region only changes the title)."""
    from license_svc.config import Settings
    from license_svc.web import create_app

    return create_app(Settings(region="sh")).openapi()


def render(document: dict) -> str:
    return json.dumps(document, ensure_ascii=False, indent=1, sort_keys=True) + "\n"


@app.command("openapi")
def openapi(out: Path = typer.Option(None, "--out", help="write here instead of standard output")):
    """导出 OpenAPI 接口文档 / write the HTTP API's OpenAPI document."""
    text = render(openapi_document())
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"已写出 {out} / wrote {out}")
