"""Whether an organisation's licence-signing key may sign now (issue 12): not withdrawn by this
node's operator, present in the key store, its certificate within its validity.

Why check before signing rather than let verifiers find out: a licence signed with a withdrawn
key is refused by every region that has synced the trust list, so issuing one hands the holder
a paper that fails everywhere — and writes it into the register as if it were good.  Issuance,
amendment, lifecycle events (signed with the same key) and sealing a document all ask here
first and answer 503 with a problem type that names the cause; nothing is written.

No cache: the withdrawals are read in the caller's own transaction by primary key (one indexed
lookup next to a PDF signature), so `license-svc trust-list withdraw` — another process — takes
effect for the very next request, and lifting a withdrawal likewise.  The key store is the
context's; a node given a fresh key store (a new context) sees the key back at once.

Withdrawals are read from `license_svc.federation.models.Withdrawal` directly (the federation
package owns writing them); any withdrawal row for the certificate stops signing, whatever its
`since`: `since` tells verifiers from when to distrust signatures (possibly in the past, for a
key compromised earlier), while the operator's decision to withdraw is the moment to stop.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from formats.errors import Kind, SigningError
from license_svc.licences.errors import LicenceError

ROLE = "licence_signer"
ALGORITHMS = ("sm2", "rsa")


class SigningKeyUnavailable(LicenceError):
    """The organisation's key may not sign now.  Subclasses give the title and the message
    templates (filled with `org`, `alg` and the facts of the occurrence)."""

    kind = Kind.UNAVAILABLE
    message_templates = ("", "")

    def __init__(self, org_code: str, algorithm: str, **facts: str):
        en, zh = self.message_templates
        super().__init__(en.format(org=org_code, alg=algorithm, **facts)
                         + "; nothing was signed or written",
                         zh.format(org=org_code, alg=algorithm, **facts) + "，未签名、未写入任何数据")
        self.org_code, self.algorithm = org_code, algorithm


class SigningKeyWithdrawn(SigningKeyUnavailable):
    code = "signing-key-withdrawn"
    title_zh = "签名密钥已被撤销，暂停签发"
    title_en = "Signing key withdrawn; issuance stopped"
    message_templates = (
        "the {alg} licence-signing certificate of organisation {org} (SHA-256 {sha256}) is "
        "withdrawn on this node; install a new key (and publish the trust list) to issue with "
        "it again",
        "机构 {org} 的 {alg} 证照签名证书（SHA-256 {sha256}）已在本节点撤销，须更换新密钥（并发布信任列表）后方可继续签发")


class SigningKeyMissing(SigningKeyUnavailable):
    code = "signing-key-missing"
    title_zh = "签名密钥不可用，暂停签发"
    title_en = "Signing key missing; issuance stopped"
    message_templates = ("organisation {org} has no usable {alg} licence-signing key on this node ({why})",
                         "本节点没有机构 {org} 可用的 {alg} 证照签名密钥（{why_zh}）")


class SigningKeyExpired(SigningKeyUnavailable):
    code = "signing-key-expired"
    title_zh = "签名证书不在有效期内，暂停签发"
    title_en = "Signing certificate not valid now; issuance stopped"
    message_templates = (
        "the {alg} licence-signing certificate of organisation {org} is not valid now (valid "
        "until {not_after})",
        "机构 {org} 的 {alg} 证照签名证书不在有效期内（有效期至 {not_after}）")


def cert_sha256(cert) -> str:
    return hashlib.sha256(cert.dump()).hexdigest()


def _withdrawn(session: Session, digests: list[str]) -> set[str]:
    from license_svc.federation.models import Withdrawal

    if not digests:
        return set()
    return set(session.scalars(select(Withdrawal.cert_sha256)
                               .where(Withdrawal.cert_sha256.in_(digests))))


def usable_signer(ctx, session: Session, org_code: str, algorithm: str):
    """The organisation's licence-signing credential of `algorithm`, or SigningKeyUnavailable
    saying why it may not sign now."""
    try:
        cred = ctx.keystore.credential(ctx.region, ROLE, algorithm, org_code=org_code)
    except SigningError as exc:
        raise SigningKeyMissing(org_code, algorithm, why=exc.message_en,
                                why_zh=exc.message_zh) from None
    digest = cert_sha256(cred.cert)
    if _withdrawn(session, [digest]):
        raise SigningKeyWithdrawn(org_code, algorithm, sha256=digest)
    if not _valid_now(ctx, cred.cert):
        raise SigningKeyExpired(org_code, algorithm,
                                not_after=cred.cert.not_valid_after.isoformat())
    return cred


def _valid_now(ctx, cert) -> bool:
    return cert.not_valid_before <= ctx.now() <= cert.not_valid_after


@dataclass(frozen=True)
class IssuanceState:
    """For /readyz: which organisation/algorithm pairs of this region cannot sign now."""

    withdrawn: list[dict]
    missing: list[dict]

    @property
    def ok(self) -> bool:
        return not (self.withdrawn or self.missing)

    def as_dict(self) -> dict:
        return {"ok": self.ok, "withdrawn": self.withdrawn, "missing": self.missing}


def issuance_state(ctx, session: Session) -> IssuanceState:
    """Every issuing organisation of the region × algorithm: withdrawn (with the certificate's
    SHA-256) or missing (no key, or a certificate outside its validity: `reason`)."""
    withdrawn, missing, found = [], [], []
    for org in ctx.keystore.organisations(ctx.region):
        for algorithm in ALGORITHMS:
            try:
                cred = ctx.keystore.credential(ctx.region, ROLE, algorithm, org_code=org.code)
            except SigningError:
                missing.append({"org_code": org.code, "algorithm": algorithm, "reason": "no key"})
                continue
            if not _valid_now(ctx, cred.cert):
                missing.append({"org_code": org.code, "algorithm": algorithm,
                                "reason": "certificate not valid now"})
                continue
            found.append((org.code, algorithm, cert_sha256(cred.cert)))
    gone = _withdrawn(session, [d for _, _, d in found])
    withdrawn = [{"org_code": o, "algorithm": a, "cert_sha256": d} for o, a, d in found if d in gone]
    return IssuanceState(withdrawn, missing)
