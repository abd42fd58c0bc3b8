"""TEST-ONLY PKI for the cache tests: every certificate names a CRL distribution point, so CRLs
are mandatory (hard-fail), and CRLs are made to revoke or go stale at chosen times.

    T          the reference time
    root       T-1y .. T+10y
    ca         T-1y .. T+20d   (expires before the leaf: an intermediate's expiry must show)
    signer     T-1d .. T+60d   under ca
    tsa, seal maker            under root
    root_crl   T-1d .. T+40d   (covers ca, tsa, seal maker)
    ca_crl     T-1d .. T+7d    (empty; stale after T+7d)
    ca_crl_long  T-1d .. T+40d (empty)
    ca_crl_revoking  issued T+2d .. T+9d, revokes the signer as of T+2d
    root_crl_revoking_tsa  issued T-1d .. T+40d, revokes the TSA as of T-2d
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from asn1crypto import x509

from formats import algorithms as alg
from signing.x509 import build_certificate, build_crl, build_name
from tests.support.material import Credential

T = datetime(2025, 9, 1, 8, 0, tzinfo=timezone.utc)
DAY = timedelta(days=1)


@dataclass
class CachePki:
    root: x509.Certificate
    other_root: x509.Certificate
    ca: x509.Certificate
    signer: Credential
    tsa: Credential
    seal_maker: Credential
    root_crl: object
    ca_crl: object
    ca_crl_long: object
    ca_crl_revoking: object
    root_crl_revoking_tsa: object


@functools.lru_cache(maxsize=None)
def cache_pki(algorithm: str = "sm2") -> CachePki:
    gen = functools.partial(alg.generate_private_key, algorithm)
    root_key, ca_key, other_key = gen(), gen(), gen()
    crl_url = ["http://crl.test.invalid/" + algorithm]

    def cert(cn, key, issuer_key, issuer_cert, start, end, **kw):
        return build_certificate(subject=build_name(f"缓存测试 {cn} {algorithm}"),
                                 subject_public_key=key.public_key, issuer_key=issuer_key,
                                 issuer_cert=issuer_cert, not_before=start, not_after=end, **kw)

    root = cert("root", root_key, root_key, None, T - 365 * DAY, T + 3650 * DAY, ca=True)
    other = cert("other root", other_key, other_key, None, T - 365 * DAY, T + 3650 * DAY, ca=True)
    ca = cert("issuing CA", ca_key, root_key, root, T - 365 * DAY, T + 20 * DAY, ca=True,
              crl_urls=crl_url)

    def leaf(cn, issuer_key, issuer, chain, start, end, **kw):
        k = gen()
        return Credential(k, cert(cn, k, issuer_key, issuer, start, end, crl_urls=crl_url, **kw),
                          chain, algorithm)

    signer = leaf("licence signer", ca_key, ca, [ca, root], T - DAY, T + 60 * DAY,
                  key_usage={"digital_signature", "non_repudiation"})
    tsa = leaf("TSA", root_key, root, [root], T - 365 * DAY, T + 3650 * DAY,
               key_usage={"digital_signature"}, extended_key_usage={"time_stamping"},
               eku_critical=True)
    maker = leaf("seal maker", root_key, root, [root], T - 365 * DAY, T + 3650 * DAY,
                 key_usage={"digital_signature"})
    return CachePki(
        root=root, other_root=other, ca=ca, signer=signer, tsa=tsa, seal_maker=maker,
        root_crl=build_crl(root, root_key, this_update=T - DAY, next_update=T + 40 * DAY),
        ca_crl=build_crl(ca, ca_key, this_update=T - DAY, next_update=T + 7 * DAY),
        ca_crl_long=build_crl(ca, ca_key, this_update=T - DAY, next_update=T + 40 * DAY),
        ca_crl_revoking=build_crl(ca, ca_key, [(signer.cert.serial_number, T + 2 * DAY,
                                                "key_compromise")],
                                  this_update=T + 2 * DAY, next_update=T + 9 * DAY, crl_number=2),
        root_crl_revoking_tsa=build_crl(root, root_key, [(tsa.cert.serial_number, T - 2 * DAY,
                                                          "key_compromise")],
                                        this_update=T - DAY, next_update=T + 40 * DAY,
                                        crl_number=2),
    )
