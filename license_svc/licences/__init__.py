"""Licences: the signed record, issuance, lifecycle and status (docs/issuance.md, docs/formats.md, docs/federation.md).

Plain functions over a SQLAlchemy session; the HTTP routes and the CLI are thin adapters.
"""
