"""Start-up sequence shared by `serve` (and any command that needs a ready database):
refuse development keys in production (by path, then every certificate by fingerprint and every
client holding a development API key: `dev_material`), migrate, take the federation list file of a one-region
key store, and in development seed this region's clients and demo data."""

from __future__ import annotations

import logging
from pathlib import Path

from formats import libraries
from license_svc.auth.clients import seed_clients
from license_svc.config import Settings
from license_svc.context import AppContext
from license_svc.db import upgrade
from license_svc.dev_material import disable_dev_clients, refuse_dev_certificates

log = logging.getLogger(__name__)


def bootstrap(settings: Settings, *, seed: bool = True, **ctx_kwargs) -> AppContext:
    libraries.install()  # before the context imports pyHanko (formats/libraries.py)
    settings.check_keys_allowed()
    if settings.production:
        refuse_dev_certificates(Path(settings.keys_dir))  # before anything is written
    Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
    upgrade(settings)
    ctx = AppContext.create(settings, **ctx_kwargs)
    from license_svc.federation.sync import load_federation_file

    load_federation_file(ctx)  # a node that cannot sign the federation list serves this one
    if settings.production:
        with ctx.unit_of_work() as session:
            disable_dev_clients(session)
    if seed and not settings.production:
        clients_file = Path(settings.keys_dir) / "clients.json"
        if clients_file.exists():
            with ctx.unit_of_work() as session:
                clients = seed_clients(session, clients_file, settings.region)
            log.info("dev API clients seeded", extra={"count": len(clients), "file": str(clients_file),
                                                       "region": settings.region})
        else:
            log.warning("no dev API clients: %s missing (run `license-svc dev-pki generate`)",
                        clients_file)
        from license_svc.demo_seed import seed_demo

        seed_demo(ctx)
    return ctx
