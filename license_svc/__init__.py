"""license-svc: the service (config, CLI, HTTP API, database, issuance, audit, federation)."""

__version__ = "0.1.0"
