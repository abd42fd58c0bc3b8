"""What production must never accept from the development PKI, recognised by content, not path.

Why by content: the old check compared the key directory's path with keys_dev/, so a copy of
keys_dev (or a per-region `dev-pki export` of it) passed, and API clients seeded from
keys_dev/clients.json in development kept working after the switch to production (issue 14
item 7).  The development keys are committed to a public repository: anything made from them
is forgeable by anyone.

`dev_material.json` (next to this module, so it ships with the package even where keys_dev/
does not) lists the SHA-256 fingerprints of every certificate under keys_dev/ and the stored
hashes (`auth.clients.hash_key`) of every API key in keys_dev/clients.json; when keys_dev/ is
present its current content is added, so a regenerated dev PKI is refused too.  A test keeps
the file equal to keys_dev/; regenerate it with `python -m license_svc.dev_material`.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from pathlib import Path

from asn1crypto import pem, x509
from sqlalchemy import select
from sqlalchemy.orm import Session

from license_svc.auth.clients import hash_key
from license_svc.auth.models import ApiClient
from license_svc.config import DEV_KEYS_DIR, ConfigError

log = logging.getLogger(__name__)
MATERIAL_FILE = Path(__file__).with_name("dev_material.json")


def certificate_fingerprint(der: bytes) -> str:
    return hashlib.sha256(der).hexdigest()


def _certificates_in(data: bytes) -> list[bytes]:
    if not pem.detect(data):
        return []
    try:
        return [der for kind, _, der in pem.unarmor(data, multiple=True) if kind == "CERTIFICATE"]
    except ValueError:
        return []


def scan(keys_dir: Path) -> dict[str, list[str]]:
    """The fingerprints of every certificate in any file under `keys_dir`, and the key hashes
    of its clients.json (the manifest is not trusted to list them all)."""
    fingerprints = set()
    for path in sorted(p for p in Path(keys_dir).rglob("*") if p.is_file()):
        fingerprints.update(certificate_fingerprint(d) for d in _certificates_in(path.read_bytes()))
    clients = Path(keys_dir) / "clients.json"
    hashes = set()
    if clients.is_file():
        hashes = {hash_key(c["api_key"]) for c in json.loads(clients.read_text(encoding="utf-8"))
                  if isinstance(c, dict) and isinstance(c.get("api_key"), str)}
    return {"certificate_sha256": sorted(fingerprints), "api_key_hashes": sorted(hashes)}


@functools.lru_cache(maxsize=1)
def known() -> tuple[frozenset[str], frozenset[str]]:
    """(certificate fingerprints, API key hashes) of the development material."""
    listed = json.loads(MATERIAL_FILE.read_text(encoding="utf-8"))
    certs, keys = set(listed["certificate_sha256"]), set(listed["api_key_hashes"])
    if DEV_KEYS_DIR.is_dir():
        current = scan(DEV_KEYS_DIR)
        certs.update(current["certificate_sha256"])
        keys.update(current["api_key_hashes"])
    return frozenset(certs), frozenset(keys)


def refuse_dev_certificates(keys_dir: Path) -> None:
    """Production start: no certificate in any file of the key directory (whatever the manifest
    says: it cannot point outside the directory) may be one of the dev PKI's."""
    certs, _ = known()
    found = sorted(str(path.relative_to(keys_dir)) for path in Path(keys_dir).rglob("*")
                   if path.is_file() and any(certificate_fingerprint(d) in certs
                                             for d in _certificates_in(path.read_bytes())))
    if found:
        raise ConfigError(
            f"refusing to start: LICENSE_SVC_ENV=production with certificates of the DEVELOPMENT "
            f"PKI (keys_dev/, wherever copied): {', '.join(found[:5])}",
            f"拒绝启动：生产环境的密钥库含有开发测试 PKI（keys_dev/ 及其副本）的证书：{', '.join(found[:5])}")


def is_dev_key_hash(key_hash: str) -> bool:
    return key_hash in known()[1]


def disable_dev_clients(session: Session) -> list[str]:
    """Production start: disable every client whose API key is one of keys_dev/clients.json's
    (seeded while the database served development); returns their ids."""
    _, keys = known()
    rows = list(session.scalars(select(ApiClient).where(ApiClient.key_hash.in_(keys),
                                                        ApiClient.disabled.is_(False))))
    for row in rows:
        row.disabled = True
    if rows:
        log.warning("production: disabled API clients holding development keys",
                    extra={"clients": [r.client_id for r in rows]})
    return [r.client_id for r in rows]


if __name__ == "__main__":
    MATERIAL_FILE.write_text(json.dumps(scan(DEV_KEYS_DIR), indent=1) + "\n", encoding="utf-8")
    print(f"wrote {MATERIAL_FILE}")
