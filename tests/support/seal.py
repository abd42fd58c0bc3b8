"""Shared material for the seal tests: the committed development PKI and seals made from it.

Seal pictures are rendered small here (10 px/mm): the tests are about structure and signatures;
`tests/signing/test_seal_picture.py` covers the full-size pictures.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path

from signing.keystore import KeyStore
from signing.seal import SEAL_TYPE_SPECIAL, make_seal, new_seal_id, sign_document
from signing.seal.picture import render_round_seal
from verification.seal import SealTrust

ROOT = Path(__file__).resolve().parents[2]
OFDRW = Path("/work/shared/interop/ofdrw")
T0 = datetime(2026, 11, 22, 8, 0, tzinfo=timezone.utc)  # seal made, document signed
LATER = T0 + timedelta(days=30)                        # when the tests verify
DOCUMENT = "合同正文 / contract text".encode()


@lru_cache(maxsize=1)
def keystore() -> KeyStore:
    return KeyStore.load(ROOT / "keys_dev")


def org(region: str = "sh"):
    return keystore().organisations(region)[0]


def maker(region: str = "sh"):
    return keystore().credential(region, "seal_maker", "sm2")


def signer(region: str = "sh", algorithm: str = "sm2", index: int = 0):
    return keystore().credential(region, "licence_signer", algorithm,
                                 org_code=keystore().organisations(region)[index].code)


@lru_cache(maxsize=4)
def picture(px_per_mm: int = 10):
    return render_round_seal(org().name, "合同专用章", px_per_mm=px_per_mm)


def seal(*, signers=None, region: str = "sh", valid_days: int = 365, start=T0,
         cert_digests: bool = False, extensions=(), maker_cred=None) -> bytes:
    m = maker_cred or maker(region)
    return make_seal(maker_key=m.key, maker_cert=m.cert, es_id=new_seal_id(), name="合同专用章",
                     seal_type=SEAL_TYPE_SPECIAL, picture=picture(),
                     signer_certs=[c.cert for c in (signers or [signer(region)])],
                     valid_start=start, valid_end=start + timedelta(days=valid_days),
                     created=start, cert_digests=cert_digests, extensions=extensions)


def signature(seal_der: bytes | None = None, *, cred=None, data: bytes = DOCUMENT, time=T0,
              **kw) -> bytes:
    cred = cred or signer()
    return sign_document(seal_der=seal_der or seal(), signer_key=cred.key,
                         signer_cert=cred.cert, property_info="contract.pdf", time=time,
                         data=data, **kw)


def trust(region: str = "sh", seal_status=lambda s: "active") -> SealTrust:
    ks = keystore()
    return SealTrust(seal_maker_roots=ks.roots(region), signer_roots=ks.roots(region),
                     tsa_roots=ks.roots(region), intermediates=ks.intermediates(region),
                     crls=ks.crls(region), seal_status=seal_status)


def failed(report) -> dict[str, str | None]:
    """name -> failure sub-indication of every failed check."""
    return {c.name: c.failure for c in report.checks if not c.passed}
