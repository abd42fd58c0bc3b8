"""API clients and their bearer keys: create, seed from a file, authenticate.

Keys are 32 random bytes (or whatever high-entropy string a dev file holds), so a single
SHA-256 is enough to make a stolen table useless; no salt is needed because no two keys
collide and none is guessable.  A domain prefix keeps the hash from being reused elsewhere.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from license_svc.auth.models import ApiClient

ROLES = ("issuer", "relying", "citizen", "auditor", "admin")
_HASH_PREFIX = "sha256:"


class ClientError(Exception):
    def __init__(self, message_en: str, message_zh: str):
        super().__init__(f"{message_zh} / {message_en}")
        self.message_en, self.message_zh = message_en, message_zh


@dataclass(frozen=True)
class Client:
    """The authenticated caller, handed to domain functions as the actor."""

    client_id: str
    name: str
    org_code: str
    region: str
    roles: frozenset[str]
    licence_types: tuple[str, ...] = ()
    holder_code: str | None = None

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    def __repr__(self) -> str:  # never print the holder code (an ID number) in logs or tracebacks
        return f"Client({self.client_id!r}, roles={sorted(self.roles)}, region={self.region!r})"


def hash_key(api_key: str) -> str:
    digest = hashlib.sha256(b"license-svc/api-key/v1\0" + api_key.encode("utf-8")).hexdigest()
    return _HASH_PREFIX + digest


def new_api_key() -> str:
    return "lsk_" + secrets.token_urlsafe(32)


def _principal(row: ApiClient) -> Client:
    return Client(client_id=row.client_id, name=row.name, org_code=row.org_code, region=row.region,
                  roles=frozenset(row.roles), licence_types=tuple(row.licence_types or ()),
                  holder_code=row.holder_code)


def _check_roles(roles) -> list[str]:
    roles = list(roles)
    unknown = sorted(set(roles) - set(ROLES))
    if not roles or unknown:
        raise ClientError(f"roles must be a non-empty subset of {ROLES}, got {roles}",
                          f"角色必须是 {ROLES} 的非空子集，实际为 {roles}")
    return roles


def upsert_client(session: Session, *, client_id: str, name: str, region: str, org_code: str,
                  roles, api_key: str | None = None, licence_types=(), holder_code: str | None = None
                  ) -> tuple[Client, str]:
    """Create or update a client.  Returns the principal and its key (new if none was given):
    the only moment the plain key exists on our side."""
    roles = _check_roles(roles)
    api_key = api_key or new_api_key()
    if len(api_key) < 16:
        raise ClientError("API key too short (need at least 16 characters)", "API 密钥过短（至少 16 个字符）")
    row = session.get(ApiClient, client_id)
    if row is None:
        row = ApiClient(client_id=client_id)
        session.add(row)
    row.name, row.region, row.org_code = name, region, org_code
    row.roles, row.licence_types, row.holder_code = roles, list(licence_types or ()), holder_code
    row.key_hash, row.disabled = hash_key(api_key), False
    session.flush()
    return _principal(row), api_key


def seed_clients(session: Session, path: Path, region: str | None = None) -> list[Client]:
    """Load dev clients from a JSON list (keys_dev/clients.json); idempotent.  With `region`,
    only that region's: a node registers its own region's callers — another region's relying
    department or citizen is that region's node's business, and a key that worked everywhere
    would hide exactly the cross-region paths the federation is about."""
    try:
        entries = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ClientError(f"cannot read clients file {path}: {exc}", f"无法读取客户端文件 {path}") from exc
    if not isinstance(entries, list):
        raise ClientError(f"{path}: expected a JSON list", f"{path}：应为 JSON 数组")
    seeded = []
    for entry in entries:
        if region is not None and (not isinstance(entry, dict) or entry.get("region") != region):
            continue
        try:
            client, _ = upsert_client(
                session, client_id=entry["client_id"], name=entry.get("name", entry["client_id"]),
                region=entry["region"], org_code=entry.get("org_code") or "", roles=entry["roles"],
                api_key=entry["api_key"], licence_types=entry.get("licence_types") or (),
                holder_code=entry.get("holder_code"))
        except (KeyError, TypeError) as exc:
            raise ClientError(f"{path}: bad client entry (missing {exc})", f"{path}：客户端条目不完整") from exc
        seeded.append(client)
    return seeded


def authenticate(session: Session, api_key: str, *,
                 refused_hashes: frozenset[str] = frozenset()) -> Client | None:
    """The client holding `api_key`, or None.  Looked up by hash, then compared in constant time.
    `refused_hashes`: keys never accepted whatever the table says (in production, the public
    development keys: `license_svc.dev_material`)."""
    if not api_key:
        return None
    wanted = hash_key(api_key)
    if wanted in refused_hashes:
        return None
    row = session.scalars(select(ApiClient).where(ApiClient.key_hash == wanted)).first()
    if row is None or row.disabled or not hmac.compare_digest(row.key_hash, wanted):
        return None
    return _principal(row)


def list_clients(session: Session) -> list[tuple[Client, bool]]:
    """Every client with its disabled flag, by id."""
    rows = session.scalars(select(ApiClient).order_by(ApiClient.client_id))
    return [(_principal(row), row.disabled) for row in rows]


def disable_client(session: Session, client_id: str) -> None:
    """Revoke a client's key (the row stays: audit entries refer to it)."""
    row = session.get(ApiClient, client_id)
    if row is None:
        raise ClientError(f"no client {client_id!r}", f"没有客户端 {client_id!r}")
    row.disabled = True
