"""`license-svc keys generate|sign|verify`: files in, DER signatures out."""
from __future__ import annotations

import typer

from license_svc.cli import app

keys_app = typer.Typer(help="密钥与签名 / keys and raw signatures")
app.add_typer(keys_app, name="keys")
