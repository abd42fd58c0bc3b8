"""The GB/T 38540 seal bound to an SM2 licence signature (docs/pdf.md, docs/formats.md).

The SESeal travels as a signed attribute (`formats.oids.SESEAL_SIGNED_ATTRIBUTE`), so it is
covered by the signature.  Binding means: the signer's certificate is one the seal lists
(certList or its digest), the seal was valid when the document was signed, and the seal maker's
signature and certificate verify (the seal engineer's `verify_seal`).  An attacker who copies a
genuine seal — picture or whole SESeal — into a signature made with another key fails the
"listed signer" check even when his own chain looks fine.
"""

from __future__ import annotations

from datetime import datetime

from formats import oids
from formats.algorithms import registry
from verification.checks import PDF_SEAL, PdfCheck, embedded
from verification.report import Report
from verification.seal import SealFormatError, verify_seal
from verification.seal.verify import parsed_seal


def seal_attribute(signer_info) -> bytes | None | bool:
    """DER of the SESeal attribute; None if absent; False if present more than once or with
    other than exactly one value (ambiguous is malformed)."""
    found = [a for a in (signer_info["signed_attrs"] or ())
             if a["type"].dotted == oids.SESEAL_SIGNED_ATTRIBUTE]
    if not found:
        return None
    if len(found) != 1 or len(found[0]["values"]) != 1:
        return False
    return found[0]["values"][0].dump()


def check_seal(report: Report, signer_info, signer_cert, algorithm: str, trust,
               signing_time: datetime, at: datetime, embedded_certs=()) -> None:
    der = seal_attribute(signer_info)
    if der is None:
        spec = registry.find_by_name(algorithm)
        name = algorithm.upper()
        if spec is not None and spec.seal_bound:
            report.add(PdfCheck.SEAL, False, f"{name} 证照签名缺少电子印章签名属性 / the {name} licence "
                       "signature carries no SESeal attribute", failure="SIG_CONSTRAINTS_FAILURE")
        else:
            report.notes.append(f"{name} 签名未携带电子印章属性 / the {name} signature carries no SESeal")
        return
    if der is False:
        report.fail_format(PdfCheck.SEAL, "电子印章属性重复或值个数不为 1 / SESeal attribute repeated or "
                           "not single-valued")
        return
    try:
        seal = parsed_seal(der)
    except SealFormatError as exc:
        report.fail_format(PdfCheck.SEAL, f"电子印章无法解析 / SESeal does not parse: {exc}")
        return
    if not seal.lists_signer(signer_cert.dump()):
        report.add(PdfCheck.SEAL_BINDING, False, "签名证书不在印章的签章人列表中（印章被盗用？）/ the signer "
                   "certificate is not listed in the seal (copied seal?)",
                   failure="SIG_CONSTRAINTS_FAILURE")
    else:
        report.add(PdfCheck.SEAL_BINDING, True, f"签名人列于印章「{seal.name}」中 / signer listed in "
                   f"the seal \"{seal.name}\"")
    # Seal valid when the document was signed; its maker judged as of `at` like the signer.
    # The seal maker's issuing CA may travel only in the signature's certificate set.
    sub = verify_seal(der, at=signing_time, trust=trust, extra_intermediates=embedded_certs)
    report.seal = sub.seal
    report.notes.extend(n for n in sub.notes if n not in report.notes)
    failed = [c for c in sub.checks if not c.passed]
    if not failed:
        report.add(PdfCheck.SEAL, True, f"电子印章有效（签名时）/ seal valid at signing time "
                   f"({seal.family}, {seal.es_id})")
        return
    for c in failed:
        report.add(embedded(PDF_SEAL, c.name), False, c.detail, failure=c.failure,
                   indeterminate=c.indeterminate)
