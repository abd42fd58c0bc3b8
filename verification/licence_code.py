"""The EL1 a licence file carries (a PDF's `/LicenseSvc /Code`, an OFD's `license-svc.code`
CustomData): what another region's verifier, without the licence's record, can tell people the
licence is about — masked holder, number, validity (docs/formats.md "/LicenseSvc").

The file's signer is not who vouches for those claims: they count only when the EL1 verifies
under the issuer's own signature, with the same QR trust as a scanned code, and names this very
licence (identifier, version, issuer).  Anything less is a note, never a failure: the file's own
signatures are the verdict.
"""

from __future__ import annotations

from datetime import datetime

from formats.identifier import IdentifierError, parse_identifier
from verification.checks import QrCheck
from verification.qr import QrTrust, verify_qr_text
from verification.report import TOTAL_FAILED, Report

# What must hold for an EL1's claims to be the issuer's word.  Not `el1.licence_validity`: the
# printed code's own expiry, or a licence not yet in force, does not change whom it is about.
_CODE_HOLDS = (QrCheck.EL1_FORMAT, QrCheck.EL1_SIGNER_KNOWN, QrCheck.EL1_SIGNATURE,
               QrCheck.EL1_ISSUER_BINDING, QrCheck.EL1_SIGNER_VALIDITY)


def check_code(report: Report, licence: dict, qr_trust: QrTrust | None, at: datetime) -> None:
    """Call before the licence's status is checked (a revoked licence is still about someone).
    Replaces the raw `code` text in `licence` by `code_claims` — the EL1's claims and issuer
    code — when they are the issuer's word about this licence; otherwise a note says why not."""
    code = licence.pop("code", None)
    if code is None or report.indication == TOTAL_FAILED:
        return  # a failed file lends no facts, not even a genuine code copied into it
    if qr_trust is None:
        report.notes.append("未核对文件中的证照码 / the licence code in the file was not checked "
                            "(no QR trust)")
        return
    qr = verify_qr_text(code, qr_trust, at)
    failed = [n for n in _CODE_HOLDS if (c := qr.check(n)) is None or not c.passed]
    claims = {k: v for k, v in qr.licence.items() if not k.startswith("qr_")}  # not the code's times
    if failed:
        report.notes.append(f"文件中的证照码未通过验证（{', '.join(failed)}），未采用其内容 / the "
                            "licence code in the file does not verify; its claims are not used")
    elif not _names_this_licence(claims, licence):
        report.notes.append("文件中的证照码属于另一证照，未采用其内容 / the licence code in the file "
                            "names another licence; its claims are not used")
    else:
        licence["code_claims"] = claims


def _names_this_licence(claims: dict, licence: dict) -> bool:
    ident = licence.get("identifier")
    if not ident or claims.get("id") != ident:
        return False
    if licence.get("version") is not None and claims.get("v") != licence["version"]:
        return False
    try:
        return claims.get("issuer_code") == parse_identifier(ident).issuer_code
    except IdentifierError:
        return False
