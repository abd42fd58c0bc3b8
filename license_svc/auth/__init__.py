"""API clients and bearer keys hashed at rest.  The FastAPI dependencies that check them on a
request (`current_client`, `require_role`) are HTTP, so they live in `license_svc.web.auth`."""

from license_svc.auth.clients import (ROLES, Client, ClientError, authenticate, hash_key,
                                      new_api_key, seed_clients, upsert_client)

__all__ = ["ROLES", "Client", "ClientError", "authenticate", "hash_key", "new_api_key",
           "seed_clients", "upsert_client"]
