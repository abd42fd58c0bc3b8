"""API clients, bearer keys hashed at rest, and role checks for routes."""

from license_svc.auth.clients import (ROLES, Client, ClientError, authenticate, hash_key,
                                      new_api_key, seed_clients, upsert_client)

__all__ = ["ROLES", "Client", "ClientError", "authenticate", "hash_key", "new_api_key",
           "seed_clients", "upsert_client"]
from license_svc.auth.dependencies import current_client, get_ctx, require_role  # noqa: E402

__all__ += ["current_client", "get_ctx", "require_role"]
