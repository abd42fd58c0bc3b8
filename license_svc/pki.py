"""The region's public trust material (certificates and CRLs) as data, for `GET /api/v1/pki`.

Certificates and CRLs are public: relying parties and peer nodes fetch them to build paths.
Nothing here touches a private key.
"""

from __future__ import annotations

from typing import Any

from signing.x509.summary import certificate_summary, dump_pem

_PUBLIC_ITEM_FIELDS = ("id", "role", "algorithm", "org_name", "org_code", "serial", "not_before",
                       "not_after", "sha256", "issuer", "status")


def trust_material(ctx) -> dict[str, Any]:
    """This region's certificates (every role, incl. demo revoked/expired ones, marked by status),
    their CRLs, and the federation root."""
    store = ctx.keystore

    def certificates(region: str) -> list[dict[str, Any]]:
        out = []
        for item in store.items(region=region):
            cert = store.certificate(item["id"])
            entry = {k: item.get(k) for k in _PUBLIC_ITEM_FIELDS}
            entry["status"] = entry["status"] or "valid"
            entry["subject"] = certificate_summary(cert)["subject"]
            entry["pem"] = dump_pem(cert).decode("ascii")
            out.append(entry)
        return out

    return {
        "region": ctx.region,
        "development_only": store.development_only,
        "certificates": certificates(ctx.region),
        "crls": [{"issuer": c.issuer.human_friendly, "pem": dump_pem(c).decode("ascii")}
                 for c in store.crls(ctx.region)],
        "federation": certificates("federation"),
    }
