"""Licences: the signed record, issuance, lifecycle and status (DESIGN §4, §7, §8).

Plain functions over a SQLAlchemy session; the HTTP routes and the CLI are thin adapters.
"""
