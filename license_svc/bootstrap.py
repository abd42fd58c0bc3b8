"""Start-up sequence shared by `serve` (and any command that needs a ready database):
refuse development keys in production, migrate, take the federation list file of a one-region
key store, and in development seed this region's clients and demo data."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from formats import libraries
from license_svc.auth.clients import ClientError, upsert_client
from license_svc.config import Settings
from license_svc.context import AppContext
from license_svc.db import upgrade

log = logging.getLogger(__name__)


def bootstrap(settings: Settings, *, seed: bool = True, **ctx_kwargs) -> AppContext:
    libraries.install()  # before the context imports pyHanko (formats/libraries.py)
    settings.check_keys_allowed()
    Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
    upgrade(settings)
    ctx = AppContext.create(settings, **ctx_kwargs)
    from license_svc.federation.sync import load_federation_file

    load_federation_file(ctx)  # a node that cannot sign the federation list serves this one
    if seed and not settings.production:
        clients_file = Path(settings.keys_dir) / "clients.json"
        if clients_file.exists():
            with ctx.unit_of_work() as session:
                clients = seed_region_clients(session, clients_file, settings.region)
            log.info("dev API clients seeded", extra={"count": len(clients), "file": str(clients_file),
                                                       "region": settings.region})
        else:
            log.warning("no dev API clients: %s missing (run `license-svc dev-pki generate`)",
                        clients_file)
        from license_svc.demo_seed import seed_demo

        seed_demo(ctx)
    return ctx


def seed_region_clients(session, path: Path, region: str) -> list:
    """The dev clients of `path` (keys_dev/clients.json or an exported store's) that belong to
    `region`; idempotent.  Why only those: a node registers its own region's callers — another
    region's relying department or citizen is that region's node's business, and a key that
    works everywhere would hide exactly the cross-region paths the federation is about."""
    try:
        entries = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ClientError(f"cannot read clients file {path}: {exc}", f"无法读取客户端文件 {path}") from exc
    if not isinstance(entries, list):
        raise ClientError(f"{path}: expected a JSON list", f"{path}：应为 JSON 数组")
    seeded = []
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("region") != region:
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
