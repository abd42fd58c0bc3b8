"""`license-svc verify --trust-root CERT`: trust a CA for one verification (issue 15).

Why: a clerk is handed documents this federation did not make (a national platform's, another
province's CA, a foreign PDF).  Their signers are in no synced trust list, so on trust lists
alone they can never be more than INDETERMINATE.  The clerk who knows the CA (from its
published certificate) may trust it for that one verification: it becomes a root for the
signer, the timestamp authority and the seal maker, on top of what the trust lists give.

The trust-list checks (`trust.*`, `binding.*`) and the licence status speak about federation
members and their licences only, so they are not run in such a verification (the CLI passes no
status source); the report notes each root trusted this way (subject and SHA-256
fingerprint), and the certificate-path check names the anchor the path ended at.  For a
federation licence, verify without --trust-root.
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

from formats.certs import load_certificates
from license_svc.verify_service import VerifierTrust
from verification.seal import SealTrust


def load_trust_roots(paths) -> list:
    """Every certificate of the files given (PEM bundles or DER).  Raises OSError or
    formats.certs.CertificateFormatError."""
    return [cert for path in paths for cert in load_certificates(Path(path).read_bytes())]


def with_trust_roots(trust: VerifierTrust, roots: list) -> VerifierTrust:
    """`trust` with `roots` added as signer, TSA and seal-maker roots, without the trust-list
    checks."""
    seal = trust.seal
    extended = SealTrust(seal_maker_roots=[*seal.seal_maker_roots, *roots],
                         signer_roots=[*seal.signer_roots, *roots],
                         tsa_roots=[*(seal.tsa_roots or seal.signer_roots), *roots],
                         intermediates=seal.intermediates, crls=seal.crls,
                         seal_status=seal.seal_status)
    return dataclasses.replace(trust, seal=extended, listing=None)


def notes(roots: list) -> list[str]:
    return [f"本次验证临时信任 / trusted for this verification only (--trust-root): "
            f"{cert.subject.human_friendly} (SHA-256 {hashlib.sha256(cert.dump()).hexdigest()[:16]}…)"
            for cert in roots] + ["信任列表与证照状态检查未执行（--trust-root）/ trust-list and "
                                  "licence status checks not run (--trust-root)"] if roots else []
